//! The container's first process, from clone to exec.
//!
//! Order matters: mounts are made while the host's /proc is still visible (the `/proc/self/fd`
//! paths used to mount onto resolved handles need it); devices and the terminal before
//! `pivot_root`; masking and read-only remounts after it, on the container's own paths; the
//! user last, once nothing needs root's powers any more.

use std::convert::Infallible;
use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

use oci_spec::runtime::{LinuxNamespaceType, Spec};
use rustix::fs::{Mode, OFlags};

use crate::capabilities::Capabilities;
use crate::error::{Error, Result, SysContext, cvt};
use crate::launch::{Launch, Rootfs, Stdio};
use crate::mount_options::rootfs_propagation;
use crate::mounts::{mount, mount_all};
use crate::sealed::SealedExe;
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
    // Die with kist: a container whose kist was killed during set-up must not linger. After
    // `start`, whoever supervises the container is its parent and the same holds.
    // SAFETY: prctl with integer arguments.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) };
    crate::signals::reset_in_child();
    // Device nodes must get exactly the modes the spec gives.
    // SAFETY: umask cannot fail.
    unsafe { libc::umask(0) };

    let spec = launch.spec;
    if crate::launch::wants_cgroup_namespace(spec) {
        match channel.recv()? {
            Some((Message::Placed, _)) => {}
            // kist failed to place us, or went away: nothing to set up for.
            _ => unsafe { libc::_exit(125) },
        }
        // SAFETY: a cgroup namespace changes nothing this single-threaded child relies on.
        unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWCGROUP) }
            .sys(|| "making the cgroup namespace".into())?;
    }
    let process = spec
        .process()
        .as_ref()
        .ok_or_else(|| Error::Spec("the spec has no process".into()))?;
    let linux = spec.linux().as_ref();
    let propagation = rootfs_propagation(linux.and_then(|l| l.rootfs_propagation().as_deref()));
    mount(None, Path::new("/"), None, propagation, None)
        .sys(|| "making the mount namespace private".into())?;

    let root_path = mount_rootfs(&launch.rootfs)?;
    let root = rustix::fs::open(
        &root_path,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .sys(|| format!("opening the container's root {}", root_path.display()))?;
    mount_all(
        spec,
        &root,
        &crate::mounts::CgroupSource { cgroup, channel },
    )?;
    if crate::devices::spec_mounts_dev(spec) {
        crate::devices::populate_dev(spec, &root)?;
    }
    let terminal = match launch.stdio {
        Stdio::Terminal => {
            let (master, slave) = crate::console::open_pty(&root)?;
            crate::console::mount_console(&root, &slave)?;
            channel.send_with_fd(&Message::Console, Some(master.as_raw_fd()))?;
            Some(slave)
        }
        Stdio::Fds { .. } => None,
    };
    if let Some(linux) = linux {
        crate::sysctl::apply(&root, linux.sysctl().as_ref())?;
        crate::masks::Masks::prepare()?.apply(
            &root,
            linux.readonly_paths().as_deref().unwrap_or_default(),
            linux.masked_paths().as_deref().unwrap_or_default(),
        )?;
    }
    drop(root);
    // Opened while the host's paths are still reachable: the binary kist-init runs from.
    let init = launch.init.then(SealedExe::open).transpose()?;
    crate::mounts::pivot_into(&root_path)?;

    if spec
        .root()
        .as_ref()
        .and_then(|r| r.readonly())
        .unwrap_or(false)
    {
        mount(
            None,
            Path::new("/"),
            None,
            libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY,
            None,
        )
        .sys(|| "making the root read-only".into())?;
    }
    if let (true, Some(h)) = (
        has_new_namespace(spec, LinuxNamespaceType::Uts),
        spec.hostname(),
    ) {
        nix::unistd::sethostname(h).map_err(|e| Error::sys("setting the hostname", e.into()))?;
    }
    if has_new_namespace(spec, LinuxNamespaceType::Network) {
        crate::loopback::bring_up_loopback()?;
    }
    match (&launch.stdio, &terminal) {
        (_, Some(slave)) => crate::console::become_terminal_session(slave)?,
        (
            Stdio::Fds {
                stdin,
                stdout,
                stderr,
            },
            None,
        ) => connect_stdio(stdin, stdout, stderr)?,
        (Stdio::Terminal, None) => unreachable!("a terminal launch always has a terminal"),
    }
    drop(terminal);
    drop(launch.stdio);

    channel.send(&Message::Ready)?;
    match channel.recv()? {
        Some((Message::Start, _)) => {}
        // kist went away before starting us: nothing to run for.
        _ => unsafe { libc::_exit(125) },
    }

    become_program(process, init.as_ref(), channel, launch.seccomp)
}

