//! Unix socket addresses for paths of any length: a `sun_path` holds 108 bytes, and a state
//! root plus a Kubernetes container id (64 hex digits) comes close to it. A path is reached
//! through `/proc/self/fd/N/NAME`, N an `O_PATH` descriptor of its directory, as runc does.

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::{Context, Result, anyhow};
use nix::sys::socket::UnixAddr;

/// The address, and the directory's descriptor it goes through (to keep while it is used).
pub struct SocketAddr {
    pub addr: UnixAddr,
    _dir: Option<OwnedFd>,
}

pub fn of(path: &Path) -> Result<SocketAddr> {
    if let Ok(addr) = UnixAddr::new(path) {
        return Ok(SocketAddr { addr, _dir: None });
    }
    let (dir, name) = match (path.parent(), path.file_name()) {
        (Some(d), Some(n)) => (d, n),
        _ => return Err(anyhow!("no socket can be at {}", path.display())),
    };
    let dir: OwnedFd = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_DIRECTORY)
        .open(dir)
        .with_context(|| format!("cannot open {}", dir.display()))?
        .into();
    let short = Path::new("/proc/self/fd")
        .join(dir.as_raw_fd().to_string())
        .join(name);
    let addr = UnixAddr::new(&short)
        .map_err(|_| anyhow!("the socket name in {} is too long", path.display()))?;
    Ok(SocketAddr {
        addr,
        _dir: Some(dir),
    })
}
