//! A container's process, from `run` to `rm`: the OCI spec made from its options, the runtime
//! handed it, the supervisor that keeps it, and everything later done to it (stop, exec,
//! update, pause).

pub(crate) mod cgroup;
pub mod console;
pub mod exec;
pub(crate) mod freeze;
pub mod health;
pub(crate) mod hostfiles;
pub(crate) mod joined;
pub mod lifecycle;
pub(crate) mod reconcile;
pub(crate) mod removal;
pub(crate) mod run;
pub(crate) mod seccomp_cache;
pub(crate) mod spec;
pub(crate) mod stdio;
pub mod supervisor;
pub(crate) mod update;
pub(crate) mod user;
