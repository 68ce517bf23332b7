//! The host and the store as `kist info` and `kist version` report them: what the containers
//! run on (kernel, OS, CPUs, memory, cgroups, the filesystem under the root) and how many
//! containers and images there are. Read when asked; nothing here is kept.

use std::path::{Path, PathBuf};

use crate::Engine;
use crate::error::Result;
use crate::state::store::ContainerState;

/// What `kist info` shows, before Docker's layout is put on it.
#[derive(Debug, Clone, PartialEq)]
pub struct SystemInfo {
    pub containers: Counts,
    /// Distinct images (an image with two names counts once).
    pub images: usize,
    /// Docker's name for the filesystem ROOT is on: extfs, xfs, btrfs, tmpfs...
    pub backing_filesystem: String,
    /// "1" (a v1 or hybrid host) or "2".
    pub cgroup_version: String,
    pub kernel: String,
    /// PRETTY_NAME of /etc/os-release.
    pub operating_system: String,
    /// VERSION_ID of /etc/os-release.
    pub os_version: String,
    pub cpus: usize,
    /// Bytes.
    pub memory: u64,
    pub root_dir: PathBuf,
    pub hostname: String,
}

/// Containers by state: paused ones are running ones whose cgroup is frozen; stopped ones
/// are all that do not run (created, exited).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub total: usize,
    pub running: usize,
    pub paused: usize,
    pub stopped: usize,
}

pub fn system_info(engine: &Engine) -> Result<SystemInfo> {
    let os_release = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    let mut images: Vec<String> = engine
        .images
        .list()?
        .iter()
        .map(|i| i.id.to_string())
        .collect();
    images.sort();
    images.dedup();
    Ok(SystemInfo {
        containers: counts(engine)?,
        images: images.len(),
        backing_filesystem: backing_filesystem(&engine.layout.root),
        cgroup_version: cgroup_version(),
        kernel: kernel_release(),
        operating_system: os_release_field(&os_release, "PRETTY_NAME")
            .unwrap_or_else(|| "Linux".into()),
        os_version: os_release_field(&os_release, "VERSION_ID").unwrap_or_default(),
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        memory: crate::observe::stats::host_memory(),
        root_dir: engine.layout.root.clone(),
        hostname: proc_sys("kernel/hostname"),
    })
}

fn counts(engine: &Engine) -> Result<Counts> {
    let mut counts = Counts::default();
    for c in engine.store.containers()? {
        counts.total += 1;
        let alive = c.state == ContainerState::Running && c.process.is_some_and(|p| p.is_alive());
        if !alive {
            counts.stopped += 1;
        } else if crate::container::lifecycle::is_paused(&c) {
            counts.paused += 1;
        } else {
            counts.running += 1;
        }
    }
    Ok(counts)
}

/// The kernel's release, as `uname -r` prints it.
pub fn kernel_release() -> String {
    proc_sys("kernel/osrelease")
}

fn proc_sys(name: &str) -> String {
    std::fs::read_to_string(Path::new("/proc/sys").join(name))
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// KIST_CGROUP_VERSION when it forces one, else what this host's hierarchies give.
fn cgroup_version() -> String {
    match std::env::var("KIST_CGROUP_VERSION").as_deref() {
        Ok("1") => "1".into(),
        Ok("2") => "2".into(),
        _ => match kist_runtime::cgroup_host_version() {
            Ok(kist_runtime::CgroupVersion::V2) => "2".into(),
            Ok(_) => "1".into(),
            Err(_) => String::new(),
        },
    }
}

/// statfs's filesystem type of `path`, by Docker's names for them.
fn backing_filesystem(path: &Path) -> String {
    match rustix::fs::statfs(path) {
        // A magic number: its bits, not a quantity.
        Ok(s) => filesystem_name(s.f_type.cast_unsigned()),
        Err(_) => "unknown".into(),
    }
}

/// Docker's names for filesystem magic numbers (its `fsutils`/graphdriver table).
fn filesystem_name(magic: u64) -> String {
    match magic {
        0xEF53 => "extfs",
        0x5846_5342 => "xfs",
        0x9123_683E => "btrfs",
        0x0102_1994 => "tmpfs",
        0x794C_7630 => "overlayfs",
        0x2FC1_2FC1 => "zfs",
        0x6969 => "nfs",
        0xF2F5_2010 => "f2fs",
        0x7371_7368 => "squashfs",
        0x6573_5546 => "fuse",
        0x0102_1997 => "v9fs",
        other => return format!("<unknown: {other:#x}>"),
    }
    .into()
}

/// A `KEY=value` or `KEY="value"` line of os-release(5).
fn os_release_field(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let value = l.strip_prefix(key)?.strip_prefix('=')?;
        Some(value.trim_matches('"').trim_matches('\'').to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_values_lose_their_quotes() {
        let text = "NAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n";
        assert_eq!(
            os_release_field(text, "PRETTY_NAME").as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
        assert_eq!(os_release_field(text, "VERSION_ID").as_deref(), Some("12"));
        assert_eq!(os_release_field(text, "ID").as_deref(), Some("debian"));
        assert_eq!(os_release_field(text, "VERSION"), None);
    }

    #[test]
    fn filesystems_have_docker_s_names() {
        assert_eq!(filesystem_name(0xEF53), "extfs");
        assert_eq!(filesystem_name(0x5846_5342), "xfs");
        assert_eq!(filesystem_name(0x1234), "<unknown: 0x1234>");
    }
}
