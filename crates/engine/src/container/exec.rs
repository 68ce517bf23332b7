//! `kist exec`: another process in a running container. It enters every namespace of the
//! container's first process, takes the container's process settings (environment, working
//! directory, user) with the user's overrides, and appears in the container's `ps`; its exit
//! code is passed back.

use kist_runtime::Join;
use oci_spec::runtime::Process;

use crate::Engine;
use crate::container::user::resolve_user;
use crate::error::{Error, IoContext, Result};
use crate::options::resolve_env;
use crate::state::launch_config::LaunchConfig;
use crate::state::store::ContainerRecord;

#[derive(Debug, Clone, Default)]
pub struct ExecOptions {
    pub command: Vec<String>,
    pub interactive: bool,
    pub tty: bool,
    /// Raw `-e` values.
    pub env: Vec<String>,
    pub workdir: Option<String>,
    pub user: Option<String>,
    /// `-d`: start the command and return; it runs on in the container.
    pub detach: bool,
}

/// Runs the command in the container and returns its exit code. Takes the engine to close
/// the state store before forking into the container: the child, visible in the container's
/// PID namespace from its first instruction, must hold no descriptor of kist's.
pub fn exec(owned: Engine, c: &ContainerRecord, opts: &ExecOptions) -> Result<i32> {
    let engine = &owned;
    if opts.command.is_empty() {
        return Err(Error::InvalidArgument {
            argument: "COMMAND",
            reason: "exec needs a command to run: kist exec CONTAINER COMMAND [ARG...]".into(),
        });
    }
    let pid = crate::container::lifecycle::running_process(c)?.pid;
    // A frozen container would hold the new process (and kist waiting for it) until thawed.
    if crate::container::lifecycle::is_paused(c) {
        return Err(Error::PausedExec { id: c.id.clone() });
    }
    let config = LaunchConfig::load(&engine.layout.container_dir(&c.id))?;
    let process = exec_process(engine, c, &config, opts)?;
    if kist_runtime::sealed::needs_sealed_exe(&process) {
        // Starts this command again from kist's sealed binary; returns only if it already is.
        kist_runtime::sealed::reexec_sealed()?;
    }
    let cgroup = kist_runtime::Cgroup::of_spec(&config.spec)?;
    let seccomp = crate::container::seccomp_cache::filter_for(&engine.layout, &config.security)?;
    let events = ExecEvents::new(&engine.layout.root, c, &opts.command);
    drop(owned);
    if opts.detach {
        return start_detached(pid, &process, cgroup, seccomp.as_ref());
    }
    let (stdio, io) = crate::container::stdio::connect_stdio(opts.tty, opts.interactive, false)?;
    let mut created = kist_runtime::join(Join {
        pid,
        process: &process,
        stdio,
        detach: false,
        cgroup,
        seccomp: seccomp.as_ref(),
    })?;
    // Only now: the signalfd is a descriptor of kist's that the child must not have. A
    // signal sent before this ends kist, and the child with it, before the program started.
    let signals = kist_runtime::block_forwarded_signals()?;
    created.wait_ready()?;
    let io = io.with_console(created.take_console());
    let running = created.start()?;
    let code = kist_runtime::run_foreground(running, io, &signals)?.code();
    events.died(code);
    Ok(code)
}

/// Docker's events of an exec: "exec_create: COMMAND" and "exec_start: COMMAND" as it starts,
/// "exec_die" with its exit code, each with the exec's id.
struct ExecEvents {
    root: std::path::PathBuf,
    record: ContainerRecord,
    exec_id: String,
}

impl ExecEvents {
    fn new(root: &std::path::Path, c: &ContainerRecord, command: &[String]) -> ExecEvents {
        let events = ExecEvents {
            root: root.to_path_buf(),
            record: c.clone(),
            exec_id: crate::state::ids::new_container_id(),
        };
        let command = command.join(" ");
        for action in ["exec_create", "exec_start"] {
            events.emit(&format!("{action}: {command}"), None);
        }
        events
    }

    fn died(&self, code: i32) {
        self.emit("exec_die", Some(code));
    }

    fn emit(&self, action: &str, code: Option<i32>) {
        let mut extra = vec![("execID", self.exec_id.clone())];
        if let Some(code) = code {
            extra.push(("exitCode", code.to_string()));
        }
        crate::state::events::container(&self.root, &self.record, action, &extra);
    }
}

/// The container's process settings with the user's: command, terminal, `-e`, `-w`, `-u`.
fn exec_process(
    engine: &Engine,
    c: &ContainerRecord,
    config: &LaunchConfig,
    opts: &ExecOptions,
) -> Result<Process> {
    let mut process = config
        .spec
        .process()
        .clone()
        .ok_or_else(|| Error::NoProcessSettings {
            name: c.name.clone(),
        })?;
    process.set_args(Some(opts.command.clone()));
    process.set_terminal(Some(opts.tty));
    let mut env = process.env().clone().unwrap_or_default();
    for raw in &opts.env {
        if let Some(kv) = resolve_env(raw)? {
            let key = kv.split('=').next().unwrap_or_default().to_string();
            env.retain(|e| e.split('=').next() != Some(key.as_str()));
            env.push(kv);
        }
    }
    if opts.tty && !env.iter().any(|e| e.starts_with("TERM=")) {
        env.push("TERM=xterm".into());
    }
    process.set_env(Some(env));
    if let Some(w) = &opts.workdir {
        if !w.starts_with('/') {
            return Err(Error::RelativeWorkdir { path: w.clone() });
        }
        process.set_cwd(w.into());
    }
    if let Some(u) = &opts.user {
        let image = engine.images.resolve(&c.image_id).ok();
        let read = |p: &str| {
            image
                .as_ref()
                .and_then(|i| i.read_file(p))
                .map(|b| String::from_utf8_lossy(&b).into_owned())
        };
        let resolved = resolve_user(
            Some(u),
            read("/etc/passwd").as_deref(),
            read("/etc/group").as_deref(),
        )?;
        let user = process.user_mut();
        user.set_uid(resolved.uid);
        user.set_gid(resolved.gid);
        user.set_additional_gids(Some(resolved.additional_gids));
    }
    Ok(process)
}

/// `exec -d`: the command runs on with /dev/null as its streams; nothing waits for it.
fn start_detached(
    pid: i32,
    process: &Process,
    cgroup: Option<kist_runtime::Cgroup>,
    seccomp: Option<&kist_runtime::seccomp::Filter>,
) -> Result<i32> {
    let null = || -> Result<std::os::fd::OwnedFd> {
        Ok(std::fs::File::options()
            .read(true)
            .write(true)
            .open("/dev/null")
            .ctx("opening", "/dev/null")?
            .into())
    };
    let created = kist_runtime::join(Join {
        pid,
        process,
        stdio: kist_runtime::Stdio::Fds {
            stdin: null()?,
            stdout: null()?,
            stderr: null()?,
        },
        detach: true,
        cgroup,
        seccomp,
    })?;
    created.start()?;
    Ok(0)
}
