//! `kill`, `delete`, `pause` and `resume`: signals and cgroups over a container's state.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use kist_runtime::pidfd::{Delivery, Pidfd};

use crate::state::{Container, Status};

#[derive(clap::Args)]
pub struct KillArgs {
    /// Signal every process of the container, not only its first
    #[arg(short, long)]
    pub all: bool,
    /// The container's id
    pub id: String,
    /// The signal: a number, KILL or SIGKILL
    #[arg(default_value = "SIGTERM")]
    pub signal: String,
}

#[derive(clap::Args)]
pub struct DeleteArgs {
    /// Kill the container first if it still runs
    #[arg(short, long)]
    pub force: bool,
    /// The container's id
    pub id: String,
}

pub fn kill(root: &Path, args: &KillArgs) -> Result<i32> {
    let signal = crate::signal::parse(&args.signal)?;
    let container = Container::load(root, &args.id)?;
    if container.status() == Status::Stopped {
        bail!("container not running");
    }
    if args.all {
        signal_all(&container, signal)?;
    } else if signal_init(&container, signal)? == Delivery::Gone {
        bail!("container not running");
    }
    Ok(0)
}

/// Signals the container's first process through a pidfd opened only after its start time
/// matched, so that a recycled pid is never signalled.
fn signal_init(container: &Container, signal: i32) -> Result<Delivery> {
    let Some(pidfd) = open_init(container)? else {
        return Ok(Delivery::Gone);
    };
    Ok(pidfd.send_signal(signal)?)
}

fn open_init(container: &Container) -> Result<Option<Pidfd>> {
    let Some(pidfd) = Pidfd::open(container.saved.pid)? else {
        return Ok(None);
    };
    // Checked after opening: the pidfd now holds that very process.
    Ok(container.stamp().is_alive().then_some(pidfd))
}

/// Every process in the container's cgroup; with no cgroup, the first process alone.
fn signal_all(container: &Container, signal: i32) -> Result<()> {
    let Some(cgroup) = container.cgroup()? else {
        let _ = signal_init(container, signal)?;
        return Ok(());
    };
    for dir in cgroup.dirs() {
        let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
        for pid in procs.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
            if let Some(fd) = Pidfd::open(pid)? {
                let _ = fd.send_signal(signal)?;
            }
        }
    }
    Ok(())
}

pub fn delete(root: &Path, args: &DeleteArgs, logger: &crate::log::Logger) -> Result<i32> {
    let container = match Container::load(root, &args.id) {
        Ok(c) => c,
        // runc: deleting what is not there is done, with --force.
        Err(_) if args.force && !root.join(&args.id).join("state.json").exists() => {
            let _ = std::fs::remove_dir_all(root.join(&args.id));
            return Ok(0);
        }
        Err(e) => return Err(e),
    };
    match container.status() {
        Status::Stopped => {}
        // A created container has run nothing of its own yet: runc deletes it without --force.
        Status::Created => kill_and_wait(&container)?,
        status if args.force => {
            let _ = status;
            kill_and_wait(&container)?;
        }
        status => bail!(
            "cannot delete container {} that is not stopped: {}",
            args.id,
            status.as_str()
        ),
    }
    remove_stopped(container, logger)?;
    Ok(0)
}

/// Removes a container whose processes are gone, then runs its poststop hooks: the runtime
/// spec has them "after the container is deleted" (its cgroup and state gone, as runc does),
/// each failure a warning, the others run.
pub fn remove_stopped(container: Container, logger: &crate::log::Logger) -> Result<()> {
    let hooks = container
        .saved
        .hooks
        .as_ref()
        .and_then(|h| h.poststop().clone());
    let state = container.state_json_as(Status::Stopped);
    let removed = container.remove();
    crate::hooks::warn_each("poststop", hooks.as_ref(), &state, logger);
    removed
}

/// SIGKILL to the first process (in a PID namespace of its own, the rest die with it; the
/// cgroup's removal kills any other) and waits for it to end.
pub fn kill_and_wait(container: &Container) -> Result<()> {
    let Some(pidfd) = open_init(container)? else {
        return Ok(());
    };
    if let Some(cgroup) = container.cgroup()? {
        // A frozen process dies only once thawed.
        if cgroup.is_frozen() {
            let _ = cgroup.freeze(false);
        }
    }
    if pidfd.send_signal(libc::SIGKILL)? == Delivery::Gone {
        return Ok(());
    }
    if !pidfd.wait_exited(Duration::from_secs(10))? {
        return Err(anyhow!(
            "the container's process {} did not die",
            container.saved.pid
        ));
    }
    Ok(())
}

/// Freezes (`pause`) or thaws (`resume`) the container's cgroup.
pub fn pause(root: &Path, id: &str, frozen: bool) -> Result<i32> {
    let container = Container::load(root, id)?;
    let status = container.status();
    match (frozen, status) {
        (true, Status::Running) | (false, Status::Paused) => {}
        (true, Status::Paused) => bail!("container {id} is already paused"),
        (false, Status::Running) => bail!("container {id} is not paused"),
        _ => bail!("container {id} is not running: {}", status.as_str()),
    }
    let cgroup = container
        .cgroup()?
        .ok_or_else(|| anyhow!("container {id} has no cgroup (linux.cgroupsPath) to freeze"))?;
    cgroup.freeze(frozen).with_context(|| {
        format!(
            "cannot {} container {id}",
            if frozen { "pause" } else { "resume" }
        )
    })?;
    Ok(0)
}
