//! kist's engine: containers, volumes and their state, and the turning of a user's `run`
//! options into an OCI runtime spec for the runtime core.
// inspect's Docker-shaped JSON is made of large json! literals.
#![recursion_limit = "256"]

mod container;
mod error;
mod filesystem;
pub mod images;
pub mod network;
pub mod observe;
mod options;
mod state;

// The public modules at the paths they have always had.
pub use container::{console, exec, health, lifecycle, supervisor};
pub use filesystem::{commit, cp, export, volumes};
pub use observe::{events, inspect, logs, stats};
pub use options::{attach, mounts, namespaces, ports, security};
pub use state::crash;

pub use container::reconcile::{build_step_image, build_step_name, reconcile, remove_orphan_dirs};
pub use container::removal::{RemoveMode, remove_container};
pub use container::run::{RunOutcome, create, run};
pub use container::spec::OCI_VERSION;
pub use container::update::update;
pub use error::{Error, ErrorKind, Result};
pub use kist_runtime::ExitStatus;
pub use options::units::parse_bytes;
pub use options::{
    DEFAULT_NETWORK, Healthcheck, Limits, LogOptions, NetworkMode, Networking, RestartPolicy,
    RunOptions, VolumeSpec, asks_relabel, parse_env_file, parse_ulimit, parse_volume,
};
pub use state::launch_config::LaunchConfig;
pub use state::layout::Layout;
pub use state::store::{ContainerRecord, ContainerState, Store, VolumeRecord};

use kist_image::ImageStore;

/// Everything a command needs: where things live, the state store and the image store.
pub struct Engine {
    pub layout: Layout,
    pub store: Store,
    pub images: ImageStore,
}

impl Engine {
    /// Opens the state under `root` (runtime state under `runroot`, or its default) and cleans
    /// up after any kist that was killed.
    pub fn open(root: &std::path::Path, runroot: Option<&std::path::Path>) -> Result<Engine> {
        let layout = Layout::new(root, runroot);
        layout.ensure()?;
        let store = Store::open(&layout.db_path())?;
        let images = ImageStore::open(root)?;
        let engine = Engine {
            layout,
            store,
            images,
        };
        reconcile(&engine)?;
        Ok(engine)
    }

    /// Opens the state without reconciling: for a supervisor, which must not judge the others.
    pub fn open_quietly(
        root: &std::path::Path,
        runroot: Option<&std::path::Path>,
    ) -> Result<Engine> {
        let layout = Layout::new(root, runroot);
        Ok(Engine {
            store: Store::open(&layout.db_path())?,
            images: ImageStore::open(root)?,
            layout,
        })
    }
}
