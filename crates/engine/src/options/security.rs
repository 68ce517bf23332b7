//! A container's confinement, from Docker's flags: its capabilities (Docker's 14 by default,
//! `--cap-add`/`--cap-drop`), seccomp (Docker's default profile, `--security-opt seccomp=`),
//! no_new_privileges, the masked `/proc` and `/sys` paths, its devices (`--device`, the
//! devices cgroup), `--sysctl` (namespaced keys only) and `--privileged`, which lifts all of it.
//! Everything is checked here, before anything is created.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use oci_spec::runtime::{LinuxDevice, LinuxDeviceCgroup, LinuxDeviceType};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::options::NetworkMode;

/// Docker's default capability set.
pub const DEFAULT_CAPABILITIES: [&str; 14] = [
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

/// Every capability kist knows by name (Linux 5.9's set).
const ALL_CAPABILITIES: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// Which seccomp profile confines the container.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SeccompChoice {
    /// Docker's default profile (kept in the runtime crate as data).
    #[default]
    Default,
    /// `seccomp=unconfined` (and `--privileged`): no filter.
    Unconfined,
    /// `seccomp=FILE`: the profile in that file, read when the container is created.
    Profile { path: PathBuf, content: String },
}

/// `--device HOST[:CONTAINER][:PERMISSIONS]`, resolved to the host's device node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceMapping {
    pub path_on_host: PathBuf,
    pub path_in_container: PathBuf,
    pub cgroup_permissions: String,
    pub kind: char,
    pub major: i64,
    pub minor: i64,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

/// The security flags of `run`, as the user gave them (kept for `inspect` and restarts).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Security {
    /// Canonical names (`CAP_NET_ADMIN`) or `ALL`.
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub privileged: bool,
    /// `--security-opt` values as given.
    pub security_opt: Vec<String>,
    pub seccomp: SeccompChoice,
    pub no_new_privileges: bool,
    /// `systempaths=unconfined`: no masked or read-only paths.
    pub unconfined_paths: bool,
    pub devices: Vec<DeviceMapping>,
    /// `--group-add` values as given (names are resolved in the image's /etc/group).
    pub group_add: Vec<String>,
    pub sysctls: BTreeMap<String, String>,
}

/// The raw flags.
#[derive(Debug, Clone, Default)]
pub struct SecurityFlags {
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub privileged: bool,
    pub security_opt: Vec<String>,
    pub devices: Vec<String>,
    pub group_add: Vec<String>,
    pub sysctls: Vec<String>,
}

impl Security {
    /// Checks and resolves the flags; `network` decides whether `net.*` sysctls are the
    /// container's own.
    pub fn parse(flags: &SecurityFlags, network: NetworkMode) -> Result<Security> {
        let mut s = Security {
            cap_add: flags
                .cap_add
                .iter()
                .map(|c| capability_name(c))
                .collect::<Result<_>>()?,
            cap_drop: flags
                .cap_drop
                .iter()
                .map(|c| capability_name(c))
                .collect::<Result<_>>()?,
            privileged: flags.privileged,
            security_opt: flags.security_opt.clone(),
            group_add: flags.group_add.clone(),
            ..Default::default()
        };
        check_held(&s.cap_add)?;
        for opt in &flags.security_opt {
            s.apply_security_opt(opt)?;
        }
        if s.privileged {
            s.seccomp = SeccompChoice::Unconfined;
        }
        for d in &flags.devices {
            s.devices.extend(parse_device(d)?);
        }
        for kv in &flags.sysctls {
            let (k, v) = kv
                .split_once('=')
                .ok_or_else(|| Error::Invalid(format!("invalid --sysctl {kv:?}: use KEY=VALUE")))?;
            check_sysctl(k, network)?;
            s.sysctls.insert(k.to_string(), v.to_string());
        }
        for g in &flags.group_add {
            if g.is_empty() || g.contains(':') {
                return Err(Error::Invalid(format!(
                    "invalid --group-add {g:?}: give a group name or number"
                )));
            }
        }
        Ok(s)
    }

