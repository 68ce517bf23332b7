//! Unpacks a layer tarball into a directory that overlayfs can use as a lower layer.
//!
//! Containment: every path is resolved by the kernel with `openat2(RESOLVE_IN_ROOT)` against the
//! target directory, so `..`, absolute paths and symlinks (absolute or relative) that an earlier
//! entry planted all resolve inside the target, as they would inside the container. Nothing is ever
//! written outside it, whatever the archive says.
//!
//! OCI whiteouts become overlayfs's own markers: `.wh.NAME` a 0:0 character device `NAME`, and
//! `.wh..wh..opq` the `trusted.overlay.opaque` xattr on its directory.

use std::ffi::{OsStr, OsString};
use std::io::{self, Read};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use rustix::fs::{
    AtFlags, FileType, Gid, Mode, OFlags, ResolveFlags, Timespec, Timestamps, Uid, XattrFlags,
};
use rustix::io::Errno;

use crate::error::{Error, IoContext, Result};

const WHITEOUT_PREFIX: &str = ".wh.";
const OPAQUE_MARKER: &str = ".wh..wh..opq";
const OPAQUE_XATTR: &str = "trusted.overlay.opaque";

/// What an unpack produced.
#[derive(Debug, Default, Clone, Copy)]
pub struct UnpackStats {
    /// Bytes of regular-file content written.
    pub size: u64,
    pub entries: u64,
}

