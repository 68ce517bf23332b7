//! A container's directories: the write layer (upper, work) under the root, and the runtime
//! directory holding its root's mount point and generated /etc files.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use crate::error::{IoContext, Result};
use crate::state::layout::Layout;

pub struct ContainerDirs {
    /// The container's persistent directory: write layer, launch configuration, log.
    pub dir: PathBuf,
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
            dir,
            rootfs: layout.rootfs_mountpoint(),
            run,
        }
    }

    pub fn create(&self) -> Result<()> {
        for d in [&self.upper, &self.work, &self.run] {
            fs::create_dir_all(d).ctx("creating the container directory", d)?;
        }
        Ok(())
    }

    pub fn write_file(&self, name: &str, content: &str) -> Result<PathBuf> {
        let path = self.run.join(name);
        fs::write(&path, content).ctx("writing", &path)?;
        Ok(path)
    }

    /// Replaces a generated file's content in place (the same file stays bound into the
    /// container), written over and cut to length: emptying a file first makes ext4 write it
    /// out at close (auto_da_alloc), a block-device round on the way to the program.
    pub fn rewrite_file(&self, name: &str, content: &str) -> Result<()> {
        use std::io::Write;
        let path = self.run.join(name);
        let mut file = fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .ctx("opening", &path)?;
        file.write_all(content.as_bytes()).ctx("writing", &path)?;
        file.set_len(content.len() as u64).ctx("writing", &path)?;
        Ok(())
    }
}

/// The mount points every container needs, as a shared read-only layer placed above the
/// image's layers: empty /etc/hostname, /etc/hosts and /etc/resolv.conf files and /proc, /sys,
/// /dev directories. Mounting onto them then never writes to the container's own write layer
/// (which would copy /etc up into every container, and cost a removal each time). Made once per
/// root, atomically.
pub fn mountpoints_layer(layout: &Layout) -> Result<PathBuf> {
    let dir = layout.root.join("mountpoints");
    if dir.is_dir() {
        return Ok(dir);
    }
    let tmp = layout
        .root
        .join(crate::state::private_file::temp_name("mountpoints.tmp-"));
    // Left by a killed kist that had this pid.
    let _ = fs::remove_dir_all(&tmp);
    let build = || -> std::io::Result<()> {
        for (d, mode) in [
            ("etc", 0o755),
            ("proc", 0o555),
            ("sys", 0o555),
            ("dev", 0o755),
        ] {
            fs::create_dir_all(tmp.join(d))?;
            fs::set_permissions(tmp.join(d), fs::Permissions::from_mode(mode))?;
        }
        for f in ["etc/hostname", "etc/hosts", "etc/resolv.conf"] {
            fs::write(tmp.join(f), "")?;
        }
        Ok(())
    };
    if let Err(e) = build() {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e).ctx("creating the mount points layer", &tmp);
    }
    match fs::rename(&tmp, &dir) {
        Ok(()) => Ok(dir),
        // Made by a concurrent command meanwhile.
        Err(_) if dir.is_dir() => {
            let _ = fs::remove_dir_all(&tmp);
            Ok(dir)
        }
        Err(e) => Err(e).ctx("creating the mount points layer", dir),
    }
}

/// Removes everything a container has on disk. Its mounts need no undoing: they lived only in
/// its own mount namespace, which ended with its last process.
pub fn remove_container_dirs(layout: &Layout, id: &str) -> Result<()> {
    for dir in [layout.container_dir(id), layout.container_run_dir(id)] {
        remove_tree(&dir)?;
    }
    Ok(())
}

/// Removes a directory tree, again if a file appeared in it meanwhile: the supervisor of a
/// container removed by force may still write its last health check result (a new file
/// renamed into place) until it notices the exit. Once the directory is gone it cannot.
fn remove_tree(dir: &std::path::Path) -> Result<()> {
    let mut attempts = 0;
    loop {
        match fs::remove_dir_all(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::DirectoryNotEmpty && attempts < 20 => {
                attempts += 1;
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            Err(e) => return Err(e).ctx("removing", dir),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The parallel stages of a build are threads of one process, and each makes the layer
    /// when the root has none: none may remove or move away the others' half-made one.
    #[test]
    fn threads_make_the_mount_points_layer_at_once() {
        for _ in 0..50 {
            let root = tempfile::tempdir().unwrap();
            let layout = Layout::new(root.path(), Some(&root.path().join("run")));
            std::thread::scope(|s| {
                let made: Vec<_> = (0..4)
                    .map(|_| s.spawn(|| mountpoints_layer(&layout)))
                    .collect();
                for m in made {
                    let dir = m.join().unwrap().unwrap();
                    assert!(dir.join("etc/resolv.conf").is_file());
                }
            });
            // No temporary is left behind.
            let names: Vec<_> = fs::read_dir(root.path())
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            assert_eq!(names, ["mountpoints"]);
        }
    }

    /// The hosts file bound into a container is rewritten with its address: the same file
    /// (inode) afterwards, holding exactly the new content, shorter or longer.
    #[test]
    fn a_rewritten_file_is_the_same_file_with_only_the_new_content() {
        use std::os::unix::fs::MetadataExt;
        let root = tempfile::tempdir().unwrap();
        let layout = Layout::new(root.path(), Some(&root.path().join("run")));
        let dirs = ContainerDirs::of(&layout, "c1");
        dirs.create().unwrap();
        let path = dirs.write_file("hosts", "127.0.0.1\tlocalhost\n").unwrap();
        let inode = fs::metadata(&path).unwrap().ino();
        for content in ["127.0.0.1\tlocalhost\n172.17.0.2\tbox\n", "x\n"] {
            dirs.rewrite_file("hosts", content).unwrap();
            assert_eq!(fs::read_to_string(&path).unwrap(), content);
            assert_eq!(fs::metadata(&path).unwrap().ino(), inode);
        }
    }
}
