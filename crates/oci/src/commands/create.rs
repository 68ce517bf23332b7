//! `create`, `start` and `run`: a container's init set up and left waiting on its start
//! socket by `create` (which then exits), released by `start` from another process.

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use kist_runtime::process::ProcessStamp;
use kist_runtime::{Launch, Rootfs, Stdio};
use nix::sys::socket::{AddressFamily, Backlog, SockFlag, SockType, bind, connect, listen, socket};

use crate::bundle::Bundle;
use crate::log::Logger;
use crate::state::{Container, Saved, Status, reserve};

#[derive(clap::Args)]
pub struct CreateArgs {
    /// The bundle directory (holding config.json)
    #[arg(short, long, default_value = ".")]
    pub bundle: PathBuf,
    /// Write the container's pid to this file
    #[arg(long)]
    pub pid_file: Option<PathBuf>,
    /// A unix socket that receives the terminal's master side
    #[arg(long)]
    pub console_socket: Option<PathBuf>,
    /// A unix socket that receives a pidfd of the container's first process
    #[arg(long)]
    pub pidfd_socket: Option<PathBuf>,
    /// Accepted for runc's callers; kist always uses pivot_root
    #[arg(long)]
    pub no_pivot: bool,
    /// Accepted for runc's callers; kist makes no session keyring
    #[arg(long)]
    pub no_new_keyring: bool,
    /// Pass this many descriptors above stderr to the container
    #[arg(long, default_value_t = 0)]
    pub preserve_fds: u32,
    /// The container's id
    pub id: String,
}

#[derive(clap::Args)]
pub struct RunArgs {
    /// Return once the program runs instead of waiting for it
    #[arg(short, long)]
    pub detach: bool,
    #[command(flatten)]
    pub create: CreateArgs,
}

pub fn create(root: &Path, args: &CreateArgs, logger: &Logger) -> Result<i32> {
    let pid = create_container(root, args, logger)?;
    logger.debug(&format!("created {} (pid {pid})", args.id));
    Ok(0)
}

pub fn start(root: &Path, id: &str, logger: &Logger) -> Result<i32> {
    let container = Container::load(root, id)?;
    match container.status() {
        Status::Created => {}
        Status::Stopped => bail!("cannot start a container that has stopped"),
        Status::Running | Status::Paused => bail!("cannot start an already running container"),
        Status::Creating => bail!("the container is still being created"),
    }
    release(&container.start_socket())?;
    poststart(&container, logger);
    Ok(0)
}

/// The poststart hooks; each failure is a warning (the program already runs), the others run.
fn poststart(container: &Container, logger: &Logger) {
    let hooks = container
        .saved
        .hooks
        .as_ref()
        .and_then(|h| h.poststart().as_ref());
    crate::hooks::warn_each(
        "poststart",
        hooks,
        &container.state_json_as(Status::Running),
        logger,
    );
}

/// `create` then `start`; in the foreground, waits for the program (this process is its
/// parent), removes the container and exits as the program did.
pub fn run(root: &Path, args: &RunArgs, logger: &Logger) -> Result<i32> {
    let pid = create_container(root, &args.create, logger)?;
    let container = Container::load(root, &args.create.id)?;
    // Blocked before the program starts, so that a signal sent once it runs is passed on,
    // never the end of this process (the container's process has its own mask; hooks and
    // programs this process spawns start with an empty one).
    let signals = if args.detach {
        None
    } else {
        Some(kist_runtime::block_forwarded_signals()?)
    };
    if let Err(e) = release(&container.start_socket()) {
        // Its program never ran (a startContainer hook failed, or the exec): stopped, then
        // removed (`run` is create, start and delete) with its poststop hooks, as the runtime
        // spec goes on after a failed start.
        if let Ok(Some(fd)) = kist_runtime::pidfd::Pidfd::open(pid) {
            let _ = fd.send_signal(libc::SIGKILL);
        }
        wait_child(pid);
        let _ = crate::commands::lifecycle::remove_stopped(container, logger);
        return Err(e);
    }
    poststart(&container, logger);
    if args.detach {
        return Ok(0);
    }
    if let Some(signals) = &signals {
        forward_signals_until_exit(pid, signals)?;
    }
    let status = wait_child(pid);
    crate::commands::lifecycle::remove_stopped(container, logger)?;
    Ok(status)
}

