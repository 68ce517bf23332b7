//! The OCI runtime spec of a container, from its resolved settings: Docker's defaults for
//! mounts, namespaces, masked and read-only paths, capabilities, seccomp and devices, plus the
//! user's choices. Built with oci-spec's types, so that a misspelt field does not compile.

use std::collections::HashMap;
use std::path::PathBuf;

use oci_spec::runtime::{
    Capability, Linux, LinuxCapabilities, LinuxNamespace, LinuxNamespaceType, LinuxResources,
    Mount, PosixRlimit, PosixRlimitBuilder, PosixRlimitType, Process, Root, Spec, User,
};
use serde_json::Value;

use crate::container::user::ResolvedUser;
use crate::error::{Error, Result};
use crate::options::NetworkMode;
use crate::options::security::Security;

/// The version of the OCI runtime spec kist writes (`kist version` shows it).
pub const OCI_VERSION: &str = "1.2.0";

/// A bind mount into the container.
pub struct BindMount {
    pub source: PathBuf,
    pub target: String,
    pub read_only: bool,
    /// Seed the (empty) source from the image first: a new named volume.
    pub copy_up: bool,
    /// `rslave`, `private`...; None is the namespace's (`rprivate`).
    pub propagation: Option<String>,
}

/// A tmpfs of the container's own (`--tmpfs`, `--mount type=tmpfs`).
pub struct TmpfsMount {
    pub target: String,
    /// Mount options, the defaults first: later ones win.
    pub options: Vec<String>,
}

/// Whose namespace of one type the container is in.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum NamespaceChoice {
    #[default]
    Own,
    Host,
    /// Another container's, by its path (`/proc/PID/ns/TYPE`).
    Join(PathBuf),
}

/// The namespaces `--pid`, `--ipc` and `--uts` choose.
#[derive(Debug, Clone, Default)]
pub struct NamespaceChoices {
    pub pid: NamespaceChoice,
    pub ipc: NamespaceChoice,
    pub uts: NamespaceChoice,
}

/// What the container's /dev/shm is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shm {
    /// A tmpfs of its own of this many bytes.
    Own(u64),
    /// The host's (`--ipc host`).
    Host,
    /// Another container's, through its process (`/proc/PID/root/dev/shm`: `--ipc
    /// container:X`).
    Of(PathBuf),
    /// None at all (`--ipc none`).
    None,
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
    pub tmpfs: Vec<TmpfsMount>,
    pub shm: Shm,
    pub namespaces: NamespaceChoices,
    pub cgroup_path: &'a str,
    pub cgroup_version: kist_runtime::CgroupVersion,
    /// A cgroup namespace of its own, with its cgroup as the root of /sys/fs/cgroup.
    pub cgroupns_private: bool,
    /// OCI `linux.resources`.
    pub resources: LinuxResources,
    /// (RLIMIT_NAME, soft, hard)
    pub rlimits: &'a [(String, u64, u64)],
    pub oom_score_adj: Option<i32>,
    /// Capabilities, devices, masks, sysctls. Its seccomp filter is compiled and cached by
    /// the engine and handed to the runtime beside the spec.
    pub security: &'a Security,
}

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

fn mount(destination: &str, typ: &str, source: &str, options: &[&str]) -> Mount {
    let mut m = Mount::default();
    m.set_destination(destination.into());
    m.set_typ(Some(typ.into()));
    m.set_source(Some(source.into()));
    m.set_options(Some(options.iter().map(|o| o.to_string()).collect()));
    m
}

fn mounts(input: &SpecInput<'_>) -> Vec<Mount> {
    let privileged = input.security.privileged;
    // Docker's /sys (and the cgroups below it) is read-only but with --privileged.
    let sys_options: &[&str] = if privileged {
        &["nosuid", "noexec", "nodev", "rw"]
    } else {
        &["nosuid", "noexec", "nodev", "ro"]
    };
    let mut mounts = vec![
        mount("/proc", "proc", "proc", &["nosuid", "noexec", "nodev"]),
        mount(
            "/dev",
            "tmpfs",
            "tmpfs",
            &["nosuid", "strictatime", "mode=755", "size=65536k"],
        ),
        mount(
            "/dev/pts",
            "devpts",
            "devpts",
            &[
                "nosuid",
                "noexec",
                "newinstance",
                "ptmxmode=0666",
                "mode=0620",
                "gid=5",
            ],
        ),
        mount("/sys", "sysfs", "sysfs", sys_options),
        // Docker's /sys/fs/cgroup: the container's own cgroups (where runtimes such as the
        // JVM read their limits). With a cgroup namespace of its own they are the
        // hierarchies' roots there; in the host's, its directories are bound in.
        mount("/sys/fs/cgroup", "cgroup", "cgroup", sys_options),
        mount(
            "/dev/mqueue",
            "mqueue",
            "mqueue",
            &["nosuid", "noexec", "nodev"],
        ),
    ];
    match &input.shm {
        Shm::Own(bytes) => {
            let size = format!("size={bytes}");
            mounts.push(mount(
                "/dev/shm",
                "tmpfs",
                "shm",
                &["nosuid", "noexec", "nodev", "mode=1777", &size],
            ));
        }
        // The host's POSIX shared memory. (Its message queues need nothing: an mqueue
        // filesystem mounted in the host's IPC namespace is the host's queues.)
        Shm::Host => mounts.push(mount("/dev/shm", "bind", "/dev/shm", &["rbind"])),
        Shm::Of(source) => {
            let mut m = mount("/dev/shm", "bind", "", &["rbind"]);
            m.set_source(Some(source.clone()));
            mounts.push(m);
        }
        Shm::None => {}
    }
    let mut own = user_mounts(input);
    // A user's mount replaces Docker's at the same path (--tmpfs /dev/shm).
    mounts.retain(|m| !own.iter().any(|o| o.destination() == m.destination()));
    // Parents before what is mounted inside them, whatever the order given.
    own.sort_by_key(|m| m.destination().components().count());
    mounts.extend(own);
    mounts
}

