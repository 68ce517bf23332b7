//! What kist remembers and where: the SQLite store, the directories under ROOT and RUNROOT,
//! each container's `launch.json`, and the clean-up after a kist that was killed.

pub(crate) mod container_dirs;
pub mod crash;
pub(crate) mod ids;
pub(crate) mod launch_config;
pub(crate) mod layout;
pub(crate) mod names;
pub(crate) mod reconcile;
pub(crate) mod store;
