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

use crate::create::Created;
use crate::error::{Error, Result, SysContext, cvt};
use crate::launch::Stdio;
use crate::pidfd::{Delivery, Pidfd};
use crate::setup::console;
use crate::setup::stdio::Streams;
use crate::sync::{Channel, Message, channel_pair};
use crate::sys::clone::{Forked, fork_into_namespaces};

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
    /// The container's seccomp filter, compiled.
    pub seccomp: Option<&'a crate::seccomp::Filter>,
}

/// Forks a process into the container of `join.pid`; like [`crate::create`], it stops before the
/// exec until started.
///
/// The child is in the container's PID namespace from its first instruction, so whatever it
/// exposes there before its exec is seen by the container's processes (CVE-2016-9962): the
/// child is non-dumpable (its `/proc/PID` is closed to them) until the exec, it holds no
/// descriptor of kist's but its stdio, set-up channel and the namespaces it joins, and for a
/// container that may look anyway (CAP_SYS_PTRACE) the caller must run from kist's sealed
/// binary ([`crate::sealed::needs_sealed_exe`], [`crate::sealed::reexec_sealed`]).
pub fn join(join: Join<'_>) -> Result<Created> {
    if crate::sealed::needs_sealed_exe(join.process) && !crate::sealed::running_sealed() {
        return Err(Error::Spec(
            "joining a container that holds CAP_SYS_PTRACE needs kist to run from its sealed binary"
                .into(),
        ));
    }
    // SAFETY: prctl with integer arguments; inherited by the child, reset by its exec.
    cvt(unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) })
        .sys(|| "making kist non-dumpable".into())?;
    let pidfd = Pidfd::open(join.pid)?.ok_or_else(|| {
        Error::sys(
            format!("finding the container's process {}", join.pid),
            std::io::Error::from_raw_os_error(libc::ESRCH),
        )
    })?;
    // SAFETY: setns on a pidfd this function owns.
    cvt(unsafe { libc::setns(pidfd.as_fd().as_raw_fd(), libc::CLONE_NEWPID) })
        .sys(|| "joining the container's PID namespace".into())?;
    // The child joins the other namespaces through their own descriptors, opened here so
    // that it holds no pidfd of kist's while it is visible in the container.
    let namespaces = namespace_fds(join.pid, &pidfd)?;
    drop(pidfd);
    let (parent_end, child_end) = channel_pair()?;
    // Born in the container's cgroup on v2; moved in after the fork on v1.
    let born_in = match &join.cgroup {
        Some(c) => c.open_for_clone()?,
        None => None,
    };
    match fork_into_namespaces(0, born_in.as_ref().map(|fd| fd.as_fd()))? {
        Forked::Child => {
            drop(parent_end);
            let code = match set_up(&join, namespaces, &child_end) {
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

/// The namespaces a joining process enters besides the PID one, in the order it enters them
/// (the mount namespace last: entering it moves the root and working directory).
const JOINED: [(&str, libc::c_int); 5] = [
    ("uts", libc::CLONE_NEWUTS),
    ("ipc", libc::CLONE_NEWIPC),
    ("net", libc::CLONE_NEWNET),
    ("cgroup", libc::CLONE_NEWCGROUP),
    ("mnt", libc::CLONE_NEWNS),
];

/// Descriptors of the namespaces of `pid`, checked to be that process's (still alive behind
/// `pidfd` once they are open, so not a recycled pid's).
fn namespace_fds(pid: i32, pidfd: &Pidfd) -> Result<Vec<(OwnedFd, libc::c_int)>> {
    let mut fds = Vec::with_capacity(JOINED.len() + 1);
    // Its user namespace first (it owns the others, and decides the ids the process has):
    // without it a process joined as kist's root would be the host's root in the container.
    if let Some(user) = other_user_namespace(pid)? {
        fds.push((user, libc::CLONE_NEWUSER));
    }
    for (name, flag) in JOINED {
        let path = format!("/proc/{pid}/ns/{name}");
        let fd = rustix::fs::open(
            path.as_str(),
            OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .sys(|| format!("opening {path}"))?;
        fds.push((fd, flag));
    }
    // Signal 0 only checks that the process still exists.
    if pidfd.send_signal(0)? == Delivery::Gone {
        return Err(Error::sys(
            "the container's process exited",
            std::io::Error::from_raw_os_error(libc::ESRCH),
        ));
    }
    Ok(fds)
}

/// The user namespace of `pid` when it is not kist's own (joining one's own is refused).
fn other_user_namespace(pid: i32) -> Result<Option<OwnedFd>> {
    let open = |path: &str| {
        rustix::fs::open(path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
            .sys(|| format!("opening {path}"))
    };
    let theirs = open(&format!("/proc/{pid}/ns/user"))?;
    let ours = open("/proc/self/ns/user")?;
    let id = |fd: &OwnedFd| rustix::fs::fstat(fd).map(|st| (st.st_dev, st.st_ino));
    let same = id(&theirs).sys(|| "reading a user namespace".into())?
        == id(&ours).sys(|| "reading kist's user namespace".into())?;
    Ok((!same).then_some(theirs))
}

fn set_up(
    join: &Join<'_>,
    namespaces: Vec<(OwnedFd, libc::c_int)>,
    channel: &Channel,
) -> Result<Infallible> {
    if !join.detach {
        // SAFETY: prctl with integer arguments; die with kist.
        unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) };
    }
    let mut keep: Vec<i32> = namespaces.iter().map(|(fd, _)| fd.as_raw_fd()).collect();
    keep.push(channel.raw_fd());
    keep.extend(stdio_fds(&join.stdio));
    close_all_but(&keep);
    crate::signals::reset_in_child();
    for (fd, flag) in namespaces {
        // SAFETY: setns on a namespace descriptor, closed right after.
        cvt(unsafe { libc::setns(fd.as_raw_fd(), flag) })
            .sys(|| "joining the container's namespaces".into())?;
    }
    Streams::of(&join.stdio, || {
        let root = rustix::fs::open(
            Path::new("/"),
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .sys(|| "opening the container's root".into())?;
        let (master, slave) = console::open_pty(&root)?;
        channel.send_with_fd(&Message::Console, Some(master.as_raw_fd()))?;
        Ok(slave)
    })?
    .connect()?;
    channel.send(&Message::Ready)?;
    match channel.recv()? {
        Some((Message::Start, _)) => {}
        _ => {
            return Err(Error::Spec(
                "kist went away before starting the process".into(),
            ));
        }
    }
    crate::program::steps::become_program(join.process, None, channel, join.seccomp)
}

fn stdio_fds(stdio: &Stdio) -> Vec<i32> {
    match stdio {
        Stdio::Fds {
            stdin,
            stdout,
            stderr,
        } => vec![stdin.as_raw_fd(), stdout.as_raw_fd(), stderr.as_raw_fd()],
        Stdio::Terminal => Vec::new(),
    }
}

/// Closes every descriptor above stderr except `keep` (the store, signalfds and pidfds of
/// kist's must not enter the container).
fn close_all_but(keep: &[i32]) {
    let mut keep: Vec<u32> = keep
        .iter()
        .filter_map(|&fd| u32::try_from(fd).ok())
        .filter(|&fd| fd > 2)
        .collect();
    keep.sort_unstable();
    let mut from = 3u32;
    for fd in keep {
        if fd > from {
            // SAFETY: closing descriptors this forked child does not use.
            unsafe { libc::syscall(libc::SYS_close_range, from, fd - 1, 0u32) };
        }
        from = fd + 1;
    }
    // SAFETY: as above.
    unsafe { libc::syscall(libc::SYS_close_range, from, u32::MAX, 0u32) };
}
