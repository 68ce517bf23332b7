//! Layer unpacking: containment against hostile archives, whiteouts, metadata, bad archives.

use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;

use kist_image::unpack_layer;

/// One raw tar entry; names and link targets are written as given, unchecked.
struct Entry<'a> {
    name: &'a str,
    kind: tar::EntryType,
    content: &'a [u8],
    link: &'a str,
    mode: u32,
    uid: u64,
    device: (u32, u32),
    pax: Vec<(&'a str, &'a [u8])>,
}

fn entry<'a>(name: &'a str, kind: tar::EntryType) -> Entry<'a> {
    Entry {
        name,
        kind,
        content: b"",
        link: "",
        mode: 0o644,
        uid: 0,
        device: (0, 0),
        pax: Vec::new(),
    }
}

fn file<'a>(name: &'a str, content: &'a [u8]) -> Entry<'a> {
    Entry {
        content,
        ..entry(name, tar::EntryType::Regular)
    }
}

fn link<'a>(name: &'a str, kind: tar::EntryType, target: &'a str) -> Entry<'a> {
    Entry {
        link: target,
        mode: 0o777,
        ..entry(name, kind)
    }
}

fn header(name: &[u8], kind: tar::EntryType, size: u64) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.as_old_mut().name[..name.len()].copy_from_slice(name);
    h.set_entry_type(kind);
    h.set_size(size);
    h
}

fn archive(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        if !e.pax.is_empty() {
            let mut body = Vec::new();
            for (k, v) in &e.pax {
                let rec_len = |n: usize| format!("{n} {k}=").len() + v.len() + 1;
                let mut n = rec_len(0);
                while rec_len(n) != n {
                    n = rec_len(n);
                }
                body.extend_from_slice(format!("{n} {k}=").as_bytes());
                body.extend_from_slice(v);
                body.push(b'\n');
            }
            let mut h = header(b"pax", tar::EntryType::XHeader, body.len() as u64);
            h.set_cksum();
            out.extend_from_slice(h.as_bytes());
            out.extend_from_slice(&body);
            out.resize(out.len().div_ceil(512) * 512, 0);
        }
        let mut h = header(e.name.as_bytes(), e.kind, e.content.len() as u64);
        h.set_mode(e.mode);
        h.set_uid(e.uid);
        h.set_gid(e.uid);
        h.set_mtime(1_000_000_000);
        if !e.link.is_empty() {
            h.as_old_mut().linkname[..e.link.len()].copy_from_slice(e.link.as_bytes());
        }
        if e.device != (0, 0) {
            h.set_device_major(e.device.0).unwrap();
            h.set_device_minor(e.device.1).unwrap();
        }
        h.set_cksum();
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(e.content);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.extend_from_slice(&[0u8; 1024]);
    out
}

fn unpack(
    entries: &[Entry],
) -> (
    tempfile::TempDir,
    Result<kist_image::UnpackStats, kist_image::Error>,
) {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("layer");
    std::fs::create_dir(&target).unwrap();
    let result = unpack_layer(&archive(entries)[..], &target);
    (dir, result)
}

#[test]
fn dot_dot_and_absolute_paths_stay_inside() {
    let (dir, r) = unpack(&[
        file("../escape-dotdot", b"x"),
        file("/abs/escape", b"y"),
        file("a/../../../b", b"z"),
    ]);
    r.unwrap();
    let layer = dir.path().join("layer");
    assert!(layer.join("escape-dotdot").is_file());
    assert!(layer.join("abs/escape").is_file());
    assert!(layer.join("b").is_file());
    assert!(!dir.path().join("escape-dotdot").exists());
}

#[test]
fn symlinks_that_point_outside_are_resolved_inside() {
    let marker = format!("kist-pwned-{}", std::process::id());
    let through_abs = format!("abs/tmp/{marker}");
    let through_rel = format!("rel/{marker}");
    let (dir, r) = unpack(&[
        link("abs", tar::EntryType::Symlink, "/"),
        entry("tmp", tar::EntryType::Directory),
        file(&through_abs, b"x"),
        link("rel", tar::EntryType::Symlink, "../../../../../../tmp"),
        file(&through_rel, b"y"),
    ]);
    r.unwrap();
    let layer = dir.path().join("layer");
    assert!(
        !Path::new("/tmp").join(&marker).exists(),
        "wrote to the host's /tmp"
    );
    assert_eq!(
        std::fs::read(layer.join("tmp").join(&marker)).unwrap(),
        b"y"
    );
    // The symlinks themselves are kept as written, for the container to resolve.
    assert_eq!(
        std::fs::read_link(layer.join("abs")).unwrap(),
        Path::new("/")
    );
}