/// Unpacks the tar stream `reader` into `target`, an existing directory. The stream must be a
/// whole archive: a truncated or corrupt one is an error (the caller discards `target`).
pub fn unpack_layer<R: Read>(reader: R, target: &Path) -> Result<UnpackStats> {
    let root = rustix::fs::open(
        target,
        OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ctx("opening the unpack target", target)?;
    let mut unpacker = Unpacker {
        root,
        target: target.to_path_buf(),
        parent_cache: None,
        dir_times: Vec::new(),
        stats: UnpackStats::default(),
    };
    let mut archive = tar::Archive::new(TailWatch::new(reader));
    let entries = archive.entries().map_err(bad_archive)?;
    for entry in entries {
        let mut entry = entry.map_err(bad_archive)?;
        unpacker.entry(&mut entry)?;
    }
    let mut tail = archive.into_inner();
    // Whatever follows the end-of-archive blocks is padding; read it so that a digest computed
    // over the stream covers all of it, and so that a decompressor checks its trailer.
    io::copy(&mut tail, &mut io::sink()).map_err(bad_archive)?;
    // A layer may hold nothing (a commit that changed no file, Docker's empty layers): the
    // end-of-archive blocks alone. No bytes at all are not an archive.
    if unpacker.stats.entries == 0 && !tail.ended_with_zero_block() {
        return Err(Error::BadArchive("the archive is empty".into()));
    }
    if !tail.ended_with_zero_block() {
        return Err(Error::BadArchive(
            "the archive is truncated (no end-of-archive marker)".into(),
        ));
    }
    unpacker.apply_dir_times()?;
    Ok(unpacker.stats)
}

fn bad_archive(e: io::Error) -> Error {
    Error::BadArchive(printable(&e.to_string()))
}

/// An archive's own bytes can show up in error messages: keep them short and on one line.
pub(crate) fn printable(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(160)
        .collect();
    if s.chars().count() > 160 {
        out.push('…');
    }
    out
}

/// The directory of the previous entry, kept open: archives list a directory's entries together.
struct ParentCache {
    path: Vec<OsString>,
    fd: OwnedFd,
}

struct Unpacker {
    root: OwnedFd,
    target: PathBuf,
    parent_cache: Option<ParentCache>,
    /// Directory mtimes are set last: creating their children would change them again.
    dir_times: Vec<(Vec<OsString>, i64)>,
    stats: UnpackStats,
}

/// The metadata every entry carries.
struct Meta {
    mode: u32,
    uid: u32,
    gid: u32,
    mtime: i64,
    xattrs: Vec<(OsString, Vec<u8>)>,
}

impl Unpacker {
    fn entry<R: Read>(&mut self, entry: &mut tar::Entry<R>) -> Result<()> {
        let raw_path = entry.path_bytes().into_owned();
        let components = normalize(Path::new(OsStr::from_bytes(&raw_path)));
        let Some((name, parent)) = components.split_last() else {
            return Ok(()); // the root directory itself: its metadata is the target's
        };
        let xattrs = xattrs_of(entry)?;
        let header = entry.header().clone();
        let kind = header.entry_type();
        let id = |what: &str, n: u64| {
            u32::try_from(n).map_err(|_| {
                Error::BadArchive(format!(
                    "{what} {n} of {} is out of range",
                    printable(&String::from_utf8_lossy(&raw_path))
                ))
            })
        };
        let meta = Meta {
            mode: header.mode().map_err(bad_archive)? & 0o7777,
            uid: id("uid", header.uid().map_err(bad_archive)?)?,
            gid: id("gid", header.gid().map_err(bad_archive)?)?,
            // Base-256 times are two's complement, and the tar crate hands over their low 64
            // bits: a time before 1970 reads as a u64 above i64::MAX, which this gives back.
            mtime: header.mtime().map_err(bad_archive)?.cast_signed(),
            xattrs,
        };
        self.stats.entries += 1;
        let parent_fd = self.open_parent(parent)?;
        let name_str = name.as_os_str();

        if name_str == OPAQUE_MARKER {
            return rustix::fs::fsetxattr(
                self.reopen_dir(&parent_fd, parent)?,
                OPAQUE_XATTR,
                b"y",
                XattrFlags::empty(),
            )
            .ctx(
                "marking a directory opaque in",
                self.target.join(join(parent)),
            );
        }
        if let Some(hidden) = name_str.as_bytes().strip_prefix(WHITEOUT_PREFIX.as_bytes()) {
            let hidden = OsStr::from_bytes(hidden);
            self.remove_existing(&parent_fd, hidden, false)?;
            return rustix::fs::mknodat(
                &parent_fd,
                hidden,
                FileType::CharacterDevice,
                Mode::empty(),
                rustix::fs::makedev(0, 0),
            )
            .ctx("creating a whiteout", self.path_of(parent, hidden));
        }

        match kind {
            tar::EntryType::Directory => self.directory(&parent_fd, parent, name, &meta),
            tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => {
                self.regular(&parent_fd, parent, name, &meta, entry)
            }
            tar::EntryType::Symlink => {
                let target = entry
                    .link_name_bytes()
                    .ok_or_else(|| Error::BadArchive("a symlink without a target".into()))?
                    .into_owned();
                self.remove_existing(&parent_fd, name, false)?;
                rustix::fs::symlinkat(OsStr::from_bytes(&target), &parent_fd, name.as_os_str())
                    .ctx("creating a symlink", self.path_of(parent, name))?;
                self.link_meta(&parent_fd, parent, name, &meta)
            }
            tar::EntryType::Link => {
                let target = entry
                    .link_name_bytes()
                    .ok_or_else(|| Error::BadArchive("a hard link without a target".into()))?
                    .into_owned();
                self.hard_link(&parent_fd, parent, name, &target)
            }
            tar::EntryType::Char | tar::EntryType::Block | tar::EntryType::Fifo => {
                let file_type = match kind {
                    tar::EntryType::Char => FileType::CharacterDevice,
                    tar::EntryType::Block => FileType::BlockDevice,
                    _ => FileType::Fifo,
                };
                // A fifo has no device: empty number fields (older kist layers had them) are
                // read as 0.
                let fifo = file_type == FileType::Fifo;
                let number = |n: std::io::Result<Option<u32>>| match n {
                    Err(_) if fifo => Ok(0),
                    n => n.map(|n| n.unwrap_or(0)).map_err(bad_archive),
                };
                let major = number(header.device_major())?;
                let minor = number(header.device_minor())?;
                self.remove_existing(&parent_fd, name, false)?;
                rustix::fs::mknodat(
                    &parent_fd,
                    name.as_os_str(),
                    file_type,
                    Mode::from_raw_mode(meta.mode),
                    rustix::fs::makedev(major, minor),
                )
                .ctx("creating a device node", self.path_of(parent, name))?;
                self.link_meta(&parent_fd, parent, name, &meta)?;
                rustix::fs::chmodat(
                    &parent_fd,
                    name.as_os_str(),
                    Mode::from_raw_mode(meta.mode),
                    AtFlags::empty(),
                )
                .ctx("setting the mode of", self.path_of(parent, name))
            }
            // Global PAX headers, GNU long names and the like are consumed by the tar reader;
            // anything else has no meaning in a root filesystem.
            _ => Ok(()),
        }
    }

    fn directory(
        &mut self,
        parent_fd: &OwnedFd,
        parent: &[OsString],
        name: &OsString,
        meta: &Meta,
    ) -> Result<()> {
        match rustix::fs::statat(parent_fd, name.as_os_str(), AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) if FileType::from_raw_mode(st.st_mode) == FileType::Directory => {}
            Ok(_) => {
                self.remove_existing(parent_fd, name, false)?;
                self.mkdir(parent_fd, parent, name)?;
            }
            Err(Errno::NOENT) => self.mkdir(parent_fd, parent, name)?,
            Err(e) => return Err(e).ctx("inspecting", self.path_of(parent, name)),
        }
        let dir = rustix::fs::openat2(
            parent_fd,
            name.as_os_str(),
            OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW,
            Mode::empty(),
            ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS,
        )
        .ctx("opening a directory", self.path_of(parent, name))?;
        self.fd_meta(&dir, parent, name, meta)?;
        let mut path = parent.to_vec();
        path.push(name.clone());
        self.dir_times.push((path, meta.mtime));
        Ok(())
    }

    fn mkdir(&self, parent_fd: &OwnedFd, parent: &[OsString], name: &OsString) -> Result<()> {
        rustix::fs::mkdirat(parent_fd, name.as_os_str(), Mode::from_raw_mode(0o755))
            .ctx("creating a directory", self.path_of(parent, name))
    }

    fn regular<R: Read>(
        &mut self,
        parent_fd: &OwnedFd,
        parent: &[OsString],
        name: &OsString,
        meta: &Meta,
        content: &mut R,
    ) -> Result<()> {
        self.remove_existing(parent_fd, name, false)?;
        let fd = rustix::fs::openat(
            parent_fd,
            name.as_os_str(),
            OFlags::CREATE | OFlags::EXCL | OFlags::WRONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )
        .ctx("creating a file", self.path_of(parent, name))?;
        let mut file = std::fs::File::from(fd);
        let written = copy_content(content, &mut file).map_err(|e| match e {
            CopyError::Read(e) => bad_archive(e),
            CopyError::Write(e) => Error::Io {
                context: "writing",
                path: self.path_of(parent, name),
                source: e,
            },
        })?;
        self.stats.size += written;
        self.fd_meta(&OwnedFd::from(file), parent, name, meta)
    }

    fn hard_link(
        &mut self,
        parent_fd: &OwnedFd,
        parent: &[OsString],
        name: &OsString,
        target: &[u8],
    ) -> Result<()> {
        let target_components = normalize(Path::new(OsStr::from_bytes(target)));
        let Some((target_name, target_parent)) = target_components.split_last() else {
            return Err(Error::BadArchive(format!(
                "hard link {} points at the root directory",
                self.path_of(parent, name).display()
            )));
        };
        let target_parent_fd = self.resolve_dir(target_parent)?;
        self.remove_existing(parent_fd, name, false)?;
        // The link's last component is not followed, so a link to a symlink links the symlink.
        rustix::fs::linkat(
            &target_parent_fd,
            target_name.as_os_str(),
            parent_fd,
            name.as_os_str(),
            AtFlags::empty(),
        )
        .ctx("creating a hard link", self.path_of(parent, name))
    }

    /// Ownership and times of something that may be a symlink, which must not be followed.
    fn link_meta(
        &self,
        parent_fd: &OwnedFd,
        parent: &[OsString],
        name: &OsString,
        meta: &Meta,
    ) -> Result<()> {
        rustix::fs::chownat(
            parent_fd,
            name.as_os_str(),
            Some(Uid::from_raw(meta.uid)),
            Some(Gid::from_raw(meta.gid)),
            AtFlags::SYMLINK_NOFOLLOW,
        )
        .ctx("setting the owner of", self.path_of(parent, name))?;
        rustix::fs::utimensat(
            parent_fd,
            name.as_os_str(),
            &times(meta.mtime),
            AtFlags::SYMLINK_NOFOLLOW,
        )
        .ctx("setting the times of", self.path_of(parent, name))
    }

    /// Owner, mode, xattrs and (for files) times of an open file or directory.
    fn fd_meta(
        &self,
        fd: &OwnedFd,
        parent: &[OsString],
        name: &OsString,
        meta: &Meta,
    ) -> Result<()> {
        let path = || self.path_of(parent, name);
        rustix::fs::fchown(
            fd,
            Some(Uid::from_raw(meta.uid)),
            Some(Gid::from_raw(meta.gid)),
        )
        .ctx("setting the owner of", path())?;
        // After chown, which clears set-id bits.
        rustix::fs::fchmod(fd, Mode::from_raw_mode(meta.mode))
            .ctx("setting the mode of", path())?;
        for (key, value) in &meta.xattrs {
            match rustix::fs::fsetxattr(fd, key.as_os_str(), value, XattrFlags::empty()) {
                // A filesystem without xattrs of that namespace: the layer is still usable.
                Ok(()) | Err(Errno::OPNOTSUPP) => {}
                Err(e) => return Err(e).ctx("setting an extended attribute on", path()),
            }
        }
        rustix::fs::futimens(fd, &times(meta.mtime)).ctx("setting the times of", path())
    }

    /// Removes whatever is at `parent/name`, so that an entry can take its place. A directory
    /// stays when the new entry is a directory too (`keep_dir`).
    fn remove_existing(&mut self, parent_fd: &OwnedFd, name: &OsStr, keep_dir: bool) -> Result<()> {
        let st = match rustix::fs::statat(parent_fd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => st,
            Err(Errno::NOENT) => return Ok(()),
            Err(e) => return Err(e).ctx("inspecting", self.target.join(name)),
        };
        if FileType::from_raw_mode(st.st_mode) == FileType::Directory {
            if keep_dir {
                return Ok(());
            }
            // A cached parent may lie inside what goes away.
            self.parent_cache = None;
            remove_tree_at(parent_fd, name).ctx("replacing a directory", self.target.join(name))
        } else {
            rustix::fs::unlinkat(parent_fd, name, AtFlags::empty())
                .ctx("replacing", self.target.join(name))
        }
    }

    /// Opens the directory `parent` (relative to the target), creating missing directories:
    /// archives need not list every parent before its children.
    fn open_parent(&mut self, parent: &[OsString]) -> Result<OwnedFd> {
        if let Some(cache) = self.parent_cache.as_ref().filter(|c| c.path == parent) {
            return cache
                .fd
                .try_clone()
                .ctx("duplicating a directory handle", &self.target);
        }
        let fd = match self.resolve_dir(parent) {
            Ok(fd) => fd,
            Err(_) => self.create_dirs(parent)?,
        };
        self.parent_cache = Some(ParentCache {
            path: parent.to_vec(),
            fd: fd
                .try_clone()
                .ctx("duplicating a directory handle", &self.target)?,
        });
        Ok(fd)
    }

    fn create_dirs(&mut self, parent: &[OsString]) -> Result<OwnedFd> {
        let mut fd = self
            .root
            .try_clone()
            .ctx("duplicating a directory handle", &self.target)?;
        for i in 0..parent.len() {
            match self.resolve_dir(&parent[..=i]) {
                Ok(next) => fd = next,
                Err(_) => {
                    // Something that is not a directory may sit there: a file to replace.
                    self.remove_existing(&fd, parent[i].as_os_str(), true)?;
                    self.mkdir(&fd, &parent[..i], &parent[i])?;
                    fd = self.resolve_dir(&parent[..=i])?;
                }
            }
        }
        Ok(fd)
    }

    /// Opens a directory by its path in the target, resolved as if the target were `/`.
    fn resolve_dir(&self, path: &[OsString]) -> Result<OwnedFd> {
        let rel = if path.is_empty() {
            PathBuf::from(".")
        } else {
            join(path)
        };
        rustix::fs::openat2(
            &self.root,
            &rel,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
            ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
        )
        .ctx("opening a directory", self.target.join(&rel))
    }

    /// An `O_PATH` handle cannot carry xattrs; this opens the same directory for real.
    fn reopen_dir(&self, fd: &OwnedFd, parent: &[OsString]) -> Result<OwnedFd> {
        rustix::fs::openat(
            fd,
            ".",
            OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .ctx("opening a directory", self.target.join(join(parent)))
    }

    fn apply_dir_times(&mut self) -> Result<()> {
        for (path, mtime) in std::mem::take(&mut self.dir_times) {
            let fd = self.resolve_dir(&path)?;
            let rel = join(&path);
            rustix::fs::utimensat(&fd, "", &times(mtime), AtFlags::EMPTY_PATH)
                .or_else(|_| {
                    // Kernels before 5.8 do not take AT_EMPTY_PATH here; go through the path.
                    rustix::fs::utimensat(
                        &self.root,
                        &rel,
                        &times(mtime),
                        AtFlags::SYMLINK_NOFOLLOW,
                    )
                })
                .ctx("setting the times of", self.target.join(&rel))?;
        }
        Ok(())
    }

    fn path_of(&self, parent: &[OsString], name: impl AsRef<OsStr>) -> PathBuf {
        self.target.join(join(parent)).join(name.as_ref())
    }
}

/// Reduces a path from an archive to plain components: `/`, `.` and `..` are resolved lexically,
/// and `..` never climbs above the root.
fn normalize(path: &Path) -> Vec<OsString> {
    let mut out: Vec<OsString> = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(n) => out.push(n.to_os_string()),
            Component::ParentDir => {
                out.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    out
}

fn join(components: &[OsString]) -> PathBuf {
    components.iter().collect()
}

fn times(mtime: i64) -> Timestamps {
    let t = Timespec {
        tv_sec: mtime,
        tv_nsec: 0,
    };
    Timestamps {
        last_access: t,
        last_modification: t,
    }
}

fn xattrs_of<R: Read>(entry: &mut tar::Entry<R>) -> Result<Vec<(OsString, Vec<u8>)>> {
    let mut out = Vec::new();
    if let Some(exts) = entry.pax_extensions().map_err(bad_archive)? {
        for ext in exts {
            let ext = ext.map_err(bad_archive)?;
            if let Some(name) = ext.key_bytes().strip_prefix(b"SCHILY.xattr.") {
                out.push((
                    OsStr::from_bytes(name).to_os_string(),
                    ext.value_bytes().to_vec(),
                ));
            }
        }
    }
    Ok(out)
}

enum CopyError {
    Read(io::Error),
    Write(io::Error),
}

fn copy_content<R: Read, W: io::Write>(
    from: &mut R,
    to: &mut W,
) -> std::result::Result<u64, CopyError> {
    let mut buf = vec![0u8; 128 * 1024];
    let mut total = 0u64;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CopyError::Read(e)),
        };
        to.write_all(&buf[..n]).map_err(CopyError::Write)?;
        total += n as u64;
    }
}

