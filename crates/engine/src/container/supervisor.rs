//! The per-container supervisor of a detached container: kist has no daemon, so a container
//! that outlives the command that started it needs a process of its own that holds its output,
//! reaps it, records how it ended and restarts it when its policy says so.
//!
//! It is a fresh exec of kist (`kist __supervise ID`), in a session of its own, detached from
//! the terminal that started it. It makes the container's process its own child, so it is the
//! one to reap it, and the container dies with it (`PR_SET_PDEATHSIG`) if it is killed: the
//! next kist command then finds the container's monitor gone and marks it exited. It reports
//! "started" or why not over a pipe to the command that launched it, and keeps the state store
//! closed while it waits, to stay small.

use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio as ProcessStdio};
use std::time::{Duration, Instant};

use kist_runtime::Stdio;
use kist_runtime::process::ProcessStamp;
use serde::{Deserialize, Serialize};

use crate::Engine;
use crate::container::console::{self, ConsolePoint};
use crate::container::stdio::pipe;
use crate::error::{Error, IoContext, Result};
use crate::observe::logs::{LogWriter, Stream, log_path};
use crate::state::container_dirs::ContainerDirs;
use crate::state::launch_config::LaunchConfig;
use crate::state::store::ContainerState;

/// The descriptor on which the supervisor reports back.
const STATUS_FD: i32 = 3;

#[derive(Debug, Serialize, Deserialize)]
enum Report {
    Started { pid: i32 },
    Failed { code: i32, message: String },
}

/// Launches the supervisor of container `id` and waits until it has started the container's
/// process. Errors carry Docker's exit codes (126/127 when the program cannot run). With
/// `wait_for_attach` (`run -it`), the program starts only once a client attached to its
/// terminal says it is ready (see `console`); the report comes before.
pub fn launch(engine: &Engine, id: &str, wait_for_attach: bool) -> Result<i32> {
    let (read_end, write_end) = pipe()?;
    let raw = write_end.as_raw_fd();
    // The binary by its path, so that `ps` shows the supervisor as kist.
    let exe = std::env::current_exe().unwrap_or_else(|_| "/proc/self/exe".into());
    let mut cmd = Command::new(&exe);
    cmd.arg("--root")
        .arg(&engine.layout.root)
        .arg("--runroot")
        .arg(&engine.layout.run)
        .arg("__supervise")
        .arg(id)
        .args(wait_for_attach.then_some("--wait-for-attach"))
        .stdin(ProcessStdio::null())
        .stdout(ProcessStdio::null())
        .stderr(ProcessStdio::null())
        .current_dir("/");
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            libc::setsid();
            if libc::dup2(raw, STATUS_FD) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            let mut empty: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut empty);
            libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
            Ok(())
        });
    }
    cmd.spawn()
        .ctx("starting the container's supervisor", &exe)?;
    drop(write_end);
    // One line, not the whole stream: with --wait-for-attach the report comes while the
    // container's process (which holds a copy of the pipe until it execs) waits to start.
    let mut report = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(std::fs::File::from(read_end)),
        &mut report,
    )
    .map_err(Error::sys("reading from the supervisor"))?;
    match serde_json::from_str::<Report>(report.trim()) {
        Ok(Report::Started { pid }) => Ok(pid),
        Ok(Report::Failed { code, message }) => {
            Err(Error::Runtime(kist_runtime::Error::Container {
                code,
                message,
            }))
        }
        Err(_) => Err(Error::SupervisorSilent { id: id.to_string() }),
    }
}

/// How long a `run -it` supervisor waits for its client before it starts the program anyway.
const ATTACH_WAIT: Duration = Duration::from_secs(30);