#[test]
fn hard_links_cannot_reach_outside() {
    let (dir, r) = unpack(&[link(
        "passwd",
        tar::EntryType::Link,
        "../../../../etc/passwd",
    )]);
    let layer = dir.path().join("layer");
    // The target resolves inside the layer, where there is no etc/passwd: refused.
    assert!(r.is_err());
    assert!(!layer.join("passwd").exists());
    let host = std::fs::metadata("/etc/passwd").unwrap();
    assert_eq!(host.nlink(), 1, "the host's /etc/passwd gained a link");
}

#[test]
fn whiteouts_become_overlayfs_markers() {
    let (dir, r) = unpack(&[
        entry("etc", tar::EntryType::Directory),
        file("etc/.wh.passwd", b""),
        entry("var", tar::EntryType::Directory),
        file("var/.wh..wh..opq", b""),
    ]);
    r.unwrap();
    let layer = dir.path().join("layer");
    let wh = std::fs::symlink_metadata(layer.join("etc/passwd")).unwrap();
    assert!(wh.file_type().is_char_device() && wh.rdev() == 0);
    assert!(!layer.join("etc/.wh.passwd").exists());
    let opaque = xattr(&layer.join("var"), "trusted.overlay.opaque");
    assert_eq!(opaque.as_deref(), Some(&b"y"[..]));
}

#[test]
fn metadata_links_and_devices_are_kept() {
    let mut suid = file("bin/tool", b"#!/bin/sh\n");
    suid.mode = 0o4755;
    suid.uid = 1234;
    suid.pax = vec![("SCHILY.xattr.user.kist", b"yes")];
    let mut null = entry("dev/null", tar::EntryType::Char);
    null.device = (1, 3);
    null.mode = 0o666;
    let (dir, r) = unpack(&[
        suid,
        link("bin/tool2", tar::EntryType::Link, "bin/tool"),
        link("bin/sh", tar::EntryType::Symlink, "tool"),
        null,
    ]);
    let stats = r.unwrap();
    assert_eq!(stats.size, 10);
    let layer = dir.path().join("layer");
    let m = std::fs::metadata(layer.join("bin/tool")).unwrap();
    assert_eq!(m.permissions().mode() & 0o7777, 0o4755);
    assert_eq!((m.uid(), m.gid()), (1234, 1234));
    assert_eq!(m.mtime(), 1_000_000_000);
    assert_eq!(
        m.ino(),
        std::fs::metadata(layer.join("bin/tool2")).unwrap().ino()
    );
    assert_eq!(
        std::fs::read_link(layer.join("bin/sh")).unwrap(),
        Path::new("tool")
    );
    assert_eq!(
        xattr(&layer.join("bin/tool"), "user.kist").as_deref(),
        Some(&b"yes"[..])
    );
    let dev = std::fs::symlink_metadata(layer.join("dev/null")).unwrap();
    assert!(dev.file_type().is_char_device());
    assert_eq!(dev.rdev(), libc_makedev(1, 3));
}

#[test]
fn an_owner_beyond_32_bits_is_refused_not_truncated_to_root() {
    let mut big = file("bin/tool", b"x");
    big.uid = 1 << 32;
    let (dir, r) = unpack(&[big]);
    let err = r.unwrap_err().to_string();
    assert!(err.contains("uid 4294967296"), "{err}");
    assert!(!dir.path().join("layer/bin/tool").exists());
}

#[test]
fn a_time_before_1970_is_kept() {
    // GNU tar writes a negative time in base-256: the high bit, then two's complement.
    let mut bytes = archive(&[file("old", b"x")]);
    let mut h = tar::Header::from_byte_slice(&bytes[..512]).clone();
    let mut mtime = [0xffu8; 12];
    mtime[4..].copy_from_slice(&(-86_400i64).to_be_bytes());
    h.as_old_mut().mtime = mtime;
    h.set_cksum();
    bytes[..512].copy_from_slice(h.as_bytes());
    let dir = tempfile::tempdir().unwrap();
    unpack_layer(&bytes[..], dir.path()).unwrap();
    let m = std::fs::metadata(dir.path().join("old")).unwrap();
    assert_eq!(m.mtime(), -86_400);
}

#[test]
fn bad_archives_are_refused() {
    let good = archive(&[file("a", &[7u8; 2000]), file("b", b"x")]);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        (
            "garbage",
            b"this is not a tarball at all, not even close".repeat(40),
        ),
        ("truncated in a file", good[..1024].to_vec()),
        (
            "truncated at an entry boundary",
            good[..good.len() - 1024].to_vec(),
        ),
    ];
    for (what, bytes) in cases {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            unpack_layer(&bytes[..], dir.path()).is_err(),
            "{what} was accepted"
        );
    }
}

fn xattr(path: &Path, name: &str) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; 256];
    let n = rustix::fs::getxattr(path, name, &mut buf).ok()?;
    buf.truncate(n);
    Some(buf)
}

fn libc_makedev(major: u64, minor: u64) -> u64 {
    ((major & 0xfffff000) << 32)
        | ((major & 0xfff) << 8)
        | ((minor & 0xffffff00) << 12)
        | (minor & 0xff)
}
