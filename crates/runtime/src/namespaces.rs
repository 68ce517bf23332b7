//! What the spec's namespaces ask for, read in one place by both sides of a launch: the parent
//! (which clone flags, which PID namespace to be born in) and the child (which namespaces it joins by path, which it makes itself, what it sets
//! up in the ones it got).

use std::os::fd::{AsRawFd, OwnedFd};

use oci_spec::runtime::{LinuxNamespaceType, Spec};
use rustix::fs::{Mode, OFlags};

use crate::error::{Error, Result, SysContext, cvt};

/// Whether the spec asks for a new namespace of this type (one without a path to join).
pub(crate) fn has_new_namespace(spec: &Spec, typ: LinuxNamespaceType) -> bool {
    spec.linux()
        .as_ref()
        .and_then(|l| l.namespaces().as_ref())
        .is_some_and(|nss| nss.iter().any(|n| n.typ() == typ && n.path().is_none()))
}

/// Whether the spec asks for a new cgroup namespace. Its root is the cgroup its maker is in
/// at the time, so the child makes it (unshare) once it is in its cgroup, not at clone.
pub(crate) fn wants_cgroup_namespace(spec: &Spec) -> bool {
    has_new_namespace(spec, LinuxNamespaceType::Cgroup)
}

/// Whether the container has a mount namespace of its own, new or joined. Without one (the
/// spec lists none: it inherits the runtime's, as the runtime spec says), its root is mounted
/// in the runtime's namespace and entered by chroot, and removed from there when it goes.
pub fn has_mount_namespace(spec: &Spec) -> bool {
    spec.linux()
        .as_ref()
        .and_then(|l| l.namespaces().as_ref())
        .is_some_and(|nss| nss.iter().any(|n| n.typ() == LinuxNamespaceType::Mount))
}

/// The CLONE_NEW* flags for the namespaces the spec wants created (those without a path).
pub(crate) fn new_namespace_flags(spec: &Spec) -> Result<u64> {
    let mut flags = 0u64;
    let namespaces = spec
        .linux()
        .as_ref()
        .and_then(|l| l.namespaces().clone())
        .unwrap_or_default();
    for ns in namespaces.iter().filter(|n| n.path().is_none()) {
        // The flag's bits, as clone3 takes them in a u64.
        flags |= u64::from(clone_flag(ns.typ())?.cast_unsigned());
    }
    check_id_mappings(spec)?;
    Ok(flags)
}

/// Whether the spec asks for a new user namespace (its id maps are `linux.uidMappings` and
/// `linux.gidMappings`).
pub(crate) fn wants_user_namespace(spec: &Spec) -> bool {
    has_new_namespace(spec, LinuxNamespaceType::User)
}

/// Whether the container is in a user namespace other than kist's, new or joined (so that
/// what needs the host's root, such as mknod, must be done otherwise).
pub(crate) fn uses_user_namespace(spec: &Spec) -> bool {
    wants_user_namespace(spec) || joins_user_namespace(spec)
}

/// A new user namespace needs both id maps, and id maps need one, as runc has it: without
/// maps every id in it would be the overflow id, and maps without one would be ignored.
fn check_id_mappings(spec: &Spec) -> Result<()> {
    let linux = spec.linux().as_ref();
    let has = |m: Option<&Vec<oci_spec::runtime::LinuxIdMapping>>| m.is_some_and(|m| !m.is_empty());
    let uids = has(linux.and_then(|l| l.uid_mappings().as_ref()));
    let gids = has(linux.and_then(|l| l.gid_mappings().as_ref()));
    match (wants_user_namespace(spec), uids && gids, uids || gids) {
        (true, false, _) => Err(Error::Spec(
            "a new user namespace needs both linux.uidMappings and linux.gidMappings".into(),
        )),
        (false, _, true) if !joins_user_namespace(spec) => Err(Error::Spec(
            "linux.uidMappings and linux.gidMappings need a user namespace in linux.namespaces"
                .into(),
        )),
        (true, true, _) if !maps_root(spec) => Err(Error::Spec(
            "linux.uidMappings and linux.gidMappings must map the container's root (id 0)".into(),
        )),
        _ => Ok(()),
    }
}

/// Whether both maps have a line for container id 0 (the set-up runs as that root).
fn maps_root(spec: &Spec) -> bool {
    let Some(linux) = spec.linux() else {
        return false;
    };
    let has_zero = |m: Option<&Vec<oci_spec::runtime::LinuxIdMapping>>| {
        m.is_some_and(|m| m.iter().any(|l| l.container_id() == 0 && l.size() > 0))
    };
    has_zero(linux.uid_mappings().as_ref()) && has_zero(linux.gid_mappings().as_ref())
}

