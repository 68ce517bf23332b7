//! The container's root: the new mount namespace made private, the root mounted (an overlay of
//! layers, or a bundle's directory bound onto itself) and, after the pivot, made read-only when
//! the spec says so.

use std::path::{Path, PathBuf};

use oci_spec::runtime::Spec;

use super::mount_options::rootfs_propagation;
use crate::error::{Result, SysContext};
use crate::launch::Rootfs;
use crate::sys::mount::mount;

/// Stops mounts in the container's namespace from propagating back to the host (rprivate by
/// default, or the spec's `rootfsPropagation`).
pub(crate) fn make_namespace_private(spec: &Spec) -> Result<()> {
    let linux = spec.linux().as_ref();
    let propagation = rootfs_propagation(linux.and_then(|l| l.rootfs_propagation().as_deref()));
    mount(None, Path::new("/"), None, propagation, None)
        .sys(|| "making the mount namespace private".into())
}

/// Mounts the root; returns where it is, to pivot into.
pub(crate) fn mount_rootfs(rootfs: &Rootfs) -> Result<PathBuf> {
    match rootfs {
        Rootfs::Overlay {
            lower,
            upper,
            work,
            mountpoint,
        } => {
            super::overlay::mount_overlay(lower, upper, work, mountpoint)?;
            Ok(mountpoint.clone())
        }
        Rootfs::Directory(dir) => {
            // pivot_root needs a mount point; a bind mount of the directory onto itself is one.
            mount(Some(dir), dir, None, libc::MS_BIND | libc::MS_REC, None)
                .sys(|| format!("bind-mounting the root {}", dir.display()))?;
            Ok(dir.clone())
        }
    }
}

/// Whether the spec wants the root read-only (`root.readonly`, `--read-only`).
pub(crate) fn wants_read_only_root(spec: &Spec) -> bool {
    spec.root()
        .as_ref()
        .and_then(|r| r.readonly())
        .unwrap_or(false)
}

/// The root, once pivoted into, remounted read-only.
pub(crate) fn make_root_read_only() -> Result<()> {
    mount(
        None,
        Path::new("/"),
        None,
        libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY,
        None,
    )
    .sys(|| "making the root read-only".into())
}
