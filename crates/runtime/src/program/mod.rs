//! Becoming the container's program: the confinement applied in its order (rlimits, seccomp,
//! capabilities, the user, no_new_privs), the program looked up and executed, and `kist-init`
//! with the sealed binary it runs from.

pub(crate) mod capabilities;
pub(crate) mod default_capabilities;
pub(crate) mod exec;
pub mod init;
#[cfg(test)]
mod recording;
pub(crate) mod rlimits;
pub mod sealed;
pub(crate) mod steps;
pub(crate) mod syscalls;