/// Writes the spec's id maps for `pid`, which was just cloned into a new user namespace (by
/// kist, root in the namespace above it: no `setgroups` deny is needed).
pub(crate) fn write_id_maps(pid: i32, spec: &Spec) -> Result<()> {
    let linux = spec.linux().as_ref();
    for (file, maps) in [
        ("uid_map", linux.and_then(|l| l.uid_mappings().as_ref())),
        ("gid_map", linux.and_then(|l| l.gid_mappings().as_ref())),
    ] {
        let path = format!("/proc/{pid}/{file}");
        let text = id_map_text(maps.map(Vec::as_slice).unwrap_or_default());
        std::fs::write(&path, text).sys(|| format!("writing {path}"))?;
    }
    Ok(())
}

/// In the child, once its maps are written: root of its user namespace (the ids it was born
/// with are the host's, unmapped there: files it made would fail with EOVERFLOW), without
/// the host's supplementary groups.
pub(crate) fn become_namespace_root() -> Result<()> {
    // SAFETY: plain id syscalls of this single-threaded child; failures are checked.
    unsafe {
        cvt(libc::setresgid(0, 0, 0)).sys(|| "becoming gid 0 of the user namespace".into())?;
        cvt(libc::setgroups(0, std::ptr::null())).sys(|| "dropping the host's groups".into())?;
        cvt(libc::setresuid(0, 0, 0)).sys(|| "becoming uid 0 of the user namespace".into())?;
    }
    Ok(())
}

fn joins_user_namespace(spec: &Spec) -> bool {
    spec.linux()
        .as_ref()
        .and_then(|l| l.namespaces().as_ref())
        .is_some_and(|nss| {
            nss.iter()
                .any(|n| n.typ() == LinuxNamespaceType::User && n.path().is_some())
        })
}

/// The text of `/proc/PID/uid_map` (or gid_map) for the spec's mappings: one line each,
/// `inside outside count`.
pub(crate) fn id_map_text(mappings: &[oci_spec::runtime::LinuxIdMapping]) -> String {
    mappings
        .iter()
        .map(|m| format!("{} {} {}\n", m.container_id(), m.host_id(), m.size()))
        .collect()
}

/// The order in which a process joins namespaces by path, runc's: the user namespace first
/// (it owns the others and decides what the process may do in them; the child is born in it,
/// see [`JoinedNamespaces::user`]), then the rest, the mount namespace late (entering it moves
/// the process's root and working directory to that namespace's). The PID one is joined by
/// the parent, as it applies only to children (see [`JoinedNamespaces::pid`]).
const JOIN_ORDER: [(LinuxNamespaceType, libc::c_int); 7] = [
    (LinuxNamespaceType::User, libc::CLONE_NEWUSER),
    (LinuxNamespaceType::Ipc, libc::CLONE_NEWIPC),
    (LinuxNamespaceType::Uts, libc::CLONE_NEWUTS),
    (LinuxNamespaceType::Network, libc::CLONE_NEWNET),
    (LinuxNamespaceType::Pid, libc::CLONE_NEWPID),
    (LinuxNamespaceType::Mount, libc::CLONE_NEWNS),
    (LinuxNamespaceType::Cgroup, libc::CLONE_NEWCGROUP),
];

/// The namespaces the spec joins by path (`linux.namespaces[].path`), opened by the parent
/// before the clone, so that a wrong path fails there with its name and before any process
/// exists.
#[derive(Default)]
pub(crate) struct JoinedNamespaces {
    /// The PID namespace to be born in: the parent enters it for the clone only.
    pub(crate) pid: Option<OwnedFd>,
    /// The user namespace to be born in (so that the namespaces made at the clone are its):
    /// a helper process enters it and clones the child for kist (`sys::clone`).
    pub(crate) user: Option<OwnedFd>,
    /// The others, in the order the child enters them.
    pub(crate) others: Vec<(OwnedFd, libc::c_int)>,
}