/// The supervisor's life; returns its exit status.
pub fn supervise(
    root: &std::path::Path,
    runroot: Option<&std::path::Path>,
    id: &str,
    wait_for_attach: bool,
) -> i32 {
    // SAFETY: the descriptor was set up by `launch` for this process alone.
    let status = unsafe { OwnedFd::from_raw_fd(STATUS_FD) };
    let mut status = Some(std::fs::File::from(status));
    ignore_terminal_signals();
    match run_container(root, runroot, id, &mut status, wait_for_attach) {
        Ok(()) => 0,
        Err(e) => {
            if let Some(mut s) = status.take() {
                let report = Report::Failed {
                    code: e.exit_code(),
                    message: e.to_string(),
                };
                let _ = writeln!(s, "{}", serde_json::to_string(&report).unwrap_or_default());
            }
            1
        }
    }
}

fn run_container(
    root: &std::path::Path,
    runroot: Option<&std::path::Path>,
    id: &str,
    status: &mut Option<std::fs::File>,
    wait_for_attach: bool,
) -> Result<()> {
    let me = ProcessStamp::current();
    let opened = Engine::open_quietly(root, runroot)?;
    opened.store.set_monitor(id, me)?;
    let layout = opened.layout.clone();
    let mut config = LaunchConfig::load(&layout.container_dir(id))?;
    let dirs = ContainerDirs::of(&layout, id);
    let mut log = LogWriter::open(&log_path(&dirs.dir, id), config.log)?;
    let mut restarts = opened.store.find_container(id)?.restart_count;
    let mut engine = Some(opened);
    let mut first = true;
    loop {
        let e = match engine.take() {
            Some(e) => e,
            None => Engine::open_quietly(root, runroot)?,
        };
        let (stdio, outputs, _stdin_keeper) = container_stdio(&config)?;
        let seccomp = crate::container::seccomp_cache::filter_for(&layout, &config.security)?;
        crate::container::joined::point_at_donors(&e, &mut config.spec, &config.joined)?;
        let mut created = kist_runtime::create(config.launch(&dirs, stdio, seccomp.as_ref()))?;
        let joining = crate::network::attach::Joining::load(&e, id)?;
        let network = crate::network::attach::connect_during_setup(&e, joining, &mut created)?;
        let console = created.take_console();
        // With -i, attached clients' input goes to the container's stdin (or terminal). The
        // socket exists before "started" is reported, so `start -i` finds it.
        let input = match (&console, &_stdin_keeper) {
            (Some(master), _) if config.interactive => master.try_clone().ok(),
            (None, Some(keeper)) => keeper.try_clone().ok(),
            _ => None,
        };
        let attach = input
            .map(|fd| AttachPoint::open(&dirs.run.join("attach.sock"), fd))
            .transpose()?;
        let mut console_point = match &console {
            Some(master) => Some(ConsolePoint::open(
                &dirs.run.join(console::SOCKET),
                master
                    .try_clone()
                    .map_err(Error::sys("sharing the terminal"))?,
            )?),
            None => None,
        };
        let pid = created.pid();
        let stamp = ProcessStamp::of(pid).ok_or(Error::ProcessVanished)?;
        e.store.set_restarted(id, stamp, me, !first)?;
        if first
            && wait_for_attach
            && let Some(point) = console_point.as_mut()
        {
            report_started(status, pid);
            point.wait_for_client(ATTACH_WAIT);
        }
        let running = match created.start() {
            Ok(r) => r,
            Err(err) if status.is_some() => return Err(err.into()),
            Err(err) => {
                let _ = e
                    .store
                    .set_exited(id, err.exit_code(), Some(&err.to_string()));
                let record = e.store.find_container(id)?;
                if record.auto_remove {
                    crate::container::removal::discard(&e, id, true)?;
                }
                if let Some(point) = console_point {
                    point.failed(err.exit_code(), &err.to_string());
                }
                return Ok(());
            }
        };
        let _network = network.serve()?;
        // Before "started" is reported: a `run -d` that returned finds it written.
        let record = e.store.find_container(id)?;
        crate::state::events::container(root, &record, "start", &[]);
        let health =
            crate::container::health::Monitor::start(&layout, &record, config.healthcheck.as_ref());
        report_started(status, pid);
        // Nothing to say to the store until the container exits: let go of it meanwhile.
        drop(e);
        let started = Instant::now();
        let sources: Vec<(OwnedFd, Stream)> = match console {
            Some(master) => vec![(master, Stream::Stdout)],
            None => outputs,
        };
        pump_logs(&running, sources, &mut log, attach, console_point.as_mut())?;
        // The container is gone: so is its check (a probe under way fails with it).
        drop(health);
        let _ = std::fs::remove_file(dirs.run.join("attach.sock"));
        let _ = std::fs::remove_file(dirs.run.join(console::SOCKET));
        let code = running.wait()?.code();
        let e = Engine::open_quietly(root, runroot)?;
        let _ = crate::network::attach::disconnect(&e, id);
        let record = e.store.find_container(id)?;
        let oom = crate::container::cgroup::finish(&record);
        // Logged before the store says so: `stop` waits for the store and then logs "stop",
        // which comes after "die" in Docker's order.
        exit_events(root, &record, code, oom);
        e.store.set_exited(id, code, None)?;
        if oom {
            e.store.set_oom_killed(id)?;
        }
        // `update` may have changed the restart policy or the limits meanwhile.
        if let Ok(latest) = LaunchConfig::load(&dirs.dir) {
            config = latest;
        }
        // A container being removed is not started again (its remover waits for this
        // process to exit).
        let restarting = record.state != ContainerState::Removing
            && config
                .restart
                .restarts(code, restarts, record.stop_requested);
        if !restarting && record.auto_remove {
            // `run -d --rm`: this process reaped it, so it owns the removal, with the
            // anonymous volumes only it used (as Docker's --rm).
            crate::container::removal::discard(&e, id, true)?;
        }
        // After the removal, so that an attached `run --rm -it` returns with the container
        // gone; before a restart, whose terminal is a new one, as Docker's clients end then.
        if let Some(point) = console_point {
            point.exit(code);
        }
        if !restarting {
            return Ok(());
        }
        // Docker's back-off: 100 ms, doubling, at most a minute; reset after 10 s of running.
        if started.elapsed() > Duration::from_secs(10) {
            restarts = 0;
        }
        let delay = Duration::from_millis(100u64.saturating_mul(1 << restarts.clamp(0, 10)))
            .min(Duration::from_secs(60));
        drop(e);
        std::thread::sleep(delay);
        let e = Engine::open_quietly(root, runroot)?;
        // A stop or removal may have come during the back-off.
        match e.store.find_container(id) {
            Ok(c) if !c.stop_requested && c.state != ContainerState::Removing => {}
            _ => return Ok(()),
        }
        restarts += 1;
        first = false;
        engine = Some(e);
    }
}

