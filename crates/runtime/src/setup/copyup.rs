//! Seeding a new named volume with what the image has at its mount point, as Docker does: when
//! the volume is empty, the image's files there are copied into it before it is mounted.

use std::fs;
use std::os::fd::OwnedFd;
use std::os::unix::fs::{MetadataExt, PermissionsExt, lchown};
use std::path::Path;

use crate::error::{Error, Result, SysContext};
use crate::paths::{fd_path, open_in_root};

/// Copies the directory `dest` of the container's root into `volume` when `volume` is empty.
pub fn seed_from_image(root: &OwnedFd, dest: &Path, volume: &Path) -> Result<()> {
    let is_empty = fs::read_dir(volume)
        .sys(|| format!("reading volume {}", volume.display()))?
        .next()
        .is_none();
    if !is_empty {
        return Ok(());
    }
    let Ok(src) = open_in_root(root, dest) else {
        return Ok(()); // nothing in the image there
    };
    let src_path = fd_path(&src);
    if !src_path.is_dir() {
        return Ok(());
    }
    // The volume's root takes the image directory's owner and mode.
    copy_meta(&src_path, volume)?;
    copy_dir(&src_path, volume).map_err(|e| match e {
        Error::Sys { context, source } => Error::sys(
            format!(
                "seeding volume {} from {}: {context}",
                volume.display(),
                dest.display()
            ),
            source,
        ),
        other => other,
    })
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    for entry in fs::read_dir(from).sys(|| format!("reading {}", from.display()))? {
        let entry = entry.sys(|| format!("reading {}", from.display()))?;
        let src = entry.path();
        let dst = to.join(entry.file_name());
        let meta = fs::symlink_metadata(&src).sys(|| format!("inspecting {}", src.display()))?;
        let ft = meta.file_type();
        if ft.is_dir() {
            fs::create_dir(&dst).sys(|| format!("creating {}", dst.display()))?;
            copy_dir(&src, &dst)?;
        } else if ft.is_symlink() {
            let target = fs::read_link(&src).sys(|| format!("reading {}", src.display()))?;
            std::os::unix::fs::symlink(target, &dst)
                .sys(|| format!("creating {}", dst.display()))?;
        } else if ft.is_file() {
            fs::copy(&src, &dst).sys(|| format!("copying {}", src.display()))?;
        } else {
            continue; // devices, sockets and fifos are not seeded
        }
        copy_meta(&src, &dst)?;
    }
    Ok(())
}

fn copy_meta(src: &Path, dst: &Path) -> Result<()> {
    let meta = fs::symlink_metadata(src).sys(|| format!("inspecting {}", src.display()))?;
    lchown(dst, Some(meta.uid()), Some(meta.gid()))
        .sys(|| format!("setting the owner of {}", dst.display()))?;
    if !meta.file_type().is_symlink() {
        fs::set_permissions(dst, fs::Permissions::from_mode(meta.mode() & 0o7777))
            .sys(|| format!("setting the mode of {}", dst.display()))?;
    }
    Ok(())
}
