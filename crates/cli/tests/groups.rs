//! Docker's management groups: `kist container CMD` and `kist image CMD` are the top-level
//! commands under another path (`container ls` is `ps`, `image ls` is `images`, `image rm` is
//! `rmi`), with the same flags, output and exit codes; completions and man pages know them.

mod common;

use std::process::Command;

use common::{KIST, Kist};

const CONTAINER: [&str; 26] = [
    "ls", "ps", "list", "run", "create", "start", "stop", "restart", "kill", "rm", "logs", "exec",
    "inspect", "top", "stats", "cp", "diff", "export", "commit", "pause", "unpause", "update",
    "wait", "prune", "rename", "attach",
];
const IMAGE: [&str; 12] = [
    "ls", "list", "import", "pull", "push", "rm", "tag", "inspect", "history", "save", "load",
    "prune",
];

fn kist(args: &[&str]) -> std::process::Output {
    Command::new(KIST).args(args).output().unwrap()
}

#[test]
fn every_command_of_both_groups_exists_with_its_help() {
    for (group, commands) in [("container", &CONTAINER[..]), ("image", &IMAGE[..])] {
        for command in commands {
            let out = kist(&[group, command, "--help"]);
            let help = common::stdout(&out);
            assert!(
                out.status.success(),
                "kist {group} {command}: {}",
                common::stderr(&out)
            );
            assert!(
                help.contains("Usage: kist "),
                "kist {group} {command}: {help}"
            );
        }
    }
    // The group's run has run's flags, defined once.
    let group = common::stdout(&kist(&["container", "run", "--help"]));
    let top = common::stdout(&kist(&["run", "--help"]));
    assert_eq!(
        group.replace("kist container run", "kist run"),
        top,
        "container run's help differs from run's"
    );
}

#[test]
fn completions_and_man_pages_cover_the_groups() {
    for shell in ["bash", "zsh", "fish"] {
        let out = kist(&["completion", shell]);
        assert!(out.status.success(), "{shell}: {}", common::stderr(&out));
        let script = common::stdout(&out);
        assert!(script.contains("create"), "{shell} completes no create");
    }
    let dir = tempfile::tempdir().unwrap();
    let out = kist(&["__man", dir.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    for page in [
        "kist-create.1",
        "kist-container-run.1",
        "kist-container-ls.1",
        "kist-container-create.1",
        "kist-image-ls.1",
        "kist-image-import.1",
        "kist-image-rm.1",
    ] {
        assert!(dir.path().join(page).exists(), "no {page}");
    }
}

#[test]
#[ignore = "needs root"]
fn the_container_group_is_the_top_level_commands() {
    let k = Kist::with_busybox();
    let id = k.ok(&[
        "container",
        "create",
        "--name",
        "gc",
        "busybox",
        "sh",
        "-c",
        "echo hi; touch /made; exit 3",
    ]);
    let out = k.run(&["container", "start", "-a", "gc"]);
    assert_eq!(
        (common::stdout(&out).as_str(), out.status.code()),
        ("hi\n", Some(3))
    );
    k.ok(&["run", "-d", "--name", "up", "busybox", "sleep", "60"]);

    let listing = [
        "-a",
        "--no-trunc",
        "--format",
        "{{.ID}} {{.Names}} {{.Command}} {{.State}}",
    ];
    let ps = k.ok(&[&["ps"][..], &listing].concat());
    assert!(ps.contains(id.trim()) && ps.contains(" up "), "{ps}");
    for alias in ["ls", "ps", "list"] {
        assert_eq!(
            k.ok(&[&["container", alias][..], &listing].concat()),
            ps,
            "container {alias}"
        );
    }
    assert_eq!(k.ok(&["container", "ls", "-q"]), k.ok(&["ps", "-q"]));

    assert_eq!(
        k.ok(&["container", "inspect", "-f", "{{.Name}}", "gc"]),
        "/gc\n"
    );
    let stderr = k.fails(&["container", "inspect", "busybox"], 1);
    assert!(
        stderr.contains("busybox"),
        "container inspect found an image: {stderr}"
    );
    assert_eq!(k.ok(&["container", "logs", "gc"]), "hi\n");
    assert_eq!(k.ok(&["container", "exec", "up", "echo", "in"]), "in\n");
    assert!(k.ok(&["container", "top", "up"]).contains("sleep"));
    k.ok(&["container", "pause", "up"]);
    k.ok(&["container", "unpause", "up"]);
    k.ok(&["container", "rename", "up", "running"]);
    k.ok(&["container", "kill", "running"]);
    assert_eq!(k.ok(&["container", "wait", "running"]), "137\n");

    // Exit codes as at the top: the program's, 125 for kist's own failures, 1 elsewhere.
    assert_eq!(
        k.ok(&["container", "run", "--rm", "busybox", "echo", "x"]),
        "x\n"
    );
    k.fails(
        &["container", "run", "--rm", "busybox", "sh", "-c", "exit 4"],
        4,
    );
    k.fails(&["container", "run", "--bogus", "busybox"], 125);
    k.fails(&["container", "rm", "nosuch"], 1);

    k.ok(&["container", "commit", "gc", "from-group"]);
    assert_eq!(k.ok(&["container", "rm", "gc", "running"]), "gc\nrunning\n");
    k.ok(&["container", "prune", "-f"]);
    k.ok(&["rmi", "from-group"]);
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn the_image_group_is_the_top_level_commands() {
    let k = Kist::with_busybox();
    k.ok(&["image", "tag", "busybox", "again"]);
    let images = k.ok(&["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"]);
    assert!(images.contains("again:latest"), "{images}");
    for ls in ["ls", "list"] {
        let group = k.ok(&["image", ls, "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"]);
        assert_eq!(group, images, "image {ls}");
    }
    assert_eq!(k.ok(&["image", "ls", "-q"]), k.ok(&["images", "-q"]));
    assert_eq!(
        k.ok(&["image", "history", "-q", "again"]),
        k.ok(&["history", "-q", "again"])
    );
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("again.tar");
    k.ok(&["image", "save", "-o", archive.to_str().unwrap(), "again"]);
    assert_eq!(k.ok(&["image", "rm", "again"]), "Untagged: again:latest\n");
    k.ok(&["image", "load", "-i", archive.to_str().unwrap()]);
    let out = k.run_with_stdin(
        &["image", "import", "-", "imported"],
        &std::fs::read(common::busybox_tar()).unwrap(),
    );
    assert!(out.status.success(), "{}", common::stderr(&out));
    assert_eq!(
        k.ok(&["image", "inspect", "-f", "{{.RepoTags}}", "imported"]),
        "[imported:latest]\n"
    );
    k.fails(&["image", "rm", "nosuch"], 1);
    k.ok(&["image", "rm", "again", "imported"]);
    k.ok(&["image", "prune", "-f"]);
}
