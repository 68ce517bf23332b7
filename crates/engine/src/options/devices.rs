//! `--device` and `--privileged`'s devices: host device nodes resolved to what the spec needs
//! (the node to create, its devices cgroup rule).

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use oci_spec::runtime::{LinuxDevice, LinuxDeviceCgroup, LinuxDeviceType};
use serde::{Deserialize, Serialize};

use crate::error::{Error, IoContext, Result};

/// `--device HOST[:CONTAINER][:PERMISSIONS]`, resolved to the host's device node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceMapping {
    pub path_on_host: PathBuf,
    pub path_in_container: PathBuf,
    pub cgroup_permissions: String,
    pub kind: char,
    pub major: i64,
    pub minor: i64,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

/// The devices cgroup's rules: deny all, then Docker's defaults and the user's devices
/// (everything with `privileged`).
pub(super) fn rules(privileged: bool, devices: &[DeviceMapping]) -> Vec<LinuxDeviceCgroup> {
    let rule = |allow: bool, typ: Option<LinuxDeviceType>, major, minor, access: &str| {
        let mut r = LinuxDeviceCgroup::default();
        r.set_allow(allow);
        r.set_typ(typ);
        r.set_major(major);
        r.set_minor(minor);
        r.set_access(Some(access.to_string()));
        r
    };
    if privileged {
        return vec![rule(true, Some(LinuxDeviceType::A), None, None, "rwm")];
    }
    let mut rules = kist_runtime::docker_default_devices();
    for d in devices {
        let typ = if d.kind == 'b' {
            LinuxDeviceType::B
        } else {
            LinuxDeviceType::C
        };
        rules.push(rule(
            true,
            Some(typ),
            Some(d.major),
            Some(d.minor),
            &d.cgroup_permissions,
        ));
    }
    rules
}

/// The device nodes the container gets besides the default ones.
pub(super) fn nodes(privileged: bool, devices: &[DeviceMapping]) -> Result<Vec<LinuxDevice>> {
    let mut out: Vec<LinuxDevice> = devices.iter().map(to_linux_device).collect();
    if privileged {
        out.extend(host_devices()?.iter().map(to_linux_device));
    }
    Ok(out)
}

/// `--device /dev/sda[:/dev/xvda][:rwm]`; a directory gives every device below it.
pub(super) fn parse(value: &str) -> Result<Vec<DeviceMapping>> {
    let bad = |why: String| Error::invalid_value("--device", value, why);
    let parts: Vec<&str> = value.split(':').collect();
    let is_permissions = |s: &str| !s.is_empty() && s.chars().all(|c| "rwm".contains(c));
    let (host, container, permissions) = match parts.as_slice() {
        [h] => (*h, *h, "rwm"),
        [h, p] if is_permissions(p) => (*h, *h, *p),
        [h, c] => (*h, *c, "rwm"),
        [h, c, p] => (*h, *c, *p),
        _ => return Err(bad("use HOST[:CONTAINER][:PERMISSIONS]".into())),
    };
    if !is_permissions(permissions) {
        return Err(bad(format!(
            "permissions {permissions:?} must be made of r, w and m"
        )));
    }
    if !container.starts_with('/') {
        return Err(bad("the container path must be absolute".into()));
    }
    let meta = std::fs::metadata(host).map_err(|e| bad(format!("{host}: {e}")))?;
    if meta.is_dir() {
        let mut out = Vec::new();
        for (path, m) in devices_below(Path::new(host))? {
            let rel = path.strip_prefix(host).unwrap_or(&path);
            out.push(mapping(
                &path,
                &Path::new(container).join(rel),
                permissions,
                &m,
            ));
        }
        return Ok(out);
    }
    if !meta.file_type().is_char_device() && !meta.file_type().is_block_device() {
        return Err(bad(format!("{host} is not a device")));
    }
    Ok(vec![mapping(
        Path::new(host),
        Path::new(container),
        permissions,
        &meta,
    )])
}

fn mapping(
    host: &Path,
    container: &Path,
    permissions: &str,
    m: &std::fs::Metadata,
) -> DeviceMapping {
    let rdev = m.rdev();
    DeviceMapping {
        path_on_host: host.to_path_buf(),
        path_in_container: container.to_path_buf(),
        cgroup_permissions: permissions.to_string(),
        kind: if m.file_type().is_block_device() {
            'b'
        } else {
            'c'
        },
        major: i64::from(libc::major(rdev)),
        minor: i64::from(libc::minor(rdev)),
        mode: m.mode() & 0o777,
        uid: m.uid(),
        gid: m.gid(),
    }
}

/// Device nodes below `dir`, recursively.
fn devices_below(dir: &Path) -> Result<Vec<(PathBuf, std::fs::Metadata)>> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir).ctx("listing", dir)?;
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(m) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        let t = m.file_type();
        if t.is_dir() {
            out.extend(devices_below(&path)?);
        } else if t.is_char_device() || t.is_block_device() {
            out.push((path, m));
        }
    }
    Ok(out)
}

/// `--privileged`: the host's devices, but for the container's own terminal devices and
/// the directories that are filesystems of its own (pts, shm, mqueue).
fn host_devices() -> Result<Vec<DeviceMapping>> {
    let skip_dirs = ["/dev/pts", "/dev/shm", "/dev/mqueue", "/dev/fd"];
    let skip = [
        "/dev/console",
        "/dev/ptmx",
        "/dev/tty",
        "/dev/null",
        "/dev/zero",
        "/dev/full",
        "/dev/random",
        "/dev/urandom",
    ];
    let mut out = Vec::new();
    let entries = std::fs::read_dir("/dev").ctx("listing", "/dev")?;
    for entry in entries.flatten() {
        let path = entry.path();
        if skip_dirs.iter().any(|d| path == Path::new(d))
            || skip.iter().any(|d| path == Path::new(d))
        {
            continue;
        }
        let Ok(m) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        let found = if m.is_dir() {
            devices_below(&path)?
        } else if m.file_type().is_char_device() || m.file_type().is_block_device() {
            vec![(path.clone(), m)]
        } else {
            Vec::new()
        };
        for (p, m) in found {
            out.push(mapping(&p, &p, "rwm", &m));
        }
    }
    Ok(out)
}

fn to_linux_device(d: &DeviceMapping) -> LinuxDevice {
    let mut dev = LinuxDevice::default();
    dev.set_path(d.path_in_container.clone());
    dev.set_typ(if d.kind == 'b' {
        LinuxDeviceType::B
    } else {
        LinuxDeviceType::C
    });
    dev.set_major(d.major);
    dev.set_minor(d.minor);
    dev.set_file_mode(Some(d.mode));
    dev.set_uid(Some(d.uid));
    dev.set_gid(Some(d.gid));
    dev
}