impl JoinedNamespaces {
    pub(crate) fn open(spec: &Spec) -> Result<JoinedNamespaces> {
        let namespaces = spec
            .linux()
            .as_ref()
            .and_then(|l| l.namespaces().clone())
            .unwrap_or_default();
        let mut joined = JoinedNamespaces::default();
        for (typ, flag) in JOIN_ORDER {
            let Some(path) = namespaces
                .iter()
                .find(|n| n.typ() == typ)
                .and_then(|n| n.path().clone())
            else {
                continue;
            };
            let fd = rustix::fs::open(&path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
                .sys(|| format!("opening the {typ:?} namespace {}", path.display()))?;
            if typ == LinuxNamespaceType::Pid {
                joined.pid = Some(fd);
            } else if typ == LinuxNamespaceType::User {
                joined.user = Some(fd);
            } else {
                joined.others.push((fd, flag));
            }
        }
        Ok(joined)
    }

    /// Whether the child is born in another PID namespace, where processes already live.
    pub(crate) fn joins_pid(&self) -> bool {
        self.pid.is_some()
    }

    /// In the child, first thing: enters each namespace, in order.
    pub(crate) fn enter(&self) -> Result<()> {
        for (fd, flag) in &self.others {
            // SAFETY: setns on a namespace descriptor this process holds; the flag checks its
            // type.
            cvt(unsafe { libc::setns(fd.as_raw_fd(), *flag) })
                .sys(|| format!("joining a namespace ({})", ns_name(*flag)))?;
        }
        Ok(())
    }
}

fn ns_name(flag: libc::c_int) -> &'static str {
    match flag {
        libc::CLONE_NEWUSER => "user",
        libc::CLONE_NEWIPC => "ipc",
        libc::CLONE_NEWUTS => "uts",
        libc::CLONE_NEWNET => "network",
        libc::CLONE_NEWCGROUP => "cgroup",
        libc::CLONE_NEWNS => "mount",
        _ => "pid",
    }
}

/// While it lives, the caller's children are born in another PID namespace; dropped, they are
/// born in the caller's own again. (`setns` of a PID namespace changes only where the
/// caller's future children go, so this is how a process is started in one.)
pub(crate) struct BornIn {
    own: OwnedFd,
}

