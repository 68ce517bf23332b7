//! Detached containers: run -d, ps, logs, stop, kill, wait, start, restart, rename, rm -f.

mod common;
use common::*;
use std::time::Duration;

#[test]
#[ignore = "needs root"]
fn run_d_prints_the_id_and_the_container_outlives_kist() {
    let k = Kist::with_busybox();
    let id = k.ok(&[
        "run",
        "-d",
        "--name",
        "ticker",
        "busybox",
        "sh",
        "-c",
        "echo out; echo err >&2; trap 'exit 3' TERM; while true; do sleep 0.05; done",
    ]);
    let id = id.trim();
    assert_eq!(id.len(), 64, "{id}");
    let ps = k.ok(&["ps"]);
    assert!(
        ps.contains(&id[..12]) && ps.contains("Up ") && ps.contains("ticker"),
        "{ps}"
    );
    wait_until("the output in the log", || {
        k.ok(&["logs", "ticker"]) == "out\n"
    });
    let out = k.run(&["logs", "ticker"]);
    assert_eq!(stdout(&out), "out\n");
    assert_eq!(stderr(&out), "err\n");
    let with_time = k.ok(&["logs", "-t", "ticker"]);
    assert!(
        with_time.starts_with("20") && with_time.contains("Z out\n"),
        "{with_time}"
    );
    // stop: SIGTERM, which the trap turns into exit 3; recorded before stop returns.
    assert_eq!(k.ok(&["stop", "ticker"]), "ticker\n");
    let ps = k.ok(&["ps", "-a"]);
    assert!(ps.contains("Exited (3)"), "{ps}");
    assert_eq!(k.ok(&["ps", "-q"]), "");
    // Logs survive the exit; the container starts again with its write layer as it was.
    assert_eq!(k.ok(&["logs", "ticker"]), "out\n");
    k.ok(&["rm", "ticker"]);
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn the_write_layer_survives_a_restart() {
    let k = Kist::with_busybox();
    k.ok(&[
        "run",
        "-d",
        "--name",
        "keeper",
        "busybox",
        "sh",
        "-c",
        "test -e /count || echo 0 > /count; n=$(cat /count); echo $((n+1)) > /count; cat /count",
    ]);
    assert_eq!(k.ok(&["wait", "keeper"]), "0\n");
    k.ok(&["start", "keeper"]);
    assert_eq!(k.ok(&["wait", "keeper"]), "0\n");
    assert_eq!(k.ok(&["logs", "keeper"]), "1\n2\n");
    // start -a prints the new output and exits with the container's status.
    let out = k.run(&["start", "-a", "keeper"]);
    assert_eq!(stdout(&out), "3\n");
    assert_eq!(out.status.code(), Some(0));
    k.ok(&["rm", "keeper"]);
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn kill_wait_rename_and_rm_f() {
    let k = Kist::with_busybox();
    // Under --init: as PID 1 of its namespace, sleep would ignore a signal it has no handler for.
    k.ok(&[
        "run", "-d", "--init", "--name", "sleeper", "busybox", "sleep", "1000",
    ]);
    assert_eq!(k.ok(&["kill", "-s", "USR1", "sleeper"]), "sleeper\n");
    assert_eq!(k.ok(&["wait", "sleeper"]), "138\n");
    k.ok(&["rename", "sleeper", "dreamer"]);
    assert!(k.ok(&["ps", "-a"]).contains("dreamer"));
    k.ok(&["start", "dreamer"]);
    let err = k.fails(&["rm", "dreamer"], 1);
    assert!(err.contains("running") && err.contains("rm -f"), "{err}");
    k.ok(&["rm", "-f", "dreamer"]);
    k.assert_clean();
    // Its supervisor is gone too.
    wait_until("the supervisor to exit", || {
        !std::fs::read_dir("/proc").unwrap().flatten().any(|e| {
            std::fs::read(e.path().join("cmdline")).is_ok_and(|c| {
                let c = String::from_utf8_lossy(&c);
                c.contains("__supervise") && c.contains(&*k.path().to_string_lossy())
            })
        })
    });
}

#[test]
#[ignore = "needs root"]
fn bad_input_changes_nothing() {
    let k = Kist::with_busybox();
    k.ok(&["run", "--name", "done", "busybox", "true"]);
    // Stopping one that is not running is done already, as in Docker; killing it is not.
    assert_eq!(k.ok(&["stop", "done"]), "done\n");
    let err = k.fails(&["kill", "done"], 1);
    assert!(err.contains("not running"), "{err}");
    let err = k.fails(&["kill", "-s", "NOPE", "done"], 1);
    assert!(err.contains("invalid signal"), "{err}");
    let err = k.fails(&["logs", "nosuch"], 1);
    assert!(err.contains("no such container"), "{err}");
    let err = k.fails(&["start", "nosuch"], 1);
    assert!(err.contains("no such container"), "{err}");
    k.ok(&["run", "-d", "--name", "up", "busybox", "sleep", "100"]);
    // Docker's start of a running container: nothing to do, and not a failure.
    assert_eq!(k.ok(&["start", "up"]), "up\n");
    let err = k.fails(&["rename", "up", "done"], 1);
    assert!(err.contains("already in use"), "{err}");
    let err = k.fails(
        &["run", "-d", "--restart", "sometimes", "busybox", "true"],
        125,
    );
    assert!(err.contains("restart policy"), "{err}");
    // A detached container whose program is missing fails like a foreground one.
    let err = k.fails(&["run", "-d", "busybox", "no-such-program"], 127);
    assert!(err.contains("executable file not found"), "{err}");
    k.ok(&["rm", "-f", "up", "done"]);
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn restart_policies_restart_failures_but_not_stops() {
    let k = Kist::with_busybox();
    k.ok(&[
        "run",
        "-d",
        "--name",
        "flaky",
        "--restart",
        "on-failure:2",
        "busybox",
        "sh",
        "-c",
        "echo run; exit 1",
    ]);
    wait_until("two restarts", || {
        k.ok(&["logs", "flaky"]) == "run\nrun\nrun\n"
    });
    wait_until("the last exit", || {
        k.ok(&["ps", "-a"]).contains("Exited (1)")
    });
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        k.ok(&["logs", "flaky"]),
        "run\nrun\nrun\n",
        "on-failure:2 restarts twice"
    );
    k.ok(&[
        "run",
        "-d",
        "--name",
        "always",
        "--restart",
        "always",
        "busybox",
        "sleep",
        "1000",
    ]);
    k.ok(&["stop", "-t", "1", "always"]);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        k.ok(&["ps", "-q"]),
        "",
        "a stopped container is not restarted"
    );
    k.ok(&["rm", "flaky", "always"]);
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn logs_follow_ends_when_the_container_exits_and_rotate() {
    let k = Kist::with_busybox();
    k.ok(&[
        "run",
        "-d",
        "--name",
        "talker",
        "--log-opt",
        "max-size=1k",
        "--log-opt",
        "max-file=2",
        "busybox",
        "sh",
        "-c",
        "sleep 0.3; for i in $(seq 200); do echo line $i; done",
    ]);
    let out = k.command(&["logs", "-f", "talker"]).output().unwrap();
    let text = stdout(&out);
    assert!(text.ends_with("line 200\n"), "{text}");
    // In order, each line once (with 1 KiB files, lines may rotate away between two reads).
    let numbers: Vec<u32> = text.lines().map(|l| l[5..].parse().unwrap()).collect();
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{numbers:?}");
    let logs = k.ok(&["logs", "--tail", "2", "talker"]);
    assert_eq!(logs, "line 199\nline 200\n");
    let dir = k
        .path()
        .join("containers")
        .join(k.ok(&["ps", "-aq", "--no-trunc"]).trim());
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("json.log"))
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");
    k.ok(&["rm", "talker"]);
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn exec_enters_the_running_container() {
    let k = Kist::with_busybox();
    k.ok(&[
        "run",
        "-d",
        "--name",
        "box",
        "-e",
        "FROM_RUN=1",
        "busybox",
        "sh",
        "-c",
        "echo hi > /tmp/mark; sleep 1000",
    ]);
    wait_until("the container to write its mark", || {
        k.run(&["exec", "box", "test", "-e", "/tmp/mark"])
            .status
            .success()
    });
    // Same filesystem, PID namespace (the exec'd process shows, next to PID 1), hostname, env.
    let out = k.ok(&[
        "exec",
        "box",
        "sh",
        "-c",
        "cat /tmp/mark; ps -o pid,comm | grep -c .; echo $FROM_RUN; hostname",
    ]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "hi");
    assert_eq!(lines[1], "5", "header, sleep (1), sh, ps, grep: {out}");
    assert_eq!(lines[2], "1");
    assert_eq!(
        lines[3],
        k.ok(&["inspect", "-f", "{{.Config.Hostname}}", "box"])
            .trim()
    );
    assert_eq!(
        k.ok(&[
            "exec",
            "-e",
            "X=2",
            "-w",
            "/tmp",
            "-u",
            "nobody",
            "box",
            "sh",
            "-c",
            "echo $X $(pwd) $(id -u)"
        ]),
        "2 /tmp 65534\n"
    );
    let out = k.run_with_stdin(&["exec", "-i", "box", "cat"], b"piped\n");
    assert_eq!(stdout(&out), "piped\n");
    k.fails(&["exec", "box", "sh", "-c", "exit 7"], 7);
    k.fails(&["exec", "box", "no-such-program"], 127);
    let err = k.fails(&["exec", "box"], 125);
    assert!(err.contains("needs a command"), "{err}");
    k.ok(&["stop", "-t", "0", "box"]);
    // Docker's CLI exits 1 for what its daemon refuses.
    let err = k.fails(&["exec", "box", "true"], 1);
    assert!(err.contains("not running"), "{err}");
    k.ok(&["rm", "box"]);
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn inspect_shows_docker_s_fields() {
    let k = Kist::with_busybox();
    k.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "-v",
        "data:/data",
        "--restart",
        "on-failure:3",
        "busybox",
        "sleep",
        "1000",
    ]);
    let v: serde_json::Value = serde_json::from_str(&k.ok(&["inspect", "web"])).unwrap();
    let c = &v[0];
    assert_eq!(c["Name"], "/web");
    assert_eq!(c["State"]["Status"], "running");
    assert_eq!(c["State"]["Running"], true);
    assert!(c["State"]["Pid"].as_i64().unwrap() > 1);
    assert_eq!(c["Path"], "sleep");
    assert_eq!(c["Args"], serde_json::json!(["1000"]));
    assert_eq!(c["HostConfig"]["RestartPolicy"]["Name"], "on-failure");
    assert_eq!(c["Mounts"].as_array().unwrap().len(), 1, "{}", c["Mounts"]);
    assert_eq!(c["Mounts"][0]["Name"], "data");
    assert!(
        c["GraphDriver"]["Data"]["UpperDir"]
            .as_str()
            .unwrap()
            .ends_with("/upper")
    );
    assert_eq!(
        k.ok(&[
            "inspect",
            "--format",
            "{{.State.Status}} {{json .Config.Cmd}}",
            "web"
        ]),
        "running [\"sleep\",\"1000\"]\n"
    );
    k.ok(&["stop", "-t", "0", "web"]);
    assert_eq!(
        k.ok(&[
            "inspect",
            "-f",
            "{{.State.Status}} {{.State.ExitCode}} {{.State.Pid}}",
            "web"
        ]),
        "exited 137 0\n"
    );
    let img: serde_json::Value = serde_json::from_str(&k.ok(&["inspect", "busybox"])).unwrap();
    assert_eq!(img[0]["RepoTags"], serde_json::json!(["busybox:latest"]));
    assert_eq!(img[0]["Os"], "linux");
    let err = k.fails(&["inspect", "-f", "{{.State.Nope}}", "web"], 1);
    assert!(err.contains("Nope"), "{err}");
    let err = k.fails(&["inspect", "nothing"], 1);
    assert!(err.contains("no such object"), "{err}");
    k.ok(&["rm", "web"]);
    k.ok(&["volume", "rm", "data"]);
    k.assert_clean();
}

fn sigkill(pid: i32) {
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    );
}

