//! `exec`: another process in a running container, from `--process FILE` (a runtime-spec
//! process) or from arguments over the bundle's own process settings, through the runtime's
//! join (the same one `kist exec` uses).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use kist_runtime::Join;
use oci_spec::runtime::{Capability, Process};

use crate::bundle::Bundle;
use crate::state::{Container, Status};

#[derive(clap::Args)]
pub struct ExecArgs {
    /// A JSON file holding the process to run (runtime-spec `process`)
    #[arg(short, long)]
    pub process: Option<PathBuf>,
    /// Return once the process runs instead of waiting for it
    #[arg(short, long)]
    pub detach: bool,
    /// Write the new process's pid to this file
    #[arg(long)]
    pub pid_file: Option<PathBuf>,
    /// A unix socket that receives the terminal's master side
    #[arg(long)]
    pub console_socket: Option<PathBuf>,
    /// Give the process a terminal
    #[arg(short, long)]
    pub tty: bool,
    /// The working directory inside the container
    #[arg(long)]
    pub cwd: Option<String>,
    /// Set an environment variable (KEY=VALUE), repeatable
    #[arg(short, long)]
    pub env: Vec<String>,
    /// The user, UID[:GID]
    #[arg(short, long)]
    pub user: Option<String>,
    /// Add a capability (CAP_NAME), repeatable
    #[arg(short, long)]
    pub cap: Vec<String>,
    /// Set no_new_privs for the process
    #[arg(long)]
    pub no_new_privs: bool,
    /// Pass this many descriptors above stderr to the process
    #[arg(long, default_value_t = 0)]
    pub preserve_fds: u32,
    /// The container's id
    pub id: String,
    /// The program and its arguments (without --process)
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

pub fn exec(root: &Path, args: &ExecArgs) -> Result<i32> {
    let container = Container::load(root, &args.id)?;
    match container.status() {
        Status::Running => {}
        Status::Paused => bail!("cannot exec in a paused container"),
        status => bail!("cannot exec in a container that is {}", status.as_str()),
    }
    // Joining the runtime's own mount namespace would show the process the host's files.
    if container.saved.shares_mounts {
        bail!("cannot exec in a container that has no mount namespace of its own");
    }
    let bundle = Bundle::load(&container.saved.bundle)?;
    let process = process(&bundle, args)?;
    let terminal = process.terminal().unwrap_or(false);
    let console =
        crate::commands::create::console_socket(args.console_socket.as_deref(), terminal)?;
    if kist_runtime::sealed::needs_sealed_exe(&process) {
        // Starts this command again from the sealed binary; returns only if it already is.
        kist_runtime::sealed::reexec_sealed()?;
    }
    let seccomp = bundle
        .spec
        .linux()
        .as_ref()
        .and_then(|l| l.seccomp().as_ref())
        .map(kist_runtime::seccomp::Filter::for_spec)
        .transpose()?;
    kist_runtime::preserve_fds(args.preserve_fds);
    // Detached or not, the process gets this command's streams (containerd's shim hands
    // pipes to a detached exec), as runc does.
    let stdio = if terminal {
        kist_runtime::Stdio::Terminal
    } else {
        crate::commands::create::own_stdio()?
    };
    let mut created = kist_runtime::join(Join {
        pid: container.saved.pid,
        process: &process,
        stdio,
        detach: args.detach,
        cgroup: container.cgroup()?,
        seccomp: seccomp.as_ref(),
    })?;
    created.wait_ready()?;
    if let (Some(socket), Some(master)) = (console, created.take_console()) {
        crate::commands::create::send_console(&socket, &master)?;
    }
    let pid = created.pid();
    let running = created.start()?;
    if let Some(path) = &args.pid_file {
        crate::state::write_atomically(path, pid.to_string().as_bytes())?;
    }
    if args.detach {
        return Ok(0);
    }
    Ok(running.wait()?.code())
}

/// The process to run: `--process`'s, or the bundle's with the arguments and flags.
fn process(bundle: &Bundle, args: &ExecArgs) -> Result<Process> {
    if let Some(path) = &args.process {
        let text = std::fs::read(path)
            .with_context(|| format!("cannot read the process file {}", path.display()))?;
        return serde_json::from_slice(&text)
            .map_err(|e| anyhow!("invalid process file {}: {e}", path.display()));
    }
    if args.args.is_empty() {
        bail!("exec needs --process FILE or the program to run");
    }
    let mut process = bundle
        .spec
        .process()
        .clone()
        .ok_or_else(|| anyhow!("the bundle has no process"))?;
    process.set_args(Some(args.args.clone()));
    process.set_terminal(Some(args.tty));
    if let Some(cwd) = &args.cwd {
        process.set_cwd(cwd.into());
    }
    let mut env = process.env().clone().unwrap_or_default();
    for kv in &args.env {
        let key = kv.split('=').next().unwrap_or_default();
        env.retain(|e| e.split('=').next() != Some(key));
        env.push(kv.clone());
    }
    process.set_env(Some(env));
    if let Some(user) = &args.user {
        let mut u = process.user().clone();
        let (uid, gid) = user.split_once(':').unwrap_or((user, ""));
        u.set_uid(
            uid.parse()
                .map_err(|_| anyhow!("invalid --user {user:?}: use UID[:GID]"))?,
        );
        if !gid.is_empty() {
            u.set_gid(
                gid.parse()
                    .map_err(|_| anyhow!("invalid --user {user:?}: use UID[:GID]"))?,
            );
        }
        process.set_user(u);
    }
    if !args.cap.is_empty() {
        add_capabilities(&mut process, &args.cap)?;
    }
    if args.no_new_privs {
        process.set_no_new_privileges(Some(true));
    }
    Ok(process)
}

/// `--cap` adds to the bounding, effective and permitted sets, as runc does.
fn add_capabilities(process: &mut Process, names: &[String]) -> Result<()> {
    let mut caps = process.capabilities().clone().unwrap_or_default();
    let added: Vec<Capability> = names
        .iter()
        .map(|n| {
            n.parse::<Capability>()
                .map_err(|_| anyhow!("unknown capability {n:?}"))
        })
        .collect::<Result<_>>()?;
    let add = |set: Option<std::collections::HashSet<Capability>>| {
        let mut set = set.unwrap_or_default();
        set.extend(added.iter().copied());
        Some(set)
    };
    caps.set_bounding(add(caps.bounding().clone()));
    caps.set_effective(add(caps.effective().clone()));
    caps.set_permitted(add(caps.permitted().clone()));
    process.set_capabilities(Some(caps));
    Ok(())
}
