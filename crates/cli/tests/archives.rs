//! save and load, in Docker's and OCI's archive formats, and both ways with skopeo.

mod common;
use common::*;
use std::process::Command;

/// A store with busybox and `mine:v1` (busybox with /hello added and /etc/group deleted).
fn with_committed_image() -> Kist {
    let k = Kist::with_busybox();
    k.ok(&[
        "run",
        "--name",
        "changed",
        "busybox",
        "sh",
        "-c",
        "echo hi > /hello && rm /etc/group",
    ]);
    k.ok(&["commit", "changed", "mine:v1"]);
    k.ok(&["rm", "changed"]);
    k
}

fn check_runs(k: &Kist, image: &str) {
    let script = "cat /hello; test -e /etc/group || echo no-group";
    assert_eq!(
        k.ok(&["run", "--rm", image, "sh", "-c", script]),
        "hi\nno-group\n"
    );
}

fn skopeo(args: &[&str]) -> String {
    let out = Command::new("skopeo")
        .args(args)
        .output()
        .expect("skopeo is installed by scripts/test");
    assert!(
        out.status.success(),
        "skopeo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn store_contents(k: &Kist) -> (String, usize, usize) {
    (
        k.ok(&["images", "-q"]),
        k.entries("layers").len(),
        k.entries("images/blobs/sha256").len(),
    )
}

#[test]
#[ignore = "needs root"]
fn saved_archives_load_back_in_both_formats() {
    let k = with_committed_image();
    for format in ["docker-archive", "oci-archive"] {
        let archive = k.path().join(format!("{format}.tar"));
        k.ok(&[
            "save",
            "--format",
            format,
            "-o",
            archive.to_str().unwrap(),
            "mine:v1",
        ]);
        let fresh = Kist::new();
        let out = fresh.ok(&["load", "-i", archive.to_str().unwrap()]);
        assert_eq!(out, "Loaded image: mine:v1\n", "{format}");
        check_runs(&fresh, "mine:v1");
        // The same image: the same config, so the same id.
        assert_eq!(
            fresh.ok(&["images", "-q"]),
            k.ok(&["images", "-q", "mine"]),
            "{format}"
        );
    }
    // To stdout and from stdin.
    let out = k.run(&["save", "busybox"]);
    assert!(out.status.success());
    let fresh = Kist::new();
    let loaded = fresh.run_with_stdin(&["load"], &out.stdout);
    assert_eq!(
        stdout(&loaded),
        "Loaded image: busybox:latest\n",
        "{}",
        stderr(&loaded)
    );
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn skopeo_reads_what_save_writes_and_kist_loads_what_skopeo_writes() {
    let k = with_committed_image();
    let dir = k.path();
    let docker = dir.join("d.tar");
    let oci = dir.join("o.tar");
    k.ok(&["save", "-o", docker.to_str().unwrap(), "mine:v1"]);
    k.ok(&[
        "save",
        "--format",
        "oci-archive",
        "-o",
        oci.to_str().unwrap(),
        "mine:v1",
    ]);
    for source in [
        format!("docker-archive:{}", docker.display()),
        format!("oci-archive:{}", oci.display()),
    ] {
        let inspected = skopeo(&["inspect", "--config", &source]);
        assert!(inspected.contains("\"diff_ids\""), "{source}: {inspected}");
        let layers = skopeo(&["inspect", &source]);
        assert_eq!(
            layers.matches("\"sha256:").count(),
            3,
            "{source}: digest and two layers: {layers}"
        );
    }
    // skopeo's own archives: docker-archive links each layer.tar to one copy.
    let from_skopeo = [
        (
            format!("oci-archive:{}", oci.display()),
            dir.join("s-d.tar"),
            "docker-archive",
            "copied:v2",
        ),
        (
            format!("docker-archive:{}", docker.display()),
            dir.join("s-o.tar"),
            "oci-archive",
            "copied:v3",
        ),
    ];
    for (source, dest, format, name) in &from_skopeo {
        skopeo(&[
            "copy",
            source,
            &format!("{format}:{}:{name}", dest.display()),
        ]);
        let fresh = Kist::new();
        let out = fresh.ok(&["load", "-i", dest.to_str().unwrap()]);
        assert_eq!(out, format!("Loaded image: {name}\n"));
        check_runs(&fresh, name);
    }
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn bad_archives_are_refused_and_store_nothing() {
    let k = with_committed_image();
    let good = k.path().join("good.tar");
    k.ok(&["save", "-o", good.to_str().unwrap(), "mine:v1"]);
    let bytes = std::fs::read(&good).unwrap();
    let target = Kist::with_busybox();
    let before = store_contents(&target);
    let write = |name: &str, data: &[u8]| {
        let p = k.path().join(name);
        std::fs::write(&p, data).unwrap();
        p
    };
    // A layer whose content is not what the config says: the archive's manifest points the
    // top layer at busybox's.
    let mut archive = tar::Archive::new(&bytes[..]);
    let mut builder = tar::Builder::new(Vec::new());
    let mut layers: Vec<String> = Vec::new();
    let mut members: Vec<(String, Vec<u8>)> = Vec::new();
    for e in archive.entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path().unwrap().display().to_string();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut data).unwrap();
        if name.ends_with("layer.tar") {
            layers.push(name.clone());
        }
        members.push((name, data));
    }
    for (name, data) in &mut members {
        if name == "manifest.json" {
            let text = String::from_utf8(data.clone()).unwrap();
            *data = text.replace(&layers[1], &layers[0]).into_bytes();
        }
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        builder
            .append_data(&mut h, name.as_str(), &data[..])
            .unwrap();
    }
    let mismatched = builder.into_inner().unwrap();
    let cases: Vec<(std::path::PathBuf, &str)> = vec![
        (
            write("truncated.tar", &bytes[..bytes.len() / 2]),
            "truncated",
        ),
        (write("empty.tar", b""), "empty"),
        (
            write(
                "text.tar",
                b"not an archive at all, just text that goes on and on",
            ),
            "not a valid tar",
        ),
        (write("mismatch.tar", &mismatched), "where the config says"),
    ];
    for (path, why) in cases {
        let err = target.fails(&["load", "-i", path.to_str().unwrap()], 1);
        assert!(err.contains(why), "{}: {err}", path.display());
        assert_eq!(err.lines().count(), 1, "{err}");
        assert_eq!(store_contents(&target), before, "{}", path.display());
        assert!(
            target.entries("tmp").iter().all(|e| e.ends_with(".lock")),
            "{:?}",
            target.entries("tmp")
        );
    }
    let err = target.fails(&["save", "-o", "/nonexistent/x.tar", "busybox"], 1);
    assert!(err.contains("/nonexistent"), "{err}");
    let err = target.fails(&["save", "nosuch"], 1);
    assert!(err.contains("no such image"), "{err}");
    k.assert_clean();
}
