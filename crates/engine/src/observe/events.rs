//! Reading the event log (`state/events.rs` writes it) for `kist events`: the past from the
//! rotated file and the current one, then, when following, each line as it is appended. The
//! log is polled (every 100 ms): no daemon wakes readers, and a poll of an unchanged file is
//! one `read` returning nothing. A rotation is seen as the path naming another file; the old
//! one is read to its end before the new one is taken up from its start.

use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{IoContext, Result};
pub use crate::state::events::{Actor, Event, MAX_BYTES, container, image};
use crate::state::events::{log_path, parse_line, rotated_path};

/// Which events to read: from `since` (nanoseconds since the epoch; `None`: only those to
/// come), until `until` (`None`: for ever, following).
#[derive(Debug, Clone, Copy, Default)]
pub struct Window {
    pub since: Option<i64>,
    pub until: Option<i64>,
}

/// Now, in nanoseconds since the epoch.
pub fn now_nanos() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// Calls `each` with every event of the window, with its line as written, in order; follows
/// the log while `until` is in the future (or not given). Returns when the window is over or
/// `each` returns false.
pub fn read(root: &Path, window: Window, mut each: impl FnMut(&str, &Event) -> bool) -> Result<()> {
    let path = log_path(root);
    let mut current = open(&path)?;
    let mut keep_going = |line: &str| -> bool {
        let Some(event) = parse_line(line) else {
            return true;
        };
        if window.since.is_some_and(|s| event.time_nano < s) {
            return true;
        }
        if window.until.is_some_and(|u| event.time_nano > u) {
            return true;
        }
        each(line, &event)
    };
    if window.since.is_some() {
        if let Ok(mut old) = std::fs::File::open(rotated_path(root)) {
            let mut text = String::new();
            let _ = old.read_to_string(&mut text);
            for line in text.lines() {
                if !keep_going(line) {
                    return Ok(());
                }
            }
        }
    } else if let Some((file, _)) = &mut current {
        // Only what comes from now on.
        file.seek(SeekFrom::End(0)).ctx("reading", &path)?;
    }
    let mut partial = Vec::new();
    loop {
        if let Some((file, _)) = &mut current {
            let mut chunk = Vec::new();
            file.read_to_end(&mut chunk).ctx("reading", &path)?;
            partial.extend_from_slice(&chunk);
            while let Some(end) = partial.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = partial.drain(..=end).collect();
                if !keep_going(String::from_utf8_lossy(&line).trim_end()) {
                    return Ok(());
                }
            }
        }
        if window.until.is_some_and(|u| now_nanos() > u) {
            return Ok(());
        }
        // Rotated (or created) since it was opened: the rest of the old file was just read.
        let ino = std::fs::metadata(&path).ok().map(|m| m.ino());
        if ino.is_some() && ino != current.as_ref().map(|(_, i)| *i) {
            current = open(&path)?;
            partial.clear();
            continue;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The log and its inode, or `None` while no event was ever written.
fn open(path: &Path) -> Result<Option<(std::fs::File, u64)>> {
    match std::fs::File::open(path) {
        Ok(f) => {
            let ino = f.metadata().ctx("reading", path)?.ino();
            Ok(Some((f, ino)))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).ctx("reading", path),
    }
}
