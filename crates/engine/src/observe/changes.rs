//! Looking into containers: `diff` (what its write layer changed), `top` (its processes),
//! and the sizes `system df` reports.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use crate::Engine;
use crate::error::{Error, Result};
use crate::state::launch_config::LaunchConfig;
use crate::state::store::ContainerRecord;

/// One change of `kist diff`: 'A' added, 'C' changed, 'D' deleted, and the path.
pub type Change = (char, String);

/// The changes of a container's write layer against its image, sorted by path.
pub fn diff(engine: &Engine, c: &ContainerRecord) -> Result<Vec<Change>> {
    let dir = engine.layout.container_dir(&c.id);
    let lower = LaunchConfig::load(&dir)
        .map(|l| l.lower)
        .unwrap_or_default();
    let mut out = Vec::new();
    walk_upper(&dir.join("upper"), Path::new(""), &lower, false, &mut out)?;
    out.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(out)
}

fn walk_upper(
    upper: &Path,
    rel: &Path,
    lower: &[PathBuf],
    hidden_below: bool,
    out: &mut Vec<Change>,
) -> Result<()> {
    let here = upper.join(rel);
    let entries = std::fs::read_dir(&here).map_err(|e| Error::Io {
        context: "reading the write layer",
        path: here.clone(),
        source: e,
    })?;
    for entry in entries.flatten() {
        let path = rel.join(entry.file_name());
        let shown = format!("/{}", path.display());
        let Ok(meta) = entry.path().symlink_metadata() else {
            continue;
        };
        if meta.file_type().is_char_device() && meta.rdev() == 0 {
            out.push(('D', shown));
            continue;
        }
        let in_lower = !hidden_below
            && lower
                .iter()
                .any(|l| l.join(&path).symlink_metadata().is_ok());
        out.push((if in_lower { 'C' } else { 'A' }, shown));
        if meta.is_dir() {
            // An opaque directory hides everything below it in the image.
            let opaque =
                rustix::fs::getxattr(entry.path(), "trusted.overlay.opaque", &mut [0u8; 4])
                    .is_ok_and(|n| n == 1);
            walk_upper(upper, &path, lower, hidden_below || opaque, out)?;
        }
    }
    Ok(())
}

/// The processes of a running container, as rows of UID, PID, PPID, CMD (host PIDs, as
/// Docker shows them).
pub fn top(c: &ContainerRecord) -> Result<Vec<[String; 4]>> {
    let pid = crate::container::lifecycle::running_process(c)?.pid;
    let ns = std::fs::read_link(format!("/proc/{pid}/ns/pid")).map_err(|e| Error::Io {
        context: "reading the PID namespace of",
        path: format!("/proc/{pid}").into(),
        source: e,
    })?;
    let mut rows = Vec::new();
    for entry in std::fs::read_dir("/proc")
        .map_err(|e| Error::Io {
            context: "listing",
            path: "/proc".into(),
            source: e,
        })?
        .flatten()
    {
        let Some(p) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        if std::fs::read_link(format!("/proc/{p}/ns/pid"))
            .ok()
            .as_ref()
            != Some(&ns)
        {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
            continue;
        };
        let after = &stat[stat.rfind(')').map_or(0, |i| i + 1)..];
        let ppid = after.split_whitespace().nth(1).unwrap_or("0").to_string();
        let uid = std::fs::read_to_string(format!("/proc/{p}/status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("Uid:"))
                    .and_then(|l| l.split_whitespace().nth(1).map(String::from))
            })
            .unwrap_or_default();
        let cmd = std::fs::read(format!("/proc/{p}/cmdline"))
            .map(|c| {
                String::from_utf8_lossy(&c)
                    .split('\0')
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default();
        rows.push([uid, p.to_string(), ppid, cmd]);
    }
    rows.sort_by_key(|r| r[1].parse::<i32>().unwrap_or(0));
    Ok(rows)
}

/// Bytes of file content below `path` (not following symlinks), as `du --apparent-size`.
pub fn tree_size(path: &Path) -> u64 {
    let Ok(meta) = path.symlink_metadata() else {
        return 0;
    };
    if !meta.is_dir() {
        return if meta.is_file() { meta.len() } else { 0 };
    }
    std::fs::read_dir(path)
        .map(|rd| rd.flatten().map(|e| tree_size(&e.path())).sum())
        .unwrap_or(0)
}
