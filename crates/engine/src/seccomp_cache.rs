//! Compiled seccomp filters, kept in the store (`ROOT/seccomp/<digest>.bpf`, keyed by the
//! digest of the resolved profile): a profile is compiled once, not at every start.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

use kist_runtime::seccomp::Filter;
use oci_spec::runtime::LinuxSeccomp;

use crate::error::{Error, IoContext, Result};
use crate::layout::Layout;

/// The compiled filter for `profile`, from the store or compiled now (and stored).
pub fn filter_for(layout: &Layout, profile: &LinuxSeccomp) -> Result<Filter> {
    let json = serde_json::to_vec(profile)
        .map_err(|e| Error::Invalid(format!("serializing the seccomp profile: {e}")))?;
    let digest = kist_image::Digest::of_bytes(&json);
    let dir = layout.root.join("seccomp");
    let path = dir.join(format!("{}.bpf", digest.hex()));
    if let Ok(bytes) = std::fs::read(&path)
        && let Ok(filter) = Filter::from_bytes(&bytes)
    {
        return Ok(filter);
    }
    let filter = Filter::for_spec(profile)
        .map_err(|e| Error::Invalid(format!("compiling the seccomp profile: {e}")))?;
    // A cache: a failure to keep it costs only the next compilation.
    let _ = store(&dir, &path, &filter.to_bytes());
    Ok(filter)
}

/// Written to a temporary name and renamed, so a reader never sees half a program.
fn store(dir: &std::path::Path, path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    std::fs::create_dir_all(dir).ctx("creating", dir)?;
    let temp = dir.join(format!(".{}.tmp", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temp)
        .and_then(|mut f| f.write_all(bytes))
        .ctx("writing", &temp)?;
    std::fs::rename(&temp, path).ctx("renaming", path)
}
