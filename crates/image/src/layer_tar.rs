//! Writes a directory tree as a layer tarball: what `commit` makes of a container's overlayfs
//! write layer, and what `export` makes of its whole (merged) filesystem.
//!
//! In an overlayfs upper directory a deleted file is a 0:0 character device and a directory
//! whose lower contents are hidden carries `trusted.overlay.opaque=y`; in a layer tarball they
//! are the OCI whiteouts `.wh.NAME` and `.wh..wh..opq`, which [`crate::unpack_layer`] turns back.
//!
//! The walk goes by directory descriptors, never following a symlink (`O_NOFOLLOW`, `*at`
//! calls): a container's files cannot point the walk outside the tree.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::io::{self, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, Stat};

use crate::error::{Error, IoContext, Result};

const OPAQUE_XATTR: &str = "trusted.overlay.opaque";

/// What the tree is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TreeKind {
    /// An overlayfs upper directory: its whiteouts and opaque markers become OCI ones.
    OverlayUpper,
    /// A plain filesystem tree, written as it is.
    Plain,
}

/// Writes the tree at `root` into `out` as a tar archive and returns `out`.
pub fn write_tree<W: Write>(root: &Path, kind: TreeKind, out: W) -> Result<W> {
    let dir = rustix::fs::open(
        root,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ctx("opening the tree to archive", root)?;
    let mut writer = TreeWriter {
        builder: tar::Builder::new(out),
        kind,
        root: root.to_path_buf(),
        links: HashMap::new(),
    };
    writer.builder.follow_symlinks(false);
    writer.directory(&dir, Path::new(""))?;
    writer.builder.into_inner().map_err(|e| write_err(root, e))
}

/// Writes the entry `name` of the open directory `parent` (a symlink as a symlink, a directory
/// with everything below it) into `out` as a tar archive under its own name, as `docker cp
/// CONTAINER:PATH -` streams it; returns `out`.
pub fn write_entry<W: Write>(parent: &OwnedFd, name: &OsStr, out: W) -> Result<W> {
    let mut writer = TreeWriter {
        builder: tar::Builder::new(out),
        kind: TreeKind::Plain,
        root: PathBuf::new(),
        links: HashMap::new(),
    };
    writer.builder.follow_symlinks(false);
    writer.entry(parent, Path::new(""), name)?;
    writer
        .builder
        .into_inner()
        .map_err(|e| write_err(Path::new(name), e))
}

struct TreeWriter<W: Write> {
    builder: tar::Builder<W>,
    kind: TreeKind,
    root: PathBuf,
    /// Files with more than one link, by (device, inode): the first path written.
    links: HashMap<(u64, u64), PathBuf>,
}

fn write_err(path: &Path, e: io::Error) -> Error {
    Error::Io {
        context: "writing the archive entry for",
        path: path.to_path_buf(),
        source: e,
    }
}

impl<W: Write> TreeWriter<W> {
    fn full(&self, rel: &Path) -> PathBuf {
        self.root.join(rel)
    }

    /// Writes the entries of the open directory `dir` (at `rel` in the archive), sorted by
    /// name so that the same tree gives the same archive.
    fn directory(&mut self, dir: &OwnedFd, rel: &Path) -> Result<()> {
        let mut names: Vec<OsString> = Vec::new();
        let entries = rustix::fs::Dir::read_from(dir).ctx("listing", self.full(rel))?;
        for entry in entries {
            let entry = entry.ctx("listing", self.full(rel))?;
            let name = OsStr::from_bytes(entry.file_name().to_bytes());
            if name != "." && name != ".." {
                names.push(name.to_os_string());
            }
        }
        names.sort();
        for name in names {
            self.entry(dir, rel, &name)?;
        }
        Ok(())
    }

    fn entry(&mut self, dir: &OwnedFd, parent: &Path, name: &OsStr) -> Result<()> {
        let rel = parent.join(name);
        let st = rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)
            .ctx("reading the metadata of", self.full(&rel))?;
        let file_type = FileType::from_raw_mode(st.st_mode);
        let upper = self.kind == TreeKind::OverlayUpper;
        match file_type {
            FileType::CharacterDevice if upper && st.st_rdev == 0 => {
                let mut whiteout = OsString::from(".wh.");
                whiteout.push(name);
                let mut h = header(&st, tar::EntryType::Regular);
                h.set_mode(0o644);
                h.set_size(0);
                self.append(&mut h, &parent.join(whiteout), io::empty())
            }
            FileType::Directory => {
                let sub = rustix::fs::openat(
                    dir,
                    name,
                    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::empty(),
                )
                .ctx("opening the directory", self.full(&rel))?;
                let mut h = header(&st, tar::EntryType::Directory);
                h.set_size(0);
                self.append(&mut h, &rel, io::empty())?;
                if upper && is_opaque(&sub) {
                    let mut marker = header(&st, tar::EntryType::Regular);
                    marker.set_mode(0o644);
                    marker.set_size(0);
                    self.append(&mut marker, &rel.join(".wh..wh..opq"), io::empty())?;
                }
                self.directory(&sub, &rel)
            }
            FileType::RegularFile => self.regular(dir, name, &rel, &st),
            FileType::Symlink => {
                let target = rustix::fs::readlinkat(dir, name, Vec::new())
                    .ctx("reading the symlink", self.full(&rel))?;
                let target = PathBuf::from(OsStr::from_bytes(target.to_bytes()));
                let mut h = header(&st, tar::EntryType::Symlink);
                h.set_size(0);
                self.builder
                    .append_link(&mut h, &rel, &target)
                    .map_err(|e| write_err(&self.full(&rel), e))
            }
            FileType::CharacterDevice | FileType::BlockDevice | FileType::Fifo => {
                let kind = match file_type {
                    FileType::CharacterDevice => tar::EntryType::Char,
                    FileType::BlockDevice => tar::EntryType::Block,
                    _ => tar::EntryType::Fifo,
                };
                let mut h = header(&st, kind);
                h.set_size(0);
                // A fifo's numbers are 0, written all the same: left empty, the fields are
                // not numbers to a reader (the tar crate's own refused kist's fifos).
                let (major, minor) = match kind {
                    tar::EntryType::Fifo => (0, 0),
                    _ => (rustix::fs::major(st.st_rdev), rustix::fs::minor(st.st_rdev)),
                };
                h.set_device_major(major)
                    .and_then(|()| h.set_device_minor(minor))
                    .map_err(|e| write_err(&self.full(&rel), e))?;
                self.append(&mut h, &rel, io::empty())
            }
            // Sockets belong to a running process, not to an image.
            _ => Ok(()),
        }
    }

    fn regular(&mut self, dir: &OwnedFd, name: &OsStr, rel: &Path, st: &Stat) -> Result<()> {
        if st.st_nlink > 1 {
            let key = (st.st_dev, st.st_ino);
            if let Some(first) = self.links.get(&key).cloned() {
                let mut h = header(st, tar::EntryType::Link);
                h.set_size(0);
                return self
                    .builder
                    .append_link(&mut h, rel, &first)
                    .map_err(|e| write_err(&self.full(rel), e));
            }
            self.links.insert(key, rel.to_path_buf());
        }
        let file = rustix::fs::openat(
            dir,
            name,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .ctx("opening", self.full(rel))?;
        let size = u64::try_from(st.st_size)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "negative size"))
            .ctx("reading the size of", self.full(rel))?;
        let mut h = header(st, tar::EntryType::Regular);
        h.set_size(size);
        // A file that changes size while it is read would break the archive: read exactly the
        // size the header gives (the container is paused while its layer is read).
        let content = io::Read::take(std::fs::File::from(file), size);
        self.append(&mut h, rel, content)
    }

    fn append(&mut self, h: &mut tar::Header, rel: &Path, data: impl io::Read) -> Result<()> {
        self.builder
            .append_data(h, rel, data)
            .map_err(|e| write_err(&self.full(rel), e))
    }
}

