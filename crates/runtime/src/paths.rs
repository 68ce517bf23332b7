//! Paths inside the container's root, resolved by the kernel as if that root were `/`
//! (`openat2(RESOLVE_IN_ROOT)`): a symlink in the image can never make kist touch the host.

use std::ffi::OsStr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

use rustix::fs::{Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

/// Opens `path` inside `root` as an `O_PATH` handle.
pub fn open_in_root(root: &OwnedFd, path: &Path) -> rustix::io::Result<OwnedFd> {
    open_in_root_with(root, path, OFlags::PATH)
}

/// Opens `path` inside `root` with `flags` (close-on-exec added); the root itself for `/`.
pub fn open_in_root_with(
    root: &OwnedFd,
    path: &Path,
    flags: OFlags,
) -> rustix::io::Result<OwnedFd> {
    let rel = relative(path);
    rustix::fs::openat2(
        root,
        if rel.as_os_str().is_empty() {
            Path::new(".")
        } else {
            &rel
        },
        flags | OFlags::CLOEXEC,
        Mode::empty(),
        ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
    )
}

/// Creates the directory `path` and its missing parents inside `root`; returns a handle to it.
pub fn mkdir_all_in_root(root: &OwnedFd, path: &Path) -> rustix::io::Result<OwnedFd> {
    if let Ok(fd) = open_dir(root, path) {
        return Ok(fd);
    }
    let mut so_far = PathBuf::new();
    for c in path.components() {
        if let Component::Normal(name) = c {
            let parent = open_dir(root, &so_far)?;
            so_far.push(name);
            match rustix::fs::mkdirat(&parent, name, Mode::from_raw_mode(0o755)) {
                Ok(()) | Err(Errno::EXIST) => {}
                Err(e) => return Err(e),
            }
        }
    }
    open_dir(root, path)
}

/// Creates an empty file at `path` inside `root` (and its parents) unless something is there.
pub fn create_file_in_root(root: &OwnedFd, path: &Path) -> rustix::io::Result<OwnedFd> {
    if let Ok(fd) = open_in_root(root, path) {
        return Ok(fd);
    }
    let (parent, name) = split(path);
    let dir = mkdir_all_in_root(root, &parent)?;
    match rustix::fs::openat(
        &dir,
        name,
        OFlags::CREATE | OFlags::WRONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW,
        Mode::from_raw_mode(0o644),
    ) {
        Ok(_) | Err(Errno::EXIST) => {}
        Err(e) => return Err(e),
    }
    open_in_root(root, path)
}

fn open_dir(root: &OwnedFd, path: &Path) -> rustix::io::Result<OwnedFd> {
    open_in_root_with(root, path, OFlags::PATH | OFlags::DIRECTORY)
}

/// The `/proc/self/fd/N` path of a handle: what mount(2) takes to act on exactly that object.
pub fn fd_path(fd: &OwnedFd) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

fn relative(path: &Path) -> PathBuf {
    path.components()
        .filter(|c| matches!(c, Component::Normal(_) | Component::ParentDir))
        .collect()
}

fn split(path: &Path) -> (PathBuf, &OsStr) {
    let name = path.file_name().unwrap_or(OsStr::new("."));
    (
        path.parent().map(Path::to_path_buf).unwrap_or_default(),
        name,
    )
}