/// Connects to the start socket, removes it (from now on the container reads as running)
/// and lets the program exec; the program's failure to exec is this command's.
fn release(socket_path: &Path) -> Result<()> {
    let fd = socket(
        AddressFamily::Unix,
        SockType::SeqPacket,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .context("cannot make a socket")?;
    let addr = crate::socket_addr::of(socket_path)?;
    connect(fd.as_raw_fd(), &addr.addr).map_err(|e| anyhow!("cannot reach the container: {e}"))?;
    let _ = std::fs::remove_file(socket_path);
    kist_runtime::connect_and_start(fd).map_err(|e| anyhow!("cannot start the container: {e}"))
}

/// Everything `create` does; the container's pid.
fn create_container(root: &Path, args: &CreateArgs, logger: &Logger) -> Result<i32> {
    let bundle = Bundle::load(&args.bundle)?;
    for w in &bundle.warnings {
        logger.warn(w);
    }
    let dir = reserve(root, &args.id)?;
    match set_up(&dir, &bundle, args, logger) {
        Ok(pid) => Ok(pid),
        Err(e) => {
            // Recorded once its process existed: then, as the runtime spec continues a failed
            // create (and runc's destroy does), its poststop hooks run once it is gone.
            let recorded = Container::load(root, &args.id).ok();
            let _ = std::fs::remove_dir_all(&dir);
            if let Ok(Some(c)) = kist_runtime::Cgroup::of_spec(&bundle.spec) {
                let _ = c.destroy();
            }
            if let Some(c) = recorded {
                let hooks = c.saved.hooks.as_ref().and_then(|h| h.poststop().as_ref());
                crate::hooks::warn_each(
                    "poststop",
                    hooks,
                    &c.state_json_as(Status::Stopped),
                    logger,
                );
            }
            Err(e)
        }
    }
}

fn set_up(dir: &Path, bundle: &Bundle, args: &CreateArgs, logger: &Logger) -> Result<i32> {
    kist_runtime::preserve_fds(args.preserve_fds);
    let listener = listen_for_start(&dir.join(crate::state::START_SOCKET))?;
    let console_socket = console_socket(args.console_socket.as_deref(), bundle.terminal())?;
    let stdio = if bundle.terminal() {
        Stdio::Terminal
    } else {
        own_stdio()?
    };
    let seccomp = bundle
        .spec
        .linux()
        .as_ref()
        .and_then(|l| l.seccomp().as_ref())
        .map(kist_runtime::seccomp::Filter::for_spec)
        .transpose()?;
    let hooks = bundle.spec.hooks().as_ref();
    let container_hooks =
        crate::hooks::pause_before_pivot(hooks).then(|| kist_runtime::ContainerHooks {
            create_container: hook_slice(hooks.and_then(|h| h.create_container().as_ref())),
            start_container: hook_slice(hooks.and_then(|h| h.start_container().as_ref())),
        });
    let pauses = container_hooks.is_some();
    let launch = Launch {
        spec: &bundle.spec,
        rootfs: Rootfs::Directory(bundle.rootfs.clone()),
        stdio,
        init: false,
        seccomp: seccomp.as_ref(),
        hooks: container_hooks,
    };
    let mut created = kist_runtime::create_detached(launch, listener)?;
    let pid = created.pid();
    let made = Made {
        dir,
        bundle,
        args,
        console_socket,
    };
    if let Err(e) = made.finish(&mut created, pauses) {
        // Nothing of it is left running; its mounts were its mount namespace's alone, unless
        // it has none of its own (then its root is detached from the runtime's).
        created.abort();
        if !kist_runtime::has_mount_namespace(&bundle.spec) {
            let _ = crate::state::detach(&bundle.rootfs);
        }
        return Err(e);
    }
    logger.debug(&format!("container {} set up", args.id));
    // Dropping `created` leaves the container waiting for `start`.
    drop(created);
    Ok(pid)
}

fn hook_slice(set: Option<&Vec<oci_spec::runtime::Hook>>) -> &[oci_spec::runtime::Hook] {
    set.map_or(&[], Vec::as_slice)
}

/// A container whose process exists, and what `create` still does with it.
struct Made<'a> {
    dir: &'a Path,
    bundle: &'a Bundle,
    args: &'a CreateArgs,
    console_socket: Option<OwnedFd>,
}

