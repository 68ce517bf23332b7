//! The container's root as an overlay mount of image layers.
//!
//! With the new mount API each lower directory is passed on its own (`lowerdir+`, Linux 6.8),
//! so an image may have any number of layers: the classic `lowerdir=a:b:c` string is capped at
//! one page. Older kernels get the classic string, which fits a few dozen layers.

use std::io::Read;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use rustix::fs::CWD;
use rustix::io::Errno;
use rustix::mount::{
    FsMountFlags, FsOpenFlags, MountAttrFlags, MoveMountFlags, fsconfig_create,
    fsconfig_set_string, fsmount, fsopen, move_mount,
};

use crate::error::{Error, Result, cvt};

/// Mounts the overlay of `lower` (top first) under `upper` at `target`.
pub fn mount_overlay(lower: &[PathBuf], upper: &Path, work: &Path, target: &Path) -> Result<()> {
    mount_layers(lower, Some((upper, work)), target)
}

/// Mounts the read-only overlay of `lower` (top first, at least two) at `target`: a merged
/// view of layers, an overlayfs upper directory among them (its whiteouts hide what they
/// delete, as in any layer).
pub fn mount_overlay_read_only(lower: &[PathBuf], target: &Path) -> Result<()> {
    mount_layers(lower, None, target)
}

fn mount_layers(lower: &[PathBuf], writable: Option<(&Path, &Path)>, target: &Path) -> Result<()> {
    match mount_with_fsconfig(lower, writable, target) {
        Ok(()) => Ok(()),
        Err(Attempt::Unsupported) => mount_classic(lower, writable, target),
        Err(Attempt::Failed(e)) => Err(e),
    }
}

enum Attempt {
    Unsupported,
    Failed(Error),
}

fn mount_with_fsconfig(
    lower: &[PathBuf],
    writable: Option<(&Path, &Path)>,
    target: &Path,
) -> std::result::Result<(), Attempt> {
    let fs = match fsopen("overlay", FsOpenFlags::FSOPEN_CLOEXEC) {
        Ok(fd) => fd,
        Err(Errno::NOSYS) => return Err(Attempt::Unsupported),
        Err(e) => {
            return Err(Attempt::Failed(Error::sys(
                "opening an overlay filesystem context",
                e.into(),
            )));
        }
    };
    for (i, dir) in lower.iter().enumerate() {
        if let Err(e) = fsconfig_set_string(&fs, "lowerdir+", dir) {
            // A kernel before 6.8 does not know `lowerdir+`.
            if i == 0 && e == Errno::INVAL {
                return Err(Attempt::Unsupported);
            }
            return Err(Attempt::Failed(failure(
                &fs,
                &format!("adding layer {}", dir.display()),
                e,
            )));
        }
    }
    let set = |key: &str, value: &Path| {
        fsconfig_set_string(&fs, key, value).map_err(|e| {
            Attempt::Failed(failure(
                &fs,
                &format!("setting {key} {}", value.display()),
                e,
            ))
        })
    };
    if let Some((upper, work)) = writable {
        set("upperdir", upper)?;
        set("workdir", work)?;
    }
    fsconfig_create(&fs).map_err(|e| Attempt::Failed(failure(&fs, "creating the overlay", e)))?;
    let attrs = if writable.is_some() {
        MountAttrFlags::empty()
    } else {
        MountAttrFlags::MOUNT_ATTR_RDONLY
    };
    let mnt = fsmount(&fs, FsMountFlags::FSMOUNT_CLOEXEC, attrs)
        .map_err(|e| Attempt::Failed(failure(&fs, "mounting the overlay", e)))?;
    move_mount(
        &mnt,
        "",
        CWD,
        target,
        MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH,
    )
    .map_err(|e| {
        Attempt::Failed(Error::sys(
            format!("attaching the overlay at {}", target.display()),
            e.into(),
        ))
    })
}

/// An error with what the filesystem itself logged about it, when it did.
fn failure(fs: &OwnedFd, what: &str, e: Errno) -> Error {
    let mut log = String::new();
    let mut buf = [0u8; 1024];
    let Ok(dup) = fs.try_clone() else {
        return Error::sys(what.to_string(), e.into());
    };
    let mut file = std::fs::File::from(dup);
    while let Ok(n) = file.read(&mut buf) {
        if n == 0 {
            break;
        }
        log.push_str(String::from_utf8_lossy(&buf[..n]).trim_end());
        log.push_str("; ");
    }
    let context = if log.is_empty() {
        what.to_string()
    } else {
        format!("{what} ({})", log.trim_end_matches("; "))
    };
    Error::sys(context, e.into())
}

fn mount_classic(lower: &[PathBuf], writable: Option<(&Path, &Path)>, target: &Path) -> Result<()> {
    let lowers: Vec<String> = lower.iter().map(|p| p.display().to_string()).collect();
    let mut data = format!("lowerdir={}", lowers.join(":"));
    if let Some((upper, work)) = writable {
        data.push_str(&format!(
            ",upperdir={},workdir={}",
            upper.display(),
            work.display()
        ));
    }
    if data.len() >= 4096 {
        return Err(Error::Spec(format!(
            "the image has too many layers ({}) for this kernel's overlay mount; Linux 6.8 or later mounts any number",
            lower.len()
        )));
    }
    let c = |s: &str| {
        std::ffi::CString::new(s)
            .map_err(|_| Error::Spec(format!("a path holds a NUL byte: {s:?}")))
    };
    let (ty, tgt, dat) = (c("overlay")?, c(&target.display().to_string())?, c(&data)?);
    // SAFETY: valid NUL-terminated strings that outlive the call.
    cvt(unsafe {
        libc::mount(
            ty.as_ptr(),
            tgt.as_ptr(),
            ty.as_ptr(),
            if writable.is_some() {
                0
            } else {
                libc::MS_RDONLY
            },
            dat.as_ptr().cast(),
        )
    })
    .map_err(|e| Error::sys(format!("mounting the overlay at {}", target.display()), e))?;
    Ok(())
}
