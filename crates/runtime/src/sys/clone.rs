//! `clone3`: a fork that starts the child in new namespaces and hands back a pidfd.

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use crate::error::{Error, Result, cvt_long};
use crate::pidfd::Pidfd;

#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

pub enum Forked {
    Parent { pid: i32, pidfd: Pidfd },
    Child,
}

/// clone3's flag to start the child in the cgroup v2 directory `CloneArgs::cgroup` names.
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// Forks with `namespace_flags` (CLONE_NEW*), in the cgroup v2 directory `cgroup` if given (the
/// child is born there: no migration, which would wait for an RCU grace period). Like fork(2),
/// the child continues from here on a copy of the caller's memory; the caller must be
/// single-threaded, which kist is.
pub fn fork_into_namespaces(
    namespace_flags: u64,
    cgroup: Option<BorrowedFd<'_>>,
) -> Result<Forked> {
    let mut pidfd: libc::c_int = -1;
    let mut args = CloneArgs {
        flags: namespace_flags | libc::CLONE_PIDFD as u64,
        pidfd: &mut pidfd as *mut libc::c_int as u64,
        exit_signal: libc::SIGCHLD as u64,
        ..Default::default()
    };
    if namespace_flags & CLONE_PARENT != 0 {
        // The kernel wants none then: the child gets its caller's (SIGCHLD, see below).
        args.exit_signal = 0;
    }
    if let Some(fd) = cgroup {
        args.flags |= CLONE_INTO_CGROUP;
        // Cannot lose a sign: an open descriptor is non-negative.
        #[allow(clippy::cast_sign_loss)]
        let cgroup = fd.as_raw_fd() as u64;
        args.cgroup = cgroup;
    }
    // SAFETY: clone3 with no stack behaves like fork; args lives across the call.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &mut args as *mut CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    match cvt_long(ret) {
        Err(e) => Err(Error::sys("creating the container's process (clone3)", e)),
        Ok(0) => Ok(Forked::Child),
        Ok(pid) => Ok(Forked::Parent {
            pid,
            // SAFETY: the kernel filled pidfd with a new descriptor that only we own.
            pidfd: Pidfd::from_owned(unsafe { OwnedFd::from_raw_fd(pidfd) }),
        }),
    }
}

/// clone3's flag giving the new process its caller's parent.
const CLONE_PARENT: u64 = 0x0000_8000;

/// Like [`fork_into_namespaces`], with the child born in the user namespace `userns`, so
/// that the namespaces it is born in are that one's (a namespace belongs to the user
/// namespace of the process that makes it; entering one afterwards would leave the child
/// unprivileged over its own mounts). kist cannot enter it itself (a process never leaves
/// a user namespace it entered): a helper does, then clones the child with CLONE_PARENT, so
/// that the child is kist's, and reports its pid.
/// A PID namespace to be born in (`pidns`) is entered by the helper too, so that the pid it
/// reports is in kist's own PID namespace, which the helper stays in.
pub fn fork_in_user_namespace(
    userns: BorrowedFd<'_>,
    pidns: Option<BorrowedFd<'_>>,
    namespace_flags: u64,
    cgroup: Option<BorrowedFd<'_>>,
) -> Result<Forked> {
    let (report_read, report_write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(|e| Error::sys("making a pipe for the clone helper", e.into()))?;
    match fork_into_namespaces(0, None)? {
        Forked::Child => {
            drop(report_read);
            // SAFETY: setns on namespace descriptors in this single-threaded helper (a PID
            // namespace only decides where its children are born).
            let entered = unsafe {
                match pidns {
                    Some(fd) if libc::setns(fd.as_raw_fd(), libc::CLONE_NEWPID) < 0 => -1,
                    _ => libc::setns(userns.as_raw_fd(), libc::CLONE_NEWUSER),
                }
            };
            let pid = if entered < 0 {
                -std::io::Error::last_os_error()
                    .raw_os_error()
                    .unwrap_or(libc::EINVAL)
            } else {
                match fork_into_namespaces(namespace_flags | CLONE_PARENT, cgroup) {
                    // The container's process: it goes on as kist's child would.
                    Ok(Forked::Child) => return Ok(Forked::Child),
                    Ok(Forked::Parent { pid, .. }) => pid,
                    Err(Error::Sys { source, .. }) => {
                        -source.raw_os_error().unwrap_or(libc::EINVAL)
                    }
                    Err(_) => -libc::EINVAL,
                }
            };
            let _ = nix::unistd::write(&report_write, &pid.to_ne_bytes());
            // SAFETY: leaving the forked helper without the parent's destructors.
            unsafe { libc::_exit(0) }
        }
        Forked::Parent { pid: helper, .. } => {
            drop(report_write);
            let mut bytes = [0u8; 4];
            let read = nix::unistd::read(&report_read, &mut bytes);
            let mut status = 0;
            // SAFETY: waits for the helper this function forked, with a valid status pointer.
            while unsafe { libc::waitpid(helper, &mut status, 0) } < 0
                && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR)
            {}
            let pid = match read {
                Ok(4) => i32::from_ne_bytes(bytes),
                _ => -libc::EIO,
            };
            if pid <= 0 {
                return Err(Error::sys(
                    "creating the container's process in the user namespace it joins",
                    std::io::Error::from_raw_os_error(-pid),
                ));
            }
            // Kist's own child (CLONE_PARENT), not reaped: the pid cannot have been reused.
            let pidfd = Pidfd::open(pid)?.ok_or_else(|| {
                Error::sys(
                    "opening the container's process",
                    std::io::Error::from_raw_os_error(libc::ESRCH),
                )
            })?;
            Ok(Forked::Parent { pid, pidfd })
        }
    }
}
