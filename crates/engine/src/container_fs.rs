//! A container's directories: the write layer (upper, work) under the root, and the runtime
//! directory holding its root's mount point and generated /etc files.

use std::fs;
use std::path::PathBuf;

use crate::error::{IoContext, Result};
use crate::layout::Layout;

pub struct ContainerDirs {
    pub upper: PathBuf,
    pub work: PathBuf,
    pub rootfs: PathBuf,
    pub run: PathBuf,
}

impl ContainerDirs {
    pub fn of(layout: &Layout, id: &str) -> ContainerDirs {
        let dir = layout.container_dir(id);
        let run = layout.container_run_dir(id);
        ContainerDirs {
            upper: dir.join("upper"),
            work: dir.join("work"),
            rootfs: run.join("rootfs"),
            run,
        }
    }

    pub fn create(&self) -> Result<()> {
        for d in [&self.upper, &self.work, &self.rootfs] {
            fs::create_dir_all(d).ctx("creating the container directory", d)?;
        }
        Ok(())
    }

    pub fn write_file(&self, name: &str, content: &str) -> Result<PathBuf> {
        let path = self.run.join(name);
        fs::write(&path, content).ctx("writing", &path)?;
        Ok(path)
    }
}

/// Removes everything a container has on disk. Its mounts need no undoing: they lived only in
/// its own mount namespace, which ended with its last process.
pub fn remove_container_dirs(layout: &Layout, id: &str) -> Result<()> {
    for dir in [layout.container_dir(id), layout.container_run_dir(id)] {
        match fs::remove_dir_all(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).ctx("removing", dir),
        }
    }
    Ok(())
}