/// Tells the command that launched the supervisor that the container's process exists (once).
fn report_started(status: &mut Option<std::fs::File>, pid: i32) {
    if let Some(mut s) = status.take() {
        let _ = writeln!(
            s,
            "{}",
            serde_json::to_string(&Report::Started { pid }).unwrap_or_default()
        );
    }
}

/// The events of a container's exit, in Docker's order: "oom" first if it was OOM-killed,
/// then "die" with its exit code.
pub(crate) fn exit_events(
    root: &std::path::Path,
    record: &crate::state::store::ContainerRecord,
    code: i32,
    oom: bool,
) {
    if oom {
        crate::state::events::container(root, record, "oom", &[]);
    }
    crate::state::events::container(root, record, "die", &[("exitCode", code.to_string())]);
}

/// Pipes for stdout and stderr (whose read ends the supervisor logs), and stdin: /dev/null, or
/// with `-i` a pipe kept open (but never written, until attach exists) so reading blocks.
#[allow(clippy::type_complexity)]
fn container_stdio(
    config: &LaunchConfig,
) -> Result<(Stdio, Vec<(OwnedFd, Stream)>, Option<OwnedFd>)> {
    if config.tty {
        return Ok((Stdio::Terminal, Vec::new(), None));
    }
    let (out_r, out_w) = pipe()?;
    let (err_r, err_w) = pipe()?;
    let (stdin, keeper) = if config.interactive {
        let (r, w) = pipe()?;
        (r, Some(w))
    } else {
        let null = std::fs::File::open("/dev/null").ctx("opening", "/dev/null")?;
        (OwnedFd::from(null), None)
    };
    Ok((
        Stdio::Fds {
            stdin,
            stdout: out_w,
            stderr: err_w,
        },
        vec![(out_r, Stream::Stdout), (err_r, Stream::Stderr)],
        keeper,
    ))
}

