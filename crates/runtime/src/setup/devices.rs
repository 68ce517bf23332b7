//! The device nodes and links every container's /dev has (OCI runtime spec, "Default Devices"),
//! plus the spec's own `linux.devices`, made in the tmpfs mounted at /dev. In a user namespace,
//! where mknod(2) is refused, each is the host's node bound instead (as runc does).

use std::os::fd::OwnedFd;
use std::path::Path;

use oci_spec::runtime::{LinuxDeviceType, Spec};
use rustix::fs::{FileType, Gid, Mode, Uid};
use rustix::io::Errno;

use crate::error::{Error, Result, SysContext};
use crate::paths::{create_file_in_root, fd_path, mkdir_all_in_root, open_in_root};

/// (name, major, minor)
const DEFAULT_DEVICES: [(&str, u32, u32); 6] = [
    ("null", 1, 3),
    ("zero", 1, 5),
    ("full", 1, 7),
    ("random", 1, 8),
    ("urandom", 1, 9),
    ("tty", 5, 0),
];

const DEFAULT_LINKS: [(&str, &str); 6] = [
    ("fd", "/proc/self/fd"),
    ("stdin", "/proc/self/fd/0"),
    ("stdout", "/proc/self/fd/1"),
    ("stderr", "/proc/self/fd/2"),
    ("core", "/proc/kcore"),
    ("ptmx", "pts/ptmx"),
];

/// Whether the spec mounts a fresh filesystem at /dev that kist must populate.
pub fn spec_mounts_dev(spec: &Spec) -> bool {
    spec.mounts()
        .as_deref()
        .unwrap_or_default()
        .iter()
        .any(|m| m.destination() == Path::new("/dev") && m.typ().as_deref() == Some("tmpfs"))
}

pub fn populate_dev(spec: &Spec, root: &OwnedFd) -> Result<()> {
    let dev = mkdir_all_in_root(root, Path::new("/dev")).sys(|| "opening /dev".into())?;
    let bind = crate::namespaces::uses_user_namespace(spec);
    for (name, major, minor) in DEFAULT_DEVICES {
        if bind {
            let path = Path::new("/dev").join(name);
            bind_host_node(root, &path, &path)?;
            continue;
        }
        make_node(
            &dev,
            name,
            FileType::CharacterDevice,
            0o666,
            major,
            minor,
            0,
            0,
        )?;
    }
    let devices = spec
        .linux()
        .as_ref()
        .and_then(|l| l.devices().clone())
        .unwrap_or_default();
    for d in devices {
        let rel = d.path().strip_prefix("/dev").unwrap_or(d.path());
        let file_type = match d.typ() {
            LinuxDeviceType::B => FileType::BlockDevice,
            LinuxDeviceType::P => FileType::Fifo,
            _ => FileType::CharacterDevice,
        };
        let parent = rel.parent().unwrap_or(Path::new(""));
        let dir = mkdir_all_in_root(root, &Path::new("/dev").join(parent))
            .sys(|| format!("creating the directory of {}", d.path().display()))?;
        if bind {
            bind_host_node(root, &Path::new("/dev").join(rel), d.path())?;
            continue;
        }
        let name = rel
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let number = |which: &str, n: i64| {
            u32::try_from(n).map_err(|_| {
                Error::Spec(format!(
                    "device {}: {which} number {n} is out of range",
                    d.path().display()
                ))
            })
        };
        make_node(
            &dir,
            &name,
            file_type,
            d.file_mode().unwrap_or(0o666),
            number("major", d.major())?,
            number("minor", d.minor())?,
            d.uid().unwrap_or(0),
            d.gid().unwrap_or(0),
        )?;
    }
    for (name, target) in DEFAULT_LINKS {
        match rustix::fs::symlinkat(target, &dev, name) {
            Ok(()) | Err(Errno::EXIST) => {}
            Err(e) => return Err(e).sys(|| format!("linking /dev/{name}")),
        }
    }
    // /dev/ptmx is a link only when the container has its own devpts at /dev/pts.
    if open_in_root(root, Path::new("/dev/pts/ptmx")).is_err() {
        let _ = rustix::fs::unlinkat(&dev, "ptmx", rustix::fs::AtFlags::empty());
    }
    Ok(())
}

/// The host's device node `host` bound at `dest` in the root (its mode and owner the host's).
fn bind_host_node(root: &OwnedFd, dest: &Path, host: &Path) -> Result<()> {
    let target = create_file_in_root(root, dest)
        .sys(|| format!("creating {} to bind the host's node onto", dest.display()))?;
    crate::sys::mount::mount(Some(host), &fd_path(&target), None, libc::MS_BIND, None).sys(|| {
        format!(
            "binding the host's {} at {}",
            host.display(),
            dest.display()
        )
    })
}

#[allow(clippy::too_many_arguments)]
fn make_node(
    dir: &OwnedFd,
    name: &str,
    ft: FileType,
    mode: u32,
    major: u32,
    minor: u32,
    uid: u32,
    gid: u32,
) -> Result<()> {
    match rustix::fs::mknodat(
        dir,
        name,
        ft,
        Mode::from_raw_mode(mode),
        rustix::fs::makedev(major, minor),
    ) {
        Ok(()) | Err(Errno::EXIST) => {}
        Err(e) => return Err(e).sys(|| format!("creating /dev/{name}")),
    }
    rustix::fs::chownat(
        dir,
        name,
        Some(Uid::from_raw(uid)),
        Some(Gid::from_raw(gid)),
        rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
    )
    .sys(|| format!("setting the owner of /dev/{name}"))
}