/// The user's binds and tmpfs mounts, and kist's generated /etc files.
fn user_mounts(input: &SpecInput<'_>) -> Vec<Mount> {
    let mut own = Vec::new();
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
        if let Some(p) = &b.propagation {
            options.push(p);
        }
        let mut m = mount(&b.target, "bind", "", &options);
        m.set_source(Some(b.source.clone()));
        own.push(m);
    }
    for t in &input.tmpfs {
        let options: Vec<&str> = t.options.iter().map(String::as_str).collect();
        own.push(mount(&t.target, "tmpfs", "tmpfs", &options));
    }
    own
}

/// `rslave` when a bind asks to receive the host's mounts (the copies of the host's mounts
/// in the new namespace must stay the host's slaves for that), else Docker's `rprivate`.
fn rootfs_propagation(input: &SpecInput<'_>) -> &'static str {
    let slave = input.binds.iter().any(|b| {
        b.propagation
            .as_deref()
            .is_some_and(|p| p.ends_with("slave"))
    });
    if slave { "rslave" } else { "rprivate" }
}

fn namespaces(input: &SpecInput<'_>) -> Vec<LinuxNamespace> {
    let mut list: Vec<(LinuxNamespaceType, Option<PathBuf>)> = Vec::new();
    let chosen = &input.namespaces;
    for (typ, choice) in [
        (LinuxNamespaceType::Pid, &chosen.pid),
        (LinuxNamespaceType::Ipc, &chosen.ipc),
        (LinuxNamespaceType::Uts, &chosen.uts),
    ] {
        match choice {
            NamespaceChoice::Own => list.push((typ, None)),
            NamespaceChoice::Host => {}
            NamespaceChoice::Join(path) => list.push((typ, Some(path.clone()))),
        }
    }
    list.push((LinuxNamespaceType::Mount, None));
    if input.network != NetworkMode::Host {
        list.push((LinuxNamespaceType::Network, None));
    }
    if input.cgroupns_private {
        list.push((LinuxNamespaceType::Cgroup, None));
    }
    list.into_iter()
        .map(|(t, path)| {
            let mut ns = LinuxNamespace::default();
            ns.set_typ(t);
            ns.set_path(path);
            ns
        })
        .collect()
}

/// Docker's sets: the bounding set is the container's capabilities; root has them all in
/// effect, another user none (a setuid-root program it runs regains at most the bounding set).
fn capabilities(input: &SpecInput<'_>) -> Result<LinuxCapabilities> {
    let set: oci_spec::runtime::Capabilities = input
        .security
        .capabilities()
        .iter()
        .map(|c| {
            serde_json::from_value::<Capability>(Value::from(c.as_str())).map_err(|_| Error::Spec {
                part: "capabilities",
                reason: format!("unknown capability {c}"),
            })
        })
        .collect::<Result<_>>()?;
    let in_effect = if input.user.uid == 0 {
        set.clone()
    } else {
        Default::default()
    };
    let mut caps = LinuxCapabilities::default();
    caps.set_bounding(Some(set));
    caps.set_effective(Some(in_effect.clone()));
    caps.set_permitted(Some(in_effect));
    caps.set_inheritable(Some(Default::default()));
    caps.set_ambient(Some(Default::default()));
    Ok(caps)
}

fn rlimits(input: &SpecInput<'_>) -> Result<Vec<PosixRlimit>> {
    input
        .rlimits
        .iter()
        .map(|(name, soft, hard)| {
            let typ: PosixRlimitType =
                serde_json::from_value(Value::from(name.as_str())).map_err(|_| Error::Spec {
                    part: "rlimits",
                    reason: format!("unknown rlimit {name}"),
                })?;
            PosixRlimitBuilder::default()
                .typ(typ)
                .soft(*soft)
                .hard(*hard)
                .build()
                .map_err(|e| Error::Spec {
                    part: "rlimits",
                    reason: e.to_string(),
                })
        })
        .collect()
}

fn process(input: &SpecInput<'_>) -> Result<Process> {
    let mut user = User::default();
    user.set_uid(input.user.uid);
    user.set_gid(input.user.gid);
    user.set_additional_gids(Some(input.user.additional_gids.clone()));
    let mut p = Process::default();
    p.set_terminal(Some(input.terminal));
    p.set_user(user);
    p.set_args(Some(input.args.to_vec()));
    p.set_env(Some(input.env.to_vec()));
    p.set_cwd(input.cwd.into());
    p.set_capabilities(Some(capabilities(input)?));
    p.set_no_new_privileges(Some(input.security.no_new_privileges));
    p.set_rlimits(Some(rlimits(input)?));
    p.set_oom_score_adj(input.oom_score_adj);
    Ok(p)
}

fn linux(input: &SpecInput<'_>) -> Result<Linux> {
    let mut resources = input.resources.clone();
    resources.set_devices(Some(input.security.device_rules()));
    let confined_paths = !input.security.privileged && !input.security.unconfined_paths;
    let paths = |list: &[&str]| -> Option<Vec<String>> {
        Some(if confined_paths {
            list.iter().map(|p| p.to_string()).collect()
        } else {
            Vec::new()
        })
    };
    let mut linux = Linux::default();
    linux.set_namespaces(Some(namespaces(input)));
    linux.set_masked_paths(paths(&MASKED_PATHS));
    linux.set_readonly_paths(paths(&READONLY_PATHS));
    linux.set_rootfs_propagation(Some(rootfs_propagation(input).into()));
    linux.set_cgroups_path(Some(input.cgroup_path.into()));
    linux.set_resources(Some(resources));
    linux.set_devices(Some(input.security.linux_devices()?));
    linux.set_sysctl(Some(
        input
            .security
            .sysctls
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<HashMap<_, _>>(),
    ));
    Ok(linux)
}

pub fn build(input: &SpecInput<'_>) -> Result<Spec> {
    let mut annotations = HashMap::new();
    if input.cgroup_version != kist_runtime::CgroupVersion::Auto {
        annotations.insert(
            kist_runtime::CGROUP_VERSION_ANNOTATION.to_string(),
            input.cgroup_version.as_str().to_string(),
        );
    }
    let mut root = Root::default();
    root.set_path("rootfs".into());
    root.set_readonly(Some(input.read_only));
    let mut spec = Spec::default();
    spec.set_version(OCI_VERSION.into());
    spec.set_process(Some(process(input)?));
    spec.set_root(Some(root));
    spec.set_hostname(Some(input.hostname.into()));
    spec.set_mounts(Some(mounts(input)));
    spec.set_annotations(Some(annotations));
    spec.set_linux(Some(linux(input)?));
    Ok(spec)
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
                propagation: None,
            }],
            tmpfs: vec![TmpfsMount {
                target: "/data/t".into(),
                options: vec!["size=1024".into()],
            }],
            shm: Shm::Host,
            namespaces: NamespaceChoices {
                pid: NamespaceChoice::Join("/proc/7/ns/pid".into()),
                ipc: NamespaceChoice::Host,
                uts: NamespaceChoice::Own,
            },
            cgroup_path: "kist/abc",
            cgroup_version: kist_runtime::CgroupVersion::V2,
            cgroupns_private: true,
            resources: crate::options::Limits {
                memory: Some(67108864),
                ..Default::default()
            }
            .to_spec(),
            rlimits: &[],
            oom_score_adj: None,
            security: &Security::default(),
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
        let pid = nss.iter().find(|n| n.typ() == LinuxNamespaceType::Pid);
        assert_eq!(
            pid.and_then(|n| n.path().clone()),
            Some(PathBuf::from("/proc/7/ns/pid")),
            "--pid container:X joins its namespace by path"
        );
        assert!(!nss.iter().any(|n| n.typ() == LinuxNamespaceType::Ipc));
        let destinations: Vec<_> = spec
            .mounts()
            .as_ref()
            .unwrap()
            .iter()
            .map(|m| m.destination().display().to_string())
            .collect();
        let at = |d: &str| destinations.iter().position(|x| x == d).unwrap();
        assert!(
            at("/data") < at("/data/t"),
            "parents first: {destinations:?}"
        );
        let shm = spec
            .mounts()
            .as_ref()
            .unwrap()
            .iter()
            .find(|m| m.destination() == std::path::Path::new("/dev/shm"));
        assert_eq!(
            shm.and_then(|m| m.typ().clone()).as_deref(),
            Some("bind"),
            "--ipc host binds the host's /dev/shm"
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
