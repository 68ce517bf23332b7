//! What a user asks of `kist run`, parsed and checked before anything is created. The option
//! types live here, apart from the state that keeps them (`launch.json`), so that both the
//! state and the code that runs containers can use them.

use std::path::PathBuf;

pub mod attach;
mod capabilities;
mod devices;
mod env;
pub(crate) mod healthcheck;
mod limits;
mod log;
pub mod mounts;
pub(crate) mod names;
pub mod namespaces;
pub mod network;
pub mod ports;
mod restart;
pub mod security;
pub(crate) mod units;
mod volume;

pub use env::{parse_env_file, resolve_env};
pub use healthcheck::Healthcheck;
pub use limits::{Limits, parse_ulimit};
pub use log::LogOptions;
pub use network::{DEFAULT_NETWORK, NetworkMode, Networking};
pub use restart::RestartPolicy;
pub use volume::{VolumeSpec, asks_relabel, parse_volume};

/// What `kist run` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub image: String,
    pub command: Vec<String>,
    pub remove: bool,
    pub interactive: bool,
    pub tty: bool,
    pub name: Option<String>,
    /// Raw `-e` values: `K=V`, or `K` to take the value from kist's environment.
    pub env: Vec<String>,
    pub env_files: Vec<PathBuf>,
    pub workdir: Option<String>,
    pub user: Option<String>,
    pub hostname: Option<String>,
    /// `-v` and `--mount`, in order.
    pub volumes: Vec<VolumeSpec>,
    /// `--tmpfs`, `--shm-size`, `--volumes-from`, and the mount flags as inspect shows them.
    pub storage: mounts::Storage,
    /// `--pid`, `--ipc`, `--uts`.
    pub namespaces: namespaces::Namespaces,
    /// `-a`: the streams a foreground run connects.
    pub attach: attach::Attach,
    /// `--sig-proxy=false`: the signals kist gets are not passed on to the container.
    pub no_sig_proxy: bool,
    /// `Some("")` clears the image's entrypoint.
    pub entrypoint: Option<String>,
    pub read_only: bool,
    pub init: bool,
    pub network: NetworkMode,
    /// The bridge network and what the container asks of it.
    pub networking: Networking,
    /// `-d`: run under a supervisor and return once it runs.
    pub detach: bool,
    /// `run -it`: run under a supervisor as with `-d` (so that the user can detach), its
    /// program waiting until the caller has attached to its terminal.
    pub share_terminal: bool,
    /// `--label K=V` (or `K`, an empty value).
    pub labels: Vec<String>,
    /// The cgroup the container's cgroup goes under: absolute, or relative to kist's own.
    pub cgroup_parent: String,
    /// Which cgroup hierarchies to use (`KIST_CGROUP_VERSION`; detected by default).
    pub cgroup_version: kist_runtime::CgroupVersion,
    /// `--cgroupns private`: the container sees its own cgroup as the root.
    pub cgroupns_private: bool,
    pub limits: Limits,
    pub restart: RestartPolicy,
    pub log: LogOptions,
    /// Capabilities, seccomp, devices, sysctls, `--privileged`.
    pub security: security::Security,
    /// The `--health-*` flags' check (merged over the image's), `--no-healthcheck`'s NONE.
    pub healthcheck: Option<Healthcheck>,
    /// `--stop-signal`: instead of the image's StopSignal (or SIGTERM).
    pub stop_signal: Option<String>,
    /// `--stop-timeout`: seconds `stop` waits by default (negative: for ever).
    pub stop_timeout: Option<i64>,
    /// `--cidfile`: a new file to write the container's id into once it is recorded.
    pub cidfile: Option<PathBuf>,
}
