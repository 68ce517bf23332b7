//! The OCI runtime spec of a container, from its resolved settings: Docker's defaults for
//! mounts, namespaces, masked and read-only paths and capabilities, plus the user's choices.

use std::path::PathBuf;

use oci_spec::runtime::Spec;
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::options::NetworkMode;
use crate::user::ResolvedUser;

/// A bind mount into the container.
pub struct BindMount {
    pub source: PathBuf,
    pub target: String,
    pub read_only: bool,
    /// Seed the (empty) source from the image first: a new named volume.
    pub copy_up: bool,
}

pub struct SpecInput<'a> {
    pub args: &'a [String],
    pub env: &'a [String],
    pub cwd: &'a str,
    pub user: &'a ResolvedUser,
    pub terminal: bool,
    pub hostname: &'a str,
    pub read_only: bool,
    pub network: NetworkMode,
    /// /etc/hostname, /etc/hosts, /etc/resolv.conf and volumes.
    pub binds: Vec<BindMount>,
    pub cgroup_path: &'a str,
    pub cgroup_version: kist_runtime::CgroupVersion,
    /// A cgroup namespace of its own, with its cgroup as the root of /sys/fs/cgroup.
    pub cgroupns_private: bool,
    /// OCI `linux.resources`.
    pub resources: Value,
    /// (RLIMIT_NAME, soft, hard)
    pub rlimits: &'a [(String, u64, u64)],
    pub oom_score_adj: Option<i32>,
}

/// Docker's default capability set.
const DEFAULT_CAPABILITIES: [&str; 14] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

const MASKED_PATHS: [&str; 11] = [
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

const READONLY_PATHS: [&str; 5] = [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

pub fn build(input: &SpecInput<'_>) -> Result<Spec> {
    let mut mounts = vec![
        json!({"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]}),
        json!({"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]}),
        json!({"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]}),
        json!({"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]}),
        json!({"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]}),
        json!({"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]}),
    ];
    for b in &input.binds {
        // No "rprivate": the root is made rprivate first, and mounts made under a private
        // mount are private; saying it again costs a mount(2) per bind.
        let mut options = vec!["rbind"];
        if b.read_only {
            options.push("ro");
        }
        if b.copy_up {
            options.push(kist_runtime::COPY_UP_OPTION);
        }
        mounts.push(json!({"destination": b.target, "type": "bind", "source": b.source, "options": options}));
    }
    let mut namespaces = vec![
        json!({"type": "pid"}),
        json!({"type": "ipc"}),
        json!({"type": "uts"}),
        json!({"type": "mount"}),
    ];
    if input.network == NetworkMode::None {
        namespaces.push(json!({"type": "network"}));
    }
    // Docker's /sys/fs/cgroup: the container's own cgroups, read-only (where runtimes such as
    // the JVM read their limits). With a cgroup namespace of its own they are the hierarchies'
    // roots there; in the host's, its directories are bound in.
    mounts.insert(
        4,
        json!({"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "ro"]}),
    );
    if input.cgroupns_private {
        namespaces.push(json!({"type": "cgroup"}));
    }
    let mut annotations = serde_json::Map::new();
    if input.cgroup_version != kist_runtime::CgroupVersion::Auto {
        annotations.insert(
            kist_runtime::CGROUP_VERSION_ANNOTATION.into(),
            input.cgroup_version.as_str().into(),
        );
    }
    let caps: Vec<Value> = DEFAULT_CAPABILITIES.iter().map(|c| json!(c)).collect();
    let spec = json!({
        "ociVersion": "1.2.0",
        "process": {
            "terminal": input.terminal,
            "user": {"uid": input.user.uid, "gid": input.user.gid, "additionalGids": input.user.additional_gids},
            "args": input.args,
            "env": input.env,
            "cwd": input.cwd,
            "capabilities": {"bounding": caps, "effective": caps, "permitted": caps},
            "noNewPrivileges": false,
            "rlimits": input.rlimits.iter().map(|(t, soft, hard)| json!({"type": t, "soft": soft, "hard": hard})).collect::<Vec<_>>(),
            "oomScoreAdj": input.oom_score_adj,
        },
        "root": {"path": "rootfs", "readonly": input.read_only},
        "hostname": input.hostname,
        "mounts": mounts,
        "annotations": annotations,
        "linux": {
            "namespaces": namespaces,
            "maskedPaths": MASKED_PATHS,
            "readonlyPaths": READONLY_PATHS,
            "rootfsPropagation": "rprivate",
            "cgroupsPath": input.cgroup_path,
            "resources": input.resources,
        },
    });
    serde_json::from_value(spec)
        .map_err(|e| Error::Invalid(format!("building the runtime spec: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_carries_the_settings() {
        let user = ResolvedUser {
            uid: 1000,
            gid: 1000,
            additional_gids: vec![10],
            home: "/home/a".into(),
        };
        let args = vec!["sh".to_string()];
        let env = vec!["A=1".to_string()];
        let spec = build(&SpecInput {
            args: &args,
            env: &env,
            cwd: "/work",
            user: &user,
            terminal: true,
            hostname: "box",
            read_only: true,
            network: NetworkMode::Host,
            binds: vec![BindMount {
                source: "/srv".into(),
                target: "/data".into(),
                read_only: true,
                copy_up: false,
            }],
            cgroup_path: "kist/abc",
            cgroup_version: kist_runtime::CgroupVersion::V2,
            cgroupns_private: true,
            resources: serde_json::json!({"memory": {"limit": 67108864}}),
            rlimits: &[],
            oom_score_adj: None,
        })
        .unwrap();
        let p = spec.process().as_ref().unwrap();
        assert_eq!(p.user().uid(), 1000);
        assert_eq!(p.cwd().to_str(), Some("/work"));
        assert_eq!(p.terminal(), Some(true));
        assert_eq!(spec.hostname().as_deref(), Some("box"));
        assert_eq!(spec.root().as_ref().unwrap().readonly(), Some(true));
        let nss = spec.linux().as_ref().unwrap().namespaces().clone().unwrap();
        assert!(
            !nss.iter()
                .any(|n| n.typ() == oci_spec::runtime::LinuxNamespaceType::Network),
            "host network shares the namespace"
        );
        let data = spec
            .mounts()
            .as_ref()
            .unwrap()
            .iter()
            .find(|m| m.destination().to_str() == Some("/data"))
            .unwrap();
        assert!(data.options().as_ref().unwrap().contains(&"ro".to_string()));
        let linux = spec.linux().as_ref().unwrap();
        assert_eq!(
            linux.cgroups_path().as_ref().unwrap().to_str(),
            Some("kist/abc")
        );
        let limit = linux
            .resources()
            .as_ref()
            .unwrap()
            .memory()
            .as_ref()
            .unwrap()
            .limit();
        assert_eq!(limit, Some(67108864));
        assert!(
            nss.iter()
                .any(|n| n.typ() == oci_spec::runtime::LinuxNamespaceType::Cgroup),
            "--cgroupns private asks for a cgroup namespace"
        );
        let annotations = spec.annotations().as_ref().unwrap();
        assert_eq!(
            annotations.get(kist_runtime::CGROUP_VERSION_ANNOTATION),
            Some(&"2".to_string())
        );
    }
}
