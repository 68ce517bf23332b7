//! `kist diff`: what a container's write layer changed against its image, read from the
//! overlayfs upper directory (whiteouts are deletions, an opaque directory hides the image's).

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use crate::Engine;
use crate::error::{IoContext, Result};
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
    let entries = std::fs::read_dir(&here).ctx("reading the write layer", &here)?;
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
