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
        // Only ours to kill if the record has not moved on (or gone): check, then kill.
        let record = match engine.store.find_container(&c.id) {
            Ok(current) if current.monitor == c.monitor => current,
            _ => continue,
        };
        if let Some(p) = c.process {
            kill_and_wait(p);
        }
        // Its published ports' rules, before the record lets go of them.
        let _ = crate::network::attach::disconnect(engine, &c.id);
        engine
            .store
            .set_orphan_exited(&c.id, c.monitor, code, why)?;
        crate::state::events::container(
            &engine.layout.root,
            &record,
            "die",
            &[("exitCode", code.to_string())],
        );
    }
    remove_abandoned_build_steps(engine)?;
    Ok(())
}

/// The name a `kist build` RUN step's container gets (the `n`th of this process's): it names
/// the build, so that when the build is killed, the next command removes the container.
pub fn build_step_name(n: usize) -> String {
    let me = kist_runtime::process::ProcessStamp::current();
    format!("{BUILD_STEP_PREFIX}{}-{}-{n}", me.pid, me.start_time)
}

/// The name of the image a RUN step's container is made from (the stage so far), removed
/// after the step; by the next command if the build was killed.
pub fn build_step_image(n: usize) -> String {
    let me = kist_runtime::process::ProcessStamp::current();
    format!("{BUILD_STEP_PREFIX}{}-{}:{n}", me.pid, me.start_time)
}

/// The build a step's container or image name names, if it is one.
fn build_of(name: &str) -> Option<kist_runtime::process::ProcessStamp> {
    let rest = name.strip_prefix(BUILD_STEP_PREFIX)?;
    let mut fields = rest.split(['-', ':']);
    let pid = fields.next()?.parse().ok()?;
    let start_time = fields.next()?.parse().ok()?;
    Some(kist_runtime::process::ProcessStamp { pid, start_time })
}

const BUILD_STEP_PREFIX: &str = "kist-build-step-";

/// Removes the RUN steps' containers of builds that are gone (killed: a build removes its
/// own). A step's container is not supervised, so after the first pass it is exited.
fn remove_abandoned_build_steps(engine: &Engine) -> Result<()> {
    // Every command passes here: only the build steps' records are read.
    for c in engine.store.containers_named(BUILD_STEP_PREFIX)? {
        let Some(build) = build_of(&c.name) else {
            continue;
        };
        if build.is_alive() || c.state != ContainerState::Exited {
            continue;
        }
        if engine
            .store
            .transition(&c.id, ContainerState::Exited, ContainerState::Removing)?
        {
            discard(engine, &c.id, true)?;
        }
    }
    for reference in engine.images.names_starting_with(BUILD_STEP_PREFIX)? {
        if build_of(&reference.familiar_repository()).is_none_or(|b| b.is_alive()) {
            continue;
        }
        let Ok(image) = engine.images.resolve(&reference.to_string()) else {
            continue;
        };
        engine.images.untag(&reference)?;
        // Made for the step alone (the usual case): nothing else names it or uses it.
        let named_elsewhere = engine
            .images
            .list()?
            .iter()
            .any(|o| o.id == image.id && o.reference.is_some());
        let id = image.id.to_string();
        let used = engine.store.containers()?.iter().any(|c| c.image_id == id);
        if !named_elsewhere && !used {
            engine.images.remove_image(&image.id)?;
        }
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
