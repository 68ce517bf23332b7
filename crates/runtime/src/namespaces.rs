//! What the spec's namespaces ask for, read in one place by both sides of a launch: the parent
//! (which clone flags, whether to say Placed or CgroupReady) and the child (which namespace it
//! makes itself, what it sets up in the ones it got).

use oci_spec::runtime::{LinuxNamespaceType, Spec};

use crate::error::{Error, Result};

/// Whether the spec asks for a new namespace of this type (one without a path to join).
pub(crate) fn has_new_namespace(spec: &Spec, typ: LinuxNamespaceType) -> bool {
    spec.linux()
        .as_ref()
        .and_then(|l| l.namespaces().as_ref())
        .is_some_and(|nss| nss.iter().any(|n| n.typ() == typ && n.path().is_none()))
}

/// Whether the spec asks for a new cgroup namespace. Its root is the cgroup its maker is in
/// at the time, so the child makes it (unshare) after the parent has placed it in its cgroup,
/// not at clone.
pub(crate) fn wants_cgroup_namespace(spec: &Spec) -> bool {
    has_new_namespace(spec, LinuxNamespaceType::Cgroup)
}

/// Whether the spec mounts cgroups in the host's cgroup namespace: the container's own
/// directories are bound there (what runc does on v1), once the parent has made them.
pub(crate) fn binds_host_cgroups(spec: &Spec) -> bool {
    !wants_cgroup_namespace(spec)
        && spec
            .mounts()
            .as_deref()
            .unwrap_or_default()
            .iter()
            .any(|m| m.typ().as_deref() == Some("cgroup"))
}

/// The CLONE_NEW* flags for the namespaces the spec wants created (those without a path).
pub(crate) fn new_namespace_flags(spec: &Spec) -> Result<u64> {
    let mut flags = 0u64;
    let namespaces = spec
        .linux()
        .as_ref()
        .and_then(|l| l.namespaces().clone())
        .unwrap_or_default();
    for ns in namespaces {
        if ns.path().is_some() {
            return Err(Error::Spec(format!(
                "joining an existing {:?} namespace is not supported yet",
                ns.typ()
            )));
        }
        // The flag's bits, as clone3 takes them in a u64.
        flags |= u64::from(clone_flag(ns.typ())?.cast_unsigned());
    }
    if flags & libc::CLONE_NEWNS as u64 == 0 {
        return Err(Error::Spec(
            "a container needs its own mount namespace".into(),
        ));
    }
    Ok(flags)
}

/// The clone flag that makes a namespace of this type.
fn clone_flag(typ: LinuxNamespaceType) -> Result<libc::c_int> {
    Ok(match typ {
        LinuxNamespaceType::Mount => libc::CLONE_NEWNS,
        LinuxNamespaceType::Pid => libc::CLONE_NEWPID,
        LinuxNamespaceType::Network => libc::CLONE_NEWNET,
        LinuxNamespaceType::Uts => libc::CLONE_NEWUTS,
        LinuxNamespaceType::Ipc => libc::CLONE_NEWIPC,
        // Made by the child once it is in its cgroup: see wants_cgroup_namespace.
        LinuxNamespaceType::Cgroup => 0,
        LinuxNamespaceType::User => {
            return Err(Error::Spec("user namespaces are not supported yet".into()));
        }
        other => return Err(Error::Spec(format!("unsupported namespace {other:?}"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(linux: serde_json::Value, mounts: serde_json::Value) -> Spec {
        serde_json::from_value(serde_json::json!({
            "ociVersion": "1.0.2",
            "linux": linux,
            "mounts": mounts,
        }))
        .unwrap()
    }

    fn namespaces(types: &[&str]) -> serde_json::Value {
        let list: Vec<_> = types
            .iter()
            .map(|t| serde_json::json!({"type": t}))
            .collect();
        serde_json::json!({"namespaces": list})
    }

    #[test]
    fn clone_flags_leave_the_cgroup_namespace_to_the_child() {
        let s = spec(
            namespaces(&["mount", "pid", "cgroup", "network"]),
            serde_json::json!([]),
        );
        let flags = new_namespace_flags(&s).unwrap();
        let want = libc::CLONE_NEWNS | libc::CLONE_NEWPID | libc::CLONE_NEWNET;
        assert_eq!(flags, u64::try_from(want).unwrap());
        assert!(wants_cgroup_namespace(&s));
        assert!(has_new_namespace(&s, LinuxNamespaceType::Network));
        assert!(!has_new_namespace(&s, LinuxNamespaceType::Uts));
    }

    #[test]
    fn a_container_needs_its_own_mount_namespace_and_no_user_one() {
        let no_mount = spec(namespaces(&["pid"]), serde_json::json!([]));
        assert!(new_namespace_flags(&no_mount).is_err());
        let user = spec(namespaces(&["mount", "user"]), serde_json::json!([]));
        assert!(new_namespace_flags(&user).is_err());
        let joined = spec(
            serde_json::json!({"namespaces": [{"type": "mount"}, {"type": "network", "path": "/x"}]}),
            serde_json::json!([]),
        );
        assert!(new_namespace_flags(&joined).is_err());
        assert!(!has_new_namespace(&joined, LinuxNamespaceType::Network));
    }

    #[test]
    fn host_cgroups_are_bound_only_without_a_cgroup_namespace() {
        let cgroup_mount = serde_json::json!([
            {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup"}
        ]);
        let host = spec(namespaces(&["mount"]), cgroup_mount.clone());
        assert!(binds_host_cgroups(&host));
        let private = spec(namespaces(&["mount", "cgroup"]), cgroup_mount);
        assert!(!binds_host_cgroups(&private));
        let none = spec(namespaces(&["mount"]), serde_json::json!([]));
        assert!(!binds_host_cgroups(&none));
    }
}