/// A header with the file's mode, owner and modification time.
fn header(st: &Stat, kind: tar::EntryType) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(st.st_mode & 0o7777);
    h.set_uid(u64::from(st.st_uid));
    h.set_gid(u64::from(st.st_gid));
    // Times before 1970 are written as 1970.
    h.set_mtime(u64::try_from(st.st_mtime).unwrap_or(0));
    h
}

/// Whether an upper directory hides the lower ones' contents (overlayfs's opaque xattr).
fn is_opaque(dir: &impl AsFd) -> bool {
    let mut value = [0u8; 4];
    matches!(
        rustix::fs::fgetxattr(dir, OPAQUE_XATTR, &mut value),
        Ok(1) if value[0] == b'y'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(archive: &[u8]) -> Vec<(String, tar::EntryType)> {
        let mut a = tar::Archive::new(archive);
        a.entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.path().unwrap().display().to_string(),
                    e.header().entry_type(),
                )
            })
            .collect()
    }

    #[test]
    fn a_plain_tree_round_trips_with_links_and_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir(root.join("etc")).unwrap();
        std::fs::write(root.join("etc/a"), "hello").unwrap();
        std::fs::hard_link(root.join("etc/a"), root.join("etc/b")).unwrap();
        std::os::unix::fs::symlink("/etc/a", root.join("abs")).unwrap();
        let archive = write_tree(root, TreeKind::Plain, Vec::new()).unwrap();
        assert_eq!(
            names(&archive),
            vec![
                ("abs".into(), tar::EntryType::Symlink),
                ("etc".into(), tar::EntryType::Directory),
                ("etc/a".into(), tar::EntryType::Regular),
                ("etc/b".into(), tar::EntryType::Link),
            ]
        );
        let out = tempfile::tempdir().unwrap();
        crate::unpack_layer(&archive[..], out.path()).unwrap();
        assert_eq!(
            std::fs::read_to_string(out.path().join("etc/b")).unwrap(),
            "hello"
        );
        assert_eq!(
            std::fs::read_link(out.path().join("abs")).unwrap(),
            Path::new("/etc/a")
        );
    }

    #[test]
    #[ignore = "needs root"]
    fn overlay_whiteouts_become_oci_whiteouts() {
        assert!(
            rustix::process::geteuid().is_root(),
            "this test makes device nodes and trusted xattrs: run it as root"
        );
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir(root.join("d")).unwrap();
        rustix::fs::mknodat(
            rustix::fs::CWD,
            root.join("gone"),
            FileType::CharacterDevice,
            Mode::empty(),
            0,
        )
        .unwrap();
        rustix::fs::setxattr(
            root.join("d"),
            OPAQUE_XATTR,
            b"y",
            rustix::fs::XattrFlags::empty(),
        )
        .unwrap();
        let archive = write_tree(root, TreeKind::OverlayUpper, Vec::new()).unwrap();
        assert_eq!(
            names(&archive),
            vec![
                ("d".into(), tar::EntryType::Directory),
                ("d/.wh..wh..opq".into(), tar::EntryType::Regular),
                (".wh.gone".into(), tar::EntryType::Regular),
            ]
        );
    }
}
