//! Health checks without a daemon: the container's supervisor (or a foreground `run`) runs
//! the check; `ps` and `inspect` show what it found, as Docker's do.

mod common;
use common::*;
use serde_json::Value;

/// `State.Health`, or null when there is none (Docker's JSON leaves it out).
fn health(k: &Kist, name: &str) -> Value {
    let out = k.ok(&["inspect", "-f", "{{json .State}}", name]);
    let state: Value = serde_json::from_str(out.trim()).unwrap();
    state.get("Health").cloned().unwrap_or(Value::Null)
}

fn status_of(k: &Kist, name: &str) -> String {
    health(k, name)["Status"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn ps_status(k: &Kist, name: &str) -> String {
    k.ok(&[
        "ps",
        "--filter",
        &format!("name={name}"),
        "--format",
        "{{.Status}}",
    ])
    .trim()
    .to_string()
}

#[test]
#[ignore = "needs root"]
fn a_failing_check_makes_the_container_unhealthy_and_a_passing_one_healthy() {
    let k = Kist::with_busybox();
    k.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "--health-cmd",
        "echo probing; test -e /tmp/ok",
        "--health-interval",
        "200ms",
        "--health-retries",
        "2",
        "busybox",
        "sleep",
        "100",
    ]);
    let check = k.ok(&["inspect", "-f", "{{json .Config.Healthcheck}}", "web"]);
    let check: Value = serde_json::from_str(check.trim()).unwrap();
    assert_eq!(
        check,
        serde_json::json!({
            "Test": ["CMD-SHELL", "echo probing; test -e /tmp/ok"],
            "Interval": 200_000_000,
            "Retries": 2,
        })
    );
    wait_until("unhealthy", || status_of(&k, "web") == "unhealthy");
    let h = health(&k, "web");
    assert!(h["FailingStreak"].as_i64().unwrap() >= 2, "{h}");
    let log = h["Log"].as_array().unwrap();
    assert!(!log.is_empty() && log.len() <= 5, "the last five: {h}");
    let last = log.last().unwrap();
    assert_eq!(last["ExitCode"], 1);
    assert_eq!(last["Output"], "probing\n");
    assert!(last["Start"].as_str().unwrap() <= last["End"].as_str().unwrap());
    let status = ps_status(&k, "web");
    assert!(
        status.starts_with("Up ") && status.ends_with(" (unhealthy)"),
        "{status}"
    );
    k.ok(&["exec", "web", "touch", "/tmp/ok"]);
    wait_until("healthy", || status_of(&k, "web") == "healthy");
    assert_eq!(health(&k, "web")["FailingStreak"], 0);
    assert!(ps_status(&k, "web").ends_with(" (healthy)"));
    wait_until("more results", || {
        health(&k, "web")["Log"].as_array().unwrap().len() == 5
    });
    let changes = k.ok(&[
        "events",
        "--since",
        "0",
        "--until",
        "0s",
        "--filter",
        "event=health_status",
        "--format",
        "{{.Action}}",
    ]);
    assert_eq!(
        changes, "health_status: unhealthy\nhealth_status: healthy\n",
        "an event per change of status"
    );
    k.ok(&["rm", "-f", "web"]);
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn a_check_not_yet_run_is_starting_and_one_over_its_timeout_fails() {
    let k = Kist::with_busybox();
    k.ok(&[
        "run",
        "-d",
        "--name",
        "slow",
        "--health-cmd",
        "true",
        "--health-interval",
        "1h",
        "busybox",
        "sleep",
        "100",
    ]);
    assert_eq!(status_of(&k, "slow"), "starting");
    assert!(
        ps_status(&k, "slow").ends_with(" (health: starting)"),
        "{}",
        ps_status(&k, "slow")
    );
    k.ok(&[
        "run",
        "-d",
        "--name",
        "stuck",
        "--health-cmd",
        "sleep 30",
        "--health-interval",
        "100ms",
        "--health-timeout",
        "200ms",
        "--health-retries",
        "1",
        "busybox",
        "sleep",
        "100",
    ]);
    wait_until("unhealthy", || status_of(&k, "stuck") == "unhealthy");
    let h = health(&k, "stuck");
    let last = h["Log"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["ExitCode"], -1, "{h}");
    assert_eq!(last["Output"], "Health check exceeded timeout (200ms)");
    // A probe's process does not outlive its timeout in the container.
    wait_until("the timed-out probe killed", || {
        !k.ok(&["top", "stuck"]).contains("sleep 30")
    });
    k.ok(&[
        "run",
        "-d",
        "--name",
        "loud",
        "--health-cmd",
        "head -c 5000 /dev/zero | tr '\\0' x; exit 3",
        "--health-interval",
        "100ms",
        "busybox",
        "sleep",
        "100",
    ]);
    wait_until("a result", || {
        !health(&k, "loud")["Log"].as_array().unwrap().is_empty()
    });
    let out = health(&k, "loud")["Log"][0]["Output"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        out,
        format!("{}...", "x".repeat(4096)),
        "Docker's 4096 bytes"
    );
    assert_eq!(health(&k, "loud")["Log"][0]["ExitCode"], 3);
    // Without a check there is no State.Health, and ps says only "Up".
    k.ok(&["run", "-d", "--name", "plain", "busybox", "sleep", "100"]);
    assert_eq!(health(&k, "plain"), Value::Null);
    assert!(!ps_status(&k, "plain").contains('('));
    k.ok(&["rm", "-f", "slow", "stuck", "loud", "plain"]);
    k.assert_clean();
}

/// busybox, saved, with a `Healthcheck` put into its config, loaded back as `checked`.
fn image_with_healthcheck(k: &Kist, check: Value) {
    let saved = k.run(&["save", "busybox"]);
    assert!(saved.status.success());
    let mut archive = tar::Archive::new(&saved.stdout[..]);
    let mut out = tar::Builder::new(Vec::new());
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut data).unwrap();
        if path == "manifest.json" {
            let mut m: Value = serde_json::from_slice(&data).unwrap();
            m[0]["RepoTags"] = serde_json::json!(["checked:latest"]);
            data = serde_json::to_vec(&m).unwrap();
        } else if path.ends_with(".json") && !path.contains('/') {
            let mut config: Value = serde_json::from_slice(&data).unwrap();
            config["config"]["Healthcheck"] = check.clone();
            data = serde_json::to_vec(&config).unwrap();
        }
        let mut header = entry.header().clone();
        header.set_size(data.len() as u64);
        header.set_cksum();
        out.append(&header, &data[..]).unwrap();
    }
    let tarball = out.into_inner().unwrap();
    let loaded = k.run_with_stdin(&["load"], &tarball);
    assert!(loaded.status.success(), "{}", stderr(&loaded));
}

