//! kist's engine: containers, volumes and their state, and the turning of a user's `run`
//! options into an OCI runtime spec for the runtime core.
// inspect's Docker-shaped JSON is one large json! literal.
#![recursion_limit = "256"]

mod cgroup;
pub mod commit;
mod container_fs;
pub mod cp;
pub mod crash;
mod error;
pub mod exec;
pub mod export;
mod freeze;
mod hostfiles;
mod ids;
pub mod images;
pub mod inspect;
mod launch_config;
mod layout;
pub mod lifecycle;
pub mod logs;
mod names;
pub mod observe;
mod options;
mod reconcile;
mod removal;
mod run;
mod seccomp_cache;
pub mod security;
mod spec;
pub mod stats;
mod stdio;
mod store;
pub mod supervisor;
mod units;
mod update;
pub use units::parse_bytes;
pub use update::update;
mod user;
pub mod volumes;

pub use error::{Error, Result};
pub use kist_runtime::ExitStatus;
pub use launch_config::{LaunchConfig, LogOptions, RestartPolicy};
pub use layout::Layout;
pub use options::{
    Limits, NetworkMode, RunOptions, VolumeSpec, parse_env_file, parse_ulimit, parse_volume,
};
pub use reconcile::{reconcile, remove_orphan_dirs};
pub use removal::{RemoveMode, remove_container};
pub use run::{RunOutcome, run};
pub use store::{ContainerRecord, ContainerState, Store, VolumeRecord};

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