    fn apply_security_opt(&mut self, opt: &str) -> Result<()> {
        let (key, value) = match opt.split_once(['=', ':']) {
            Some((k, v)) => (k, Some(v)),
            None => (opt, None),
        };
        match (key, value) {
            ("no-new-privileges", None | Some("true")) => self.no_new_privileges = true,
            ("no-new-privileges", Some("false")) => self.no_new_privileges = false,
            ("seccomp", Some("unconfined")) => self.seccomp = SeccompChoice::Unconfined,
            ("seccomp", Some(path)) if !path.is_empty() => {
                let content = std::fs::read_to_string(path)
                    .map_err(|e| Error::Invalid(format!("opening seccomp profile {path}: {e}")))?;
                kist_runtime::seccomp::Profile::from_json(&content)
                    .map_err(|e| Error::Invalid(format!("invalid seccomp profile {path}: {e}")))?;
                self.seccomp = SeccompChoice::Profile {
                    path: PathBuf::from(path),
                    content,
                };
            }
            ("systempaths", Some("unconfined")) => self.unconfined_paths = true,
            ("label" | "apparmor", Some(_)) => {
                return Err(Error::Invalid(format!(
                    "--security-opt {opt}: this host has neither SELinux nor AppArmor, so kist does not support it"
                )));
            }
            _ => {
                return Err(Error::Invalid(format!(
                    "invalid --security-opt {opt:?}: use seccomp=unconfined|FILE, no-new-privileges[=true|false] or systempaths=unconfined"
                )));
            }
        }
        Ok(())
    }

    /// The capability set, Docker's way: all with `--privileged` or `--cap-add ALL` (less
    /// the drops), none but the adds with `--cap-drop ALL`, else the default set with the
    /// adds and without the drops.
    pub fn capabilities(&self) -> Vec<String> {
        // "All" is all that kist itself holds: a host may withhold some (CAP_SYS_RESOURCE).
        let all = || {
            let held = own_bounding_set();
            ALL_CAPABILITIES
                .iter()
                .enumerate()
                .filter(move |(i, _)| held & (1u64 << i) != 0)
                .map(|(_, c)| c.to_string())
        };
        let has = |list: &[String]| list.iter().any(|c| c == "ALL");
        let set: BTreeSet<String> = if self.privileged {
            all().collect()
        } else if has(&self.cap_add) {
            all().filter(|c| !self.cap_drop.contains(c)).collect()
        } else if has(&self.cap_drop) {
            self.cap_add.iter().cloned().collect()
        } else {
            DEFAULT_CAPABILITIES
                .iter()
                .map(|c| c.to_string())
                .filter(|c| !self.cap_drop.contains(c))
                .chain(self.cap_add.iter().cloned())
                .collect()
        };
        set.into_iter().collect()
    }

    /// The device nodes the container gets besides the default ones.
    pub fn linux_devices(&self) -> Result<Vec<LinuxDevice>> {
        let mut out: Vec<LinuxDevice> = self.devices.iter().map(to_linux_device).collect();
        if self.privileged {
            out.extend(host_devices()?.iter().map(to_linux_device));
        }
        Ok(out)
    }

    /// The devices cgroup's rules: deny all, then Docker's defaults and the user's devices
    /// (everything with `--privileged`).
    pub fn device_rules(&self) -> Vec<LinuxDeviceCgroup> {
        let rule = |allow: bool, typ: Option<LinuxDeviceType>, major, minor, access: &str| {
            let mut r = LinuxDeviceCgroup::default();
            r.set_allow(allow);
            r.set_typ(typ);
            r.set_major(major);
            r.set_minor(minor);
            r.set_access(Some(access.to_string()));
            r
        };
        if self.privileged {
            return vec![rule(true, Some(LinuxDeviceType::A), None, None, "rwm")];
        }
        let mut rules = kist_runtime::docker_default_devices();
        for d in &self.devices {
            let typ = if d.kind == 'b' {
                LinuxDeviceType::B
            } else {
                LinuxDeviceType::C
            };
            rules.push(rule(
                true,
                Some(typ),
                Some(d.major),
                Some(d.minor),
                &d.cgroup_permissions,
            ));
        }
        rules
    }

    /// Docker's `HostConfig.Devices`.
    pub fn inspect_devices(&self) -> serde_json::Value {
        self.devices
            .iter()
            .map(|d| {
                serde_json::json!({
                    "PathOnHost": d.path_on_host,
                    "PathInContainer": d.path_in_container,
                    "CgroupPermissions": d.cgroup_permissions,
                })
            })
            .collect()
    }
}

/// kist's own bounding set, as a bit mask by capability number (ALL_CAPABILITIES's order).
fn own_bounding_set() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("CapBnd:"))
                .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        })
        .unwrap_or(u64::MAX)
}

/// An added capability kist does not hold itself cannot be given: say so before anything.
fn check_held(added: &[String]) -> Result<()> {
    if added.is_empty() {
        return Ok(());
    }
    let held = own_bounding_set();
    for c in added.iter().filter(|c| *c != "ALL") {
        let index = ALL_CAPABILITIES.iter().position(|a| a == c).unwrap_or(0);
        if held & (1u64 << index) == 0 {
            return Err(Error::Invalid(format!(
                "--cap-add {c}: kist itself does not hold {c} on this host, so it cannot give it to a container"
            )));
        }
    }
    Ok(())
}

