//! The container process's standard streams: the launch's descriptors, or its terminal, made
//! fds 0, 1 and 2 once nothing of the set-up needs the caller's ones any more.

use std::os::fd::{AsRawFd, OwnedFd};

use crate::error::{Result, SysContext, cvt};
use crate::launch::Stdio;

/// The streams a process gets, ready to connect: the launch's descriptors, or the terminal's
/// peer opened during the set-up.
pub(crate) enum Streams<'a> {
    Fds {
        stdin: &'a OwnedFd,
        stdout: &'a OwnedFd,
        stderr: &'a OwnedFd,
    },
    Terminal(OwnedFd),
}

impl<'a> Streams<'a> {
    /// The launch's descriptors as they are, or the terminal `open_terminal` opens.
    pub(crate) fn of(
        stdio: &'a Stdio,
        open_terminal: impl FnOnce() -> Result<OwnedFd>,
    ) -> Result<Streams<'a>> {
        Ok(match stdio {
            Stdio::Fds {
                stdin,
                stdout,
                stderr,
            } => Streams::Fds {
                stdin,
                stdout,
                stderr,
            },
            Stdio::Terminal => Streams::Terminal(open_terminal()?),
        })
    }

    /// Makes them this process's standard streams (a terminal also its controlling one).
    pub(crate) fn connect(self) -> Result<()> {
        match self {
            Streams::Fds {
                stdin,
                stdout,
                stderr,
            } => connect_fds(stdin, stdout, stderr),
            Streams::Terminal(slave) => super::console::become_terminal_session(&slave),
        }
    }
}

/// The descriptors, in a session of the process's own: the terminal kist may run in is not
/// the container's (it never gets one: see the engine's stdio), so what that terminal sends
/// its foreground group (Ctrl-C's SIGINT, a hang-up) reaches the container only through kist,
/// which passes it on or not (`--sig-proxy`), as Docker's CLI does.
fn connect_fds(stdin: &OwnedFd, stdout: &OwnedFd, stderr: &OwnedFd) -> Result<()> {
    for (fd, target) in [(stdin, 0), (stdout, 1), (stderr, 2)] {
        // SAFETY: dup2 of a descriptor this process owns onto a standard descriptor.
        cvt(unsafe { libc::dup2(fd.as_raw_fd(), target) })
            .sys(|| "connecting the standard streams".into())?;
    }
    // SAFETY: setsid takes no arguments. It fails only for a process group leader, which a
    // forked child is not.
    unsafe { libc::setsid() };
    Ok(())
}
