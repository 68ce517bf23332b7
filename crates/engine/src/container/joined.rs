//! `--pid container:X` and `--ipc container:X`: the namespaces of another running container,
//! found through its process each time this container starts (the other may have restarted
//! since), and checked as Docker checks them.

use std::path::PathBuf;

use oci_spec::runtime::{LinuxNamespaceType, Spec};

use crate::Engine;
use crate::error::{Error, Result};
use crate::options::namespaces::JoinedNamespace;
use crate::state::store::ContainerRecord;

/// The running container `reference` whose `ns` namespace (`pid`, `ipc`) a new container
/// joins: its record and the path of that namespace.
pub(crate) fn donor(
    engine: &Engine,
    reference: &str,
    ns: &str,
) -> Result<(ContainerRecord, PathBuf)> {
    let c = engine.store.find_container(reference)?;
    let what = match ns {
        "pid" => "PID",
        "net" => "network",
        _ => "IPC",
    };
    let not_running = || Error::CannotJoin {
        what,
        id: c.id.clone(),
    };
    let process = crate::container::lifecycle::running_process(&c).map_err(|_| not_running())?;
    if ns == "pid" && may_trace(process.pid) {
        return Err(Error::invalid_option(
            "--pid",
            format!(
                "cannot join the PID namespace of container {}: it holds CAP_SYS_PTRACE, so its processes could trace the new container's process while kist sets it up",
                c.name
            ),
        ));
    }
    if ns == "ipc" {
        let config: serde_json::Value = serde_json::from_str(&c.config).unwrap_or_default();
        if !matches!(config["IpcMode"].as_str(), Some("shareable" | "host")) {
            return Err(Error::IpcNotShareable {
                name: c.name.clone(),
            });
        }
    }
    let path = PathBuf::from(format!("/proc/{}/ns/{ns}", process.pid));
    Ok((c, path))
}

/// Whether the processes of a container whose first process is `pid` may trace others in
/// their PID namespace: CAP_SYS_PTRACE in its bounding set, as the kernel says (unreadable
/// counts as yes).
fn may_trace(pid: i32) -> bool {
    /// Its number in linux/capability.h.
    const CAP_SYS_PTRACE: u32 = 19;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("CapBnd:"))
        .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
        .is_none_or(|bounding| bounding & (1 << CAP_SYS_PTRACE) != 0)
}

/// Points the spec's joined namespaces at the donors' processes as they are now.
pub(crate) fn point_at_donors(
    engine: &Engine,
    spec: &mut Spec,
    joined: &[JoinedNamespace],
) -> Result<()> {
    for j in joined {
        let (_, path) = donor(engine, &j.container, &j.ns)?;
        let typ = match j.ns.as_str() {
            "pid" => LinuxNamespaceType::Pid,
            "net" => LinuxNamespaceType::Network,
            _ => LinuxNamespaceType::Ipc,
        };
        let Some(linux) = spec.linux_mut().as_mut() else {
            continue;
        };
        let mut namespaces = linux.namespaces().clone().unwrap_or_default();
        for n in namespaces.iter_mut().filter(|n| n.typ() == typ) {
            n.set_path(Some(path.clone()));
        }
        linux.set_namespaces(Some(namespaces));
        if typ == LinuxNamespaceType::Ipc {
            share_shm(spec, &path);
        }
    }
    Ok(())
}

/// With the donor's IPC namespace goes its /dev/shm, through its process as it is now.
fn share_shm(spec: &mut Spec, ipc_namespace: &std::path::Path) {
    let Some(mounts) = spec.mounts_mut().as_mut() else {
        return;
    };
    for m in mounts
        .iter_mut()
        .filter(|m| m.destination() == std::path::Path::new("/dev/shm"))
        .filter(|m| m.source().as_ref().is_some_and(|s| s.starts_with("/proc")))
    {
        m.set_source(Some(crate::container::run::shm_of(ipc_namespace)));
    }
}
