//! The container's first process, from clone to exec: the order of its set-up.
//!
//! Order matters: mounts are made while the host's /proc is still visible (the `/proc/self/fd`
//! paths used to mount onto resolved handles need it); devices, the terminal, sysctls and the
//! read-only and masked paths also before `pivot_root`, on handles resolved inside the root;
//! the hostname and `lo` after it; the program's confinement last, on Start (`program::steps`).

use std::convert::Infallible;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

use oci_spec::runtime::{LinuxNamespaceType, Spec};
use rustix::fs::{Mode, OFlags};

use crate::error::{Error, Result, SysContext};
use crate::launch::Launch;
use crate::namespaces::{has_new_namespace, wants_cgroup_namespace};
use crate::program::sealed::SealedExe;
use crate::setup::cgroup_mounts::CgroupSource;
use crate::setup::stdio::Streams;
use crate::setup::{console, devices, loopback, masks, mounts, pivot, rootfs, sysctl};
use crate::sync::{Channel, Message};

/// Runs in the cloned process; never returns.
pub fn run(launch: Launch<'_>, channel: Channel, cgroup: Option<&crate::Cgroup>) -> ! {
    let code = match set_up_and_exec(launch, &channel, cgroup) {
        Ok(never) => match never {},
        Err(e) => {
            let code = e.exit_code();
            let _ = channel.send(&Message::Failed {
                code,
                message: e.to_string(),
            });
            code
        }
    };
    // SAFETY: leaving without running the parent's destructors or atexit handlers, as a forked
    // child must.
    unsafe { libc::_exit(code) }
}

fn set_up_and_exec(
    launch: Launch<'_>,
    channel: &Channel,
    cgroup: Option<&crate::Cgroup>,
) -> Result<Infallible> {
    become_kists_child();
    let spec = launch.spec;
    if wants_cgroup_namespace(spec) {
        enter_cgroup_namespace(channel)?;
    }
    let process = spec
        .process()
        .as_ref()
        .ok_or_else(|| Error::Spec("the spec has no process".into()))?;
    rootfs::make_namespace_private(spec)?;
    let root_path = rootfs::mount_rootfs(&launch.rootfs)?;
    let (streams, init) = prepare_root(&launch, &root_path, channel, cgroup)?;
    pivot::pivot_into(&root_path)?;
    rootfs::make_read_only_if_asked(spec)?;
    set_up_own_namespaces(spec)?;
    streams.connect()?;
    drop(launch.stdio);

    channel.send(&Message::Ready)?;
    channel.await_or_exit(Message::Start)?;
    crate::program::steps::become_program(process, init.as_ref(), channel, launch.seccomp)
}

/// What a freshly cloned child sets before anything else: it dies with kist (a container whose
/// kist was killed during set-up must not linger; after `start`, whoever supervises the
/// container is its parent and the same holds), it starts from default signal handling, and
/// device nodes get exactly the modes the spec gives.
fn become_kists_child() {
    // SAFETY: prctl with integer arguments.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) };
    crate::signals::reset_in_child();
    // SAFETY: umask cannot fail.
    unsafe { libc::umask(0) };
}

/// A cgroup namespace is rooted where its maker is, so the child makes it only once kist has
/// placed it in its cgroup.
fn enter_cgroup_namespace(channel: &Channel) -> Result<()> {
    channel.await_or_exit(Message::Placed)?;
    // SAFETY: a cgroup namespace changes nothing this single-threaded child relies on.
    unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWCGROUP) }
        .sys(|| "making the cgroup namespace".into())
}

/// Everything made inside the root through handles resolved in it, before the pivot: the
/// spec's mounts, /dev, the terminal, sysctls, read-only and masked paths. Returns the streams
/// to connect after the pivot and, for `--init`, kist's sealed binary (opened while the host's
/// paths are still reachable).
fn prepare_root<'a>(
    launch: &'a Launch<'_>,
    root_path: &Path,
    channel: &Channel,
    cgroup: Option<&crate::Cgroup>,
) -> Result<(Streams<'a>, Option<SealedExe>)> {
    let spec = launch.spec;
    let root = rustix::fs::open(
        root_path,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .sys(|| format!("opening the container's root {}", root_path.display()))?;
    mounts::mount_all(spec, &root, &CgroupSource { cgroup, channel })?;
    if devices::spec_mounts_dev(spec) {
        devices::populate_dev(spec, &root)?;
    }
    let streams = Streams::of(&launch.stdio, || open_console(&root, channel))?;
    if let Some(linux) = spec.linux() {
        sysctl::apply(&root, linux.sysctl().as_ref())?;
        masks::Masks::prepare()?.apply(
            &root,
            linux.readonly_paths().as_deref().unwrap_or_default(),
            linux.masked_paths().as_deref().unwrap_or_default(),
        )?;
    }
    drop(root);
    let init = launch.init.then(SealedExe::open).transpose()?;
    Ok((streams, init))
}

/// The container's terminal: a pty of its own devpts, bound onto /dev/console; its master
/// goes to kist, the peer stays to become the streams.
fn open_console(root: &OwnedFd, channel: &Channel) -> Result<OwnedFd> {
    let (master, slave) = console::open_pty(root)?;
    console::mount_console(root, &slave)?;
    channel.send_with_fd(&Message::Console, Some(master.as_raw_fd()))?;
    Ok(slave)
}

/// The hostname in a UTS namespace of its own, `lo` up in a network namespace of its own.
fn set_up_own_namespaces(spec: &Spec) -> Result<()> {
    if let (true, Some(h)) = (
        has_new_namespace(spec, LinuxNamespaceType::Uts),
        spec.hostname(),
    ) {
        nix::unistd::sethostname(h).map_err(|e| Error::sys("setting the hostname", e.into()))?;
    }
    if has_new_namespace(spec, LinuxNamespaceType::Network) {
        loopback::bring_up_loopback()?;
    }
    Ok(())
}