#[test]
#[ignore = "needs root"]
fn a_killed_supervisor_takes_its_container_and_the_next_command_records_it() {
    let k = Kist::with_busybox();
    k.ok(&["run", "-d", "--name", "orphan", "busybox", "sleep", "1000"]);
    let pid: i32 = k
        .ok(&["inspect", "-f", "{{.State.Pid}}", "orphan"])
        .trim()
        .parse()
        .unwrap();
    for s in supervisors(&k) {
        sigkill(s);
    }
    wait_until("the container to die with its supervisor", || {
        !std::path::Path::new(&format!("/proc/{pid}")).exists()
    });
    let ps = k.ok(&["ps", "-a"]);
    assert!(ps.contains("Exited (137)"), "{ps}");
    let state = k.ok(&["inspect", "-f", "{{.State.Error}}", "orphan"]);
    assert!(state.contains("killed"), "a recorded reason: {state}");
    // And it can be started again.
    k.ok(&["start", "orphan"]);
    assert!(k.ok(&["ps"]).contains("orphan"));
    k.ok(&["rm", "-f", "orphan"]);
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn after_a_reboot_containers_show_exited_and_boot_starts_the_always_ones() {
    let k = Kist::with_busybox();
    k.ok(&[
        "run",
        "-d",
        "--name",
        "always",
        "--restart",
        "always",
        "busybox",
        "sleep",
        "1000",
    ]);
    k.ok(&[
        "run",
        "-d",
        "--name",
        "plain",
        "busybox",
        "sh",
        "-c",
        "echo $(cat /etc/hostname) > /tmp/h; sleep 1000",
    ]);
    k.ok(&[
        "run",
        "-d",
        "--name",
        "stopped",
        "--restart",
        "unless-stopped",
        "busybox",
        "sleep",
        "1000",
    ]);
    k.ok(&["stop", "-t", "0", "stopped"]);
    // The reboot: every process gone, the runtime directory emptied.
    for s in supervisors(&k) {
        sigkill(s);
    }
    wait_until("the supervisors to go", || supervisors(&k).is_empty());
    std::fs::remove_dir_all(k.path().join("run")).unwrap();
    let ps = k.ok(&["ps", "-a"]);
    assert_eq!(ps.matches("Exited").count(), 3, "{ps}");
    assert_eq!(k.ok(&["system", "boot"]), "always\n");
    let running = k.ok(&["ps", "--format", "{{.Names}}"]);
    assert_eq!(running, "always\n");
    k.ok(&["start", "plain"]);
    let h = k.ok(&["exec", "plain", "cat", "/etc/hostname"]);
    assert_eq!(
        h.trim().len(),
        12,
        "the generated files are written again: {h}"
    );
    k.ok(&["rm", "-f", "always", "plain", "stopped"]);
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn ps_filters_formats_and_labels() {
    let k = Kist::with_busybox();
    k.ok(&[
        "run",
        "--name",
        "one",
        "--label",
        "tier=front",
        "busybox",
        "true",
    ]);
    k.ok(&[
        "run",
        "-d",
        "--name",
        "two",
        "--label",
        "tier=back",
        "busybox",
        "sleep",
        "100",
    ]);
    k.fails(
        &["run", "--name", "three", "busybox", "sh", "-c", "exit 2"],
        2,
    );
    assert_eq!(k.ok(&["ps", "--format", "{{.Names}}"]), "two\n");
    assert_eq!(
        k.ok(&["ps", "-a", "--format", "{{.Names}} {{.State}}"]),
        "three exited\ntwo running\none exited\n"
    );
    assert_eq!(
        k.ok(&["ps", "-n", "2", "--format", "{{.Names}}"]),
        "three\ntwo\n"
    );
    assert_eq!(k.ok(&["ps", "-l", "--format", "{{.Names}}"]), "three\n");
    assert_eq!(
        k.ok(&["ps", "--filter", "status=exited", "--format", "{{.Names}}"]),
        "three\none\n"
    );
    assert_eq!(
        k.ok(&[
            "ps",
            "-a",
            "--filter",
            "label=tier=front",
            "--format",
            "{{.Names}}"
        ]),
        "one\n"
    );
    assert_eq!(
        k.ok(&[
            "ps",
            "-a",
            "-f",
            "label=tier",
            "-f",
            "name=t",
            "--format",
            "{{.Names}}"
        ]),
        "two\n"
    );
    assert_eq!(
        k.ok(&["ps", "-a", "-f", "ancestor=busybox", "-q"])
            .lines()
            .count(),
        3
    );
    let id = k.ok(&["ps", "-aq", "-f", "name=one"]);
    assert_eq!(
        k.ok(&[
            "ps",
            "-a",
            "-f",
            &format!("id={}", id.trim()),
            "--format",
            "{{.Names}}"
        ]),
        "one\n"
    );
    let err = k.fails(&["ps", "-f", "colour=red"], 1);
    assert!(err.contains("invalid filter"), "{err}");
    let err = k.fails(&["ps", "--format", "{{.Nope}}"], 1);
    assert!(err.contains("Nope"), "{err}");
    // An ambiguous id prefix names the candidates.
    k.ok(&["rm", "-f", "one", "two", "three"]);
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn diff_top_prune_df_and_rm_v() {
    let k = Kist::with_busybox();
    k.ok(&[
        "run",
        "--name",
        "changer",
        "busybox",
        "sh",
        "-c",
        "echo x > /etc/added; echo y >> /etc/group; rm /bin/ls; mkdir -p /new/dir",
    ]);
    assert_eq!(
        k.ok(&["diff", "changer"]),
        "C /bin\nD /bin/ls\nC /etc\nA /etc/added\nC /etc/group\nA /new\nA /new/dir\n"
    );
    k.ok(&[
        "run",
        "-d",
        "--name",
        "busy",
        "-v",
        "/anon",
        "busybox",
        "sh",
        "-c",
        "sleep 1000 & wait",
    ]);
    let top = k.ok(&["top", "busy"]);
    assert!(
        top.starts_with("UID") && top.contains("sleep 1000") && top.contains("sh -c"),
        "{top}"
    );
    let df = k.ok(&["system", "df"]);
    let fields: Vec<Vec<&str>> = df.lines().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(&fields[1][..3], &["Images", "1", "1"], "{df}");
    assert_eq!(&fields[2][..3], &["Containers", "2", "1"], "{df}");
    assert_eq!(&fields[3][..4], &["Local", "Volumes", "1", "1"], "{df}");
    assert_eq!(
        k.ok(&["container", "prune", "-f"]).lines().count(),
        2,
        "deletes changer only"
    );
    // rm without -v keeps the anonymous volume; with -v it goes.
    k.ok(&["rm", "-f", "busy"]);
    assert_eq!(k.ok(&["volume", "ls", "-q"]).lines().count(), 1);
    k.ok(&[
        "run", "-d", "--name", "busy2", "-v", "/anon", "busybox", "sleep", "1000",
    ]);
    k.ok(&["rm", "-f", "-v", "busy2"]);
    assert_eq!(
        k.ok(&["volume", "ls", "-q"]).lines().count(),
        1,
        "busy2's own anonymous volume went with it"
    );
    k.ok(&["volume", "prune", "-f"]);
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn exec_d_attach_and_logs_since() {
    let k = Kist::with_busybox();
    k.ok(&[
        "run",
        "-d",
        "--name",
        "host",
        "busybox",
        "sh",
        "-c",
        "echo early; sleep 1000",
    ]);
    wait_until("early output", || k.ok(&["logs", "host"]) == "early\n");
    // exec -d returns at once; its process runs on in the container.
    k.ok(&[
        "exec",
        "-d",
        "host",
        "sh",
        "-c",
        "sleep 0.3; touch /tmp/done",
    ]);
    assert!(
        !k.run(&["exec", "host", "test", "-e", "/tmp/done"])
            .status
            .success()
    );
    wait_until("the detached exec to finish", || {
        k.run(&["exec", "host", "test", "-e", "/tmp/done"])
            .status
            .success()
    });
    // --since: nothing was logged after now.
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(k.ok(&["logs", "--since", "1s", "host"]), "");
    assert_eq!(k.ok(&["logs", "--until", "1s", "host"]), "early\n");
    let err = k.fails(&["logs", "--since", "whenever", "host"], 1);
    assert!(err.contains("invalid time"), "{err}");
    k.ok(&["rm", "-f", "host"]);
    // attach follows the output from now on and exits with the container's status.
    k.ok(&[
        "run",
        "-d",
        "--name",
        "talker",
        "busybox",
        "sh",
        "-c",
        "echo before; sleep 0.5; echo after; exit 4",
    ]);
    wait_until("before", || k.ok(&["logs", "talker"]).contains("before"));
    let out = k.run(&["attach", "talker"]);
    assert_eq!(stdout(&out), "after\n");
    assert_eq!(out.status.code(), Some(4));
    let err = k.fails(&["attach", "talker"], 1);
    assert!(err.contains("not running"), "{err}");
    k.ok(&["rm", "talker"]);
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn attach_and_start_i_pass_stdin_to_an_interactive_container() {
    let k = Kist::with_busybox();
    k.ok(&[
        "run",
        "-d",
        "-i",
        "--name",
        "reader",
        "busybox",
        "sh",
        "-c",
        "read line; echo got $line",
    ]);
    wait_until("the attach socket", || {
        std::fs::read_dir(k.path().join("run/containers"))
            .is_ok_and(|mut d| d.any(|e| e.is_ok_and(|e| e.path().join("attach.sock").exists())))
    });
    let out = k.run_with_stdin(&["attach", "reader"], b"hello\n");
    assert_eq!(stdout(&out), "got hello\n");
    assert_eq!(out.status.code(), Some(0));
    // start -i: started again, fed from stdin, its output and status returned.
    let out = k.run_with_stdin(&["start", "-a", "-i", "reader"], b"again\n");
    assert_eq!(stdout(&out), "got again\n", "{}", stderr(&out));
    assert_eq!(out.status.code(), Some(0));
    k.ok(&["rm", "reader"]);
    k.assert_clean();
}
