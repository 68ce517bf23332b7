//! The container's first process, from clone to exec: the order of its set-up.
//!
//! Order matters: mounts are made while the host's /proc is still visible (the `/proc/self/fd`
//! paths used to mount onto resolved handles need it); devices, the terminal, sysctls and the
//! read-only and masked paths also before `pivot_root`, on handles resolved inside the root;
//! the hostname and `lo` after it; the program's confinement last, on Start (`program::steps`).

use std::convert::Infallible;
use std::os::fd::OwnedFd;
use std::path::Path;

use oci_spec::runtime::{LinuxNamespaceType, Process, Spec};

use crate::error::{Error, Result};
use crate::launch::Launch;
use crate::namespaces::{
    JoinedNamespaces, has_mount_namespace, has_new_namespace, wants_cgroup_namespace,
    wants_user_namespace,
};
use crate::program::sealed::SealedExe;
use crate::setup::cgroup_mounts::CgroupSource;
use crate::setup::idmap::Idmapped;
use crate::setup::placement::Placement;
use crate::setup::stdio::Streams;
use crate::setup::steps::{Kernel, SetUp};
use crate::setup::{devices, rootfs};
use crate::sync::{Channel, Message};

/// Runs in the cloned process; never returns.
pub fn run(
    launch: Launch<'_>,
    channel: Channel,
    cgroup: Option<&crate::Cgroup>,
    joined: &JoinedNamespaces,
    idmapped: &Idmapped,
    start_socket: Option<OwnedFd>,
) -> ! {
    let code = match set_up_and_exec(launch, &channel, cgroup, joined, idmapped, start_socket) {
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
    joined: &JoinedNamespaces,
    idmapped: &Idmapped,
    start_socket: Option<OwnedFd>,
) -> Result<Infallible> {
    become_kists_child(joined.joins_pid());
    let SetUpDone {
        process,
        init,
        start_state,
    } = set_up(&Kernel, &launch, channel, cgroup, joined, idmapped)?;
    drop(launch.stdio);
    let start_container = launch.hooks.unwrap_or_default().start_container;
    let Some(listener) = start_socket else {
        channel.send(&Message::Ready)?;
        channel.await_or_exit(Message::Start)?;
        crate::hooks::run_all("startContainer", start_container, &start_state)?;
        return crate::program::steps::become_program(
            process,
            init.as_ref(),
            channel,
            launch.seccomp,
        );
    };
    // Its creator exits after Ready: from here the container outlives it, as the OCI
    // lifecycle has it (created, until `start`).
    // SAFETY: prctl with integer arguments.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, 0, 0, 0, 0) };
    channel.send(&Message::Ready)?;
    let start = await_start(&listener)?;
    drop(listener);
    // Part of `start`, before the program: in the container, as root in it, not yet confined.
    let failed =
        crate::hooks::run_all("startContainer", start_container, &start_state).and_then(|()| {
            crate::program::steps::become_program(process, init.as_ref(), &start, launch.seccomp)
        });
    // The failure is `start`'s to report: its connection is the channel now.
    if let Err(e) = &failed {
        let _ = start.send(&Message::Failed {
            code: e.exit_code(),
            message: e.to_string(),
        });
    }
    failed
}

/// The first connection to the start socket that sends Start; any other is dropped, so that
/// a stray connection cannot end a created container.
fn await_start(listener: &OwnedFd) -> Result<Channel> {
    use std::os::fd::{AsRawFd, FromRawFd};
    loop {
        // SAFETY: accept4 on a listening socket we own, without an address buffer.
        let fd = unsafe {
            libc::accept4(
                listener.as_raw_fd(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                libc::SOCK_CLOEXEC,
            )
        };
        if fd < 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EINTR) || e.raw_os_error() == Some(libc::ECONNABORTED)
            {
                continue;
            }
            return Err(Error::sys("waiting for start", e));
        }
        // SAFETY: accept4 just returned this descriptor, which nothing else owns.
        let channel = Channel::from_fd(unsafe { OwnedFd::from_raw_fd(fd) });
        if let Ok(Some((Message::Start, _))) = channel.recv() {
            return Ok(channel);
        }
    }
}