/// Copies the container's output into its log until the container exits and its output ends.
/// Where attached clients' input goes: a listening socket, its clients, and the container's
/// stdin (the write end of its stdin pipe, or its terminal).
pub(crate) struct AttachPoint {
    listener: std::os::unix::net::UnixListener,
    clients: Vec<std::os::unix::net::UnixStream>,
    stdin: OwnedFd,
}

impl AttachPoint {
    fn open(path: &std::path::Path, stdin: OwnedFd) -> Result<AttachPoint> {
        let _ = std::fs::remove_file(path);
        let listener = with_short_path(path, |short| std::os::unix::net::UnixListener::bind(short))
            .ctx("listening for attach on", path)?;
        let _ = listener.set_nonblocking(true);
        Ok(AttachPoint {
            listener,
            clients: Vec::new(),
            stdin,
        })
    }
}

/// Copies the container's output into its log until the container exits and its output ends;
/// meanwhile passes what attached clients send to the container's stdin.
fn pump_logs(
    running: &kist_runtime::Running,
    mut sources: Vec<(OwnedFd, Stream)>,
    log: &mut LogWriter,
    mut attach: Option<AttachPoint>,
    mut console: Option<&mut ConsolePoint>,
) -> Result<()> {
    let mut buf = vec![0u8; 32 * 1024];
    let mut exited = false;
    let mut trimmed = false;
    loop {
        let pollin = |fd: i32| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        let mut fds: Vec<libc::pollfd> = sources
            .iter()
            .map(|(fd, _)| pollin(fd.as_raw_fd()))
            .collect();
        fds.push(pollin(running.pidfd().as_raw_fd()));
        let attach_base = fds.len();
        if let Some(a) = &attach {
            fds.push(pollin(a.listener.as_raw_fd()));
            fds.extend(a.clients.iter().map(|c| pollin(c.as_raw_fd())));
        }
        let console_base = fds.len();
        if let Some(c) = &console {
            fds.push(pollin(c.listener_fd()));
            fds.extend(c.client_fds().into_iter().map(pollin));
        }
        // After the exit, only what is already buffered is read.
        let timeout = if exited { 0 } else { -1 };
        if !trimmed {
            // Just before the first wait, so that no code of the set-up runs after it: the
            // pages an idle supervisor keeps are the loop's own.
            trim_memory();
            trimmed = true;
        }
        // SAFETY: a valid pollfd array for the duration of the call.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout) };
        if n < 0 {
            continue;
        }
        if n == 0 && exited {
            break;
        }
        let mut done = Vec::new();
        for (i, (fd, stream)) in sources.iter().enumerate() {
            if fds[i].revents == 0 {
                continue;
            }
            match rustix::io::read(fd.as_fd(), &mut buf) {
                Ok(0) | Err(_) => done.push(i),
                Ok(n) => {
                    log.write(*stream, &buf[..n])?;
                    if let Some(c) = console.as_mut() {
                        c.output(&buf[..n]);
                    }
                }
            }
        }
        for i in done.into_iter().rev() {
            sources.remove(i);
        }
        if fds[attach_base - 1].revents != 0 {
            exited = true;
        }
        if let Some(a) = attach.as_mut().filter(|_| !exited) {
            pass_input(a, &fds[attach_base..console_base], &mut buf);
        }
        if let Some(c) = console.as_mut() {
            // Clients type into the terminal directly; here they only come and go.
            c.read_clients(&fds[console_base + 1..]);
            if fds[console_base].revents != 0 {
                c.accept();
            }
        }
        if sources.is_empty() && exited {
            break;
        }
    }
    log.flush()
}

