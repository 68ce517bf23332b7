//! `kist import` and `kist images`.

mod common;
use common::*;
use std::io::Write;

fn compressed(kind: &str) -> Vec<u8> {
    let raw = std::fs::read(busybox_tar()).unwrap();
    match kind {
        "gzip" => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(&raw).unwrap();
            e.finish().unwrap()
        }
        "zstd" => zstd::encode_all(&raw[..], 1).unwrap(),
        _ => raw,
    }
}

#[test]
#[ignore = "needs root"]
fn plain_gzip_and_zstd_tarballs_become_runnable_images() {
    let k = Kist::new();
    for kind in ["plain", "gzip", "zstd"] {
        let file = k.path().join(format!("busybox.{kind}"));
        std::fs::write(&file, compressed(kind)).unwrap();
        let id = k.ok(&["import", file.to_str().unwrap(), &format!("bb:{kind}")]);
        assert!(id.starts_with("sha256:") && id.trim().len() == 71, "{id}");
        assert_eq!(
            k.ok(&["run", "--rm", &format!("bb:{kind}"), "echo", kind]),
            format!("{kind}\n")
        );
    }
    // Same content: one layer, unpacked once.
    assert_eq!(k.entries("layers").len(), 1);
    let images = k.ok(&["images"]);
    let lines: Vec<&str> = images.lines().collect();
    assert!(lines[0].starts_with("REPOSITORY   TAG"), "{images}");
    assert!(
        lines[0].contains("IMAGE ID") && lines[0].contains("CREATED") && lines[0].ends_with("SIZE"),
        "{images}"
    );
    assert_eq!(lines.len(), 4, "{images}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("bb ") && l.contains("zstd") && l.contains("MB")),
        "{images}"
    );
}

#[test]
#[ignore = "needs root"]
fn import_reads_stdin_and_defaults_to_sh() {
    let k = Kist::new();
    let out = k.run_with_stdin(&["import", "-", "fromstdin"], &compressed("gzip"));
    assert!(out.status.success(), "{}", stderr(&out));
    // The image's default command is sh, which reads this from stdin.
    let out = k.run_with_stdin(&["run", "--rm", "-i", "fromstdin"], b"echo $((6*7))\n");
    assert_eq!(stdout(&out), "42\n");
}

#[test]
#[ignore = "needs root"]
fn corrupt_and_truncated_tarballs_leave_nothing_behind() {
    let k = Kist::with_busybox();
    let before_blobs = k.entries("images/blobs/sha256").len();
    let gz = compressed("gzip");
    let raw = compressed("plain");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("not a tarball", b"hello, I am a text file\n".repeat(100)),
        ("truncated gzip", gz[..gz.len() / 2].to_vec()),
        ("truncated tar", raw[..raw.len() / 2].to_vec()),
        ("empty", Vec::new()),
    ];
    for (what, bytes) in cases {
        let file = k.path().join("bad.tar");
        std::fs::write(&file, bytes).unwrap();
        let err = k.fails(&["import", file.to_str().unwrap(), "bad"], 1);
        assert_eq!(err.lines().count(), 1, "{what}: {err}");
        assert!(
            err.contains("importing") && err.contains("bad.tar"),
            "{what}: {err}"
        );
        assert_eq!(
            k.entries("images/blobs/sha256").len(),
            before_blobs,
            "{what} left a blob"
        );
        assert_eq!(k.entries("layers").len(), 1, "{what} left a layer");
        assert!(
            k.entries("tmp").is_empty(),
            "{what} left work files: {:?}",
            k.entries("tmp")
        );
    }
    assert!(!k.ok(&["images"]).contains("bad"));
    let err = k.fails(&["import", "/no/such/file.tar", "x"], 1);
    assert!(err.contains("/no/such/file.tar"), "{err}");
    let err = k.fails(&["import", busybox_tar().to_str().unwrap(), "Bad:Name"], 1);
    assert!(err.contains("invalid reference"), "{err}");
}

#[test]
#[ignore = "needs root"]
fn a_hostile_tarball_cannot_write_on_the_host() {
    let k = Kist::new();
    let marker = format!("kist-import-escape-{}", std::process::id());
    // A symlink to / and then a file through it, plus a ../ entry: a real tar, built by tar.
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    h.set_mode(0o777);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    b.append_link(&mut h, "hostroot", "/").unwrap();
    let data = b"owned\n";
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    b.append_data(&mut h, format!("hostroot/tmp/{marker}"), &data[..])
        .unwrap();
    let tar_bytes = b.into_inner().unwrap();
    let file = k.path().join("evil.tar");
    std::fs::write(&file, tar_bytes).unwrap();
    k.ok(&["import", file.to_str().unwrap(), "evil"]);
    assert!(
        !std::path::Path::new("/tmp").join(&marker).exists(),
        "the import wrote on the host"
    );
    let layers = k.entries("layers");
    let diff = k.path().join("layers").join(&layers[0]).join("diff");
    assert_eq!(std::fs::read(diff.join("tmp").join(&marker)).unwrap(), data);
}
