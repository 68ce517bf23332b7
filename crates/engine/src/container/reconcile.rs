//! Cleaning up after kist processes that were killed. Every container records the kist process
//! responsible for it; when that process is gone, the container is orphaned: its process is
//! killed (its mounts vanish with its mount namespace), and it is marked exited or, if it was to
//! be removed, removed. Runs at the start of every command, so the next command cleans up.

use crate::Engine;
use crate::container::removal::{discard, kill_and_wait};
use crate::error::Result;
use crate::state::store::ContainerState;

pub fn reconcile(engine: &Engine) -> Result<()> {
    engine.images.remove_abandoned_work();
    crate::container::freeze::thaw_orphans(engine);
    for c in engine.store.active_containers()? {
        // Alive in its monitor's care, or created (`kist create`) and in no one's until started.
        let waiting_to_start = c.state == ContainerState::Created && c.monitor.is_none();
        if waiting_to_start || c.monitor.is_some_and(|m| m.is_alive()) {
            continue;
        }
        // Every step below is conditional on the record still naming the monitor found dead:
        // between reading it and now, its command may have handed it to a supervisor.
        if c.state == ContainerState::Removing || c.auto_remove {
            if engine.store.claim_orphan(&c.id, c.monitor)? {
                if let Some(p) = c.process {
                    kill_and_wait(p);
                }
                discard(engine, &c.id, true)?;
            }
            continue;
        }
        let (code, why) = match c.state {
            ContainerState::Running => (137, "kist, which ran the container, was killed"),
            _ => (125, "kist was killed while starting the container"),
        };
        if let Some(p) = c.process {
            // Only ours to kill if the record has not moved on (or gone): check, then kill.
            match engine.store.find_container(&c.id) {
                Ok(current) if current.monitor == c.monitor => {}
                _ => continue,
            }
            kill_and_wait(p);
        }
        // Its published ports' rules, before the record lets go of them.
        let _ = crate::network::attach::disconnect(engine, &c.id);
        engine
            .store
            .set_orphan_exited(&c.id, c.monitor, code, why)?;
        crate::state::events::container(
            &engine.layout.root,
            &c,
            "die",
            &[("exitCode", code.to_string())],
        );
    }
    Ok(())
}

/// Removes container directories that have no record: left by a kist killed between making a
/// container's directories and recording it. Only those older than a minute, so as not to race
/// a `run` that is between the two right now. Returns the ids removed.
pub fn remove_orphan_dirs(engine: &Engine) -> Result<Vec<String>> {
    let known: std::collections::HashSet<String> = engine
        .store
        .containers()?
        .into_iter()
        .map(|c| c.id)
        .collect();
    let mut removed = Vec::new();
    for parent in [
        engine.layout.containers_dir(),
        engine.layout.run.join("containers"),
    ] {
        let Ok(entries) = std::fs::read_dir(&parent) else {
            continue;
        };
        for entry in entries.flatten() {
            let id = entry.file_name().to_string_lossy().into_owned();
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age.as_secs() >= 60);
            if !known.contains(&id) && old {
                crate::state::container_dirs::remove_container_dirs(&engine.layout, &id)?;
                if !removed.contains(&id) {
                    removed.push(id);
                }
            }
        }
    }
    Ok(removed)
}
