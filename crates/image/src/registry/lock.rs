//! One lock per blob digest (tmp/<hex>.lock), held around a layer's download and unpacking, so
//! that concurrent pulls of images sharing a layer fetch it once: the second waits, then finds
//! it in the store.

use std::fs::File;
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use rustix::fs::FlockOperation;

use super::error::Result;
use crate::digest::Digest;
use crate::error::IoContext;

pub struct BlobLock {
    path: PathBuf,
    _file: File,
}

impl BlobLock {
    /// Waits for the lock of `digest`.
    pub fn acquire(tmp_dir: &Path, digest: &Digest) -> Result<BlobLock> {
        let path = tmp_dir.join(format!("{}.lock", digest.hex()));
        loop {
            let file = File::create(&path).ctx("creating the blob lock", &path)?;
            rustix::fs::flock(file.as_fd(), FlockOperation::LockExclusive)
                .map_err(std::io::Error::from)
                .ctx("locking", &path)?;
            // The holder before us removes the file before unlocking (and a cleanup may remove
            // an unheld one): a lock on a file no longer at the path locks nothing.
            let held = file.metadata().ctx("inspecting", &path)?;
            match std::fs::metadata(&path) {
                Ok(now) if now.ino() == held.ino() && now.dev() == held.dev() => {
                    return Ok(BlobLock { path, _file: file });
                }
                _ => continue,
            }
        }
    }
}

impl Drop for BlobLock {
    fn drop(&mut self) {
        // Removed while still held, so no one locks this file after we leave it.
        let _ = std::fs::remove_file(&self.path);
    }
}