/// `net_admin`, `CAP_NET_ADMIN`, `all` → `CAP_NET_ADMIN`, `ALL`.
fn capability_name(raw: &str) -> Result<String> {
    let upper = raw.trim().to_ascii_uppercase();
    if upper == "ALL" {
        return Ok(upper);
    }
    let name = if upper.starts_with("CAP_") {
        upper
    } else {
        format!("CAP_{upper}")
    };
    if ALL_CAPABILITIES.contains(&name.as_str()) {
        Ok(name)
    } else {
        Err(Error::Invalid(format!(
            "unknown capability {raw:?}: use a name such as NET_ADMIN or CAP_SYS_PTRACE, or ALL"
        )))
    }
}

/// Only the keys a container's own namespaces hold may be set (Docker's rule).
fn check_sysctl(key: &str, network: NetworkMode) -> Result<()> {
    const IPC: [&str; 8] = [
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
        "kernel.sem",
        "kernel.shmall",
        "kernel.shmmax",
        "kernel.shmmni",
        "kernel.shm_rmid_forced",
    ];
    if IPC.contains(&key) || key.starts_with("fs.mqueue.") {
        return Ok(());
    }
    if key.starts_with("net.") {
        return match network {
            NetworkMode::Host => Err(Error::Invalid(format!(
                "--sysctl {key}: the container shares the host's network namespace, so it cannot set net.* keys"
            ))),
            NetworkMode::None => Ok(()),
        };
    }
    Err(Error::Invalid(format!(
        "--sysctl {key} is not allowed: it is not namespaced, so it would change the host; only net.*, kernel.shm*, kernel.msg*, kernel.sem and fs.mqueue.* can be set"
    )))
}

/// `--device /dev/sda[:/dev/xvda][:rwm]`; a directory gives every device below it.
fn parse_device(value: &str) -> Result<Vec<DeviceMapping>> {
    let bad = |why: String| Error::Invalid(format!("invalid --device {value:?}: {why}"));
    let parts: Vec<&str> = value.split(':').collect();
    let is_permissions = |s: &str| !s.is_empty() && s.chars().all(|c| "rwm".contains(c));
    let (host, container, permissions) = match parts.as_slice() {
        [h] => (*h, *h, "rwm"),
        [h, p] if is_permissions(p) => (*h, *h, *p),
        [h, c] => (*h, *c, "rwm"),
        [h, c, p] => (*h, *c, *p),
        _ => return Err(bad("use HOST[:CONTAINER][:PERMISSIONS]".into())),
    };
    if !is_permissions(permissions) {
        return Err(bad(format!(
            "permissions {permissions:?} must be made of r, w and m"
        )));
    }
    if !container.starts_with('/') {
        return Err(bad("the container path must be absolute".into()));
    }
    let meta = std::fs::metadata(host).map_err(|e| bad(format!("{host}: {e}")))?;
    if meta.is_dir() {
        let mut out = Vec::new();
        for (path, m) in devices_below(Path::new(host))? {
            let rel = path.strip_prefix(host).unwrap_or(&path);
            out.push(mapping(
                &path,
                &Path::new(container).join(rel),
                permissions,
                &m,
            ));
        }
        return Ok(out);
    }
    if !meta.file_type().is_char_device() && !meta.file_type().is_block_device() {
        return Err(bad(format!("{host} is not a device")));
    }
    Ok(vec![mapping(
        Path::new(host),
        Path::new(container),
        permissions,
        &meta,
    )])
}

fn mapping(
    host: &Path,
    container: &Path,
    permissions: &str,
    m: &std::fs::Metadata,
) -> DeviceMapping {
    let rdev = m.rdev();
    DeviceMapping {
        path_on_host: host.to_path_buf(),
        path_in_container: container.to_path_buf(),
        cgroup_permissions: permissions.to_string(),
        kind: if m.file_type().is_block_device() {
            'b'
        } else {
            'c'
        },
        major: libc::major(rdev) as i64,
        minor: libc::minor(rdev) as i64,
        mode: m.mode() & 0o777,
        uid: m.uid(),
        gid: m.gid(),
    }
}

/// Device nodes below `dir`, recursively.
fn devices_below(dir: &Path) -> Result<Vec<(PathBuf, std::fs::Metadata)>> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| Error::Io {
        context: "listing",
        path: dir.to_path_buf(),
        source: e,
    })?;
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(m) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        let t = m.file_type();
        if t.is_dir() {
            out.extend(devices_below(&path)?);
        } else if t.is_char_device() || t.is_block_device() {
            out.push((path, m));
        }
    }
    Ok(out)
}