/// Removes a directory tree below `dirfd`, never following symlinks.
pub(crate) fn remove_tree_at(dirfd: &impl AsFd, name: &OsStr) -> rustix::io::Result<()> {
    let dir = rustix::fs::openat2(
        dirfd,
        name,
        OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW,
        Mode::empty(),
        ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS,
    )?;
    let mut children = Vec::new();
    for entry in rustix::fs::Dir::read_from(&dir)? {
        let entry = entry?;
        let child = entry.file_name().to_bytes();
        if child == b"." || child == b".." {
            continue;
        }
        children.push((OsStr::from_bytes(child).to_os_string(), entry.file_type()));
    }
    for (child, ft) in children {
        if ft == FileType::Directory {
            remove_tree_at(&dir, &child)?;
        } else {
            match rustix::fs::unlinkat(&dir, child.as_os_str(), AtFlags::empty()) {
                Err(Errno::ISDIR) => remove_tree_at(&dir, &child)?,
                other => other?,
            }
        }
    }
    rustix::fs::unlinkat(dirfd, name, AtFlags::REMOVEDIR)
}

/// Passes reads through and remembers the last 512 bytes, to tell a complete archive (which ends
/// in zero blocks) from one cut off at an entry boundary.
struct TailWatch<R> {
    inner: R,
    tail: [u8; 512],
    filled: usize,
}