/// What the set-up leaves for the exec.
struct SetUpDone<'a> {
    process: &'a Process,
    /// kist's sealed binary, for `--init`.
    init: Option<SealedExe>,
    /// The state the `startContainer` hooks are told (empty without hooks).
    start_state: Vec<u8>,
}

/// The set-up, in its order: what the spec asks for, up to the standard streams.
fn set_up<'a>(
    sys: &impl SetUp,
    launch: &Launch<'a>,
    channel: &Channel,
    cgroup: Option<&crate::Cgroup>,
    joined: &JoinedNamespaces,
    idmapped: &Idmapped,
) -> Result<SetUpDone<'a>> {
    let spec = launch.spec;
    let placement = Placement::new(channel, cgroup);
    // First: its ids in its own user namespace, which owns every other it was born in (a
    // new one's maps written by kist first; a joined one's it was born in).
    if wants_user_namespace(spec) || joined.user.is_some() {
        sys.enter_user_namespace(channel, joined.user.is_none())?;
    }
    // Then: what the rest makes (the mqueue mount, the hostname, lo) belongs to the
    // namespaces the process is in by then.
    if !joined.others.is_empty() {
        sys.join_namespaces(joined)?;
    }
    if wants_cgroup_namespace(spec) {
        sys.enter_cgroup_namespace(&placement)?;
    }
    let process = spec
        .process()
        .as_ref()
        .ok_or_else(|| Error::Spec("the spec has no process".into()))?;
    // Without a mount namespace of its own, the container's mounts are made in the runtime's,
    // whose propagation is left as it is; they are detached again if the set-up fails.
    let own_mounts = has_mount_namespace(spec);
    if own_mounts {
        sys.make_namespace_private(spec)?;
    }
    let root_path = sys.mount_root(&launch.rootfs)?;
    let cgroups = CgroupSource {
        cgroup,
        placement: &placement,
    };
    let entered = prepare_root(sys, launch, &root_path, channel, &cgroups, idmapped).and_then(
        |(streams, init)| {
            // The runtime spec's point for createRuntime (kist's, run meanwhile) and
            // createContainer hooks: the mounts made, the root not entered yet, the process
            // in its cgroup.
            let start_state = match &launch.hooks {
                Some(hooks) => {
                    placement.ensure()?;
                    sys.pause_for_hooks(channel, hooks.create_container)?
                }
                None => Vec::new(),
            };
            if own_mounts {
                sys.pivot_root(&root_path)?;
            } else {
                sys.chroot(&root_path)?;
            }
            Ok((streams, init, start_state))
        },
    );
    let (streams, init, start_state) = match entered {
        Ok(done) => done,
        Err(e) => {
            if !own_mounts {
                sys.detach_shared_root(&root_path);
            }
            return Err(e);
        }
    };
    // In its cgroup before it says it is ready: its program runs there from the start.
    if let Err(e) = finish_in_root(sys, spec, streams).and_then(|()| placement.ensure()) {
        if !own_mounts {
            // Entered by chroot: "/" is the root's bind mount in the runtime's namespace.
            sys.detach_shared_root(Path::new("/"));
        }
        return Err(e);
    }
    Ok(SetUpDone {
        process,
        init,
        start_state,
    })
}

/// What follows the entry into the root: its read-only remount and propagation, the
/// hostname and `lo`, the standard streams.
fn finish_in_root(sys: &impl SetUp, spec: &Spec, streams: Streams<'_>) -> Result<()> {
    if rootfs::wants_read_only_root(spec) {
        sys.make_root_read_only()?;
    }
    if rootfs::wants_late_propagation(spec) {
        sys.set_root_propagation(spec)?;
    }
    set_up_own_namespaces(sys, spec)?;
    sys.connect_streams(streams)
}

