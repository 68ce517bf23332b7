//! What the runtime keeps of a container between its commands: `ROOT/ID/state.json`, replaced
//! whole by rename, and the container's start socket beside it while it waits for `start`.
//! The status is never stored: it is read from the process and the cgroup each time, so a
//! container whose init died is `stopped` whoever noticed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use kist_runtime::process::ProcessStamp;
use kist_runtime::{Cgroup, CgroupVersion};
use serde::{Deserialize, Serialize};

pub const START_SOCKET: &str = "start.sock";
const STATE: &str = "state.json";

#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Saved {
    pub id: String,
    pub pid: i32,
    pub pid_start_time: u64,
    pub bundle: PathBuf,
    pub rootfs: PathBuf,
    pub created: String,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// The spec's `linux.cgroupsPath`, resolved again by each command.
    pub cgroups_path: Option<String>,
    /// The spec's hooks, kept for `start` and `delete` (the bundle may be gone by then).
    #[serde(default)]
    pub hooks: Option<oci_spec::runtime::Hooks>,
    /// The container has no mount namespace of its own: its root is mounted in the runtime's,
    /// and detached from there when the container is removed.
    #[serde(default)]
    pub shares_mounts: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Creating,
    Created,
    Running,
    Paused,
    Stopped,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Creating => "creating",
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopped => "stopped",
        }
    }
}

/// A container's directory under the root.
pub struct Container {
    pub dir: PathBuf,
    pub saved: Saved,
}

/// runc's rule for ids: letters, digits, `_ + - .`, and not `.` or `..`.
pub fn check_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id != "."
        && id != ".."
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+-.".contains(c));
    if ok {
        Ok(())
    } else {
        bail!("invalid container id {id:?}: use letters, digits, _ + - and .")
    }
}

/// Makes the root (root's alone) and reserves `id` in it: fails if the id is taken.
pub fn reserve(root: &Path, id: &str) -> Result<PathBuf> {
    check_id(id)?;
    std::fs::create_dir_all(root)
        .with_context(|| format!("cannot create the root {}", root.display()))?;
    let dir = root.join(id);
    match std::fs::create_dir(&dir) {
        Ok(()) => Ok(dir),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            bail!("container with id exists: {id}")
        }
        Err(e) => Err(e).with_context(|| format!("cannot create {}", dir.display())),
    }
}

/// Writes `bytes` to `path` through a temporary file renamed over it: a reader sees the old
/// file or the new one, never half of one.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| anyhow!("no file name in {}", path.display()))?;
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(name);
    temp_name.push(".new");
    let temp = path.with_file_name(temp_name);
    std::fs::write(&temp, bytes).with_context(|| format!("cannot write {}", temp.display()))?;
    std::fs::rename(&temp, path).with_context(|| format!("cannot write {}", path.display()))
}

impl Container {
    pub fn load(root: &Path, id: &str) -> Result<Container> {
        check_id(id)?;
        let dir = root.join(id);
        let path = dir.join(STATE);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                bail!("container {id} does not exist")
            }
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let saved = serde_json::from_slice(&bytes)
            .with_context(|| format!("unreadable state {}", path.display()))?;
        Ok(Container { dir, saved })
    }

    pub fn save(dir: &Path, saved: &Saved) -> Result<()> {
        let bytes = serde_json::to_vec(saved)?;
        write_atomically(&dir.join(STATE), &bytes)
    }

    pub fn stamp(&self) -> ProcessStamp {
        ProcessStamp {
            pid: self.saved.pid,
            start_time: self.saved.pid_start_time,
        }
    }

    pub fn start_socket(&self) -> PathBuf {
        self.dir.join(START_SOCKET)
    }

    pub fn cgroup(&self) -> Result<Option<Cgroup>> {
        let version = self
            .saved
            .annotations
            .get(kist_runtime::CGROUP_VERSION_ANNOTATION)
            .map_or(Ok(CgroupVersion::Auto), |v| CgroupVersion::parse(v))?;
        self.saved
            .cgroups_path
            .as_deref()
            .map(|p| Cgroup::resolve_version(p, version))
            .transpose()
            .map_err(Into::into)
    }

    pub fn status(&self) -> Status {
        if !self.stamp().is_alive() {
            return Status::Stopped;
        }
        if self.start_socket().exists() {
            return Status::Created;
        }
        if self.cgroup().ok().flatten().is_some_and(|c| c.is_frozen()) {
            return Status::Paused;
        }
        Status::Running
    }

    /// The runtime-spec state document (with runc's extra `rootfs`, `created`, `owner`).
    pub fn state_json(&self) -> serde_json::Value {
        self.state_json_as(self.status())
    }

    /// The state document with the given status (what a hook is told).
    pub fn state_json_as(&self, status: Status) -> serde_json::Value {
        let pid = if status == Status::Stopped {
            0
        } else {
            self.saved.pid
        };
        serde_json::json!({
            "ociVersion": crate::OCI_VERSION,
            "id": self.saved.id,
            "pid": pid,
            "status": status.as_str(),
            "bundle": self.saved.bundle,
            "rootfs": self.saved.rootfs,
            "created": self.saved.created,
            "annotations": self.saved.annotations,
            "owner": "",
        })
    }

    /// Removes the container's cgroup and directory (its processes must be gone or dying),
    /// and its root's mounts when they were made in the runtime's mount namespace.
    pub fn remove(self) -> Result<()> {
        if self.saved.shares_mounts {
            detach(&self.saved.rootfs)?;
        }
        if let Some(cgroup) = self.cgroup()? {
            cgroup
                .destroy()
                .context("cannot remove the container's cgroup")?;
        }
        std::fs::remove_dir_all(&self.dir)
            .with_context(|| format!("cannot remove {}", self.dir.display()))
    }
}

/// Detaches the mount at `path` and those below it; not mounted (already gone) is no error.
pub fn detach(path: &Path) -> Result<()> {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes())
        .map_err(|_| anyhow!("a NUL in {}", path.display()))?;
    // SAFETY: a valid string; umount2 takes nothing else from this process.
    if unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) } == 0 {
        return Ok(());
    }
    let e = std::io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EINVAL | libc::ENOENT) => Ok(()),
        _ => Err(e)
            .with_context(|| format!("cannot unmount the container's root {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_runcs_rule() {
        assert!(check_id("abc-1.2_x+y").is_ok());
        for bad in ["", ".", "..", "a/b", "a b"] {
            assert!(check_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_id_is_reserved_once() {
        let root = tempfile::tempdir().unwrap();
        reserve(root.path(), "c").unwrap();
        let e = reserve(root.path(), "c").unwrap_err();
        assert_eq!(e.to_string(), "container with id exists: c");
    }
}
