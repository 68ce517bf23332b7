//! What it takes to (re)create a container's process, kept in its directory as `launch.json`
//! next to its write layer: the OCI runtime spec and the root's layers, much as an OCI bundle
//! keeps `config.json` next to `rootfs`. `start`, `restart` and the supervisor read it back.

use std::path::{Path, PathBuf};

use oci_spec::runtime::Spec;
use serde::{Deserialize, Serialize};

use crate::error::{Error, IoContext, Result};
use crate::options::namespaces::JoinedNamespace;
use crate::options::security::Security;
use crate::options::{Healthcheck, Limits, LogOptions, RestartPolicy};
use crate::state::container_dirs::ContainerDirs;

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
    /// `--stop-signal`, else the image's StopSignal, if any.
    pub stop_signal: Option<String>,
    /// `--stop-timeout`: seconds `stop` waits before SIGKILL (negative: for ever).
    #[serde(default)]
    pub stop_timeout: Option<i64>,
    /// The limits as the user gave them; the spec's `linux.resources` is made from them.
    #[serde(default)]
    pub limits: Limits,
    /// The security flags as the user gave them; the spec is made from them.
    #[serde(default)]
    pub security: Security,
    /// The health check, the user's over the image's (`Config.Healthcheck`).
    #[serde(default)]
    pub healthcheck: Option<Healthcheck>,
    /// Other containers' namespaces it joins, pointed at their processes at each start.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub joined: Vec<JoinedNamespace>,
}

const FILE: &str = "launch.json";

impl LaunchConfig {
    /// What the runtime needs to create the container's process with these streams.
    pub fn launch<'a>(
        &'a self,
        dirs: &ContainerDirs,
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
            hooks: None,
        }
    }

    /// Writes launch.json; replaced whole (a new file renamed over it), so that a reader such
    /// as a restarting supervisor never sees half of an `update`.
    pub fn save(&self, container_dir: &Path) -> Result<()> {
        let path = container_dir.join(FILE);
        let temp = container_dir.join(".launch.json.new");
        let bytes = serde_json::to_vec(self).map_err(Error::Unsaved)?;
        // It holds the container's environment: root's alone.
        crate::state::private_file::replace(&path, &temp, &bytes)
    }

    pub fn load(container_dir: &Path) -> Result<LaunchConfig> {
        let path = container_dir.join(FILE);
        let bytes = std::fs::read(&path).ctx("reading", &path)?;
        serde_json::from_slice(&bytes).map_err(|source| Error::Unreadable { path, source })
    }
}
