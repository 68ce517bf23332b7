//! `kist cp`: both ways, running and stopped containers, and never outside the container.

mod common;
use common::*;

#[test]
#[ignore = "needs root"]
fn copies_both_ways_into_running_and_stopped_containers() {
    let k = Kist::with_busybox();
    k.ok(&[
        "run",
        "-d",
        "--name",
        "box",
        "busybox",
        "sh",
        "-c",
        "mkdir -p /srv/d/e; echo deep > /srv/d/e/f; ln -s f /srv/d/e/link; sleep 1000",
    ]);
    let host = k.path().join("host");
    std::fs::create_dir(&host).unwrap();
    // Out of a running container: a file, then a directory with a symlink in it.
    std::thread::sleep(std::time::Duration::from_millis(300));
    k.ok(&["cp", "box:/etc/passwd", host.to_str().unwrap()]);
    assert!(
        std::fs::read_to_string(host.join("passwd"))
            .unwrap()
            .starts_with("root:x:0:0")
    );
    k.ok(&["cp", "box:/srv/d", host.join("copy").to_str().unwrap()]);
    assert_eq!(
        std::fs::read_to_string(host.join("copy/e/f")).unwrap(),
        "deep\n"
    );
    assert_eq!(
        std::fs::read_link(host.join("copy/e/link")).unwrap(),
        std::path::Path::new("f")
    );
    // Into it: a file under a new name, and a directory into an existing one.
    std::fs::write(host.join("note"), "hello\n").unwrap();
    k.ok(&[
        "cp",
        host.join("note").to_str().unwrap(),
        "box:/tmp/renamed",
    ]);
    k.ok(&["cp", host.join("copy").to_str().unwrap(), "box:/tmp"]);
    assert_eq!(
        k.ok(&["exec", "box", "cat", "/tmp/renamed", "/tmp/copy/e/f"]),
        "hello\ndeep\n"
    );
    // A stopped container: its root is mounted privately for the copy.
    k.ok(&["stop", "-t", "0", "box"]);
    k.ok(&["cp", host.join("note").to_str().unwrap(), "box:/root/"]);
    k.ok(&[
        "cp",
        "box:/tmp/renamed",
        host.join("back").to_str().unwrap(),
    ]);
    assert_eq!(
        std::fs::read_to_string(host.join("back")).unwrap(),
        "hello\n"
    );
    assert!(k.host_mounts().is_empty());
    k.ok(&["start", "box"]);
    assert_eq!(k.ok(&["exec", "box", "cat", "/root/note"]), "hello\n");
    k.ok(&["rm", "-f", "box"]);
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn symlinks_in_the_container_never_reach_the_host() {
    let k = Kist::with_busybox();
    let marker = format!("kist-cp-escape-{}", std::process::id());
    k.ok(&[
        "run",
        "-d",
        "--name",
        "evil",
        "busybox",
        "sh",
        "-c",
        "ln -s / /hostroot; ln -s ../../../../etc /up; sleep 1000",
    ]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let src = k.path().join("payload");
    std::fs::write(&src, "pwned\n").unwrap();
    // Writing through a symlink to / lands in the container's /tmp, not the host's.
    k.ok(&[
        "cp",
        src.to_str().unwrap(),
        &format!("evil:/hostroot/tmp/{marker}"),
    ]);
    assert!(
        !std::path::Path::new("/tmp").join(&marker).exists(),
        "cp wrote on the host"
    );
    assert_eq!(
        k.ok(&["exec", "evil", "cat", &format!("/tmp/{marker}")]),
        "pwned\n"
    );
    // Reading through a symlink that climbs reads the container's /etc/passwd.
    let out = k.path().join("read");
    k.ok(&["cp", "evil:/up/passwd", out.to_str().unwrap()]);
    assert_eq!(
        std::fs::read_to_string(&out).unwrap().lines().count(),
        3,
        "the container's passwd, not the host's"
    );
    let err = k.fails(&["cp", "evil:/no/such", out.to_str().unwrap()], 1);
    assert!(err.contains("/no/such"), "{err}");
    let err = k.fails(&["cp", "a", "b"], 1);
    assert!(err.contains("between the host and a container"), "{err}");
    k.ok(&["rm", "-f", "evil"]);
    k.assert_clean();
}