/// `--privileged`: the host's devices, but for the container's own terminal devices and
/// the directories that are filesystems of its own (pts, shm, mqueue).
fn host_devices() -> Result<Vec<DeviceMapping>> {
    let skip_dirs = ["/dev/pts", "/dev/shm", "/dev/mqueue", "/dev/fd"];
    let skip = [
        "/dev/console",
        "/dev/ptmx",
        "/dev/tty",
        "/dev/null",
        "/dev/zero",
        "/dev/full",
        "/dev/random",
        "/dev/urandom",
    ];
    let mut out = Vec::new();
    let entries = std::fs::read_dir("/dev").map_err(|e| Error::Io {
        context: "listing",
        path: "/dev".into(),
        source: e,
    })?;
    for entry in entries.flatten() {
        let path = entry.path();
        if skip_dirs.iter().any(|d| path == Path::new(d))
            || skip.iter().any(|d| path == Path::new(d))
        {
            continue;
        }
        let Ok(m) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        let found = if m.is_dir() {
            devices_below(&path)?
        } else if m.file_type().is_char_device() || m.file_type().is_block_device() {
            vec![(path.clone(), m)]
        } else {
            Vec::new()
        };
        for (p, m) in found {
            out.push(mapping(&p, &p, "rwm", &m));
        }
    }
    Ok(out)
}

fn to_linux_device(d: &DeviceMapping) -> LinuxDevice {
    let mut dev = LinuxDevice::default();
    dev.set_path(d.path_in_container.clone());
    dev.set_typ(if d.kind == 'b' {
        LinuxDeviceType::B
    } else {
        LinuxDeviceType::C
    });
    dev.set_major(d.major);
    dev.set_minor(d.minor);
    dev.set_file_mode(Some(d.mode));
    dev.set_uid(Some(d.uid));
    dev.set_gid(Some(d.gid));
    dev
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(add: &[&str], drop: &[&str]) -> SecurityFlags {
        SecurityFlags {
            cap_add: add.iter().map(|s| s.to_string()).collect(),
            cap_drop: drop.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    fn caps(add: &[&str], drop: &[&str]) -> Vec<String> {
        Security::parse(&flags(add, drop), NetworkMode::None)
            .unwrap()
            .capabilities()
    }

    #[test]
    fn capability_sets_follow_docker() {
        assert_eq!(caps(&[], &[]).len(), 14);
        let c = caps(&["sys_admin", "CAP_NET_ADMIN"], &["chown", "Cap_Kill"]);
        assert!(c.contains(&"CAP_SYS_ADMIN".into()) && c.contains(&"CAP_NET_ADMIN".into()));
        assert!(!c.contains(&"CAP_CHOWN".into()) && !c.contains(&"CAP_KILL".into()));
        assert_eq!(
            caps(&["NET_RAW"], &["all"]),
            vec!["CAP_NET_RAW".to_string()]
        );
        let all = caps(&["ALL"], &["SYS_ADMIN"]);
        let held = own_bounding_set();
        assert_eq!(
            all.len(),
            (0..41).filter(|i| held & (1 << i) != 0).count() - 1
        );
        assert!(!all.contains(&"CAP_SYS_ADMIN".into()));
        let e = Security::parse(&flags(&["NET_FLY"], &[]), NetworkMode::None).unwrap_err();
        assert!(e.to_string().contains("unknown capability"), "{e}");
    }

    #[test]
    fn only_namespaced_sysctls() {
        let s = |k: &str, n| check_sysctl(k, n).is_ok();
        assert!(s("net.ipv4.ip_forward", NetworkMode::None));
        assert!(!s("net.ipv4.ip_forward", NetworkMode::Host));
        assert!(s("kernel.shmmax", NetworkMode::Host));
        assert!(s("fs.mqueue.msg_max", NetworkMode::Host));
        assert!(!s("kernel.core_pattern", NetworkMode::None));
        assert!(!s("vm.swappiness", NetworkMode::None));
    }

    #[test]
    fn devices_and_security_opts() {
        let d = parse_device("/dev/null:/dev/mynull:r").unwrap();
        assert_eq!(d[0].path_in_container, Path::new("/dev/mynull"));
        assert_eq!((d[0].kind, d[0].major, d[0].minor), ('c', 1, 3));
        assert_eq!(
            parse_device("/dev/zero:rw").unwrap()[0].cgroup_permissions,
            "rw"
        );
        assert!(parse_device("/etc/passwd").is_err());
        assert!(parse_device("/dev/null:/x:rwx").is_err());
        let parse = |o: &str| {
            Security::parse(
                &SecurityFlags {
                    security_opt: vec![o.into()],
                    ..Default::default()
                },
                NetworkMode::None,
            )
        };
        assert!(parse("no-new-privileges").unwrap().no_new_privileges);
        assert!(parse("no-new-privileges:true").unwrap().no_new_privileges);
        assert_eq!(
            parse("seccomp=unconfined").unwrap().seccomp,
            SeccompChoice::Unconfined
        );
        assert!(parse("systempaths=unconfined").unwrap().unconfined_paths);
        assert!(parse("seccomp=/no/such/profile.json").is_err());
        assert!(parse("selinux-ish").is_err());
    }
}