/// Calls `f` with a path to `path` short enough for a unix socket (108 bytes at most): the
/// same file, named through a descriptor of its directory.
pub fn with_short_path<T>(
    path: &std::path::Path,
    f: impl FnOnce(&std::path::Path) -> std::io::Result<T>,
) -> std::io::Result<T> {
    let dir = std::fs::File::open(path.parent().unwrap_or(std::path::Path::new("/")))?;
    let name = path.file_name().unwrap_or_default();
    let short = std::path::PathBuf::from(format!("/proc/self/fd/{}", dir.as_raw_fd())).join(name);
    f(&short)
}

/// Accepts new clients and copies what they sent to the container's stdin; a client that
/// ends is dropped (the container's stdin stays open for the next).
fn pass_input(a: &mut AttachPoint, ready: &[libc::pollfd], buf: &mut [u8]) {
    use std::io::Read;
    let mut gone = Vec::new();
    for (i, client) in a.clients.iter_mut().enumerate() {
        if ready.get(i + 1).is_none_or(|p| p.revents == 0) {
            continue;
        }
        match client.read(buf) {
            Ok(0) | Err(_) => gone.push(i),
            Ok(n) => {
                let mut data = &buf[..n];
                while !data.is_empty() {
                    match rustix::io::write(&a.stdin, data) {
                        Ok(w) => data = &data[w..],
                        Err(rustix::io::Errno::INTR) => {}
                        Err(_) => break,
                    }
                }
            }
        }
    }
    for i in gone.into_iter().rev() {
        a.clients.remove(i);
    }
    if ready.first().is_some_and(|p| p.revents != 0) {
        while let Ok((client, _)) = a.listener.accept() {
            a.clients.push(client);
        }
    }
}

fn ignore_terminal_signals() {
    // SAFETY: setting dispositions to SIG_IGN; the container's process resets its own.
    unsafe {
        for s in [
            libc::SIGHUP,
            libc::SIGINT,
            libc::SIGQUIT,
            libc::SIGPIPE,
            libc::SIGTERM,
        ] {
            libc::signal(s, libc::SIG_IGN);
        }
    }
}

/// Gives the memory of set-up back: an idle supervisor should be small. Freed heap goes back to
/// the system; and the pages of kist's own binary that set-up touched (SQLite, JSON, the
/// runtime) leave this process's page tables: those of read-only mappings none of whose pages
/// were ever written (`Anonymous: 0 kB` in smaps; relocated data is not so). Such pages come
/// back from the file, unchanged, if needed again; they stay in the page cache, shared with
/// every other kist.
fn trim_memory() {
    // SAFETY: malloc_trim only returns free memory.
    unsafe {
        libc::malloc_trim(0);
    }
    let Ok(exe) = std::fs::read_link("/proc/self/exe") else {
        return;
    };
    let exe = exe.to_string_lossy().into_owned();
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else {
        return;
    };
    let mut current: Option<(usize, usize)> = None;
    for line in smaps.lines() {
        let mut fields = line.split_whitespace();
        let first = fields.next().unwrap_or_default();
        if let Some((start, end)) = first.split_once('-').filter(|_| !first.ends_with(':')) {
            let perms = fields.next().unwrap_or_default();
            let path = fields.nth(3).unwrap_or_default();
            current = match (
                usize::from_str_radix(start, 16),
                usize::from_str_radix(end, 16),
            ) {
                (Ok(s), Ok(e)) if path == exe && !perms.contains('w') => Some((s, e)),
                _ => None,
            };
        } else if first == "Anonymous:"
            && let (Some((start, end)), Some("0")) = (current.take(), fields.next())
        {
            // SAFETY: a read-only private mapping of our own binary with no page of its
            // own: dropping its pages only makes them fault in again from the file.
            unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED);
            }
        }
    }
}
