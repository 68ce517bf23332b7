//! The container's root: the new mount namespace made private, the root mounted (an overlay of
//! layers, or a bundle's directory bound onto itself) and, after the pivot, made read-only when
//! the spec says so.

use std::path::{Path, PathBuf};

use oci_spec::runtime::Spec;

use super::mount_options::rootfs_propagation;
use crate::error::{Result, SysContext};
use crate::launch::Rootfs;
use crate::sys::mount::mount;

/// The spec's `rootfsPropagation` as mount flags (rprivate when it says nothing).
fn wanted_propagation(spec: &Spec) -> libc::c_ulong {
    let linux = spec.linux().as_ref();
    rootfs_propagation(linux.and_then(|l| l.rootfs_propagation().as_deref()))
}

/// Stops mounts in the container's namespace from propagating back to the host: rprivate, or
/// the spec's (r)slave, which keeps the host as the master. A shared or unbindable root is
/// made after the pivot ([`set_late_propagation`]): shared now, the namespace's mounts would
/// be peers of the host's, and pivot_root refuses a shared mount; an unbindable directory
/// cannot be bound onto itself to become the root.
pub(crate) fn make_namespace_private(spec: &Spec) -> Result<()> {
    let wanted = wanted_propagation(spec);
    let first = if wanted & libc::MS_SLAVE != 0 {
        wanted
    } else {
        libc::MS_PRIVATE | libc::MS_REC
    };
    mount(None, Path::new("/"), None, first, None)
        .sys(|| "making the mount namespace private".into())
}

/// Whether the spec's root propagation is set after the pivot (shared or unbindable).
pub(crate) fn wants_late_propagation(spec: &Spec) -> bool {
    wanted_propagation(spec) & (libc::MS_SHARED | libc::MS_UNBINDABLE) != 0
}

/// After the pivot, the root shared (a peer group of the container's own: its mounts reach
/// the root's other binds inside the container, never the host) or unbindable, as the spec
/// asks (crun's order).
pub(crate) fn set_late_propagation(spec: &Spec) -> Result<()> {
    mount(None, Path::new("/"), None, wanted_propagation(spec), None)
        .sys(|| "setting the root's propagation".into())
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
