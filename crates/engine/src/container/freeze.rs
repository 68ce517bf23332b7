//! Freezing a running container while kist reads its files (commit, export), so that what is
//! read is one moment of it, without ever leaving it frozen when kist is killed meanwhile.

use crate::Engine;
use crate::error::{IoContext, Result};
use crate::state::store::ContainerRecord;

/// Freezes a running container's cgroup until dropped (unless it was paused already). The
/// freeze is recorded first (run/freezes/ID: this process's pid and start time), so that if
/// kist is killed meanwhile, the next command thaws the container ([`thaw_orphans`]).
pub(crate) struct Freeze {
    cgroup: kist_runtime::Cgroup,
    record: std::path::PathBuf,
}

impl Freeze {
    /// `crash_point`: where tests may kill kist while the container is frozen.
    pub(crate) fn of(
        engine: &Engine,
        c: &ContainerRecord,
        crash_point: &str,
    ) -> Result<Option<Freeze>> {
        let Some(cgroup) = crate::container::cgroup::of(c) else {
            return Ok(None);
        };
        if cgroup.is_frozen() {
            return Ok(None);
        }
        let dir = freezes_dir(engine);
        let record = dir.join(&c.id);
        let me = kist_runtime::process::ProcessStamp::current();
        std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::write(&record, format!("{} {}", me.pid, me.start_time)))
            .ctx("recording the freeze in", &record)?;
        let freeze = Freeze { cgroup, record };
        freeze.cgroup.freeze(true)?;
        crate::state::crash::point(crash_point);
        Ok(Some(freeze))
    }
}

impl Drop for Freeze {
    fn drop(&mut self) {
        let _ = self.cgroup.freeze(false);
        let _ = std::fs::remove_file(&self.record);
    }
}

fn freezes_dir(engine: &Engine) -> std::path::PathBuf {
    engine.layout.run.join("freezes")
}

/// Thaws the containers that a killed `commit` or `export` left frozen (part of every command's
/// reconciliation: one directory read, normally empty).
pub(crate) fn thaw_orphans(engine: &Engine) {
    let Ok(entries) = std::fs::read_dir(freezes_dir(engine)) else {
        return;
    };
    for entry in entries.flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        let mut fields = text.split_whitespace().map(|f| f.parse::<u64>().ok());
        let owner = match (fields.next().flatten(), fields.next().flatten()) {
            (Some(pid), Some(start_time)) => i32::try_from(pid)
                .ok()
                .map(|pid| kist_runtime::process::ProcessStamp { pid, start_time }),
            _ => None,
        };
        if owner.is_some_and(|o| o.is_alive()) {
            continue;
        }
        let id = entry.file_name().to_string_lossy().into_owned();
        if let Ok(c) = engine.store.find_container(&id)
            && let Some(cgroup) = crate::container::cgroup::of(&c)
        {
            let _ = cgroup.freeze(false);
        }
        let _ = std::fs::remove_file(entry.path());
    }
}
