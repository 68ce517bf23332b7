//! The spec's read-only and masked paths, made before `pivot_root` on handles resolved inside
//! the container's root, and without trusting any file of the container: a masked file is
//! covered with the host's `/dev/null`, opened by kist and checked to be the character device
//! 1:3, never with whatever the container's `/dev/null` is (a volume on `/dev` may make it a
//! symlink to `/proc/sys/kernel/core_pattern`, CVE-2025-31133); a masked directory gets an
//! empty read-only tmpfs. Read-only paths go first, so no later bind copies or undoes a mask.

use std::os::fd::OwnedFd;
use std::path::Path;

use rustix::fs::{FileType, Mode, OFlags};
use rustix::io::Errno;

use crate::error::{Error, Result, SysContext};
use crate::paths::{fd_path, open_in_root_with};
use crate::sys::mount::mount;

/// What masking needs from the host, opened before anything of the container is trusted.
pub(crate) struct Masks {
    null: OwnedFd,
}

impl Masks {
    pub(crate) fn prepare() -> Result<Masks> {
        let null = rustix::fs::open(
            "/dev/null",
            OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .sys(|| "opening the host's /dev/null".into())?;
        let st = rustix::fs::fstat(&null).sys(|| "reading the host's /dev/null".into())?;
        let is_null = FileType::from_raw_mode(st.st_mode) == FileType::CharacterDevice
            && rustix::fs::major(st.st_rdev) == 1
            && rustix::fs::minor(st.st_rdev) == 3;
        if !is_null {
            return Err(Error::Spec(
                "the host's /dev/null is not the null device (1:3): refusing to mask with it"
                    .into(),
            ));
        }
        Ok(Masks { null })
    }

    /// Makes `readonly` read-only, then hides `masked`, under `root`.
    pub(crate) fn apply(
        &self,
        root: &OwnedFd,
        readonly: &[String],
        masked: &[String],
    ) -> Result<()> {
        for p in readonly {
            make_read_only(root, Path::new(p)).map_err(|e| context(e, "making", p, "read-only"))?;
        }
        for p in masked {
            self.mask(root, Path::new(p))
                .map_err(|e| context(e, "masking", p, ""))?;
        }
        Ok(())
    }

    fn mask(&self, root: &OwnedFd, path: &Path) -> Result<()> {
        let Some(target) = existing(root, path)? else {
            return Ok(());
        };
        let st = rustix::fs::fstat(&target).sys(|| "reading the path".into())?;
        if FileType::from_raw_mode(st.st_mode) == FileType::Directory {
            mount(
                Some(Path::new("tmpfs")),
                &fd_path(&target),
                Some("tmpfs"),
                libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                Some("size=0,mode=0555"),
            )
            .sys(|| "mounting an empty tmpfs".into())
        } else {
            mount(
                Some(&fd_path(&self.null)),
                &fd_path(&target),
                None,
                libc::MS_BIND,
                None,
            )
            .sys(|| "binding /dev/null".into())
        }
    }
}

fn context(e: Error, verb: &str, path: &str, how: &str) -> Error {
    match e {
        Error::Sys { context, source } => Error::sys(
            format!("{verb} {path} {how}: {context}").replace("  ", " "),
            source,
        ),
        other => other,
    }
}

/// A handle to `path` inside `root` that names the path itself (not what a symlink there
/// points to), or None when nothing is there.
fn existing(root: &OwnedFd, path: &Path) -> Result<Option<OwnedFd>> {
    match open_in_root_with(root, path, OFlags::PATH | OFlags::NOFOLLOW) {
        Ok(fd) => Ok(Some(fd)),
        Err(Errno::NOENT) => Ok(None),
        Err(e) => Err(e).sys(|| "resolving the path".into()),
    }
}

fn make_read_only(root: &OwnedFd, path: &Path) -> Result<()> {
    let Some(target) = existing(root, path)? else {
        return Ok(());
    };
    let at = fd_path(&target);
    mount(Some(&at), &at, None, libc::MS_BIND | libc::MS_REC, None)
        .sys(|| "binding the path onto itself".into())?;
    // The remount must reach the new bind mount, which the old handle does not: open again.
    let Some(mounted) = existing(root, path)? else {
        return Err(Error::Spec(format!("{} vanished", path.display())));
    };
    mount(
        None,
        &fd_path(&mounted),
        None,
        libc::MS_BIND
            | libc::MS_REMOUNT
            | libc::MS_RDONLY
            | libc::MS_NOSUID
            | libc::MS_NODEV
            | libc::MS_NOEXEC,
        None,
    )
    .sys(|| "remounting read-only".into())
}
