//! Removing images, and what no image needs any more.
//!
//! An image is an entry of index.json; blobs and unpacked layers live as long as an entry
//! reaches them. Containers hold their image's layers by keeping its entry (the engine never
//! removes the entry of an image a container uses: a forced `rmi` only takes its names), so
//! collecting is reachability from the index alone.
//!
//! Writers (import, commit, pull, load) store blobs and layers before the entry that reaches
//! them, and `run` resolves an image before its container is recorded: they hold the store's
//! lock shared meanwhile. Removal holds it exclusively from its check of which containers use
//! an image to the end of collection, so it never sees their work half-done.

use std::collections::HashSet;
use std::fs::{self, File};
use std::os::fd::AsFd;

use rustix::fs::FlockOperation;

use crate::digest::Digest;
use crate::error::{IoContext, Result};
use crate::reference::Reference;
use crate::store::ImageStore;

/// Held while a writer adds to the store (shared) or while garbage is collected (exclusive).
pub struct StoreLock(#[allow(dead_code)] File);

/// What a collection freed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Collected {
    pub blobs: usize,
    pub layers: usize,
    /// Bytes of blobs and of unpacked file content.
    pub bytes: u64,
}

impl ImageStore {
    fn lock(&self, operation: FlockOperation) -> Result<StoreLock> {
        let path = self.layout.join("store.lock");
        // Not File::create: truncating, even an empty file, dirties its inode on every run.
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .ctx("creating the store lock", &path)?;
        rustix::fs::flock(file.as_fd(), operation).ctx("locking the image store", &path)?;
        Ok(StoreLock(file))
    }

    /// Taken by anything that adds blobs or layers, until their image is in the index, and by
    /// `run` from resolving its image until its container is recorded.
    pub fn lock_for_writing(&self) -> Result<StoreLock> {
        self.lock(FlockOperation::LockShared)
    }

    /// Taken by removal: no writer or run is half-way while it is held.
    pub fn lock_for_removal(&self) -> Result<StoreLock> {
        self.lock(FlockOperation::LockExclusive)
    }

    /// Removes the name `reference`; whether it existed.
    pub fn untag(&self, reference: &Reference) -> Result<bool> {
        let name = reference.to_string();
        let mut found = false;
        self.update_index(|index| {
            for d in index.manifests.iter_mut() {
                if d.annotations.get(crate::store::REF_NAME) == Some(&name) {
                    d.annotations.remove(crate::store::REF_NAME);
                    found = true;
                }
            }
            crate::store::dedup_nameless(&mut index.manifests);
        })?;
        Ok(found)
    }

    /// Removes every entry (named or not) of the image whose id is `id`.
    pub fn remove_image(&self, id: &Digest) -> Result<()> {
        let summaries = self.list()?;
        let manifests: HashSet<String> = summaries
            .iter()
            .filter(|s| s.id == *id)
            .map(|s| s.manifest_digest.to_string())
            .collect();
        self.update_index(|index| index.manifests.retain(|d| !manifests.contains(&d.digest)))
    }

    /// Removes the blobs and layers that no image of the index reaches.
    pub fn collect_garbage(&self) -> Result<Collected> {
        let lock = self.lock_for_removal()?;
        self.collect_garbage_locked(&lock)
    }

    /// [`Self::collect_garbage`] for a caller that holds [`Self::lock_for_removal`] already.
    pub fn collect_garbage_locked(&self, _held: &StoreLock) -> Result<Collected> {
        let (blobs, layers) = self.reachable()?;
        let mut collected = Collected::default();
        let blob_dir = self.blob_dir();
        for entry in fs::read_dir(&blob_dir).ctx("listing", &blob_dir)?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !blobs.contains(&name) {
                collected.bytes += entry.metadata().map(|m| m.len()).unwrap_or(0);
                fs::remove_file(entry.path()).ctx("removing the blob", entry.path())?;
                collected.blobs += 1;
            }
        }
        for entry in fs::read_dir(self.layers_root())
            .ctx("listing", self.layers_root())?
            .flatten()
        {
            let name = entry.file_name().to_string_lossy().into_owned();
            if layers.contains(&name) {
                continue;
            }
            collected.bytes += self.layer_size(&Digest::parse(&format!("sha256:{name}"))?);
            // Renamed away first, so that a half-removed layer is never taken for a whole one.
            let doomed = self
                .tmp_dir()
                .join(format!("removing-{name}-{}", crate::temp::random_hex()));
            fs::rename(entry.path(), &doomed).ctx("moving away the layer", entry.path())?;
            fs::remove_dir_all(&doomed).ctx("removing the layer", &doomed)?;
            collected.layers += 1;
        }
        Ok(collected)
    }
}
