//! `kist events`: what every command and supervisor appends to the event log, read back as
//! Docker shows it, filtered, formatted and followed.

mod common;
use common::*;
use std::io::BufRead;
use std::os::unix::fs::PermissionsExt;
use std::sync::mpsc;

/// Every event so far, as `--format`ted lines (`--until 0s`: up to now, then stop).
fn past(k: &Kist, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["events", "--since", "0", "--until", "0s"];
    args.extend_from_slice(extra);
    k.ok(&args).lines().map(String::from).collect()
}

#[test]
#[ignore = "needs root"]
fn a_container_s_life_is_in_the_log_in_order_with_docker_s_attributes() {
    let k = Kist::with_busybox();
    let id = k
        .ok(&[
            "run",
            "-d",
            "--name",
            "web",
            "-l",
            "tier=front",
            "busybox",
            "sleep",
            "100",
        ])
        .trim()
        .to_string();
    k.ok(&["exec", "web", "true"]);
    k.ok(&["pause", "web"]);
    k.ok(&["unpause", "web"]);
    k.ok(&["kill", "-s", "USR1", "web"]);
    k.ok(&["stop", "-t", "0", "web"]);
    k.ok(&["rm", "web"]);
    k.fails(&["run", "--name", "fg", "busybox", "sh", "-c", "exit 3"], 3);
    k.ok(&["rm", "fg"]);
    let actions = past(
        &k,
        &[
            "--filter",
            "type=container",
            "--format",
            "{{.Actor.Attributes.name}} {{.Action}} {{with .Actor.Attributes.exitCode}}{{.}}{{end}}{{with .Actor.Attributes.signal}}{{.}}{{end}}",
        ],
    );
    let actions: Vec<&str> = actions.iter().map(|l| l.trim_end()).collect();
    assert_eq!(
        actions,
        [
            "web create",
            "web start",
            "web exec_create: true",
            "web exec_start: true",
            "web exec_die 0",
            "web pause",
            "web unpause",
            "web kill 10",
            "web kill 15",
            "web kill 9",
            "web die 137",
            "web stop",
            "web destroy",
            "fg create",
            "fg start",
            "fg die 3",
            "fg destroy",
        ]
    );
    // Docker's default line: time, type, action, id, sorted attributes with the labels.
    let lines = past(
        &k,
        &["--filter", "event=create", "--filter", "container=web"],
    );
    assert_eq!(lines.len(), 1, "{lines:?}");
    let (time, rest) = lines[0].split_once(' ').unwrap();
    assert_eq!(
        rest,
        format!("container create {id} (image=busybox, name=web, tier=front)")
    );
    assert_eq!(time.len(), "2026-12-02T03:40:00.123456789Z".len(), "{time}");
    assert!(time.ends_with('Z'));
    // --format json: the line as Docker's API has it.
    let json = past(
        &k,
        &[
            "--filter",
            "event=die",
            "--filter",
            "container=fg",
            "--format",
            "json",
        ],
    );
    assert_eq!(json.len(), 1, "{json:?}");
    let v: serde_json::Value = serde_json::from_str(&json[0]).unwrap();
    assert_eq!(v["Type"], "container");
    assert_eq!(v["Action"], "die");
    assert_eq!(v["status"], "die");
    assert_eq!(v["Actor"]["Attributes"]["exitCode"], "3");
    assert_eq!(v["Actor"]["Attributes"]["image"], "busybox");
    let nanos = v["timeNano"].as_i64().unwrap();
    assert_eq!(v["time"].as_i64().unwrap(), nanos / 1_000_000_000);
    // Label filters, and a window that ends before anything happened.
    assert_eq!(past(&k, &["--filter", "label=tier=front"]).len(), 13);
    assert!(past(&k, &["--filter", "label=tier=back"]).is_empty());
    let before = k.ok(&["events", "--since", "0", "--until", "1000000000"]);
    assert_eq!(before, "");
    let mode = std::fs::metadata(k.path().join("events.log"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(
        mode & 0o777,
        0o600,
        "the log names containers: root's alone"
    );
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn image_and_volume_events_are_recorded() {
    let k = Kist::with_busybox();
    k.ok(&["tag", "busybox", "mine:v1"]);
    k.ok(&["rmi", "mine:v1"]);
    k.ok(&["volume", "create", "data"]);
    k.ok(&["volume", "rm", "data"]);
    let lines = past(
        &k,
        &[
            "--format",
            "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}",
        ],
    );
    assert_eq!(
        lines,
        [
            "image import busybox:latest",
            "image tag mine:v1",
            "image untag mine:v1",
            "volume create <no value>",
            "volume destroy <no value>",
        ]
    );
    let volumes = past(
        &k,
        &["--filter", "volume=data", "--format", "{{.Actor.ID}}"],
    );
    assert_eq!(volumes, ["data", "data"]);
    let images = past(
        &k,
        &["--filter", "image=busybox", "--format", "{{.Action}}"],
    );
    assert_eq!(images, ["import"]);
    k.fails(&["events", "--filter", "colour=red"], 1);
    k.fails(&["events", "--since", "yesterday"], 1);
}

#[test]
#[ignore = "needs root"]
fn events_follows_the_log_until_stopped() {
    let k = Kist::with_busybox();
    let mut child = KillOnDrop(
        k.command(&[
            "events",
            "--since",
            "0",
            "--filter",
            "type=volume",
            "--format",
            "{{.Action}} {{.Actor.ID}}",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap(),
    );
    let out = child.0.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(out).lines() {
            if tx.send(line.unwrap()).is_err() {
                return;
            }
        }
    });
    let next = |rx: &mpsc::Receiver<String>| {
        rx.recv_timeout(std::time::Duration::from_secs(15))
            .expect("a line from kist events")
    };
    k.ok(&["volume", "create", "vol-a"]);
    assert_eq!(next(&rx), "create vol-a");
    // Created once `events` was seen running and reading: it can only have been followed.
    k.ok(&["volume", "create", "vol-b"]);
    assert_eq!(next(&rx), "create vol-b");
    assert!(child.0.try_wait().unwrap().is_none(), "still following");
}

/// A child process killed when dropped, so that a failing test leaves no follower behind.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
#[ignore = "needs root"]
fn oom_kills_and_deaths_found_by_reconciliation_are_events_too() {
    let k = Kist::with_busybox();
    // dd's 64 MiB buffer does not fit in 32 MiB.
    k.fails(
        &[
            "run",
            "--name",
            "hog",
            "-m",
            "32m",
            "busybox",
            "dd",
            "if=/dev/zero",
            "of=/dev/null",
            "bs=64M",
            "count=1",
        ],
        137,
    );
    let hog = past(
        &k,
        &["--filter", "container=hog", "--format", "{{.Action}}"],
    );
    assert_eq!(hog, ["create", "start", "oom", "die"]);
    // A supervisor killed: its container dies with it, and the next command records the
    // death it could not.
    k.ok(&["run", "-d", "--name", "orphan", "busybox", "sleep", "1000"]);
    let pid: i32 = k
        .ok(&["inspect", "-f", "{{.State.Pid}}", "orphan"])
        .trim()
        .parse()
        .unwrap();
    for s in supervisors(&k) {
        // SAFETY: kill(2) takes plain integers; the supervisor is this test's.
        unsafe { libc::kill(s, libc::SIGKILL) };
    }
    wait_until("the container to die with its supervisor", || {
        !std::path::Path::new(&format!("/proc/{pid}")).exists()
    });
    wait_until("the death recorded", || {
        k.ok(&["ps", "-a"]).contains("Exited (137)")
    });
    let orphan = past(
        &k,
        &[
            "--filter",
            "container=orphan",
            "--filter",
            "event=die",
            "--format",
            "{{.Actor.Attributes.exitCode}}",
        ],
    );
    assert_eq!(orphan, ["137"]);
    // Docker's rename (with the old name) and restart.
    k.ok(&["rename", "orphan", "found"]);
    k.ok(&["restart", "-t", "0", "found"]);
    let found = past(
        &k,
        &[
            "--filter",
            "container=found",
            "--format",
            "{{.Action}} {{.Actor.Attributes.oldName}}",
        ],
    );
    let found: Vec<&str> = found.iter().map(|l| l.trim_end()).collect();
    assert_eq!(
        found,
        ["rename orphan", "start <no value>", "restart <no value>"]
    );
    k.ok(&["rm", "-f", "hog", "found"]);
    k.assert_clean();
}
