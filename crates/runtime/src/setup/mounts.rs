//! The spec's mounts, made inside the container's root before `pivot_root`, each on a handle
//! resolved inside that root.

use std::os::fd::OwnedFd;
use std::path::Path;

use oci_spec::runtime::{Mount, Spec};

use super::cgroup_mounts::{CgroupSource, bind_own_cgroups, mount_cgroups};
use super::idmap::Idmapped;
use super::mount_options::MountOptions;
use crate::error::{Error, Result, SysContext};
use crate::paths::{create_file_in_root, fd_path, mkdir_all_in_root, open_in_root};
use crate::sys::mount::mount;

/// Makes every spec mount under `root` (the container's root, not yet pivoted into).
pub fn mount_all(
    spec: &Spec,
    root: &OwnedFd,
    cgroups: &CgroupSource<'_>,
    idmapped: &Idmapped,
) -> Result<()> {
    let private_cgroups = crate::namespaces::wants_cgroup_namespace(spec);
    for (index, m) in spec
        .mounts()
        .as_deref()
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let made = if m.typ().as_deref() == Some("cgroup") {
            let flags =
                MountOptions::parse(m.options().as_deref().unwrap_or_default(), Some("cgroup"))
                    .flags;
            if private_cgroups {
                mount_cgroups(root, m.destination(), flags)
            } else {
                bind_own_cgroups(root, m.destination(), flags, cgroups)
            }
        } else {
            mount_one(m, root, idmapped.tree(index))
        };
        made.map_err(|e| match e {
            Error::Sys { context, source } => Error::sys(
                format!("mounting {}: {context}", m.destination().display()),
                source,
            ),
            other => other,
        })?;
    }
    Ok(())
}

/// One mount; `idmapped`, its source's tree idmapped by kist (see `idmap`), to attach instead
/// of binding the source.
fn mount_one(m: &Mount, root: &OwnedFd, idmapped: Option<&OwnedFd>) -> Result<()> {
    let dest = m.destination();
    if !dest.is_absolute() {
        return Err(Error::Spec(format!(
            "mount destination {} is not absolute",
            dest.display()
        )));
    }
    let opts = MountOptions::parse(
        m.options().as_deref().unwrap_or_default(),
        m.typ().as_deref(),
    );
    let source = m.source().as_deref();
    if opts.bind {
        let source = source.ok_or_else(|| {
            Error::Spec(format!("bind mount at {} has no source", dest.display()))
        })?;
        if opts.copy_up {
            super::copyup::seed_from_image(root, dest, source)?;
        }
        let foreign = super::foreign::in_other_namespace(source);
        let target = if foreign.is_some() || source.is_dir() {
            mkdir_all_in_root(root, dest)
        } else {
            create_file_in_root(root, dest)
        }
        .sys(|| "creating the mount point".into())?;
        if let Some(tree) = idmapped {
            super::idmap::attach(tree, &target)?;
        } else if let Some((pid, inner)) = foreign {
            super::foreign::bind_from(pid, &inner, &target, opts.recursive)?;
        } else {
            let mut flags = libc::MS_BIND;
            if opts.recursive {
                flags |= libc::MS_REC;
            }
            mount(Some(source), &fd_path(&target), None, flags, None)
                .sys(|| format!("bind-mounting {}", source.display()))?;
        }
        // Flags other than MS_BIND only take effect through a remount of the new mount, which
        // the handle opened before it was made does not reach: open the path again.
        if opts.flags != 0 {
            let mounted = open_in_root(root, dest).sys(|| "reopening the mount point".into())?;
            mount(
                None,
                &fd_path(&mounted),
                None,
                libc::MS_BIND | libc::MS_REMOUNT | opts.flags,
                None,
            )
            .sys(|| "applying the mount options".into())?;
        }
    } else {
        let fstype = m
            .typ()
            .as_deref()
            .ok_or_else(|| Error::Spec(format!("mount at {} has no type", dest.display())))?;
        let target = mkdir_all_in_root(root, dest).sys(|| "creating the mount point".into())?;
        let source = source.unwrap_or(Path::new(fstype));
        mount(
            Some(source),
            &fd_path(&target),
            Some(fstype),
            opts.flags,
            Some(&opts.data),
        )
        .sys(|| format!("mounting a {fstype} filesystem"))?;
    }
    if opts.propagation != 0 {
        let mounted = open_in_root(root, dest).sys(|| "reopening the mount point".into())?;
        mount(None, &fd_path(&mounted), None, opts.propagation, None)
            .sys(|| "setting propagation".into())?;
    }
    Ok(())
}
