//! `kist cp`: copying between the host and a container, contained. Every path inside the
//! container is resolved by the kernel with `openat2(RESOLVE_IN_ROOT)` against the container's
//! root, so a symlink in the container (`/data -> /`, `x -> ../../../etc`) resolves inside it
//! and never makes kist read or write the host's files. Below the named path, directories are
//! walked through descriptors and symlinks are copied as symlinks, never followed.
//!
//! The container's root: a running container's is `/proc/PID/root` (with its mounts); a
//! stopped one's is its overlay, mounted for the copy in a private mount namespace of this
//! kist process, so the host never sees it.

use std::ffi::OsStr;
use std::fs;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, OFlags};

use crate::Engine;
use crate::error::{Error, IoContext, Result};
use crate::state::container_dirs::ContainerDirs;
use crate::state::launch_config::LaunchConfig;
use crate::state::store::{ContainerRecord, ContainerState};

/// One side of a copy.
pub enum Location {
    Host(PathBuf),
    Container { reference: String, path: String },
}

impl Location {
    /// `CONTAINER:PATH` or a host path (which may hold colons only after a '/').
    pub fn parse(s: &str) -> Location {
        match s.split_once(':') {
            Some((c, p)) if !c.is_empty() && !c.contains('/') => Location::Container {
                reference: c.to_string(),
                path: p.to_string(),
            },
            _ => Location::Host(PathBuf::from(s)),
        }
    }
}

pub fn copy(engine: &Engine, from: Location, to: Location) -> Result<()> {
    match (from, to) {
        (Location::Container { reference, path }, Location::Host(dest)) => {
            let c = engine.store.find_container(&reference)?;
            let root = container_root(engine, &c)?;
            copy_out(&root, &path, &dest)
        }
        (Location::Host(src), Location::Container { reference, path }) => {
            let c = engine.store.find_container(&reference)?;
            let root = container_root(engine, &c)?;
            copy_in(&src, &root, &path)
        }
        _ => Err(Error::InvalidArgument {
            argument: "SRC_PATH DEST_PATH",
            reason: "copy between the host and a container: kist cp CONTAINER:PATH HOSTPATH, or kist cp HOSTPATH CONTAINER:PATH".into(),
        }),
    }
}

/// `kist cp CONTAINER:PATH -`: the path (a symlink as itself, a directory with all below it)
/// as a tar archive under its own name, written to `out`, as Docker streams it.
pub fn archive_out<W: Write>(engine: &Engine, from: Location, out: W) -> Result<W> {
    let (reference, path) = container_side(from, "SRC_PATH")?;
    let c = engine.store.find_container(&reference)?;
    let root = container_root(engine, &c)?;
    let name = base_name(&path)?;
    let parent = Path::new(&path)
        .parent()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|| "/".into());
    let dir = open_in(&root, &parent, OFlags::PATH | OFlags::DIRECTORY)
        .ctx("finding in the container", &path)?;
    // Fails here, naming the path, rather than with an empty archive.
    rustix::fs::statat(&dir, name, AtFlags::SYMLINK_NOFOLLOW)
        .ctx("finding in the container", &path)?;
    Ok(kist_image::write_entry(&dir, name, out)?)
}

/// `kist cp - CONTAINER:DIR`: extracts the tar archive `input` into the container's existing
/// directory DIR with the image crate's unpacker, whose every path resolves inside DIR: an
/// archive's `..`, absolute names or planted symlinks never write outside it.
pub fn extract_in<R: Read>(engine: &Engine, to: Location, input: R) -> Result<()> {
    let (reference, path) = container_side(to, "DEST_PATH")?;
    let c = engine.store.find_container(&reference)?;
    let root = container_root(engine, &c)?;
    let dir = open_in(&root, &path, OFlags::PATH | OFlags::DIRECTORY).map_err(|_| {
        Error::InvalidArgument {
            argument: "DEST_PATH",
            reason: format!(
                "extraction point {path:?} is not a directory in container {}: a tar stream goes into an existing directory",
                c.name
            ),
        }
    })?;
    let target = PathBuf::from(format!(
        "/proc/self/fd/{}",
        std::os::fd::AsRawFd::as_raw_fd(&dir)
    ));
    kist_image::unpack_layer(input, &target)?;
    Ok(())
}

