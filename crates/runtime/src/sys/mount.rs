//! mount(2) with paths, for every mount the set-up makes by name (the new mount API, for the
//! overlay root and the sealed binary, lives where those are made).

use std::ffi::CString;
use std::path::Path;

use crate::error::cvt;

/// Thin wrapper over mount(2) with paths.
pub fn mount(
    source: Option<&Path>,
    target: &Path,
    fstype: Option<&str>,
    flags: libc::c_ulong,
    data: Option<&str>,
) -> std::io::Result<()> {
    let cs = |s: &str| CString::new(s).map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL));
    let source = source.map(|p| cs(&p.to_string_lossy())).transpose()?;
    let target = cs(&target.to_string_lossy())?;
    let fstype = fstype.map(cs).transpose()?;
    let data = data.filter(|d| !d.is_empty()).map(cs).transpose()?;
    let ptr = |o: &Option<CString>| o.as_ref().map_or(std::ptr::null(), |c| c.as_ptr());
    // SAFETY: NUL-terminated strings (or null) that outlive the call.
    cvt(unsafe {
        libc::mount(
            ptr(&source),
            target.as_ptr(),
            ptr(&fstype),
            flags,
            ptr(&data).cast(),
        )
    })
    .map(drop)
}
