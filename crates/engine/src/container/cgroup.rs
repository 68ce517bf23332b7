//! A container's cgroup, as the engine sees it: named in its record, ended with it.

use kist_runtime::Cgroup;

use crate::state::store::ContainerRecord;

/// The container's cgroup, from its record.
pub fn of(c: &ContainerRecord) -> Option<Cgroup> {
    let config: serde_json::Value = serde_json::from_str(&c.config).ok()?;
    let version =
        kist_runtime::CgroupVersion::parse(config["CgroupVersion"].as_str().unwrap_or("")).ok()?;
    Cgroup::resolve_version(config["CgroupPath"].as_str()?, version).ok()
}

/// After the container's process has exited: whether the OOM killer struck, then whatever is
/// left in the cgroup is killed and the cgroup removed.
pub fn finish(c: &ContainerRecord) -> bool {
    let Some(cgroup) = of(c) else { return false };
    let oom = cgroup.oom_killed();
    let _ = cgroup.destroy();
    oom
}