#[test]
#[ignore = "needs root"]
fn the_image_s_healthcheck_runs_unless_disabled_and_flags_override_its_fields() {
    let k = Kist::with_busybox();
    image_with_healthcheck(
        &k,
        serde_json::json!({"Test": ["CMD", "test", "-e", "/etc/passwd"], "Interval": 100_000_000, "Retries": 1}),
    );
    k.ok(&["run", "-d", "--name", "img", "checked", "sleep", "100"]);
    wait_until("healthy", || status_of(&k, "img") == "healthy");
    // --health-cmd replaces the test; the image's interval and retries stay.
    k.ok(&[
        "run",
        "-d",
        "--name",
        "mine",
        "--health-cmd",
        "exit 1",
        "checked",
        "sleep",
        "100",
    ]);
    let check: Value = serde_json::from_str(
        k.ok(&["inspect", "-f", "{{json .Config.Healthcheck}}", "mine"])
            .trim(),
    )
    .unwrap();
    assert_eq!(
        check,
        serde_json::json!({"Test": ["CMD-SHELL", "exit 1"], "Interval": 100_000_000, "Retries": 1})
    );
    wait_until("unhealthy", || status_of(&k, "mine") == "unhealthy");
    k.ok(&[
        "run",
        "-d",
        "--name",
        "off",
        "--no-healthcheck",
        "checked",
        "sleep",
        "100",
    ]);
    assert_eq!(
        k.ok(&["inspect", "-f", "{{json .Config.Healthcheck.Test}}", "off"]),
        "[\"NONE\"]\n"
    );
    assert_eq!(health(&k, "off"), Value::Null, "no check runs");
    k.ok(&["rm", "-f", "img", "mine", "off"]);
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn a_foreground_container_is_checked_too() {
    let k = Kist::with_busybox();
    // It ends only once its check has run inside it.
    let out = k.run_with_stdin(
        &[
            "run",
            "--rm",
            "--health-cmd",
            "touch /tmp/probed",
            "--health-interval",
            "100ms",
            "busybox",
            "sh",
            "-c",
            "until [ -e /tmp/probed ]; do sleep 0.1; done; echo checked",
        ],
        b"",
    );
    assert_eq!(stdout(&out), "checked\n", "{}", stderr(&out));
    assert!(out.status.success());
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn bad_health_flags_are_refused_before_anything_exists() {
    let k = Kist::with_busybox();
    let err = k.fails(
        &[
            "run",
            "--no-healthcheck",
            "--health-cmd",
            "true",
            "busybox",
            "true",
        ],
        125,
    );
    assert!(
        err.contains("--no-healthcheck conflicts with --health-* options"),
        "{err}"
    );
    let err = k.fails(
        &[
            "run",
            "--health-cmd",
            "true",
            "--health-interval",
            "10us",
            "busybox",
            "true",
        ],
        125,
    );
    assert!(err.contains("--health-interval"), "{err}");
    let err = k.fails(
        &[
            "run",
            "--health-retries",
            "-1",
            "--health-cmd",
            "true",
            "busybox",
            "true",
        ],
        125,
    );
    assert!(err.contains("--health-retries"), "{err}");
    assert_eq!(k.ok(&["ps", "-aq"]), "");
}

#[test]
#[ignore = "needs root"]
fn a_paused_container_is_not_probed() {
    let k = Kist::with_busybox();
    k.ok(&[
        "run",
        "-d",
        "--name",
        "frozen",
        "--health-cmd",
        "true",
        "--health-interval",
        "100ms",
        "--health-timeout",
        "200ms",
        "busybox",
        "sleep",
        "100",
    ]);
    wait_until("healthy", || status_of(&k, "frozen") == "healthy");
    k.ok(&["pause", "frozen"]);
    // A probe under way when it froze ends within its timeout.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let before = health(&k, "frozen");
    // Ten intervals: a probe into the frozen container would time out and be logged.
    std::thread::sleep(std::time::Duration::from_secs(1));
    assert_eq!(health(&k, "frozen"), before, "no probe while paused");
    assert_eq!(before["Status"], "healthy");
    k.ok(&["unpause", "frozen"]);
    wait_until("probed again", || {
        health(&k, "frozen")["Log"] != before["Log"]
    });
    assert_eq!(status_of(&k, "frozen"), "healthy");
    k.ok(&["rm", "-f", "frozen"]);
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn a_created_container_is_checked_once_started_and_again_after_a_restart() {
    let k = Kist::with_busybox();
    k.ok(&[
        "create",
        "--name",
        "later",
        "--health-cmd",
        "true",
        "--health-interval",
        "100ms",
        "busybox",
        "sleep",
        "100",
    ]);
    assert_eq!(
        health(&k, "later"),
        Value::Null,
        "nothing runs before start"
    );
    k.ok(&["start", "later"]);
    wait_until("healthy", || status_of(&k, "later") == "healthy");
    let last_start = |k: &Kist| {
        let h = health(k, "later");
        h["Log"].as_array().unwrap().last().unwrap()["Start"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // Once stop returns, the check is over (the supervisor ends it before recording the exit).
    k.ok(&["stop", "-t", "0", "later"]);
    let before = last_start(&k);
    k.ok(&["start", "later"]);
    // Checked again after the new start (RFC 3339 in UTC sorts as time does).
    wait_until("a probe of the new start", || last_start(&k) > before);
    wait_until("healthy again", || status_of(&k, "later") == "healthy");
    assert_eq!(health(&k, "later")["FailingStreak"], 0);
    k.ok(&["rm", "-f", "later"]);
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn containers_checked_without_pause_are_removed_by_force() {
    let k = Kist::with_busybox();
    let names: Vec<String> = (0..6).map(|i| format!("busy{i}")).collect();
    for name in &names {
        k.ok(&[
            "run",
            "-d",
            "--name",
            name,
            "--health-cmd",
            "true",
            "--health-interval",
            "1ms",
            "busybox",
            "sleep",
            "100",
        ]);
    }
    for name in &names {
        wait_until("a result", || status_of(&k, name) == "healthy");
    }
    // Their supervisors write results while rm takes their directories away.
    let mut args = vec!["rm", "-f"];
    args.extend(names.iter().map(String::as_str));
    k.ok(&args);
    // rm returns once they are done with the store: a root removed now stays removed.
    assert_eq!(k.supervisors(), [] as [u32; 0], "supervisors outlive rm -f");
    k.assert_clean();
}
