//! Temporary files and directories inside the store, for work that becomes visible only by a
//! final rename. Each holds an `flock` while its owner lives, so a later command can tell an
//! abandoned one (its owner was killed) from one still being written, and remove it.

use std::fs::{self, File};
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use rustix::fs::FlockOperation;

use crate::error::{IoContext, Result};

const LOCK_FILE: &str = ".lock";

/// A directory under the store's temporary area, removed on drop unless kept.
pub struct TempDir {
    path: PathBuf,
    _lock: File,
    keep: bool,
}

impl TempDir {
    pub fn new(tmp_root: &Path, purpose: &str) -> Result<TempDir> {
        loop {
            let path = tmp_root.join(format!("{purpose}-{}", random_hex()));
            fs::create_dir(&path).ctx("creating a temporary directory", &path)?;
            // Another command's clean-up may take the directory between its making and its
            // lock (it looked abandoned): then start again under a new name.
            if let Some(lock) = lock_file(&path.join(LOCK_FILE))? {
                return Ok(TempDir {
                    path,
                    _lock: lock,
                    keep: false,
                });
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The directory has been renamed away: nothing to remove.
    pub fn disarm(mut self) {
        self.keep = true;
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if !self.keep {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// Creates `path` and locks it; None when the file was removed before the lock held (a
/// clean-up took it for abandoned), since a lock on a file no longer there protects nothing.
fn lock_file(path: &Path) -> Result<Option<File>> {
    let f = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .ctx("creating a lock file", path)?;
    rustix::fs::flock(f.as_fd(), FlockOperation::LockExclusive).ctx("locking", path)?;
    let held = f.metadata().ctx("inspecting", path)?;
    match fs::symlink_metadata(path) {
        Ok(now) if now.ino() == held.ino() && now.dev() == held.dev() => Ok(Some(f)),
        _ => Ok(None),
    }
}

/// A temporary file under the store's temporary area, removed on drop unless persisted.
pub struct TempFile {
    path: PathBuf,
    file: Option<File>,
}

impl TempFile {
    pub fn new(tmp_root: &Path, purpose: &str) -> Result<TempFile> {
        loop {
            let path = tmp_root.join(format!("{purpose}-{}", random_hex()));
            File::options()
                .write(true)
                .create_new(true)
                .open(&path)
                .ctx("creating a temporary file", &path)?;
            // As for TempDir: a clean-up may remove it before it is locked.
            if let Some(file) = lock_file(&path)? {
                return Ok(TempFile {
                    path,
                    file: Some(file),
                });
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn file(&mut self) -> &mut File {
        self.file
            .as_mut()
            .expect("a TempFile holds its file until persisted")
    }

    /// Flushes the file to disk and renames it to `dest`.
    pub fn persist(mut self, dest: &Path) -> Result<()> {
        let file = self.file.take().expect("a TempFile is persisted once");
        file.sync_all().ctx("syncing", &self.path)?;
        fs::rename(&self.path, dest).ctx("moving a blob into place at", dest)?;
        self.path = PathBuf::new();
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Removes what killed commands left in the temporary area: entries whose lock nobody holds.
pub fn remove_abandoned(tmp_root: &Path) {
    let Ok(entries) = fs::read_dir(tmp_root) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let lock_path = if path.is_dir() {
            path.join(LOCK_FILE)
        } else {
            path.clone()
        };
        // The lock taken by `is_abandoned` is held until the entry is gone: released before,
        // a command that had just made the entry could lock it, find it still in place and
        // fill it, then lose it to the removal ("moving a blob into place: No such file").
        let lock = File::open(&lock_path).ok();
        let abandoned = match &lock {
            Some(f) => is_abandoned(f, &lock_path),
            // No lock file: killed before it was made, or being made right now.
            None => older_than_a_minute(&path),
        };
        if abandoned {
            if path.is_dir() {
                let _ = fs::remove_dir_all(&path);
            } else {
                let _ = fs::remove_file(&path);
            }
        }
        drop(lock);
    }
}

/// Whether the lock file open as `f` is no one's: it can be locked, and it is still the file
/// at `path` (another clean-up may have removed the one opened here, and its owner made a new
/// one there, which is not abandoned: removing the path would remove that).
fn is_abandoned(f: &File, path: &Path) -> bool {
    rustix::fs::flock(f.as_fd(), FlockOperation::NonBlockingLockExclusive).is_ok()
        && still_at(f, path)
}

/// Whether `path` still names the file open as `f`.
fn still_at(f: &File, path: &Path) -> bool {
    match (f.metadata(), fs::symlink_metadata(path)) {
        (Ok(held), Ok(now)) => held.ino() == now.ino() && held.dev() == now.dev(),
        _ => false,
    }
}

fn older_than_a_minute(path: &Path) -> bool {
    fs::symlink_metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age.as_secs() > 60)
}

/// 128 random bits in hex, from the kernel.
pub fn random_hex() -> String {
    let mut buf = [0u8; 16];
    let mut filled = 0;
    while filled < buf.len() {
        match rustix::rand::getrandom(&mut buf[filled..], rustix::rand::GetRandomFlags::empty()) {
            Ok(n) => filled += n,
            Err(rustix::io::Errno::INTR) => {}
            Err(_) => break, // never on Linux >= 3.17; the name is still unique enough with the pid
        }
    }
    format!("{}{:x}", hex::encode(buf), std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two clean-ups race for one unlocked file: the first removes it and its owner makes
    /// a new one at the same path; the second, which opened the old one, must not remove the
    /// owner's new file (found as a rare "moving a blob into place: No such file" when eight
    /// commands opened a new store at once).
    #[test]
    fn a_clean_up_holding_a_removed_file_leaves_its_successor_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("write-1");
        fs::write(&path, b"").unwrap();
        let stale = File::open(&path).unwrap();
        fs::remove_file(&path).unwrap();
        let owners = lock_file(&path).unwrap().expect("the owner's new file");
        assert!(!is_abandoned(&stale, &path));
        drop(owners);
        let fresh = File::open(&path).unwrap();
        assert!(
            is_abandoned(&fresh, &path),
            "an unlocked file at its path is"
        );
    }
}
