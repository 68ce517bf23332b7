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
