//! Images of many layers, with deletions in upper layers: the overlay takes them all (beyond
//! the one-page limit of a `lowerdir=` string) and whiteouts hide what they delete.

mod common;
use common::*;

use kist_image::{ImageStore, LayerCommit, Reference, extend_image};

/// A layer tarball: files to add, paths to delete (OCI whiteouts), directories made opaque.
fn layer(files: &[(&str, &str)], deletes: &[&str], opaque: &[&str]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |path: String, data: &[u8]| {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        b.append_data(&mut h, path, data).unwrap();
    };
    for (path, content) in files {
        add(path.to_string(), content.as_bytes());
    }
    for path in deletes {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        let wh = if dir.is_empty() {
            format!(".wh.{name}")
        } else {
            format!("{dir}/.wh.{name}")
        };
        add(wh, b"");
    }
    for dir in opaque {
        add(format!("{dir}/.wh..wh..opq"), b"");
    }
    b.into_inner().unwrap()
}

#[test]
#[ignore = "needs root"]
fn a_hundred_and_twenty_layers_with_deletions_run_as_expected() {
    let k = Kist::with_busybox();
    let store = ImageStore::open(k.path()).unwrap();
    let name = Reference::parse("tall").unwrap();
    let mut image = store.resolve("busybox").unwrap();
    for i in 0..120 {
        let tar = match i {
            // Early on: a directory with two files, and a file that a later layer deletes.
            0 => layer(
                &[("data/a", "a"), ("data/b", "b"), ("gone", "soon")],
                &[],
                &[],
            ),
            // Delete an image file (from busybox's layer) and one of an earlier layer.
            50 => layer(&[], &["etc/group", "gone"], &[]),
            // Make data/ opaque: only what this layer puts there remains.
            100 => layer(&[("data/c", "c")], &[], &["data"]),
            _ => layer(&[(&format!("layers/{i:03}"), &i.to_string())], &[], &[]),
        };
        let commit = LayerCommit {
            created_by: format!("layer {i}"),
            ..Default::default()
        };
        extend_image(&store, &image, &tar[..], &commit, Some(&name)).unwrap();
        image = store.resolve("tall").unwrap();
    }
    assert_eq!(image.layers.len(), 121);
    // The overlay's lower directories alone make far more than one page.
    let lowers: usize = image
        .layers
        .iter()
        .map(|l| l.dir.as_os_str().len() + 1)
        .sum();
    assert!(lowers > 4096, "{lowers}");
    let out = k.ok(&[
        "run", "--rm", "tall", "sh", "-c",
        "ls /layers | wc -l; echo $(cat /layers/119); ls /data; test -e /etc/group || echo no-group; test -e /gone || echo no-gone; head -1 /etc/passwd",
    ]);
    assert_eq!(
        out,
        "117\n119\nc\nno-group\nno-gone\nroot:x:0:0:root:/root:/bin/sh\n"
    );
    // The history records every layer.
    assert_eq!(image.config.history().as_ref().unwrap().len(), 121);
    k.assert_clean();
}
