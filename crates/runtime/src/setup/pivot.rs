//! Entering the container's root for good: `pivot_root` and the old root detached, or, for a
//! container in the runtime's own mount namespace, `chroot` (a pivot there would move the root
//! of every process of that namespace).

use std::ffi::CString;
use std::path::Path;

use crate::error::{Error, Result, SysContext, cvt, cvt_long};
use crate::sys::mount::mount;

/// `chroot` into `new_root`, for a container without a mount namespace of its own.
pub fn chroot_into(new_root: &Path) -> Result<()> {
    std::env::set_current_dir(new_root).sys(|| format!("entering {}", new_root.display()))?;
    let dot = CString::new(".").map_err(|_| Error::Spec("unreachable".into()))?;
    // SAFETY: a valid string.
    cvt(unsafe { libc::chroot(dot.as_ptr()) }).sys(|| "chroot".into())?;
    std::env::set_current_dir("/").sys(|| "entering the new root".into())
}

/// The root a container without its own mount namespace mounted in the runtime's, detached
/// (with the mounts made under it) after a failed set-up: `path` as the caller sees it.
pub fn detach_shared_root(path: &Path) {
    if let Ok(c) = CString::new(path.as_os_str().as_encoded_bytes()) {
        // SAFETY: a valid string; a failure leaves nothing worse than before.
        unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
    }
}

/// `pivot_root` into `new_root` and detach the old root, which shares the same directory until
/// it is detached (the runc trick: no directory for the old root is needed).
pub fn pivot_into(new_root: &Path) -> Result<()> {
    std::env::set_current_dir(new_root).sys(|| format!("entering {}", new_root.display()))?;
    let dot = CString::new(".").map_err(|_| Error::Spec("unreachable".into()))?;
    // SAFETY: valid strings; raw syscall as glibc has no wrapper.
    cvt_long(unsafe { libc::syscall(libc::SYS_pivot_root, dot.as_ptr(), dot.as_ptr()) })
        .sys(|| "pivot_root".into())?;
    // The old root is stacked on the new one at "."; make sure its unmounting does not
    // propagate anywhere, then detach it.
    mount(
        None,
        Path::new("."),
        None,
        libc::MS_SLAVE | libc::MS_REC,
        None,
    )
    .sys(|| "isolating the old root".into())?;
    let c = CString::new(".").map_err(|_| Error::Spec("unreachable".into()))?;
    // SAFETY: valid string.
    cvt(unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) })
        .sys(|| "detaching the old root".into())?;
    std::env::set_current_dir("/").sys(|| "entering the new root".into())?;
    Ok(())
}