/// The CONTAINER:PATH side of a copy to or from a tar stream.
fn container_side(location: Location, argument: &'static str) -> Result<(String, String)> {
    match location {
        Location::Container { reference, path } => Ok((reference, path)),
        Location::Host(_) => Err(Error::InvalidArgument {
            argument,
            reason: "'-' streams a tar archive to or from a container: kist cp CONTAINER:PATH -, or kist cp - CONTAINER:DIR".into(),
        }),
    }
}

/// A handle on the container's root directory.
fn container_root(engine: &Engine, c: &ContainerRecord) -> Result<OwnedFd> {
    let running = c.state == ContainerState::Running && c.process.is_some_and(|p| p.is_alive());
    let path = if let (true, Some(p)) = (running, c.process) {
        PathBuf::from(format!("/proc/{}/root", p.pid))
    } else {
        mount_privately(engine, c)?
    };
    rustix::fs::open(
        &path,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ctx("opening the container's root", path)
}

/// Mounts a stopped container's root in a mount namespace of this process's own.
fn mount_privately(engine: &Engine, c: &ContainerRecord) -> Result<PathBuf> {
    let dirs = ContainerDirs::of(&engine.layout, &c.id);
    let config = LaunchConfig::load(&dirs.dir)?;
    // SAFETY: unshare in this single-threaded process; from here on its mounts are its own.
    if unsafe { libc::unshare(libc::CLONE_NEWNS) } != 0 {
        return Err(std::io::Error::last_os_error())
            .ctx("entering a private mount namespace for", &dirs.dir);
    }
    nix::mount::mount(
        None::<&str>,
        "/",
        None::<&str>,
        nix::mount::MsFlags::MS_REC | nix::mount::MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(std::io::Error::from)
    .ctx("making the mount namespace private", "/")?;
    kist_runtime::mount_overlay(&config.lower, &dirs.upper, &dirs.work, &dirs.rootfs)?;
    Ok(dirs.rootfs)
}

/// Opens `path` (absolute, in the container) inside `root`.
fn open_in(root: &OwnedFd, path: &str, flags: OFlags) -> rustix::io::Result<OwnedFd> {
    kist_runtime::paths::open_in_root_with(root, Path::new(path), flags)
}

fn base_name(path: &str) -> Result<&OsStr> {
    Path::new(path)
        .file_name()
        .ok_or_else(|| Error::InvalidArgument {
            argument: "CONTAINER:PATH",
            reason: format!("{path:?} names no file: give a file or directory"),
        })
}

/// Container → host.
fn copy_out(root: &OwnedFd, src: &str, dest: &Path) -> Result<()> {
    // The source itself is followed if it is a symlink (within the container), as Docker does.
    let fd = open_in(root, src, OFlags::PATH).ctx("finding in the container", src)?;
    let target = if dest.is_dir() {
        dest.join(base_name(src)?)
    } else {
        dest.to_path_buf()
    };
    copy_fd_out(&fd, &target)
}

fn copy_fd_out(fd: &OwnedFd, target: &Path) -> Result<()> {
    let st = rustix::fs::fstat(fd).ctx("inspecting", target)?;
    match FileType::from_raw_mode(st.st_mode) {
        FileType::Directory => {
            if !target.is_dir() {
                fs::create_dir(target).ctx("creating", target)?;
            }
            let dir = rustix::fs::openat(
                fd,
                ".",
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .ctx("reading", target)?;
            for entry in rustix::fs::Dir::read_from(&dir).ctx("reading", target)? {
                let entry = entry.ctx("reading", target)?;
                let name = OsStr::from_bytes(entry.file_name().to_bytes()).to_os_string();
                if name == "." || name == ".." {
                    continue;
                }
                let child_target = target.join(&name);
                if entry.file_type() == FileType::Symlink {
                    let link = rustix::fs::readlinkat(&dir, name.as_os_str(), Vec::new())
                        .ctx("reading", &child_target)?;
                    let _ = fs::remove_file(&child_target);
                    std::os::unix::fs::symlink(OsStr::from_bytes(link.as_bytes()), &child_target)
                        .ctx("creating", &child_target)?;
                    continue;
                }
                let child = rustix::fs::openat(
                    &dir,
                    name.as_os_str(),
                    OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::empty(),
                )
                .ctx("opening", &child_target)?;
                copy_fd_out(&child, &child_target)?;
            }
            fs::set_permissions(target, fs::Permissions::from_mode(st.st_mode & 0o7777))
                .ctx("setting the mode of", target)
        }
        FileType::RegularFile => {
            let file = rustix::fs::openat(fd, "", OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
                .or_else(|_| {
                    rustix::fs::open(
                        format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(fd)),
                        OFlags::RDONLY | OFlags::CLOEXEC,
                        Mode::empty(),
                    )
                })
                .ctx("opening", target)?;
            let mut from = fs::File::from(file);
            let mut to = fs::File::create(target).ctx("creating", target)?;
            let mut buf = vec![0u8; 128 * 1024];
            loop {
                let n = from.read(&mut buf).ctx("reading for", target)?;
                if n == 0 {
                    break;
                }
                to.write_all(&buf[..n]).ctx("writing", target)?;
            }
            fs::set_permissions(target, fs::Permissions::from_mode(st.st_mode & 0o7777))
                .ctx("setting the mode of", target)
        }
        // Devices, fifos and sockets are not copied.
        _ => Ok(()),
    }
}

/// Host → container.
fn copy_in(src: &Path, root: &OwnedFd, dest: &str) -> Result<()> {
    let meta = fs::symlink_metadata(src).ctx("reading", src)?;
    let src_name = src.file_name().ok_or_else(|| Error::InvalidArgument {
        argument: "SRC_PATH",
        reason: format!("{} names no file", src.display()),
    })?;
    // Into an existing directory: under the source's name; else the destination is the name.
    let (parent, name) = match open_in(root, dest, OFlags::PATH | OFlags::DIRECTORY) {
        Ok(dir) => (dir, src_name.to_os_string()),
        Err(_) => {
            let parent = Path::new(dest)
                .parent()
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_else(|| "/".into());
            let dir = open_in(root, &parent, OFlags::PATH | OFlags::DIRECTORY)
                .ctx("finding in the container", parent)?;
            (dir, base_name(dest)?.to_os_string())
        }
    };
    copy_entry_in(src, &meta, &parent, &name)
}

fn copy_entry_in(src: &Path, meta: &fs::Metadata, dir: &OwnedFd, name: &OsStr) -> Result<()> {
    let mode = Mode::from_raw_mode(meta.mode() & 0o7777);
    let ft = meta.file_type();
    if ft.is_symlink() {
        let link = fs::read_link(src).ctx("reading", src)?;
        let _ = rustix::fs::unlinkat(dir, name, AtFlags::empty());
        return rustix::fs::symlinkat(&link, dir, name)
            .ctx("creating a symlink in the container for", src);
    }
    if ft.is_dir() {
        match rustix::fs::mkdirat(dir, name, mode) {
            Ok(()) | Err(rustix::io::Errno::EXIST) => {}
            Err(e) => return Err(e).ctx("creating a directory in the container for", src),
        }
        // Never through a symlink that sits where the directory should be.
        let sub = rustix::fs::openat(
            dir,
            name,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .ctx("entering the container's directory for", src)?;
        for entry in fs::read_dir(src).ctx("reading", src)? {
            let entry = entry.ctx("reading", src)?;
            let child_meta = fs::symlink_metadata(entry.path()).ctx("reading", entry.path())?;
            copy_entry_in(&entry.path(), &child_meta, &sub, &entry.file_name())?;
        }
        return Ok(());
    }
    if !ft.is_file() {
        return Ok(());
    }
    // An existing symlink at the name is replaced, not followed.
    if let Ok(st) = rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)
        && FileType::from_raw_mode(st.st_mode) == FileType::Symlink
    {
        let _ = rustix::fs::unlinkat(dir, name, AtFlags::empty());
    }
    let fd = rustix::fs::openat(
        dir,
        name,
        OFlags::CREATE | OFlags::WRONLY | OFlags::TRUNC | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        mode,
    )
    .ctx("creating a file in the container for", src)?;
    let mut to = fs::File::from(fd);
    let mut from = fs::File::open(src).ctx("reading", src)?;
    std::io::copy(&mut from, &mut to).ctx("copying", src)?;
    rustix::fs::fchmod(&to, mode).ctx("setting the mode of the copy of", src)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_parse_like_docker_s() {
        assert!(
            matches!(Location::parse("web:/etc/hosts"), Location::Container { reference, path } if reference == "web" && path == "/etc/hosts")
        );
        assert!(matches!(Location::parse("./a:b"), Location::Host(_)));
        assert!(matches!(Location::parse("/tmp/x"), Location::Host(_)));
        assert!(matches!(Location::parse(":x"), Location::Host(_)));
    }
}
