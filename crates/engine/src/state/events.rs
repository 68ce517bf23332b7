//! The event log: what `kist events` shows, without a daemon to broadcast it. Every command
//! and supervisor that changes something appends one JSON line, as Docker's events API carries
//! it (`Type`, `Action`, `Actor {ID, Attributes}`, `time`, `timeNano`), to `ROOT/events.log`;
//! `kist events` reads the file and follows it.
//!
//! An append is one `open(O_APPEND)` and one `write` of the whole line, so concurrent writers'
//! lines never interleave (a regular file's appends are atomic with respect to each other),
//! and it never waits on a lock: `run` pays about as much as a `stat`. The file is root's
//! alone (0600): events name containers and their labels.
//!
//! Bounded: once the file passes [`MAX_BYTES`] (4 MiB, some 15,000 events), the writer that
//! notices renames it to `events.log.1`, replacing the previous one, so the log never holds
//! more than about 8 MiB. The rename is taken under an `flock` on the full file and only if
//! the path still names it, so two writers cannot both rotate (one would move away the fresh
//! file). A reader that follows notices the rename by the inode and goes on in the new file.
//! Writing is best effort: an event that cannot be written never fails the command.

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::state::store::ContainerRecord;

/// The size past which the log is rotated.
pub const MAX_BYTES: u64 = 4 << 20;

const FILE: &str = "events.log";
const ROTATED: &str = "events.log.1";

/// One event, as Docker's events API has it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    #[serde(rename = "Type")]
    pub typ: String,
    #[serde(rename = "Action")]
    pub action: String,
    #[serde(rename = "Actor")]
    pub actor: Actor,
    /// Nanoseconds since the Unix epoch.
    #[serde(rename = "timeNano")]
    pub time_nano: i64,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Actor {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "Attributes", default)]
    pub attributes: BTreeMap<String, String>,
}

impl Event {
    pub fn new(typ: &str, action: &str, id: &str) -> Event {
        let time_nano = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
        Event {
            typ: typ.into(),
            action: action.into(),
            actor: Actor {
                id: id.into(),
                attributes: BTreeMap::new(),
            },
            time_nano,
        }
    }

    pub fn with(mut self, key: &str, value: impl Into<String>) -> Event {
        self.actor.attributes.insert(key.into(), value.into());
        self
    }

    /// The line Docker's API sends: with the old `status`, `id` and `from` of container and
    /// image events, `scope` and `time` in seconds.
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "Type": self.typ,
            "Action": self.action,
            "Actor": {"ID": self.actor.id, "Attributes": self.actor.attributes},
            "scope": "local",
            "time": self.time_nano.div_euclid(1_000_000_000),
            "timeNano": self.time_nano,
        });
        if self.typ == "container" || self.typ == "image" {
            v["status"] = json!(self.action);
            v["id"] = json!(self.actor.id);
            if let Some(image) = self.actor.attributes.get("image") {
                v["from"] = json!(image);
            }
        }
        v
    }
}

/// The log's path under `root`.
pub fn log_path(root: &Path) -> PathBuf {
    root.join(FILE)
}

/// The rotated log's path under `root`.
pub fn rotated_path(root: &Path) -> PathBuf {
    root.join(ROTATED)
}

/// Appends `event` to the log under `root`. Best effort: a failure is ignored.
pub fn append(root: &Path, event: &Event) {
    let _ = try_append(root, event);
}

fn try_append(root: &Path, event: &Event) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(&event.to_json()).map_err(std::io::Error::other)?;
    line.push(b'\n');
    let path = log_path(root);
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_CLOEXEC)
        .open(&path)?;
    // One write: appends of one call are not interleaved with other writers'.
    file.write_all(&line)?;
    let meta = file.metadata()?;
    if meta.len() > MAX_BYTES {
        rotate(root, &file, &meta);
    }
    Ok(())
}

/// Renames the full log to `events.log.1`, if this writer is the one to do it.
fn rotate(root: &Path, file: &std::fs::File, meta: &std::fs::Metadata) {
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a descriptor this function borrows; released when it is closed.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        return; // another writer is rotating it
    }
    let path = log_path(root);
    let still_it = std::fs::metadata(&path)
        .is_ok_and(|now| now.ino() == meta.ino() && now.dev() == meta.dev());
    if still_it {
        let _ = std::fs::rename(&path, rotated_path(root));
    }
}

/// A container event with Docker's attributes: the image, the name and the labels, and
/// `extra` (exitCode, signal...).
pub fn container_event(c: &ContainerRecord, action: &str, extra: &[(&str, String)]) -> Event {
    #[derive(Deserialize, Default)]
    struct Labels {
        #[serde(rename = "Labels", default)]
        labels: BTreeMap<String, String>,
    }
    // The whole recorded config is parsed only when it has labels: four events of every
    // `run --rm` would otherwise parse it four times (0.2 ms).
    let labels: Labels = match c.config.contains("\"Labels\":{\"") {
        true => serde_json::from_str(&c.config).unwrap_or_default(),
        false => Labels::default(),
    };
    let mut event = Event::new("container", action, &c.id);
    event.actor.attributes = labels.labels;
    event = event
        .with("image", c.image.as_str())
        .with("name", c.name.as_str());
    for (k, v) in extra {
        event = event.with(k, v.as_str());
    }
    event
}

/// Appends a container event (see [`container_event`]).
pub fn container(root: &Path, c: &ContainerRecord, action: &str, extra: &[(&str, String)]) {
    append(root, &container_event(c, action, extra));
}

/// Appends an image event: `id` is the image's id or, for a pull, its reference; `name` the
/// name it concerns.
pub fn image(root: &Path, action: &str, id: &str, name: &str) {
    append(root, &Event::new("image", action, id).with("name", name));
}

/// Appends a volume event.
pub(crate) fn volume(root: &Path, action: &str, name: &str) {
    append(
        root,
        &Event::new("volume", action, name).with("driver", "local"),
    );
}

/// Parses a line of the log; `None` for one that is not an event (a torn tail).
pub fn parse_line(line: &str) -> Option<Event> {
    serde_json::from_str(line).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_one_line_of_docker_s_shape_read_back_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let e = Event::new("container", "die", "abc")
            .with("exitCode", "3")
            .with("image", "busybox");
        append(dir.path(), &e);
        append(dir.path(), &Event::new("volume", "create", "v"));
        let text = std::fs::read_to_string(log_path(dir.path())).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(parse_line(lines[0]), Some(e.clone()));
        let v: Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(v["status"], "die");
        assert_eq!(v["from"], "busybox");
        assert_eq!(v["time"], e.time_nano / 1_000_000_000);
        let mode = std::fs::metadata(log_path(dir.path())).unwrap().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn a_full_log_is_rotated_once() {
        let dir = tempfile::tempdir().unwrap();
        let big = Event::new("container", "create", "x").with("pad", "p".repeat(100_000));
        let writes = usize::try_from(MAX_BYTES / 100_000).unwrap() + 2;
        for _ in 0..writes {
            append(dir.path(), &big);
        }
        let current = std::fs::metadata(log_path(dir.path())).unwrap().len();
        let rotated = std::fs::metadata(rotated_path(dir.path())).unwrap().len();
        assert!(rotated > MAX_BYTES, "rotated past the bound: {rotated}");
        assert!(current < MAX_BYTES, "a fresh log: {current}");
    }
}
