//! What kist remembers and where: the SQLite store, the directories under ROOT and RUNROOT,
//! and each container's `launch.json`. It uses nothing of the engine but the options it keeps.

pub(crate) mod container_dirs;
pub mod crash;
pub(crate) mod events;
pub(crate) mod ids;
pub(crate) mod launch_config;
pub(crate) mod layout;
pub(crate) mod names;
pub(crate) mod networks;
pub(crate) mod private_file;
pub(crate) mod store;
