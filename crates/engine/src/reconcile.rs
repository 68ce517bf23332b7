//! Cleaning up after kist processes that were killed. Every container records the kist process
//! responsible for it; when that process is gone, the container is orphaned: its process is
//! killed (its mounts vanish with its mount namespace), and it is marked exited or, if it was to
//! be removed, removed. Runs at the start of every command, so the next command cleans up.

use crate::Engine;
use crate::error::Result;
use crate::removal::{RemoveMode, kill_and_wait, remove_container};
use crate::store::ContainerState;

pub fn reconcile(engine: &Engine) -> Result<()> {
    engine.images.remove_abandoned_work();
    for c in engine.store.active_containers()? {
        if c.monitor.is_some_and(|m| m.is_alive()) {
            continue;
        }
        if c.state == ContainerState::Removing || c.auto_remove {
            // Another command may be removing it too; removal settles who does the work.
            match remove_container(engine, &c, RemoveMode::Force) {
                Ok(()) | Err(crate::Error::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
            continue;
        }
        if let Some(p) = c.process {
            kill_and_wait(p);
        }
        let (code, why) = match c.state {
            ContainerState::Running => (137, "kist, which ran the container, was killed"),
            _ => (125, "kist was killed while starting the container"),
        };
        engine.store.set_exited(&c.id, code, Some(why))?;
    }
    Ok(())
}
