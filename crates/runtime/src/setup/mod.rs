//! The container's first process setting itself up inside its new namespaces, step by step:
//! its root, the spec's mounts, /dev, its terminal, sysctls, read-only and masked paths, the
//! pivot, `lo`, and its standard streams. `child` says in which order.

pub(crate) mod cgroup_mounts;
pub(crate) mod console;
pub(crate) mod copyup;
pub(crate) mod devices;
pub(crate) mod foreign;
pub(crate) mod idmap;
pub(crate) mod loopback;
pub(crate) mod masks;
pub(crate) mod mount_options;
pub(crate) mod mounts;
pub(crate) mod overlay;
pub(crate) mod pivot;
pub(crate) mod placement;
#[cfg(test)]
pub(crate) mod recording;
pub(crate) mod rootfs;
pub(crate) mod stdio;
pub(crate) mod steps;
pub(crate) mod sysctl;
