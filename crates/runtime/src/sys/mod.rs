//! Thin wrappers over the syscalls that libc leaves raw or awkward, shared by the parent's and
//! the child's side of a launch.

pub(crate) mod clone;
pub(crate) mod mount;