/// The last steps of every container process, created or exec'd, in the order the runtime
/// spec and runc give them: working directory, rlimits; the seccomp filter while the process
/// still holds CAP_SYS_ADMIN (when no_new_privs is off, installing one needs it); the bounding
/// set; the user, keeping the permitted set across the switch; the other capability sets;
/// no_new_privs; the program looked up inside the container; no descriptor of kist's left open;
/// the filter last when no_new_privs is on; exec (under `kist-init` when given its sealed binary).
pub(crate) fn become_program(
    process: &oci_spec::runtime::Process,
    init: Option<&SealedExe>,
    channel: &Channel,
    seccomp: Option<&crate::seccomp::Filter>,
) -> Result<Infallible> {
    let cwd = process.cwd();
    if std::fs::metadata(cwd).is_err() {
        std::fs::create_dir_all(cwd)
            .sys(|| format!("creating the working directory {}", cwd.display()))?;
    }
    set_rlimits(process)?;
    if let Some(adj) = process.oom_score_adj() {
        std::fs::write("/proc/self/oom_score_adj", adj.to_string())
            .sys(|| format!("setting oom_score_adj to {adj}"))?;
    }
    let no_new_privileges = process.no_new_privileges().unwrap_or(false);
    let capabilities = Capabilities::of(process)?;
    if let (Some(filter), false) = (seccomp, no_new_privileges) {
        install(filter)?;
    }
    if let Some(c) = &capabilities {
        c.limit_bounding()?;
        crate::capabilities::keep_across_user_change(true)?;
    }
    set_user(process)?;
    if let Some(c) = &capabilities {
        crate::capabilities::keep_across_user_change(false)?;
        c.apply()?;
    }
    if no_new_privileges {
        // SAFETY: prctl with integer arguments.
        cvt(unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) })
            .sys(|| "setting no_new_privs".into())?;
    }
    std::env::set_current_dir(cwd).map_err(|e| Error::Container {
        code: 125,
        message: format!("entering the working directory {}: {e}", cwd.display()),
    })?;
    // SAFETY: umask cannot fail.
    unsafe { libc::umask(process.user().umask().unwrap_or(0o022) as libc::mode_t) };
    let exec = match init {
        Some(sealed) => Exec::Init(sealed, init_command(process)?),
        None => Exec::Program(crate::exec::resolve(process)?),
    };
    close_other_fds();
    if let Exec::Init(..) = exec {
        pass_channel_to_init(channel)?;
    }
    if let (Some(filter), true) = (seccomp, no_new_privileges) {
        install(filter)?;
    }
    match exec {
        Exec::Program(program) => Err(crate::exec::exec(&program)),
        Exec::Init(sealed, (argv, envp)) => Err(sealed.exec(&argv, &envp)),
    }
}

fn install(filter: &crate::seccomp::Filter) -> Result<()> {
    filter
        .install()
        .sys(|| "installing the seccomp filter".into())
}

enum Exec<'a> {
    Program(crate::exec::Program),
    Init(&'a SealedExe, (Vec<CString>, Vec<CString>)),
}

/// `kist-init -- ARGS...` and the program's environment.
fn init_command(process: &oci_spec::runtime::Process) -> Result<(Vec<CString>, Vec<CString>)> {
    let cstring =
        |s: &str| CString::new(s).map_err(|_| Error::Spec(format!("{s:?} holds a NUL byte")));
    let mut argv = vec![cstring(crate::sealed::INIT_NAME)?, cstring("--")?];
    for a in process.args().as_deref().unwrap_or_default() {
        argv.push(cstring(a)?);
    }
    let envp = process
        .env()
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(|e| cstring(e))
        .collect::<Result<_>>()?;
    Ok((argv, envp))
}

/// Init finds the set-up channel at descriptor 3, open across its exec.
fn pass_channel_to_init(channel: &Channel) -> Result<()> {
    let fd = channel.raw_fd();
    let target = crate::init::CHANNEL_FD;
    // SAFETY: descriptor-table syscalls on descriptors this process owns; dup2 onto another
    // number clears close-on-exec, and fcntl clears it when the channel already is there.
    let r = unsafe {
        if fd == target {
            libc::fcntl(fd, libc::F_SETFD, 0)
        } else {
            libc::dup2(fd, target)
        }
    };
    cvt(r)
        .map(drop)
        .sys(|| "passing the set-up channel to init".into())
}

