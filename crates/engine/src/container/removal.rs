//! Removing a container: claim it (so that one command does the work), stop its process, remove
//! its directories, then its record, then the anonymous volumes only it used.

use std::time::Duration;

use kist_runtime::pidfd::{Delivery, Pidfd};
use kist_runtime::process::ProcessStamp;

use crate::Engine;
use crate::error::{Error, Result};
use crate::state::container_dirs::remove_container_dirs;
use crate::state::store::{ContainerRecord, ContainerState};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoveMode {
    /// Refuse a running container.
    IfStopped,
    /// Kill it first (`rm -f`).
    Force,
}

/// Removes a container; with `volumes`, also the anonymous volumes only it used (`rm -v`).
pub fn remove_container(
    engine: &Engine,
    c: &ContainerRecord,
    mode: RemoveMode,
    volumes: bool,
) -> Result<()> {
    let alive = c.process.is_some_and(|p| p.is_alive());
    if alive && mode == RemoveMode::IfStopped {
        return Err(Error::ContainerRunning {
            name: c.name.clone(),
        });
    }
    if c.state != ContainerState::Removing
        && !engine
            .store
            .transition(&c.id, c.state, ContainerState::Removing)?
    {
        // Another command changed it first; look again.
        let now = engine.store.find_container(&c.id)?;
        return remove_container(engine, &now, mode, volumes);
    }
    crate::state::crash::point("rm:claimed");
    if let Some(p) = c.process {
        try_kill_and_wait(p)?;
    }
    if let Some(m) = c.monitor {
        wait_for_monitor(m)?;
    }
    discard(engine, &c.id, volumes)
}

/// How long `rm -f` waits for the container's monitor to finish with it: it opens the store
/// once more after the death (its events, its rules), which takes milliseconds.
const MONITOR_EXIT_WAIT: Duration = Duration::from_secs(5);

/// Waits for the process that monitored the container (its supervisor, or `kist run`) to
/// exit, unless it is this process: once `rm` returns, nothing of the container writes to
/// the store or its root any more (a test's root removed after `rm -f` stayed removed).
fn wait_for_monitor(m: ProcessStamp) -> Result<()> {
    if m.pid == rustix::process::getpid().as_raw_pid() {
        return Ok(());
    }
    let Some(pidfd) = Pidfd::open(m.pid)? else {
        return Ok(());
    };
    // Checked after the pidfd exists: from now on the pid cannot be recycled under us.
    if m.is_alive() {
        pidfd.wait_exited(MONITOR_EXIT_WAIT)?;
    }
    Ok(())
}

/// Removes the directories, then the record, then (with `volumes`) the anonymous volumes of a
/// container whose process is gone and which the caller owns. A kist killed half-way leaves
/// the record, which the next command's reconciliation finds and finishes.
pub fn discard(engine: &Engine, id: &str, volumes: bool) -> Result<()> {
    // Its published ports' rules, which its record names.
    let _ = crate::network::attach::disconnect(engine, id);
    let record = engine.store.find_container(id).ok();
    if let Some(c) = &record {
        crate::container::cgroup::finish(c);
    }
    discard_finished(engine, id, record.as_ref(), volumes)
}

/// As [`discard`], for a container whose ports' rules and cgroup are gone already (a
/// foreground `run --rm` took them away at the exit, and has its `record`).
pub(crate) fn discard_finished(
    engine: &Engine,
    id: &str,
    record: Option<&ContainerRecord>,
    volumes: bool,
) -> Result<()> {
    remove_container_dirs(&engine.layout, id)?;
    crate::state::crash::point("rm:dirs");
    let anonymous = engine.store.delete_container(id)?;
    if let Some(c) = record {
        crate::state::events::container(&engine.layout.root, c, "destroy", &[]);
    }
    for volume in anonymous.into_iter().filter(|_| volumes) {
        if engine.store.delete_volume_if_unused(&volume)? {
            let _ = std::fs::remove_dir_all(engine.layout.volumes_dir().join(&volume));
            crate::state::events::volume(&engine.layout.root, "destroy", &volume);
        }
    }
    Ok(())
}

/// SIGKILLs the process if it is still the one recorded, and waits (up to 10 s) for it to go.
/// Best effort, for reconciliation: an orphan's process has normally died with its monitor
/// already (PR_SET_PDEATHSIG).
pub fn kill_and_wait(p: ProcessStamp) {
    let _ = try_kill_and_wait(p);
}

/// As [`kill_and_wait`], failing when the process could not be signalled or waited for.
pub(crate) fn try_kill_and_wait(p: ProcessStamp) -> Result<()> {
    let Some(pidfd) = Pidfd::open(p.pid)? else {
        return Ok(()); // gone already
    };
    // Checked after the pidfd exists: from now on the pid cannot be recycled under us.
    if p.is_alive() && pidfd.send_signal(libc::SIGKILL)? == Delivery::Sent {
        pidfd.wait_exited(Duration::from_secs(10))?;
    }
    Ok(())
}