/// What a freshly cloned child sets before anything else: it dies with kist (a container whose
/// kist was killed during set-up must not linger; after `start`, whoever supervises the
/// container is its parent and the same holds), it starts from default signal handling, and
/// device nodes get exactly the modes the spec gives. Born in another container's PID
/// namespace, it is visible to that container's processes until its exec: non-dumpable, its
/// `/proc/PID` (and kist's descriptors there) is closed to them, as for `exec`.
fn become_kists_child(in_joined_pid_namespace: bool) {
    // SAFETY: prctl with integer arguments.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) };
    if in_joined_pid_namespace {
        // SAFETY: prctl with integer arguments; the exec makes it dumpable again.
        unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
    }
    crate::signals::reset_in_child();
    // SAFETY: umask cannot fail.
    unsafe { libc::umask(0) };
}

/// Everything made inside the root through handles resolved in it, before the pivot: the
/// spec's mounts, /dev, the terminal, sysctls (before /proc/sys turns read-only), read-only and
/// masked paths. Returns the streams to connect after the pivot and, for `--init`, kist's
/// sealed binary (opened while the host's paths are still reachable).
fn prepare_root<'l>(
    sys: &impl SetUp,
    launch: &'l Launch<'_>,
    root_path: &Path,
    channel: &Channel,
    cgroups: &CgroupSource<'_>,
    idmapped: &Idmapped,
) -> Result<(Streams<'l>, Option<SealedExe>)> {
    let spec = launch.spec;
    let root: OwnedFd = sys.open_root(root_path)?;
    sys.mount_spec_mounts(spec, &root, cgroups, idmapped)?;
    if devices::spec_mounts_dev(spec) {
        sys.populate_dev(spec, &root)?;
    }
    let streams = Streams::of(&launch.stdio, || sys.open_console(&root, channel))?;
    if let Some(linux) = spec.linux() {
        sys.write_sysctls(&root, linux.sysctl().as_ref())?;
        sys.protect_paths(
            &root,
            linux.readonly_paths().as_deref().unwrap_or_default(),
            linux.masked_paths().as_deref().unwrap_or_default(),
        )?;
    }
    drop(root);
    let init = launch.init.then(|| sys.open_sealed_exe()).transpose()?;
    Ok((streams, init))
}

