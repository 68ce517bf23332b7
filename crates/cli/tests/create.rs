//! `kist create`, then `kist start`: a container made with all of run's flags and no process,
//! listed and inspected as Created, started (attached or not) later, or removed unstarted.

mod common;

use common::Kist;

#[test]
#[ignore = "needs root"]
fn a_created_container_waits_until_start_and_start_a_exits_as_it_does() {
    let k = Kist::with_busybox();
    let id = k.ok(&[
        "create",
        "--name",
        "later",
        "-e",
        "WHO=world",
        "busybox",
        "sh",
        "-c",
        "echo hello $WHO; exit 3",
    ]);
    let id = id.trim();
    assert_eq!(id.len(), 64, "create prints the full id: {id:?}");
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    // Created, with no process, and it stays so: later commands do not take it for an orphan.
    for _ in 0..2 {
        let ps = k.ok(&["ps", "-a", "--format", "{{.Names}} {{.Status}}"]);
        assert_eq!(ps, "later Created\n");
        let state = k.ok(&["inspect", "-f", "{{.State.Status}} {{.State.Pid}}", "later"]);
        assert_eq!(state, "created 0\n");
    }
    assert_eq!(
        k.ok(&["ps", "-q"]),
        "",
        "a created container is not running"
    );
    assert_eq!(k.ok(&["logs", "later"]), "");

    // start -a: its output, and its exit status as kist's.
    let out = k.run(&["start", "-a", "later"]);
    assert_eq!(common::stdout(&out), "hello world\n");
    assert_eq!(out.status.code(), Some(3), "{}", common::stderr(&out));
    let state = k.ok(&[
        "inspect",
        "-f",
        "{{.State.Status}} {{.State.ExitCode}}",
        &id[..12],
    ]);
    assert_eq!(state, "exited 3\n");
    // Plain start: the name back, and the container runs again.
    assert_eq!(k.ok(&["start", "later"]), "later\n");
    assert_eq!(k.ok(&["wait", "later"]), "3\n");
    assert_eq!(k.ok(&["logs", "later"]), "hello world\nhello world\n");
    k.ok(&["rm", "later"]);
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn an_unstarted_container_is_removed_with_all_it_made() {
    let k = Kist::with_busybox();
    k.ok(&[
        "create",
        "--name",
        "never",
        "-v",
        "data:/data",
        "busybox",
        "true",
    ]);
    assert!(!k.entries("containers").is_empty());
    assert_eq!(k.ok(&["rm", "never"]), "never\n");
    assert_eq!(k.ok(&["ps", "-aq"]), "");
    k.assert_clean();
    // rm -f too, and a container made with -d's flags the same way.
    k.ok(&["create", "--name", "forced", "busybox", "sleep", "60"]);
    k.ok(&["rm", "-f", "forced"]);
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn start_ai_passes_stdin_to_a_container_created_with_i() {
    let k = Kist::with_busybox();
    k.ok(&["create", "-i", "--name", "reader", "busybox", "head", "-n1"]);
    let out = k.run_with_stdin(&["start", "-ai", "reader"], b"piped line\nmore\n");
    assert_eq!(common::stdout(&out), "piped line\n");
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    k.ok(&["rm", "reader"]);
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn create_refuses_what_run_refuses_with_125_and_makes_nothing() {
    let k = Kist::with_busybox();
    let stderr = k.fails(&["create", "--name", "bad/name", "busybox", "true"], 125);
    assert!(stderr.contains("container name"), "{stderr}");
    let stderr = k.fails(&["create", "--bogus", "busybox"], 125);
    assert!(stderr.contains("--bogus"), "{stderr}");
    k.ok(&["create", "--name", "taken", "busybox", "true"]);
    let stderr = k.fails(&["create", "--name", "taken", "busybox", "true"], 125);
    assert!(stderr.contains("taken"), "{stderr}");
    assert_eq!(k.ok(&["ps", "-aq"]).lines().count(), 1);
    k.ok(&["rm", "taken"]);
    k.assert_clean();
}
