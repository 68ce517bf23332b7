//! The build cache's entries: what a build step made (the image config after it, the layers),
//! by the step's key, in `ROOT/images/build-cache/<key>.json`. They hold their layers and
//! blobs against collection as the index's images do (`reachable`), until `builder prune`
//! (or `system prune`) clears them.

use std::fs;
use std::path::PathBuf;

use serde_json::Value;

use crate::digest::Digest;
use crate::error::{IoContext, Result};
use crate::store::ImageStore;

impl ImageStore {
    fn build_cache_dir(&self) -> PathBuf {
        self.layout.join("build-cache")
    }

    /// The entry stored for `key`, if any (an unreadable one counts as none).
    pub fn cached_step(&self, key: &Digest) -> Option<Value> {
        let path = self.build_cache_dir().join(format!("{}.json", key.hex()));
        let bytes = fs::read(path).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Stores `entry` for `key`, whole or not at all. The caller holds the lock for writing
    /// since it stored the entry's layers.
    pub fn cache_step(&self, key: &Digest, entry: &Value) -> Result<()> {
        let dir = self.build_cache_dir();
        fs::create_dir_all(&dir).ctx("creating the build cache", &dir)?;
        let bytes = serde_json::to_vec(entry)
            .map_err(|e| crate::error::Error::BadArchive(e.to_string()))?;
        crate::store::write_atomically(
            self.tmp_dir(),
            &dir.join(format!("{}.json", key.hex())),
            &bytes,
        )
    }

    /// Removes every entry (their layers go at the next collection); how many there were and
    /// their bytes on disk (the entries alone).
    pub fn clear_build_cache(&self) -> Result<usize> {
        let dir = self.build_cache_dir();
        let Ok(entries) = fs::read_dir(&dir) else {
            return Ok(0);
        };
        let mut removed = 0;
        for entry in entries.flatten() {
            fs::remove_file(entry.path()).ctx("removing a build cache entry", entry.path())?;
            removed += 1;
        }
        Ok(removed)
    }

    /// Every entry, for collection.
    pub(crate) fn build_cache_entries(&self) -> Vec<Value> {
        let Ok(entries) = fs::read_dir(self.build_cache_dir()) else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter_map(|e| fs::read(e.path()).ok())
            .filter_map(|b| serde_json::from_slice(&b).ok())
            .collect()
    }
}
