//! Root's own files and directories: what holds containers' environments and output (the
//! store, launch.json, compiled filters) is 0600 in 0700 directories. A file that is replaced
//! is written whole to a temporary name, then renamed over the old one, so that a reader (a
//! restarting supervisor, another `run`) sees the old file or the new, never half.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{IoContext, Result};

/// A temporary file name, `stem` followed by a suffix no other caller gets, in this process or
/// another: the pid alone is not enough, as the threads of a build (its parallel stages) would
/// share it, and one would remove or rename away the temporary another is filling.
pub(crate) fn temp_name(stem: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{stem}{}-{n}", std::process::id())
}

/// Writes `bytes` to `temp` (mode 0600) and renames it to `path`; both in one directory.
pub(crate) fn replace(path: &Path, temp: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(temp)
        .and_then(|mut f| f.write_all(bytes))
        .ctx("writing", temp)?;
    std::fs::rename(temp, path).ctx("replacing", path)
}

/// Makes `dir` root's alone (0700) unless it already is.
pub(crate) fn restrict_dir(dir: &Path) -> Result<()> {
    restrict(dir, 0o700)
}

/// Makes `file` root's alone (0600), creating it empty if it does not exist.
pub(crate) fn restrict_file(file: &Path) -> Result<()> {
    let created = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(file);
    match created {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
            return Err(e).ctx("creating", file);
        }
        _ => {}
    }
    restrict(file, 0o600)
}

fn restrict(path: &Path, mode: u32) -> Result<()> {
    let meta = fs::metadata(path).ctx("reading", path)?;
    if meta.permissions().mode() & 0o777 != mode {
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).ctx("restricting", path)?;
    }
    Ok(())
}
