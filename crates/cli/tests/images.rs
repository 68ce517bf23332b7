//! Images made from containers and managed by name: commit, export, tag, rmi, prune, history.

mod common;
use common::*;

/// Changes every kind of thing a layer can hold: a new file, a deleted one, and a directory
/// replaced whole (an opaque one).
const CHANGES: &str = "echo hi > /hello && rm /etc/group && rm -r /usr/sbin && mkdir /usr/sbin && touch /usr/sbin/new";

#[test]
#[ignore = "needs root"]
fn commit_makes_a_layer_of_the_changes_and_the_image_runs_with_them() {
    let k = Kist::with_busybox();
    k.ok(&["run", "--name", "changed", "busybox", "sh", "-c", CHANGES]);
    let id = k.ok(&[
        "commit",
        "-m",
        "three changes",
        "-a",
        "Ann <ann@example.com>",
        "-c",
        r#"CMD ["cat", "/hello"]"#,
        "-c",
        "ENV GREETING=hello",
        "changed",
        "mine:v1",
    ]);
    assert!(id.starts_with("sha256:"), "{id}");
    assert_eq!(k.ok(&["run", "--rm", "mine:v1"]), "hi\n");
    let seen = k.ok(&[
        "run", "--rm", "mine:v1", "sh", "-c",
        "test -e /etc/group || echo no-group; ls /usr/sbin; echo $GREETING; test -e /usr/bin/env && echo env-kept",
    ]);
    assert_eq!(seen, "no-group\nnew\nhello\nenv-kept\n");
    // One more layer, holding the changes only (not a copy of busybox).
    let history = k.ok(&["history", "--no-trunc", "mine:v1"]);
    let lines: Vec<&str> = history.lines().collect();
    assert_eq!(lines.len(), 3, "{history}");
    assert!(lines[0].starts_with("IMAGE"), "{history}");
    assert!(
        lines[1].starts_with(id.trim()) && lines[1].contains("three changes"),
        "{history}"
    );
    assert!(lines[2].starts_with("<missing>"), "{history}");
    // The new layer holds the changes only: bytes, not busybox's megabytes.
    let sizes = k.ok(&["history", "-q", "mine:v1"]);
    assert_eq!(sizes.lines().count(), 2);
    let raw = k.ok(&["history", "-H=false", "mine:v1"]);
    let top: u64 = raw
        .lines()
        .nth(1)
        .unwrap()
        .split("   ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .nth(3)
        .unwrap()
        .parse()
        .unwrap();
    assert!(top < 1000, "{raw}");
    assert_eq!(
        k.ok(&[
            "image",
            "inspect",
            "-f",
            "{{.Author}}|{{.Comment}}",
            "mine:v1"
        ]),
        "Ann <ann@example.com>|three changes\n"
    );
    let layers = k.ok(&["image", "inspect", "-f", "{{.RootFS.Layers}}", "mine:v1"]);
    assert_eq!(layers.matches("sha256:").count(), 2, "{layers}");
    k.ok(&["rm", "changed"]);
    k.assert_clean();
}

/// Docker commits a container that changed nothing as an image with an empty layer.
#[test]
#[ignore = "needs root"]
fn a_container_that_changed_nothing_commits_to_an_image_with_an_empty_layer() {
    let k = Kist::with_busybox();
    k.ok(&["run", "--name", "same", "busybox", "true"]);
    k.ok(&[
        "commit",
        "-c",
        "CMD [\"echo\", \"same\"]",
        "same",
        "same:v1",
    ]);
    assert_eq!(k.ok(&["run", "--rm", "same:v1"]), "same\n");
    let history = k.ok(&["history", "--format", "{{.Size}}", "same:v1"]);
    assert_eq!(history.lines().next(), Some("0B"), "{history}");
    // A root filesystem tarball with nothing in it is still refused, and stores nothing.
    let empty = k.root.path().join("empty.tar");
    std::fs::write(&empty, [0u8; 1024]).unwrap();
    let err = k.fails(&["import", empty.to_str().unwrap(), "nothing"], 1);
    assert!(err.contains("the archive is empty"), "{err}");
    assert!(!k.ok(&["images"]).contains("nothing"));
}

#[test]
#[ignore = "needs root"]
fn a_running_container_is_committed_frozen_and_keeps_running() {
    let k = Kist::with_busybox();
    k.ok(&[
        "run",
        "-d",
        "--name",
        "busy",
        "busybox",
        "sh",
        "-c",
        "i=0; while true; do i=$((i+1)); echo $i >> /count; done",
    ]);
    wait_until("the writer to start", || {
        k.run(&["exec", "busy", "cat", "/count"]).status.success()
    });
    k.ok(&["commit", "busy", "snapshot"]);
    let n: u64 = k
        .ok(&["run", "--rm", "snapshot", "wc", "-l", "/count"])
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(n > 0);
    assert_eq!(
        k.ok(&["inspect", "-f", "{{.State.Status}}", "busy"]),
        "running\n",
        "thawed after the commit"
    );
    // The image's command is the container's.
    assert!(
        k.ok(&["image", "inspect", "-f", "{{.Config.Cmd}}", "snapshot"])
            .contains("while true")
    );
    k.ok(&["rm", "-f", "busy"]);
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn export_writes_the_whole_filesystem_that_import_reads_back() {
    let k = Kist::with_busybox();
    k.ok(&["run", "--name", "changed", "busybox", "sh", "-c", CHANGES]);
    let archive = k.path().join("out.tar");
    k.ok(&["export", "-o", archive.to_str().unwrap(), "changed"]);
    let names: Vec<String> = tar::Archive::new(std::fs::File::open(&archive).unwrap())
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect();
    for present in ["hello", "bin/busybox", "usr/sbin/new", "etc/passwd"] {
        assert!(names.iter().any(|n| n == present), "{present} missing");
    }
    for gone in ["etc/group", "usr/sbin/chroot"] {
        assert!(!names.iter().any(|n| n == gone), "{gone} exported");
    }
    assert!(
        !names.iter().any(|n| n.contains(".wh.")),
        "no whiteouts in a flat export"
    );
    k.ok(&["import", archive.to_str().unwrap(), "flat"]);
    assert_eq!(
        k.ok(&[
            "run",
            "--rm",
            "flat",
            "sh",
            "-c",
            "cat /hello; test -e /etc/group || echo no-group"
        ]),
        "hi\nno-group\n"
    );
    // To stdout (not a terminal here), the same archive.
    let out = k.run(&["export", "changed"]);
    assert!(out.status.success());
    assert_eq!(
        out.stdout.len() as u64,
        std::fs::metadata(&archive).unwrap().len()
    );
    k.ok(&["rm", "changed"]);
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn tag_rmi_and_prune_never_take_what_a_container_uses() {
    let k = Kist::with_busybox();
    k.ok(&["tag", "busybox", "other:1"]);
    let listed = k.ok(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert!(
        listed.contains("busybox:latest") && listed.contains("other:1"),
        "{listed}"
    );
    // Two names: removing one only untags.
    assert_eq!(k.ok(&["rmi", "other:1"]), "Untagged: other:1\n");
    k.ok(&["run", "--name", "user", "busybox", "true"]);
    let err = k.fails(&["rmi", "busybox"], 1);
    assert!(
        err.contains("must be forced") && err.contains("stopped container"),
        "{err}"
    );
    // Forced: the name goes, the image stays (nameless) for the container, which still starts.
    assert_eq!(
        k.ok(&["rmi", "-f", "busybox"]),
        "Untagged: busybox:latest\n"
    );
    assert_eq!(
        k.ok(&["images", "-q", "--filter", "dangling=true"])
            .lines()
            .count(),
        1
    );
    k.ok(&["start", "-a", "user"]);
    assert_eq!(
        k.ok(&["image", "prune", "-f"]),
        "Total reclaimed space: 0B\n"
    );
    k.ok(&["rm", "user"]);
    let pruned = k.ok(&["image", "prune", "-f"]);
    assert!(
        pruned.starts_with("Deleted Images:\ndeleted: sha256:"),
        "{pruned}"
    );
    assert!(k.entries("layers").is_empty(), "{:?}", k.entries("layers"));
    assert!(k.entries("images/blobs/sha256").is_empty());
    let err = k.fails(&["rmi", "nosuch"], 1);
    assert!(err.contains("no such image"), "{err}");
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn shared_layers_stay_while_an_image_uses_them() {
    let k = Kist::with_busybox();
    k.ok(&["run", "--name", "cc", "busybox", "touch", "/x"]);
    k.ok(&["commit", "cc", "child"]);
    k.ok(&["rm", "cc"]);
    k.ok(&["rmi", "busybox"]);
    // child's bottom layer is busybox's: still there, and child runs.
    assert_eq!(k.entries("layers").len(), 2);
    k.ok(&["run", "--rm", "child", "ls", "/x"]);
    let filtered = k.ok(&["images", "--filter", "reference=chi*", "--digests"]);
    assert!(
        filtered.lines().next().unwrap().contains("DIGEST"),
        "{filtered}"
    );
    assert_eq!(filtered.lines().count(), 2, "{filtered}");
    k.ok(&["rmi", "child"]);
    assert!(k.entries("layers").is_empty());
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn a_commit_or_export_killed_while_the_container_is_frozen_leaves_it_running() {
    let k = Kist::with_busybox();
    k.ok(&[
        "run",
        "-d",
        "--name",
        "busy",
        "busybox",
        "sh",
        "-c",
        "i=0; while true; do i=$((i+1)); echo $i > /tmp/n; sleep 0.01; done",
    ]);
    let count = || {
        k.ok(&["exec", "busy", "cat", "/tmp/n"])
            .trim()
            .parse::<u64>()
            .unwrap_or(0)
    };
    wait_until("the counter to run", || count() > 2);
    let out = k
        .command(&["commit", "busy", "snap"])
        .env("KIST_CRASH_AT", "commit:frozen")
        .output()
        .unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        out.status.signal(),
        Some(9),
        "killed while the container was frozen"
    );
    // The next command thaws it: not paused, and counting again.
    assert_eq!(
        k.ok(&["inspect", "-f", "{{.State.Status}}", "busy"]),
        "running\n"
    );
    let before = count();
    wait_until("the counter to move again", || count() > before + 2);
    assert_eq!(k.ok(&["images", "-q", "snap"]), "", "no half image");
    // export freezes a running container too, and is thawed after the same way.
    let out = k.run(&["export", "busy"]);
    assert!(out.status.success() && out.stdout.len() > 1_000_000);
    let out = k
        .command(&["export", "busy"])
        .env("KIST_CRASH_AT", "export:frozen")
        .output()
        .unwrap();
    assert_eq!(out.status.signal(), Some(9));
    assert_eq!(
        k.ok(&["inspect", "-f", "{{.State.Status}}", "busy"]),
        "running\n"
    );
    k.ok(&["rm", "-f", "busy"]);
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn rmi_waits_for_a_run_that_has_resolved_its_image() {
    // A run holds the store lock shared from resolving its image until its container is
    // recorded; rmi holds it exclusively from its check of who uses the image. The test holds
    // the lock as a run half-way would: rmi waits; the container gets recorded (by a real run
    // meanwhile); then rmi finds it and refuses, where it used to delete the image first.
    let k = Kist::with_busybox();
    let lock = std::fs::File::open(k.path().join("images/store.lock")).unwrap();
    use std::os::fd::AsRawFd;
    // SAFETY: flock(2) on a descriptor that `lock` keeps open.
    assert_eq!(unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_SH) }, 0);
    let mut rmi = k
        .command(&["rmi", "busybox"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(rmi.try_wait().unwrap().is_none(), "rmi did not wait");
    k.ok(&["run", "--name", "late", "busybox", "true"]);
    drop(lock);
    let out = rmi.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stderr(&out).contains("must be forced"), "{}", stderr(&out));
    k.ok(&["start", "-a", "late"]);
    k.ok(&["rm", "late"]);
    k.assert_clean();
}
