//! Running another process in an existing container (`kist exec`): it joins every namespace of
//! the container's first process and then becomes its program the way that first process did.
//!
//! The PID namespace is joined by kist itself (`setns` of a PID namespace only applies to the
//! caller's future children), so the forked child is born inside it, appears in the container's
//! `ps`, and is still kist's own child to wait for. The child joins the other namespaces through
//! a pidfd, all at once; joining the mount namespace also moves its root and working directory
//! to the container's root.

use std::convert::Infallible;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::Path;

use oci_spec::runtime::Process;
use rustix::fs::{Mode, OFlags};

use crate::clone::{Forked, fork_into_namespaces};
use crate::error::{Error, Result, SysContext, cvt};
use crate::launch::{Created, Stdio};
use crate::sync::{Channel, Message, channel_pair};

/// What to run in a container.
pub struct Join<'a> {
    /// The container's first process: whose namespaces to join.
    pub pid: i32,
    pub process: &'a Process,
    pub stdio: Stdio,
    /// The process outlives kist (`exec -d`): it is not killed when kist exits, and the
    /// container's init adopts it.
    pub detach: bool,
    /// The container's cgroup (its spec's `linux.cgroupsPath`), which the process joins.
    pub cgroup: Option<crate::Cgroup>,
}

/// Forks a process into the container of `join.pid`; like [`crate::create`], it stops before the
/// exec until started.
pub fn join(join: Join<'_>) -> Result<Created> {
    // SAFETY: pidfd_open on a pid; the descriptor is owned below.
    let raw = unsafe { libc::syscall(libc::SYS_pidfd_open, join.pid, 0) } as libc::c_int;
    let pidfd = cvt(raw).sys(|| format!("finding the container's process {}", join.pid))?;
    // SAFETY: a fresh descriptor that nothing else owns.
    let pidfd: OwnedFd = unsafe { std::os::fd::FromRawFd::from_raw_fd(pidfd) };
    // SAFETY: setns on a valid pidfd.
    cvt(unsafe { libc::setns(pidfd.as_raw_fd(), libc::CLONE_NEWPID) })
        .sys(|| "joining the container's PID namespace".into())?;
    let (parent_end, child_end) = channel_pair()?;
    // Born in the container's cgroup on v2; moved in after the fork on v1.
    let born_in = match &join.cgroup {
        Some(c) => c.open_for_clone()?,
        None => None,
    };
    match fork_into_namespaces(0, born_in.as_ref().map(|fd| fd.as_fd()))? {
        Forked::Child => {
            drop(parent_end);
            let code = match set_up(&join, &pidfd, &child_end) {
                Ok(never) => match never {},
                Err(e) => {
                    let code = e.exit_code();
                    let _ = child_end.send(&Message::Failed {
                        code,
                        message: e.to_string(),
                    });
                    code
                }
            };
            // SAFETY: a forked child leaves without the parent's destructors.
            unsafe { libc::_exit(code) }
        }
        Forked::Parent { pid, pidfd: child } => {
            drop(child_end);
            if let Some(cgroup) = join.cgroup.as_ref().filter(|_| born_in.is_none())
                && let Err(e) = cgroup.add(pid)
            {
                // SAFETY: our own child, not yet reaped.
                unsafe { libc::kill(pid, libc::SIGKILL) };
                return Err(e);
            }
            drop(join);
            Ok(Created::new(pid, child, parent_end))
        }
    }
}

fn set_up(join: &Join<'_>, container: &OwnedFd, channel: &Channel) -> Result<Infallible> {
    if !join.detach {
        // SAFETY: prctl with integer arguments; die with kist.
        unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) };
    }
    crate::signals::reset_in_child();
    let namespaces = libc::CLONE_NEWNS
        | libc::CLONE_NEWUTS
        | libc::CLONE_NEWIPC
        | libc::CLONE_NEWNET
        | libc::CLONE_NEWCGROUP;
    // SAFETY: setns on a valid pidfd.
    cvt(unsafe { libc::setns(container.as_raw_fd(), namespaces) })
        .sys(|| "joining the container's namespaces".into())?;
    match &join.stdio {
        Stdio::Terminal => {
            let root = rustix::fs::open(
                Path::new("/"),
                OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .sys(|| "opening the container's root".into())?;
            let (master, slave) = crate::console::open_pty(&root)?;
            channel.send_with_fd(&Message::Console, Some(master.as_raw_fd()))?;
            crate::console::become_terminal_session(&slave)?;
        }
        Stdio::Fds {
            stdin,
            stdout,
            stderr,
        } => crate::child::connect_stdio(stdin, stdout, stderr)?,
    }
    channel.send(&Message::Ready)?;
    match channel.recv()? {
        Some((Message::Start, _)) => {}
        _ => {
            return Err(Error::Spec(
                "kist went away before starting the process".into(),
            ));
        }
    }
    crate::child::become_program(join.process, false, channel)
}
