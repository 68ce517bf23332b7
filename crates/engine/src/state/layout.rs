//! Where kist keeps things. Everything derives from one root (`--root`, `KIST_ROOT`, default
//! /var/lib/kist); state that must not survive a reboot lives in a runtime directory
//! (`--runroot`, `KIST_RUNROOT`): by default /run/kist for the default root and `<root>/run` for
//! any other, so that every root is self-contained. The runtime directory holds each running
//! container's generated /etc files, and the one directory on which every container mounts its
//! root: each does so in its own mount namespace, so they do not meet, and no container needs a
//! mount point of its own (a directory fewer to make and remove per container).

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{IoContext, Result};
use crate::state::private_file::restrict_dir;

const DEFAULT_RUN: &str = "/run/kist";

#[derive(Debug, Clone)]
pub struct Layout {
    pub root: PathBuf,
    pub run: PathBuf,
}

impl Layout {
    pub const DEFAULT_ROOT: &'static str = "/var/lib/kist";

    pub fn new(root: &Path, runroot: Option<&Path>) -> Layout {
        let run = match runroot {
            Some(r) => r.to_path_buf(),
            None if root == Path::new(Self::DEFAULT_ROOT) => PathBuf::from(DEFAULT_RUN),
            None => root.join("run"),
        };
        Layout {
            root: root.to_path_buf(),
            run,
        }
    }

    pub fn ensure(&self) -> Result<()> {
        // Nobody but root may look inside: containers' environments, logs, write layers.
        for dir in [&self.root, &self.run] {
            if !dir.is_dir() {
                fs::create_dir_all(dir).ctx("creating", dir)?;
            }
            restrict_dir(dir)?;
        }
        for dir in [
            self.containers_dir(),
            self.run.join("containers"),
            self.volumes_dir(),
            self.rootfs_mountpoint(),
        ] {
            if !dir.is_dir() {
                fs::create_dir_all(&dir).ctx("creating", dir)?;
            }
        }
        Ok(())
    }

    pub fn db_path(&self) -> PathBuf {
        self.root.join("kist.db")
    }

    pub fn containers_dir(&self) -> PathBuf {
        self.root.join("containers")
    }

    /// The container's persistent directory: its write layer (upper, work).
    pub fn container_dir(&self, id: &str) -> PathBuf {
        self.containers_dir().join(id)
    }

    /// The container's runtime directory: its generated /etc files.
    pub fn container_run_dir(&self, id: &str) -> PathBuf {
        self.run.join("containers").join(id)
    }

    /// Where every container mounts its root, each in its own mount namespace.
    pub fn rootfs_mountpoint(&self) -> PathBuf {
        self.run.join("rootfs")
    }

    pub fn volumes_dir(&self) -> PathBuf {
        self.root.join("volumes")
    }

    pub fn volume_data(&self, name: &str) -> PathBuf {
        self.volumes_dir().join(name).join("_data")
    }
}
