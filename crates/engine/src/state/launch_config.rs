//! What it takes to (re)create a container's process, kept in its directory as `launch.json`
//! next to its write layer: the OCI runtime spec and the root's layers, much as an OCI bundle
//! keeps `config.json` next to `rootfs`. `start`, `restart` and the supervisor read it back.

use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use oci_spec::runtime::Spec;
use serde::{Deserialize, Serialize};

use crate::error::{Error, IoContext, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "Name", content = "MaximumRetryCount")]
pub enum RestartPolicy {
    #[default]
    #[serde(rename = "no")]
    No,
    #[serde(rename = "on-failure")]
    OnFailure(u32),
    #[serde(rename = "always")]
    Always,
    #[serde(rename = "unless-stopped")]
    UnlessStopped,
}

impl RestartPolicy {
    /// Docker's `--restart` values: `no`, `on-failure[:N]`, `always`, `unless-stopped`.
    pub fn parse(s: &str) -> Result<RestartPolicy> {
        let bad = || {
            Error::Invalid(format!(
                "invalid restart policy {s:?}: use no, on-failure[:N], always or unless-stopped"
            ))
        };
        Ok(match s.split_once(':') {
            None => match s {
                "no" => RestartPolicy::No,
                "on-failure" => RestartPolicy::OnFailure(0),
                "always" => RestartPolicy::Always,
                "unless-stopped" => RestartPolicy::UnlessStopped,
                _ => return Err(bad()),
            },
            Some(("on-failure", n)) => RestartPolicy::OnFailure(n.parse().map_err(|_| bad())?),
            Some(_) => return Err(bad()),
        })
    }

    /// Whether a container that exited with `code` after `restarts` restarts is started again.
    /// A stop a user asked for is never a reason to restart.
    pub fn restarts(self, code: i32, restarts: i64, stopped_by_user: bool) -> bool {
        if stopped_by_user {
            return false;
        }
        match self {
            RestartPolicy::No => false,
            RestartPolicy::OnFailure(max) => code != 0 && (max == 0 || restarts < max as i64),
            RestartPolicy::Always | RestartPolicy::UnlessStopped => true,
        }
    }
}

/// `--log-opt max-size=10m max-file=3`: rotation of the json-file log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogOptions {
    /// Rotate when the log passes this many bytes (None: never).
    pub max_size: Option<u64>,
    /// How many files to keep, the current one included.
    pub max_file: u32,
}

impl Default for LogOptions {
    fn default() -> Self {
        LogOptions {
            max_size: None,
            max_file: 1,
        }
    }
}

impl LogOptions {
    pub fn parse(opts: &[String]) -> Result<LogOptions> {
        let mut out = LogOptions::default();
        for o in opts {
            let bad = || {
                Error::Invalid(format!(
                    "invalid log option {o:?}: use max-size=SIZE or max-file=N"
                ))
            };
            match o.split_once('=') {
                Some(("max-size", v)) => {
                    out.max_size = Some(crate::options::units::parse_bytes(v).map_err(|_| bad())?)
                }
                Some(("max-file", v)) => {
                    out.max_file = v.parse().ok().filter(|n| *n >= 1).ok_or_else(bad)?;
                }
                _ => return Err(bad()),
            }
        }
        Ok(out)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LaunchConfig {
    pub spec: Spec,
    /// The root's read-only layers, top first.
    pub lower: Vec<PathBuf>,
    pub init: bool,
    pub tty: bool,
    pub interactive: bool,
    pub restart: RestartPolicy,
    pub log: LogOptions,
    /// The image's StopSignal, if any.
    pub stop_signal: Option<String>,
    /// The limits as the user gave them; the spec's `linux.resources` is made from them.
    #[serde(default)]
    pub limits: crate::options::Limits,
    /// The security flags as the user gave them; the spec is made from them.
    #[serde(default)]
    pub security: crate::options::security::Security,
}

const FILE: &str = "launch.json";

impl LaunchConfig {
    /// What the runtime needs to create the container's process with these streams.
    pub fn launch<'a>(
        &'a self,
        dirs: &crate::state::container_dirs::ContainerDirs,
        stdio: kist_runtime::Stdio,
        seccomp: Option<&'a kist_runtime::seccomp::Filter>,
    ) -> kist_runtime::Launch<'a> {
        kist_runtime::Launch {
            spec: &self.spec,
            rootfs: kist_runtime::Rootfs::Overlay {
                lower: self.lower.clone(),
                upper: dirs.upper.clone(),
                work: dirs.work.clone(),
                mountpoint: dirs.rootfs.clone(),
            },
            stdio,
            init: self.init,
            seccomp,
        }
    }

    /// The compiled seccomp filter of the spec, if it has one (compiled once per store).
    pub fn seccomp_filter(
        &self,
        layout: &crate::state::layout::Layout,
    ) -> Result<Option<kist_runtime::seccomp::Filter>> {
        crate::container::seccomp_cache::filter_for(layout, &self.security)
    }

    /// Writes launch.json; replaced whole (a new file renamed over it), so that a reader such
    /// as a restarting supervisor never sees half of an `update`.
    pub fn save(&self, container_dir: &Path) -> Result<()> {
        let path = container_dir.join(FILE);
        let temp = container_dir.join(".launch.json.new");
        let bytes = serde_json::to_vec(self)
            .map_err(|e| Error::Invalid(format!("saving the launch configuration: {e}")))?;
        // It holds the container's environment: root's alone.
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temp)
            .and_then(|mut f| std::io::Write::write_all(&mut f, &bytes))
            .ctx("writing", &temp)?;
        std::fs::rename(&temp, &path).ctx("replacing", path)
    }

    pub fn load(container_dir: &Path) -> Result<LaunchConfig> {
        let path = container_dir.join(FILE);
        let bytes = std::fs::read(&path).ctx("reading", &path)?;
        serde_json::from_slice(&bytes)
            .map_err(|e| Error::Invalid(format!("{}: {e}", path.display())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_policies() {
        assert_eq!(
            RestartPolicy::parse("on-failure:3").unwrap(),
            RestartPolicy::OnFailure(3)
        );
        assert!(RestartPolicy::parse("sometimes").is_err());
        assert!(RestartPolicy::parse("always:2").is_err());
        let p = RestartPolicy::OnFailure(2);
        assert!(p.restarts(1, 0, false) && p.restarts(1, 1, false) && !p.restarts(1, 2, false));
        assert!(!p.restarts(0, 0, false));
        assert!(RestartPolicy::Always.restarts(0, 100, false));
        assert!(
            !RestartPolicy::Always.restarts(1, 0, true),
            "a user's stop is not a failure"
        );
        assert!(!RestartPolicy::No.restarts(1, 0, false));
    }

    #[test]
    fn log_options() {
        let o = LogOptions::parse(&["max-size=1k".into(), "max-file=3".into()]).unwrap();
        assert_eq!(
            o,
            LogOptions {
                max_size: Some(1024),
                max_file: 3
            }
        );
        assert!(LogOptions::parse(&["max-file=0".into()]).is_err());
        assert!(LogOptions::parse(&["colour=red".into()]).is_err());
    }
}
