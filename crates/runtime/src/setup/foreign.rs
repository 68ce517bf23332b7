//! Binds whose source lies in another process's mount namespace (`/proc/PID/root/PATH`), as
//! `--ipc container:X` binds the other container's /dev/shm. A plain bind of such a path
//! would bind what lies *under* the other namespace's mounts (mount(2) follows the path in the
//! caller's own mount tree), so the tree is cloned from inside that namespace instead: enter
//! it, `open_tree(OPEN_TREE_CLONE)`, come back, and attach the clone with `move_mount`. Only
//! the mount is taken along; nothing of the caller's stays behind in the other namespace.

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

use rustix::fs::{Mode, OFlags};
use rustix::mount::{MoveMountFlags, OpenTreeFlags};

use crate::error::{Error, Result, SysContext, cvt};

/// The process and the path inside its root that `source` names, if it is `/proc/PID/root/...`.
pub(crate) fn in_other_namespace(source: &Path) -> Option<(u32, PathBuf)> {
    let mut parts = source.components();
    if parts.next() != Some(Component::RootDir)
        || parts.next() != Some(Component::Normal("proc".as_ref()))
    {
        return None;
    }
    let pid = parts.next()?.as_os_str().to_str()?.parse().ok()?;
    if parts.next() != Some(Component::Normal("root".as_ref())) {
        return None;
    }
    Some((pid, Path::new("/").join(parts.as_path())))
}

/// Attaches a clone of the mount tree at `inner` in the mount namespace of `pid` onto
/// `target` (a handle in this process's namespace).
pub(crate) fn bind_from(pid: u32, inner: &Path, target: &OwnedFd, recursive: bool) -> Result<()> {
    let open = |path: &str| {
        rustix::fs::open(path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
            .sys(|| format!("opening {path}"))
    };
    let own = open("/proc/thread-self/ns/mnt")?;
    let theirs = open(&format!("/proc/{pid}/ns/mnt"))?;
    enter(&theirs, "entering the other mount namespace")?;
    let mut flags = OpenTreeFlags::OPEN_TREE_CLONE | OpenTreeFlags::OPEN_TREE_CLOEXEC;
    if recursive {
        flags |= OpenTreeFlags::AT_RECURSIVE;
    }
    let tree = rustix::mount::open_tree(rustix::fs::CWD, inner, flags);
    // Back before anything else: the rest of the set-up happens in this namespace.
    enter(&own, "returning to the container's mount namespace")?;
    let tree = tree.sys(|| format!("cloning {} of process {pid}", inner.display()))?;
    rustix::mount::move_mount(
        &tree,
        "",
        target,
        "",
        MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH | MoveMountFlags::MOVE_MOUNT_T_EMPTY_PATH,
    )
    .sys(|| format!("attaching {} of process {pid}", inner.display()))
}

fn enter(ns: &OwnedFd, what: &'static str) -> Result<()> {
    // SAFETY: setns on a mount namespace descriptor; this child shares no filesystem state
    // (clone3 without CLONE_FS), as setns of a mount namespace requires.
    cvt(unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNS) })
        .map(drop)
        .map_err(|e| Error::sys(what, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_root_paths_name_another_namespace() {
        assert_eq!(
            in_other_namespace(Path::new("/proc/42/root/dev/shm")),
            Some((42, PathBuf::from("/dev/shm")))
        );
        assert_eq!(in_other_namespace(Path::new("/proc/self/root/x")), None);
        assert_eq!(in_other_namespace(Path::new("/proc/42/cwd/x")), None);
        assert_eq!(in_other_namespace(Path::new("/srv/proc/42/root")), None);
    }
}
