//! `kist update`: new limits (or restart policy) for a container. Kept in its launch
//! configuration, so a later start has them, and written to its cgroup when it runs.

use crate::Engine;
use crate::error::{Error, Result};
use crate::options::{Limits, RestartPolicy};
use crate::state::container_dirs::ContainerDirs;
use crate::state::launch_config::LaunchConfig;
use crate::state::store::{ContainerRecord, ContainerState};

/// Changes `c`'s limits by those `limits` sets (and its restart policy, if given).
pub fn update(
    engine: &Engine,
    c: &ContainerRecord,
    limits: &Limits,
    restart: Option<RestartPolicy>,
) -> Result<()> {
    let dirs = ContainerDirs::of(&engine.layout, &c.id);
    let mut launch = LaunchConfig::load(&dirs.dir)?;
    if restart.is_some_and(|r| r != RestartPolicy::No) && c.auto_remove {
        return Err(Error::RestartPolicyWithRm {
            name: c.name.clone(),
        });
    }
    let merged = launch.limits.updated_by(limits);
    merged.validate()?;
    let resources = merged.to_spec();
    if c.state == ContainerState::Running
        && let Some(cgroup) = crate::container::cgroup::of(c)
    {
        // Only what this update sets is written: a running container keeps the rest.
        cgroup
            .update(&limits.to_spec())
            .map_err(|source| Error::UpdateLimits {
                name: c.name.clone(),
                source,
            })?;
    }
    launch.limits = merged;
    if let Some(linux) = launch.spec.linux_mut() {
        linux.set_resources(Some(resources));
    }
    if let Some(r) = restart {
        launch.restart = r;
    }
    launch.save(&dirs.dir)
}