impl Made<'_> {
    /// Records the container, runs the hooks of its creation at their point (when `pauses`,
    /// the process waits before its pivot for them), waits for its set-up, then hands out
    /// its terminal, pidfd and pid as asked.
    fn finish(self, created: &mut kist_runtime::Created, pauses: bool) -> Result<()> {
        let pid = created.pid();
        let saved = self.saved(pid)?;
        Container::save(self.dir, &saved)?;
        if pauses {
            created.wait_mounted()?;
            let container = Container {
                dir: self.dir.to_path_buf(),
                saved,
            };
            creation_hooks(&container)?;
            let state = |s| serde_json::to_vec(&container.state_json_as(s));
            created.resume(&state(Status::Creating)?, &state(Status::Created)?)?;
        }
        created.wait_ready()?;
        if let (Some(socket), Some(master)) = (&self.console_socket, created.take_console()) {
            send_console(socket, &master)?;
        }
        if let Some(path) = &self.args.pidfd_socket {
            send_pidfd(path, pid)?;
        }
        if let Some(path) = &self.args.pid_file {
            crate::state::write_atomically(path, pid.to_string().as_bytes())?;
        }
        Ok(())
    }

    fn saved(&self, pid: i32) -> Result<Saved> {
        let stamp = ProcessStamp::of(pid).ok_or_else(|| anyhow!("the container's process died"))?;
        let spec = &self.bundle.spec;
        Ok(Saved {
            id: self.args.id.clone(),
            pid,
            pid_start_time: stamp.start_time,
            bundle: self.bundle.dir.clone(),
            rootfs: self.bundle.rootfs.clone(),
            created: crate::time::now_rfc3339(),
            annotations: spec
                .annotations()
                .clone()
                .unwrap_or_default()
                .into_iter()
                .collect(),
            cgroups_path: spec
                .linux()
                .as_ref()
                .and_then(|l| l.cgroups_path().as_ref())
                .map(|p| p.to_string_lossy().into_owned()),
            hooks: spec.hooks().clone(),
            shares_mounts: !kist_runtime::has_mount_namespace(spec),
        })
    }
}

