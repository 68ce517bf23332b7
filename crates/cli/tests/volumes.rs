//! Bind mounts and named volumes.

mod common;
use common::*;

#[test]
#[ignore = "needs root"]
fn bind_mounts_share_files_with_the_host() {
    let k = Kist::with_busybox();
    let host = k.path().join("data");
    std::fs::create_dir(&host).unwrap();
    std::fs::write(host.join("in"), "from host\n").unwrap();
    let spec = format!("{}:/data", host.display());
    let out = k.ok(&[
        "run",
        "--rm",
        "-v",
        &spec,
        "busybox",
        "sh",
        "-c",
        "cat /data/in; echo from container > /data/out",
    ]);
    assert_eq!(out, "from host\n");
    assert_eq!(
        std::fs::read_to_string(host.join("out")).unwrap(),
        "from container\n"
    );
    // Read-only.
    let out = k.run(&[
        "run",
        "--rm",
        "-v",
        &format!("{spec}:ro"),
        "busybox",
        "touch",
        "/data/x",
    ]);
    assert_ne!(out.status.code(), Some(0));
    assert!(!host.join("x").exists());
    // A missing host directory is created, as Docker does; several volumes at once.
    let fresh = k.path().join("fresh/deeper");
    let other = k.path().join("other");
    k.ok(&[
        "run",
        "--rm",
        "-v",
        &format!("{}:/a", fresh.display()),
        "-v",
        &format!("{}:/b", other.display()),
        "busybox",
        "sh",
        "-c",
        "touch /a/1 /b/2",
    ]);
    assert!(fresh.join("1").exists() && other.join("2").exists());
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn malformed_volumes_are_refused_and_change_nothing() {
    let k = Kist::with_busybox();
    for bad in [
        "relative/path:/data",
        "~/x:/data",
        "/host:relative",
        "/a:/b:rx",
    ] {
        let err = k.fails(&["run", "--rm", "-v", bad, "busybox", "true"], 125);
        assert!(err.contains("invalid volume specification"), "{bad}: {err}");
        assert_eq!(err.lines().count(), 1);
    }
    assert!(!k.path().join("relative").exists());
    assert_eq!(k.ok(&["volume", "ls", "-q"]), "");
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn named_volumes_persist_and_are_seeded_from_the_image() {
    let k = Kist::with_busybox();
    k.ok(&[
        "run",
        "--rm",
        "-v",
        "store:/data",
        "busybox",
        "sh",
        "-c",
        "echo kept > /data/f",
    ]);
    assert_eq!(
        k.ok(&[
            "run",
            "--rm",
            "-v",
            "store:/mnt",
            "busybox",
            "cat",
            "/mnt/f"
        ]),
        "kept\n"
    );
    // A new volume mounted over image content starts with a copy of it.
    let out = k.ok(&[
        "run",
        "--rm",
        "-v",
        "etc:/etc",
        "busybox",
        "head",
        "-1",
        "/etc/passwd",
    ]);
    assert_eq!(out, "root:x:0:0:root:/root:/bin/sh\n");
    assert!(k.path().join("volumes/etc/_data/group").exists());
    assert_eq!(k.ok(&["volume", "ls", "-q"]), "etc\nstore\n");
    let inspect = k.ok(&["volume", "inspect", "store"]);
    let v: serde_json::Value = serde_json::from_str(&inspect).unwrap();
    assert_eq!(v[0]["Name"], "store");
    assert!(
        v[0]["Mountpoint"]
            .as_str()
            .unwrap()
            .ends_with("volumes/store/_data")
    );
    k.ok(&["volume", "rm", "etc"]);
    assert_eq!(k.ok(&["volume", "ls", "-q"]), "store\n");
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn a_volume_in_use_is_not_removed() {
    let k = Kist::with_busybox();
    k.ok(&["volume", "create", "shared"]);
    k.ok(&[
        "run",
        "--name",
        "user",
        "-v",
        "shared:/s",
        "busybox",
        "true",
    ]);
    let err = k.fails(&["volume", "rm", "shared"], 1);
    assert!(err.contains("in use"), "{err}");
    assert_eq!(k.ok(&["volume", "prune", "-a", "-f"]), "");
    k.ok(&["rm", "user"]);
    // A named volume goes only with -a (Docker 23+).
    assert_eq!(k.ok(&["volume", "prune", "-f"]), "");
    assert_eq!(
        k.ok(&["volume", "prune", "-a", "-f"]),
        "Deleted Volumes:\nshared\n"
    );
    let err = k.fails(&["volume", "rm", "shared"], 1);
    assert!(err.contains("no such volume"), "{err}");
    // An anonymous volume goes with its --rm container.
    k.ok(&["run", "--rm", "-v", "/anon", "busybox", "touch", "/anon/x"]);
    assert_eq!(k.ok(&["volume", "ls", "-q"]), "");
    k.assert_clean();
}