fn mount_rootfs(rootfs: &Rootfs) -> Result<std::path::PathBuf> {
    match rootfs {
        Rootfs::Overlay {
            lower,
            upper,
            work,
            mountpoint,
        } => {
            crate::overlay::mount_overlay(lower, upper, work, mountpoint)?;
            Ok(mountpoint.clone())
        }
        Rootfs::Directory(dir) => {
            // pivot_root needs a mount point; a bind mount of the directory onto itself is one.
            mount(Some(dir), dir, None, libc::MS_BIND | libc::MS_REC, None)
                .sys(|| format!("bind-mounting the root {}", dir.display()))?;
            Ok(dir.clone())
        }
    }
}

fn has_new_namespace(spec: &Spec, typ: LinuxNamespaceType) -> bool {
    spec.linux()
        .as_ref()
        .and_then(|l| l.namespaces().as_ref())
        .is_some_and(|nss| nss.iter().any(|n| n.typ() == typ && n.path().is_none()))
}

pub(crate) fn connect_stdio(stdin: &OwnedFd, stdout: &OwnedFd, stderr: &OwnedFd) -> Result<()> {
    for (fd, target) in [(stdin, 0), (stdout, 1), (stderr, 2)] {
        // SAFETY: dup2 onto the standard descriptors.
        cvt(unsafe { libc::dup2(fd.as_raw_fd(), target) })
            .sys(|| "connecting the standard streams".into())?;
    }
    Ok(())
}

/// The spec's rlimits (`--ulimit`), set while still root: raising a hard limit needs it.
fn set_rlimits(process: &oci_spec::runtime::Process) -> Result<()> {
    for r in process.rlimits().as_deref().unwrap_or_default() {
        let name = serde_json::to_value(r.typ())
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        let resource = match name.as_str() {
            "RLIMIT_NOFILE" => libc::RLIMIT_NOFILE,
            "RLIMIT_NPROC" => libc::RLIMIT_NPROC,
            "RLIMIT_CORE" => libc::RLIMIT_CORE,
            "RLIMIT_STACK" => libc::RLIMIT_STACK,
            "RLIMIT_MEMLOCK" => libc::RLIMIT_MEMLOCK,
            "RLIMIT_FSIZE" => libc::RLIMIT_FSIZE,
            "RLIMIT_CPU" => libc::RLIMIT_CPU,
            "RLIMIT_DATA" => libc::RLIMIT_DATA,
            "RLIMIT_AS" => libc::RLIMIT_AS,
            "RLIMIT_LOCKS" => libc::RLIMIT_LOCKS,
            "RLIMIT_SIGPENDING" => libc::RLIMIT_SIGPENDING,
            "RLIMIT_MSGQUEUE" => libc::RLIMIT_MSGQUEUE,
            "RLIMIT_NICE" => libc::RLIMIT_NICE,
            "RLIMIT_RTPRIO" => libc::RLIMIT_RTPRIO,
            "RLIMIT_RTTIME" => libc::RLIMIT_RTTIME,
            "RLIMIT_RSS" => libc::RLIMIT_RSS,
            other => return Err(Error::Spec(format!("unknown rlimit {other:?}"))),
        };
        let limit = libc::rlimit {
            rlim_cur: r.soft(),
            rlim_max: r.hard(),
        };
        // SAFETY: setrlimit with a valid struct.
        cvt(unsafe { libc::setrlimit(resource, &limit) }).sys(|| format!("setting {name}"))?;
    }
    Ok(())
}

fn set_user(process: &oci_spec::runtime::Process) -> Result<()> {
    let user = process.user();
    let groups: Vec<libc::gid_t> = user.additional_gids().clone().unwrap_or_default();
    // SAFETY: id-setting syscalls with valid arguments; groups first, while still root.
    unsafe {
        cvt(libc::setgroups(groups.len(), groups.as_ptr()))
            .sys(|| "setting supplementary groups".into())?;
        cvt(libc::setresgid(user.gid(), user.gid(), user.gid()))
            .sys(|| format!("setting gid {}", user.gid()))?;
        cvt(libc::setresuid(user.uid(), user.uid(), user.uid()))
            .sys(|| format!("setting uid {}", user.uid()))?;
    }
    Ok(())
}

/// Marks every descriptor above stderr close-on-exec, so none of kist's reaches the program.
fn close_other_fds() {
    // SAFETY: close_range only changes descriptor flags.
    unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3u32,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        );
    }
}
