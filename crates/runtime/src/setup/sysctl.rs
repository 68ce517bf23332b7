//! The spec's `linux.sysctl`, written to the container's own `/proc/sys` before it is made
//! read-only. Which keys a container may set (those its namespaces own) is the caller's rule;
//! here a key is only kept from leaving `/proc/sys`.

use std::collections::HashMap;
use std::io::Write;
use std::os::fd::OwnedFd;
use std::path::{Component, Path, PathBuf};

use rustix::fs::OFlags;

use crate::error::{Error, Result, SysContext};
use crate::paths::open_in_root_with;

/// `net.ipv4.ip_forward` → `/proc/sys/net/ipv4/ip_forward` (a key already written with `/`
/// is taken as a path, so an interface name may hold a dot).
pub(crate) fn key_path(key: &str) -> Result<PathBuf> {
    let rel = if key.contains('/') {
        key.to_string()
    } else {
        key.replace('.', "/")
    };
    let rel = Path::new(&rel);
    if key.is_empty() || !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(Error::Spec(format!("invalid sysctl name {key:?}")));
    }
    Ok(Path::new("/proc/sys").join(rel))
}

pub(crate) fn apply(root: &OwnedFd, sysctl: Option<&HashMap<String, String>>) -> Result<()> {
    let mut keys: Vec<_> = sysctl.into_iter().flatten().collect();
    keys.sort();
    for (key, value) in keys {
        let path = key_path(key)?;
        let fd = open_in_root_with(root, &path, OFlags::WRONLY | OFlags::NOFOLLOW)
            .sys(|| format!("opening sysctl {key}"))?;
        std::fs::File::from(fd)
            .write_all(value.as_bytes())
            .sys(|| format!("setting sysctl {key}={value}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_stay_in_proc_sys() {
        assert_eq!(
            key_path("net.ipv4.ip_forward").unwrap(),
            Path::new("/proc/sys/net/ipv4/ip_forward")
        );
        assert_eq!(
            key_path("net/ipv4/conf/eth0.1/forwarding").unwrap(),
            Path::new("/proc/sys/net/ipv4/conf/eth0.1/forwarding")
        );
        assert!(key_path("../../etc/passwd").is_err());
        assert!(key_path("net/../../x").is_err());
        assert!(key_path("").is_err());
    }
}
