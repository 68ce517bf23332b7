//! How a container is stopped, set when it is made: `--stop-signal` (over the image's
//! StopSignal), `--stop-timeout` (what `stop` and `restart` wait without `-t`), and
//! `--cidfile`, the id written for scripts.

mod common;

use common::Kist;

/// A program that reports which stop signal it got and exits 10 + its number.
const TRAPS: &str = "trap 'echo got USR1; exit 11' USR1; trap 'echo got USR2; exit 12' USR2; \
                     echo ready; while true; do sleep 0.1; done";

fn wait_ready(k: &Kist, name: &str) {
    common::wait_until("the traps", || k.ok(&["logs", name]).contains("ready"));
}

#[test]
#[ignore = "needs root"]
fn stop_sends_the_stop_signal_of_the_flag_else_of_the_image() {
    let k = Kist::with_busybox();
    k.ok(&["run", "--name", "base", "busybox", "touch", "/marker"]);
    k.ok(&["commit", "--change", "STOPSIGNAL USR2", "base", "usr2"]);

    k.ok(&["run", "-d", "--name", "image", "usr2", "sh", "-c", TRAPS]);
    k.ok(&[
        "run",
        "-d",
        "--name",
        "flag",
        "--stop-signal",
        "SIGUSR1",
        "usr2",
        "sh",
        "-c",
        TRAPS,
    ]);
    for (name, signal) in [("image", "USR2"), ("flag", "SIGUSR1")] {
        let shown = k.ok(&["inspect", "-f", "{{.Config.StopSignal}}", name]);
        assert_eq!(shown.trim(), signal, "{name}");
        wait_ready(&k, name);
    }
    k.ok(&["stop", "image", "flag"]);
    assert_eq!(k.ok(&["wait", "image", "flag"]), "12\n11\n");
    assert!(k.ok(&["logs", "flag"]).contains("got USR1"));
    assert!(k.ok(&["logs", "image"]).contains("got USR2"));

    let stderr = k.fails(&["run", "--stop-signal", "NOSUCH", "busybox", "true"], 125);
    assert!(stderr.contains("NOSUCH"), "{stderr}");
    k.ok(&["rm", "base", "image", "flag"]);
    k.assert_clean();
}

/// Takes two seconds to stop gracefully after SIGTERM, and says so.
const SLOW_TO_STOP: &str =
    "trap 'sleep 2; echo graceful; exit 0' TERM; echo ready; while true; do sleep 0.1; done";

#[test]
#[ignore = "needs root"]
fn stop_and_restart_wait_the_containers_stop_timeout_unless_told() {
    let k = Kist::with_busybox();
    // One second is not enough: SIGKILL comes first.
    k.ok(&[
        "run",
        "-d",
        "--name",
        "quick",
        "--stop-timeout",
        "1",
        "busybox",
        "sh",
        "-c",
        SLOW_TO_STOP,
    ]);
    assert_eq!(
        k.ok(&["inspect", "-f", "{{.Config.StopTimeout}}", "quick"]),
        "1\n"
    );
    wait_ready(&k, "quick");
    k.ok(&["stop", "quick"]);
    assert_eq!(
        k.ok(&["inspect", "-f", "{{.State.ExitCode}}", "quick"]),
        "137\n"
    );
    assert!(!k.ok(&["logs", "quick"]).contains("graceful"));
    // restart waits as long, and -t overrides it.
    k.ok(&["start", "quick"]);
    common::wait_until("the restart", || {
        k.ok(&["logs", "quick"]).matches("ready").count() == 2
    });
    k.ok(&["restart", "quick"]);
    assert!(!k.ok(&["logs", "quick"]).contains("graceful"));
    common::wait_until("the restart", || {
        k.ok(&["logs", "quick"]).matches("ready").count() == 3
    });
    k.ok(&["stop", "-t", "30", "quick"]);
    assert_eq!(
        k.ok(&["inspect", "-f", "{{.State.ExitCode}}", "quick"]),
        "0\n"
    );
    assert!(k.ok(&["logs", "quick"]).contains("graceful"));

    // Without it, Docker's ten seconds: time to stop gracefully.
    k.ok(&[
        "run",
        "-d",
        "--name",
        "patient",
        "busybox",
        "sh",
        "-c",
        SLOW_TO_STOP,
    ]);
    wait_ready(&k, "patient");
    k.ok(&["stop", "patient"]);
    assert_eq!(
        k.ok(&["inspect", "-f", "{{.State.ExitCode}}", "patient"]),
        "0\n"
    );
    k.ok(&["rm", "quick", "patient"]);
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn cidfile_gets_the_id_once_and_is_never_overwritten() {
    let k = Kist::with_busybox();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("web.cid");
    let path = file.to_str().unwrap();
    let id = k.ok(&[
        "run",
        "-d",
        "--cidfile",
        path,
        "--name",
        "web",
        "busybox",
        "sleep",
        "60",
    ]);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), id.trim());
    let shown = k.ok(&["inspect", "-f", "{{.HostConfig.ContainerIDFile}}", "web"]);
    assert_eq!(shown.trim(), path);

    // The file exists: refused with Docker's words, before anything is made.
    let stderr = k.fails(&["run", "--cidfile", path, "busybox", "true"], 125);
    assert!(
        stderr.contains(&format!(
            "container ID file found, make sure the other container isn't running or delete {path}"
        )),
        "{stderr}"
    );
    assert_eq!(k.ok(&["ps", "-aq"]).lines().count(), 1);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), id.trim());

    // create writes it too, and a foreground run before its program ends.
    let created = dir.path().join("created.cid");
    let id = k.ok(&[
        "create",
        "--cidfile",
        created.to_str().unwrap(),
        "busybox",
        "true",
    ]);
    assert_eq!(std::fs::read_to_string(&created).unwrap(), id.trim());
    let fg = dir.path().join("fg.cid");
    k.ok(&[
        "run",
        "--rm",
        "--cidfile",
        fg.to_str().unwrap(),
        "busybox",
        "true",
    ]);
    assert_eq!(std::fs::read_to_string(&fg).unwrap().len(), 64);
    k.ok(&["rm", "-f", "web", id.trim()]);
    k.assert_clean();
}
