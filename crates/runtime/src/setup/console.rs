//! The container's terminal: a pty from the container's own devpts instance, so that inside it
//! is `/dev/pts/0` and `/dev/console`, and nothing of the host's devpts shows.

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

use rustix::fs::{Mode, OFlags};
use rustix::pty::OpenptFlags;

use crate::error::{Result, SysContext, cvt};
use crate::paths::{create_file_in_root, fd_path, open_in_root};
use crate::sys::mount::mount;

/// Opens a new pty pair in the container's devpts (mounted at `<root>/dev/pts`).
pub fn open_pty(root: &OwnedFd) -> Result<(OwnedFd, OwnedFd)> {
    let ptmx = open_in_root(root, Path::new("/dev/pts/ptmx"))
        .sys(|| "finding /dev/pts/ptmx (is devpts mounted?)".into())?;
    let master = rustix::fs::open(
        fd_path(&ptmx),
        OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .sys(|| "opening /dev/pts/ptmx".into())?;
    rustix::pty::unlockpt(&master).sys(|| "unlocking the terminal".into())?;
    // TIOCGPTPEER opens the peer of this very master, with no path lookup to race with.
    let slave = rustix::pty::ioctl_tiocgptpeer(&master, OpenptFlags::RDWR | OpenptFlags::NOCTTY)
        .sys(|| "opening the terminal's peer".into())?;
    Ok((master, slave))
}

/// Bind-mounts the terminal over `/dev/console`, as runc does.
pub fn mount_console(root: &OwnedFd, slave: &OwnedFd) -> Result<()> {
    let target = create_file_in_root(root, Path::new("/dev/console"))
        .sys(|| "creating /dev/console".into())?;
    mount(
        Some(&fd_path(slave)),
        &fd_path(&target),
        None,
        libc::MS_BIND,
        None,
    )
    .sys(|| "mounting /dev/console".into())
}

/// Makes the terminal the calling process's controlling terminal and its standard streams.
pub fn become_terminal_session(slave: &OwnedFd) -> Result<()> {
    // SAFETY: plain syscalls on valid descriptors.
    unsafe {
        cvt(libc::setsid()).sys(|| "starting a session".into())?;
        cvt(libc::ioctl(slave.as_raw_fd(), libc::TIOCSCTTY, 0))
            .sys(|| "taking the controlling terminal".into())?;
        for target in 0..3 {
            cvt(libc::dup2(slave.as_raw_fd(), target)).sys(|| "connecting the terminal".into())?;
        }
    }
    Ok(())
}