impl BornIn {
    pub(crate) fn enter(target: &OwnedFd) -> Result<BornIn> {
        let own = rustix::fs::open(
            "/proc/thread-self/ns/pid",
            OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .sys(|| "opening kist's own PID namespace".into())?;
        // SAFETY: setns on a PID namespace descriptor; it changes only pid_for_children.
        cvt(unsafe { libc::setns(target.as_raw_fd(), libc::CLONE_NEWPID) })
            .sys(|| "entering the PID namespace to join".into())?;
        Ok(BornIn { own })
    }
}

impl Drop for BornIn {
    fn drop(&mut self) {
        // SAFETY: back to this thread's own (active) PID namespace, which setns always allows.
        unsafe { libc::setns(self.own.as_raw_fd(), libc::CLONE_NEWPID) };
    }
}

/// Refuses a spec whose sysctls would be written into a namespace the container shares with
/// the host, as runc does: IPC keys need an IPC namespace of the container's (new or joined),
/// `net.*` a network one, the host name keys a UTS one. Otherwise the host's would change.
pub(crate) fn check_sysctls(spec: &Spec) -> Result<()> {
    let Some(linux) = spec.linux() else {
        return Ok(());
    };
    let namespaces = linux.namespaces().clone().unwrap_or_default();
    let has = |t: LinuxNamespaceType| namespaces.iter().any(|n| n.typ() == t);
    for key in linux.sysctl().iter().flat_map(|s| s.keys()) {
        let needs = if key.starts_with("kernel.shm")
            || key.starts_with("kernel.msg")
            || key == "kernel.sem"
            || key.starts_with("fs.mqueue.")
        {
            LinuxNamespaceType::Ipc
        } else if key.starts_with("net.") {
            LinuxNamespaceType::Network
        } else if key == "kernel.hostname" || key == "kernel.domainname" {
            LinuxNamespaceType::Uts
        } else {
            continue;
        };
        if !has(needs) {
            return Err(Error::Spec(format!(
                "sysctl {key} is not allowed in the host's {needs:?} namespace"
            )));
        }
    }
    Ok(())
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
        // Made at clone with the others, which it then owns; the parent writes its id maps.
        LinuxNamespaceType::User => libc::CLONE_NEWUSER,
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
    fn a_container_may_inherit_the_mount_namespace_and_needs_maps_for_a_user_one() {
        // No mount namespace listed: the runtime's is inherited (see has_mount_namespace).
        let no_mount = spec(namespaces(&["pid"]), serde_json::json!([]));
        assert_eq!(
            new_namespace_flags(&no_mount).unwrap(),
            u64::try_from(libc::CLONE_NEWPID).unwrap()
        );
        assert!(!has_mount_namespace(&no_mount));
        let user = spec(namespaces(&["mount", "user"]), serde_json::json!([]));
        assert!(new_namespace_flags(&user).is_err());
        let joined = spec(
            serde_json::json!({"namespaces": [{"type": "mount"}, {"type": "network", "path": "/x"}]}),
            serde_json::json!([]),
        );
        assert_eq!(
            new_namespace_flags(&joined).unwrap(),
            u64::try_from(libc::CLONE_NEWNS).unwrap(),
            "a namespace joined by path is not made at clone"
        );
        assert!(!has_new_namespace(&joined, LinuxNamespaceType::Network));
        // A joined mount namespace is one of its own too: the root is mounted there (runc's
        // and the runtime spec's way; the runtime-tools suite joins one).
        let mount_joined = spec(
            serde_json::json!({"namespaces": [{"type": "mount", "path": "/proc/self/ns/mnt"}]}),
            serde_json::json!([]),
        );
        assert_eq!(new_namespace_flags(&mount_joined).unwrap(), 0);
        assert!(has_mount_namespace(&mount_joined));
        let joined = JoinedNamespaces::open(&mount_joined).unwrap();
        let flags: Vec<_> = joined.others.iter().map(|(_, f)| *f).collect();
        assert_eq!(flags, [libc::CLONE_NEWNS]);
    }

    /// A new user namespace is made at clone, with its maps; maps need one, and one needs both.
    #[test]
    fn a_user_namespace_comes_with_its_maps() {
        let map = serde_json::json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
        let mut linux = namespaces(&["mount", "user"]);
        let bare = spec(linux.clone(), serde_json::json!([]));
        let e = new_namespace_flags(&bare).unwrap_err().to_string();
        assert!(e.contains("uidMappings"), "{e}");
        linux["uidMappings"] = map.clone();
        assert!(new_namespace_flags(&spec(linux.clone(), serde_json::json!([]))).is_err());
        linux["gidMappings"] = map.clone();
        let mapped = spec(linux, serde_json::json!([]));
        let want = libc::CLONE_NEWNS | libc::CLONE_NEWUSER;
        assert_eq!(
            new_namespace_flags(&mapped).unwrap(),
            u64::try_from(want).unwrap()
        );
        assert!(wants_user_namespace(&mapped));
        let maps = mapped
            .linux()
            .as_ref()
            .unwrap()
            .uid_mappings()
            .clone()
            .unwrap();
        assert_eq!(id_map_text(&maps), "0 100000 65536\n");
        let mut unowned = namespaces(&["mount"]);
        unowned["uidMappings"] = map.clone();
        unowned["gidMappings"] = map;
        let e = new_namespace_flags(&spec(unowned, serde_json::json!([])))
            .unwrap_err()
            .to_string();
        assert!(e.contains("need a user namespace"), "{e}");
    }

    /// Joined namespaces are opened in runc's order whatever the spec's order; the PID and
    /// user ones are kept apart (the child is born in them).
    #[test]
    fn joined_namespaces_open_in_order() {
        let own = |t: &str| format!("/proc/self/ns/{t}");
        let s = spec(
            serde_json::json!({"namespaces": [
                {"type": "mount"},
                {"type": "network", "path": own("net")},
                {"type": "user", "path": own("user")},
                {"type": "pid", "path": own("pid")},
                {"type": "ipc", "path": own("ipc")},
                {"type": "uts"},
            ]}),
            serde_json::json!([]),
        );
        let joined = JoinedNamespaces::open(&s).unwrap();
        assert!(joined.joins_pid());
        assert!(
            joined.user.is_some(),
            "the user namespace is kept apart: born in"
        );
        let flags: Vec<_> = joined.others.iter().map(|(_, f)| *f).collect();
        assert_eq!(flags, [libc::CLONE_NEWIPC, libc::CLONE_NEWNET]);
        let missing = spec(
            serde_json::json!({"namespaces": [{"type": "mount"}, {"type": "ipc", "path": "/no/such/ns"}]}),
            serde_json::json!([]),
        );
        let e = JoinedNamespaces::open(&missing).err().unwrap().to_string();
        assert!(e.contains("/no/such/ns"), "{e}");
    }

    #[test]
    fn sysctls_of_a_shared_namespace_are_refused() {
        let with = |types: &[&str], key: &str| {
            let mut linux = namespaces(types);
            linux["sysctl"] = serde_json::json!({key: "1"});
            check_sysctls(&spec(linux, serde_json::json!([])))
        };
        assert!(with(&["mount", "ipc"], "kernel.shmmax").is_ok());
        assert!(with(&["mount"], "kernel.shmmax").is_err());
        assert!(with(&["mount"], "fs.mqueue.msg_max").is_err());
        assert!(with(&["mount"], "net.ipv4.ip_forward").is_err());
        assert!(with(&["mount", "network"], "net.ipv4.ip_forward").is_ok());
        assert!(with(&["mount"], "kernel.domainname").is_err());
    }
}