/// The hostname in a UTS namespace of its own, `lo` up in a network namespace of its own.
fn set_up_own_namespaces(sys: &impl SetUp, spec: &Spec) -> Result<()> {
    if let (true, Some(h)) = (
        has_new_namespace(spec, LinuxNamespaceType::Uts),
        spec.hostname(),
    ) {
        sys.set_hostname(h)?;
    }
    if has_new_namespace(spec, LinuxNamespaceType::Network) {
        sys.bring_up_loopback()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::launch::{Rootfs, Stdio};
    use crate::setup::recording::{Recorder, Step};

    /// A spec as `kist run` makes one, with the given namespaces and Docker's /dev.
    fn spec(namespaces: &[&str], read_only: bool) -> Spec {
        let namespaces: Vec<_> = namespaces
            .iter()
            .map(|t| serde_json::json!({"type": t}))
            .collect();
        serde_json::from_value(serde_json::json!({
            "ociVersion": "1.0.2",
            "root": {"path": "rootfs", "readonly": read_only},
            "hostname": "box",
            "process": {"user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/"},
            "mounts": [
                {"destination": "/proc", "type": "proc", "source": "proc"},
                {"destination": "/dev", "type": "tmpfs", "source": "tmpfs"},
            ],
            "linux": {
                "namespaces": namespaces,
                "sysctl": {"net.ipv4.ip_forward": "1"},
                "readonlyPaths": ["/proc/sys"],
                "maskedPaths": ["/proc/kcore"],
            },
        }))
        .unwrap()
    }

    fn null_fd() -> OwnedFd {
        std::fs::File::open("/dev/null").unwrap().into()
    }

    /// Standard streams on /dev/null, for a set-up that only records its steps.
    fn null_stdio() -> Stdio {
        Stdio::Fds {
            stdin: null_fd(),
            stdout: null_fd(),
            stderr: null_fd(),
        }
    }

    fn set_up_steps(spec: &Spec, stdio: Stdio, init: bool) -> Vec<Step> {
        set_up_steps_with(spec, stdio, init, None)
    }

    fn set_up_steps_with(
        spec: &Spec,
        stdio: Stdio,
        init: bool,
        hooks: Option<crate::ContainerHooks<'_>>,
    ) -> Vec<Step> {
        let launch = Launch {
            spec,
            rootfs: Rootfs::Directory("/bundle/rootfs".into()),
            stdio,
            init,
            seccomp: None,
            hooks,
        };
        let (channel, _peer) = crate::sync::channel_pair().unwrap();
        let sys = Recorder::default();
        let joined = JoinedNamespaces::open(spec).unwrap();
        let done = set_up(&sys, &launch, &channel, None, &joined, &Idmapped::default()).unwrap();
        assert_eq!(done.init.is_some(), init);
        sys.steps()
    }

    #[test]
    fn everything_is_made_inside_the_root_before_the_pivot_and_the_rest_after() {
        let all = ["mount", "pid", "uts", "ipc", "network", "cgroup"];
        let steps = set_up_steps(&spec(&all, true), Stdio::Terminal, true);
        assert_eq!(
            steps,
            [
                Step::EnterCgroupNamespace,
                Step::MakeNamespacePrivate,
                Step::MountRoot,
                Step::OpenRoot,
                Step::MountSpecMounts,
                Step::PopulateDev,
                Step::OpenConsole,
                Step::WriteSysctls,
                Step::ProtectPaths,
                Step::OpenSealedExe,
                Step::PivotRoot(PathBuf::from("/root-of-the-test")),
                Step::MakeRootReadOnly,
                Step::SetHostname("box".into()),
                Step::BringUpLoopback,
                Step::ConnectTerminal,
            ]
        );
    }

    /// With hooks, the process stops (and runs createContainer's) once everything is made
    /// inside the root, before the pivot: the spec's point for createRuntime and
    /// createContainer hooks.
    #[test]
    fn hooks_pause_the_set_up_just_before_the_pivot() {
        let hook: oci_spec::runtime::Hook =
            serde_json::from_value(serde_json::json!({"path": "/bin/true"})).unwrap();
        let hooks = crate::ContainerHooks {
            create_container: std::slice::from_ref(&hook),
            start_container: &[],
        };
        let stdio = null_stdio();
        let steps = set_up_steps_with(&spec(&["mount", "pid"], false), stdio, true, Some(hooks));
        let at = |want: &Step| steps.iter().position(|s| s == want).unwrap();
        let pause = at(&Step::PauseForHooks(1));
        assert_eq!(pause, at(&Step::OpenSealedExe) + 1, "{steps:?}");
        assert!(matches!(steps[pause + 1], Step::PivotRoot(_)), "{steps:?}");
        assert!(at(&Step::ProtectPaths) < pause);
    }

    /// A shared or unbindable root is made so once pivoted into (pivot_root refuses a shared
    /// root, an unbindable one cannot be bound); a slave one before anything is mounted.
    #[test]
    fn a_shared_or_unbindable_root_is_made_after_the_pivot() {
        for (propagation, late) in [("shared", true), ("runbindable", true), ("rslave", false)] {
            let mut s = spec(&["mount", "pid"], false);
            let mut linux = s.linux().clone().unwrap();
            linux.set_rootfs_propagation(Some(propagation.into()));
            s.set_linux(Some(linux));
            let stdio = null_stdio();
            let steps = set_up_steps(&s, stdio, false);
            let pivot = steps
                .iter()
                .position(|s| matches!(s, Step::PivotRoot(_)))
                .unwrap();
            let set = steps.iter().position(|s| *s == Step::SetRootPropagation);
            if late {
                assert_eq!(set, Some(pivot + 1), "{propagation}: {steps:?}");
            } else {
                assert_eq!(set, None, "{propagation}: {steps:?}");
            }
        }
    }

    /// With no mount namespace listed, the runtime's is the container's: its propagation is
    /// left alone and the root entered by chroot (a pivot would move every process's root).
    #[test]
    fn without_a_mount_namespace_the_root_is_entered_by_chroot() {
        let s = spec(&["pid"], false);
        let stdio = null_stdio();
        let steps = set_up_steps(&s, stdio, false);
        assert!(!steps.contains(&Step::MakeNamespacePrivate), "{steps:?}");
        assert!(
            steps.contains(&Step::Chroot(PathBuf::from("/root-of-the-test"))),
            "{steps:?}"
        );
        assert!(
            !steps.iter().any(|s| matches!(s, Step::PivotRoot(_))),
            "{steps:?}"
        );
    }

    /// Without a mount namespace of its own, a set-up that fails detaches the root it mounted
    /// in the runtime's namespace: by its path before the chroot, as "/" after it.
    #[test]
    fn a_failed_set_up_detaches_a_root_mounted_in_the_runtimes_namespace() {
        let failing: [(crate::setup::recording::StepTest, &str); 2] = [
            (|s| *s == Step::ProtectPaths, "/root-of-the-test"),
            (|s| *s == Step::MakeRootReadOnly, "/"),
        ];
        for (fails_at, detached) in failing {
            let s = spec(&["pid"], true);
            let launch = Launch {
                spec: &s,
                rootfs: Rootfs::Directory("/bundle/rootfs".into()),
                stdio: null_stdio(),
                init: false,
                seccomp: None,
                hooks: None,
            };
            let (channel, _peer) = crate::sync::channel_pair().unwrap();
            let sys = Recorder::failing_at(fails_at);
            let joined = JoinedNamespaces::open(&s).unwrap();
            let idmapped = Idmapped::default();
            assert!(set_up(&sys, &launch, &channel, None, &joined, &idmapped).is_err());
            let steps = sys.steps();
            assert_eq!(
                steps.last(),
                Some(&Step::DetachSharedRoot(PathBuf::from(detached))),
                "{steps:?}"
            );
        }
    }

    /// In a new user namespace, the process takes its ids there before anything else: every
    /// other step is done as that namespace's root.
    #[test]
    fn the_user_namespace_comes_first() {
        let stdio = null_stdio();
        let steps = set_up_steps(&spec(&["user", "mount", "cgroup"], false), stdio, false);
        assert_eq!(
            steps[..3],
            [
                Step::EnterUserNamespace,
                Step::EnterCgroupNamespace,
                Step::MakeNamespacePrivate
            ]
        );
    }

    /// Namespaces joined by path are entered before anything else is made, so that the
    /// mounts, the hostname and `lo` are made in them.
    #[test]
    fn joined_namespaces_come_first() {
        let mut s = spec(&["mount", "pid", "uts"], false);
        let mut namespaces = s.linux().as_ref().unwrap().namespaces().clone().unwrap();
        let mut ipc = oci_spec::runtime::LinuxNamespace::default();
        ipc.set_typ(LinuxNamespaceType::Ipc);
        ipc.set_path(Some("/proc/self/ns/ipc".into()));
        namespaces.push(ipc);
        let mut linux = s.linux().clone().unwrap();
        linux.set_namespaces(Some(namespaces));
        s.set_linux(Some(linux));
        let stdio = null_stdio();
        let steps = set_up_steps(&s, stdio, false);
        assert_eq!(
            steps[..2],
            [Step::JoinNamespaces(1), Step::MakeNamespacePrivate]
        );
    }

    /// Without namespaces of its own for them, a container keeps the host's hostname and
    /// network as they are; without a terminal it gets its descriptors.
    #[test]
    fn only_what_the_spec_asks_for_is_set_up() {
        let stdio = null_stdio();
        let steps = set_up_steps(&spec(&["mount", "pid"], false), stdio, false);
        assert_eq!(
            steps,
            [
                Step::MakeNamespacePrivate,
                Step::MountRoot,
                Step::OpenRoot,
                Step::MountSpecMounts,
                Step::PopulateDev,
                Step::WriteSysctls,
                Step::ProtectPaths,
                Step::PivotRoot(PathBuf::from("/root-of-the-test")),
                Step::ConnectFds,
            ]
        );
    }
}
