//! A container's confinement, from Docker's flags: its capabilities (Docker's 14 by default,
//! `--cap-add`/`--cap-drop`), seccomp (Docker's default profile, `--security-opt seccomp=`),
//! no_new_privileges, the masked `/proc` and `/sys` paths, its devices (`--device`, the
//! devices cgroup), `--sysctl` (namespaced keys only) and `--privileged`, which lifts all of it.
//! Everything is checked here, before anything is created.

use std::collections::BTreeMap;
use std::path::PathBuf;

use oci_spec::runtime::{LinuxDevice, LinuxDeviceCgroup};
use serde::{Deserialize, Serialize};

use super::{capabilities, devices};
use crate::error::{Error, Result};
use crate::options::NetworkMode;

pub use super::capabilities::DEFAULT_CAPABILITIES;
pub use super::devices::DeviceMapping;

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
                .map(|c| capabilities::name("--cap-add", c))
                .collect::<Result<_>>()?,
            cap_drop: flags
                .cap_drop
                .iter()
                .map(|c| capabilities::name("--cap-drop", c))
                .collect::<Result<_>>()?,
            privileged: flags.privileged,
            security_opt: flags.security_opt.clone(),
            group_add: flags.group_add.clone(),
            ..Default::default()
        };
        capabilities::check_held(&s.cap_add)?;
        for opt in &flags.security_opt {
            s.apply_security_opt(opt)?;
        }
        if s.privileged {
            s.seccomp = SeccompChoice::Unconfined;
        }
        for d in &flags.devices {
            s.devices.extend(devices::parse(d)?);
        }
        for kv in &flags.sysctls {
            let (k, v) = kv
                .split_once('=')
                .ok_or_else(|| Error::invalid_value("--sysctl", kv, "use KEY=VALUE"))?;
            check_sysctl(k, network)?;
            s.sysctls.insert(k.to_string(), v.to_string());
        }
        for g in &flags.group_add {
            if g.is_empty() || g.contains(':') {
                return Err(Error::invalid_value(
                    "--group-add",
                    g,
                    "give a group name or number",
                ));
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
                let content = std::fs::read_to_string(path).map_err(|source| {
                    Error::UnreadableSeccompProfile {
                        path: path.into(),
                        source,
                    }
                })?;
                kist_runtime::seccomp::Profile::from_json(&content).map_err(|source| {
                    Error::InvalidSeccompProfile {
                        path: path.into(),
                        source,
                    }
                })?;
                self.seccomp = SeccompChoice::Profile {
                    path: PathBuf::from(path),
                    content,
                };
            }
            ("systempaths", Some("unconfined")) => self.unconfined_paths = true,
            ("label" | "apparmor", Some(_)) => {
                return Err(Error::invalid_option(
                    "--security-opt",
                    format!(
                        "--security-opt {opt}: this host has neither SELinux nor AppArmor, so kist does not support it"
                    ),
                ));
            }
            _ => {
                return Err(Error::invalid_value(
                    "--security-opt",
                    opt,
                    "use seccomp=unconfined|FILE, no-new-privileges[=true|false] or systempaths=unconfined",
                ));
            }
        }
        Ok(())
    }

    /// The capability set, Docker's way: all with `--privileged` or `--cap-add ALL` (less
    /// the drops), none but the adds with `--cap-drop ALL`, else the default set with the
    /// adds and without the drops.
    pub fn capabilities(&self) -> Vec<String> {
        capabilities::set(self.privileged, &self.cap_add, &self.cap_drop)
    }

    /// The device nodes the container gets besides the default ones.
    pub fn linux_devices(&self) -> Result<Vec<LinuxDevice>> {
        devices::nodes(self.privileged, &self.devices)
    }

    /// The devices cgroup's rules: deny all, then Docker's defaults and the user's devices
    /// (everything with `--privileged`).
    pub fn device_rules(&self) -> Vec<LinuxDeviceCgroup> {
        devices::rules(self.privileged, &self.devices)
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
            NetworkMode::Host => Err(Error::invalid_option(
                "--sysctl",
                format!(
                    "--sysctl {key}: the container shares the host's network namespace, so it cannot set net.* keys"
                ),
            )),
            NetworkMode::Container => Err(Error::invalid_option(
                "--sysctl",
                format!(
                    "--sysctl {key}: the container shares another container's network namespace, so it cannot set net.* keys"
                ),
            )),
            NetworkMode::None | NetworkMode::Bridge => Ok(()),
        };
    }
    Err(Error::invalid_option(
        "--sysctl",
        format!(
            "--sysctl {key} is not allowed: it is not namespaced, so it would change the host; only net.*, kernel.shm*, kernel.msg*, kernel.sem and fs.mqueue.* can be set"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::capabilities::own_bounding_set;
    use crate::options::devices::parse as parse_device;
    use std::path::Path;

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