fn listen_for_start(path: &Path) -> Result<OwnedFd> {
    let fd = socket(
        AddressFamily::Unix,
        SockType::SeqPacket,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .context("cannot make the start socket")?;
    let addr = crate::socket_addr::of(path)?;
    bind(fd.as_raw_fd(), &addr.addr).with_context(|| format!("cannot bind {}", path.display()))?;
    listen(&fd, Backlog::new(4).context("backlog")?)
        .context("cannot listen on the start socket")?;
    Ok(fd)
}

/// The console socket, connected before anything is made, so that a wrong path fails early;
/// a terminal needs one (this process exits before the container's program starts).
pub fn console_socket(path: Option<&Path>, terminal: bool) -> Result<Option<OwnedFd>> {
    match (path, terminal) {
        (None, true) => bail!(
            "cannot allocate a terminal for a container that outlives this command without --console-socket"
        ),
        (Some(_), false) => bail!("--console-socket given but the process has no terminal"),
        (None, false) => Ok(None),
        (Some(path), true) => connect_unix(path, "console socket").map(Some),
    }
}

/// A stream connection to the unix socket at `path` (`what` names it in errors).
fn connect_unix(path: &Path, what: &str) -> Result<OwnedFd> {
    let fd = socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .context("cannot make a socket")?;
    let addr = crate::socket_addr::of(path)?;
    connect(fd.as_raw_fd(), &addr.addr)
        .map_err(|e| anyhow!("cannot connect to the {what} {}: {e}", path.display()))?;
    Ok(fd)
}

/// Sends the terminal's master side over the console socket, as runc does (SCM_RIGHTS, with
/// the name "/dev/ptmx" as the message's data).
pub fn send_console(socket: &OwnedFd, master: &OwnedFd) -> Result<()> {
    send_fd(socket, master.as_raw_fd(), b"/dev/ptmx")
        .context("cannot send the terminal on the console socket")
}

/// One descriptor over a connected unix socket (SCM_RIGHTS), with `name` as the data.
fn send_fd(socket: &OwnedFd, fd: std::os::fd::RawFd, name: &[u8]) -> Result<()> {
    use nix::sys::socket::{ControlMessage, MsgFlags, sendmsg};
    let fds = [fd];
    let data = [std::io::IoSlice::new(name)];
    sendmsg::<()>(
        socket.as_raw_fd(),
        &data,
        &[ControlMessage::ScmRights(&fds)],
        MsgFlags::MSG_NOSIGNAL,
        None,
    )
    .map_err(|e| anyhow!("{e}"))?;
    Ok(())
}

/// A pidfd of the container's first process, sent on `--pidfd-socket` as runc 1.2 does.
fn send_pidfd(path: &Path, pid: i32) -> Result<()> {
    use std::os::fd::AsFd;
    let pidfd = kist_runtime::pidfd::Pidfd::open(pid)?
        .ok_or_else(|| anyhow!("the container's process died"))?;
    let socket = connect_unix(path, "pidfd socket")?;
    send_fd(&socket, pidfd.as_fd().as_raw_fd(), b"pidfd")
        .context("cannot send the pidfd on --pidfd-socket")
}

/// The container's standard streams are this command's.
pub fn own_stdio() -> Result<Stdio> {
    let dup = |fd: i32| -> Result<OwnedFd> {
        // SAFETY: fds 0-2 are open for the whole of this process (dup fails cleanly if not).
        let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        borrowed
            .try_clone_to_owned()
            .with_context(|| format!("standard stream {fd} is not open"))
    };
    Ok(Stdio::Fds {
        stdin: dup(0)?,
        stdout: dup(1)?,
        stderr: dup(2)?,
    })
}

/// Waits for our child `pid`; its exit code, or 128+N when killed by signal N.
fn wait_child(pid: i32) -> i32 {
    let mut status = 0;
    loop {
        // SAFETY: waitpid on our own child with a valid status pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            break;
        }
        if r < 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return 255;
        }
    }
    if libc::WIFSIGNALED(status) {
        128 + libc::WTERMSIG(status)
    } else {
        libc::WEXITSTATUS(status)
    }
}

/// prestart then createRuntime, in the runtime's namespaces, while the container's process
/// waits before its pivot (its namespaces exist, `/proc/PID/ns/*` name them, its mounts are
/// made); its program not yet started. prestart is told `created`, as crun tells it and the
/// runtime-tools suite expects; createRuntime, which the spec places inside the create
/// operation, `creating`, as runc says for both.
fn creation_hooks(container: &Container) -> Result<()> {
    let Some(hooks) = &container.saved.hooks else {
        return Ok(());
    };
    #[allow(deprecated)]
    let prestart = hooks.prestart().as_ref();
    crate::hooks::run_all(
        "prestart",
        prestart,
        &container.state_json_as(Status::Created),
    )?;
    let state = container.state_json_as(Status::Creating);
    crate::hooks::run_all("createRuntime", hooks.create_runtime().as_ref(), &state)
}

/// In the foreground, the signals a user sends `run` (SIGTERM, SIGINT, SIGHUP...) go to the
/// container's first process, as runc passes them on, until it exits.
fn forward_signals_until_exit(pid: i32, signals: &kist_runtime::ForwardedSignals) -> Result<()> {
    use std::os::fd::AsFd;
    let Some(pidfd) = kist_runtime::pidfd::Pidfd::open(pid)? else {
        return Ok(());
    };
    loop {
        let mut fds = [
            libc::pollfd {
                fd: signals.fd().as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: pidfd.as_fd().as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: a two-element pollfd array that lives across the call.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return Err(e).context("waiting for the container");
        }
        while let Some(signal) = signals.next() {
            let _ = pidfd.send_signal(signal)?;
        }
        if fds[1].revents != 0 {
            return Ok(());
        }
    }
}