impl<R: Read> TailWatch<R> {
    fn new(inner: R) -> Self {
        TailWatch {
            inner,
            tail: [0xff; 512],
            filled: 0,
        }
    }

    fn ended_with_zero_block(&self) -> bool {
        self.filled >= 512 && self.tail.iter().all(|&b| b == 0)
    }
}

impl<R: Read> Read for TailWatch<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let got = &buf[..n];
        if got.len() >= 512 {
            self.tail.copy_from_slice(&got[got.len() - 512..]);
        } else {
            self.tail.copy_within(got.len().., 0);
            self.tail[512 - got.len()..].copy_from_slice(got);
        }
        self.filled = self.filled.saturating_add(n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_never_climbs_out() {
        let n = |s: &str| join(&normalize(Path::new(s)));
        assert_eq!(n("../../etc/passwd"), PathBuf::from("etc/passwd"));
        assert_eq!(n("/abs/file"), PathBuf::from("abs/file"));
        assert_eq!(n("./a/./b/../c"), PathBuf::from("a/c"));
        assert_eq!(n("./"), PathBuf::from(""));
    }

    #[test]
    fn tail_watch_sees_the_final_zero_block() {
        let mut data = vec![7u8; 1000];
        data.extend_from_slice(&[0u8; 1024]);
        let mut w = TailWatch::new(&data[..]);
        let mut small = [0u8; 100];
        while w.read(&mut small).unwrap() > 0 {}
        assert!(w.ended_with_zero_block());
        let mut w = TailWatch::new(&data[..1500]);
        io::copy(&mut w, &mut io::sink()).unwrap();
        assert!(!w.ended_with_zero_block());
    }
}
