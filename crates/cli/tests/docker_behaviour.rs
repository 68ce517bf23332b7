//! Where kist behaves as Docker does for scripts and habits: `--rm` with `-d`, foreground
//! logs, prune's question, exec into a paused container, start of a running one, parallel
//! stop, limits checked against the host, `cp` with tar streams, `-it` without a terminal.

mod common;
use common::*;
use std::io::Read;

#[test]
#[ignore = "needs root"]
fn run_d_rm_removes_the_container_and_its_anonymous_volume_when_it_exits() {
    let k = Kist::with_busybox();
    k.ok(&[
        "run",
        "-d",
        "--rm",
        "--name",
        "brief",
        "-v",
        "/anon",
        "busybox",
        "sh",
        "-c",
        "touch /anon/x; sleep 0.3; exit 3",
    ]);
    wait_until("the container is removed", || {
        k.ok(&["ps", "-aq"]).is_empty()
    });
    assert_eq!(
        k.ok(&["volume", "ls", "-q"]),
        "",
        "its anonymous volume went"
    );
    k.fails(&["inspect", "brief"], 1);
    // Stopped, it goes too; stop still reports it.
    k.ok(&[
        "run", "-d", "--rm", "--name", "stopped", "busybox", "sleep", "1000",
    ]);
    assert_eq!(k.ok(&["stop", "stopped"]), "stopped\n");
    wait_until("the stopped container is removed", || {
        k.ok(&["ps", "-aq"]).is_empty()
    });
    assert!(supervisors(&k).is_empty(), "no supervisor is left");
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn a_foreground_run_is_logged() {
    let k = Kist::with_busybox();
    let out = k.run(&[
        "run",
        "--name",
        "talker",
        "busybox",
        "sh",
        "-c",
        "echo out; echo err >&2; printf partial",
    ]);
    assert_eq!(stdout(&out), "out\npartial");
    assert_eq!(stderr(&out), "err\n");
    let logs = k.run(&["logs", "talker"]);
    assert_eq!(stdout(&logs), "out\npartial", "stdout is in the log");
    assert_eq!(stderr(&logs), "err\n", "stderr is in the log, apart");
    // With a terminal, its output is the log's stdout.
    k.ok(&["run", "-t", "--name", "tty", "busybox", "echo", "on-a-tty"]);
    assert!(
        k.ok(&["logs", "tty"]).contains("on-a-tty"),
        "the terminal's output is logged"
    );
    k.ok(&["rm", "talker", "tty"]);
    k.assert_clean();
}

/// stdout of a command given `input` on stdin.
fn answered(k: &Kist, args: &[&str], input: &str) -> String {
    let out = k.run_with_stdin(args, input.as_bytes());
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    stdout(&out)
}

const QUESTION: &str = "Are you sure you want to continue? [y/N] ";

#[test]
#[ignore = "needs root"]
fn prune_asks_and_removes_nothing_without_a_yes() {
    let k = Kist::with_busybox();
    k.ok(&["run", "--name", "done", "busybox", "true"]);
    for (command, warning) in [
        (
            vec!["container", "prune"],
            "WARNING! This will remove all stopped containers.\n",
        ),
        (vec!["system", "prune"], "WARNING! This will remove:\n"),
    ] {
        // No answer (stdin ends) and "n" are no; the question is on stdout, as Docker asks it.
        for input in ["", "n\n", "yep\n"] {
            let out = answered(&k, &command, input);
            assert!(
                out.starts_with(warning) && out.contains(QUESTION),
                "{out:?}"
            );
            assert_eq!(
                k.ok(&["ps", "-aq"]).lines().count(),
                1,
                "{command:?} {input:?}"
            );
        }
    }
    let out = answered(&k, &["container", "prune"], "yes\n");
    assert!(out.contains("Deleted Containers:"), "{out}");
    assert_eq!(k.ok(&["ps", "-aq"]), "");
    k.ok(&["run", "--name", "done", "busybox", "true"]);
    let out = k.ok(&["container", "prune", "-f"]);
    assert!(
        !out.contains(QUESTION) && out.contains("Deleted Containers:"),
        "{out}"
    );
    // image prune -a: busybox is unused now.
    let out = answered(&k, &["image", "prune", "-a"], "");
    assert!(
        out.starts_with("WARNING! This will remove all images without at least one container associated to them.\n"),
        "{out:?}"
    );
    assert!(k.ok(&["images"]).contains("busybox"), "kept without a yes");
    answered(&k, &["image", "prune", "-a"], "y\n");
    assert!(!k.ok(&["images"]).contains("busybox"), "removed on y");
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn volume_prune_asks_and_takes_named_volumes_only_with_all() {
    let k = Kist::with_busybox();
    k.ok(&["volume", "create", "named"]);
    // An anonymous volume, left behind by rm without -v.
    k.ok(&["run", "--name", "anon", "-v", "/data", "busybox", "true"]);
    k.ok(&["rm", "anon"]);
    let volumes = || k.ok(&["volume", "ls", "-q"]).lines().count();
    assert_eq!(volumes(), 2);
    let out = answered(&k, &["volume", "prune"], "");
    assert!(
        out.starts_with("WARNING! This will remove anonymous local volumes not used by at least one container.\n")
            && out.ends_with(QUESTION),
        "{out:?}"
    );
    assert_eq!(volumes(), 2, "nothing without a yes");
    let out = answered(&k, &["volume", "prune"], "y\n");
    assert!(out.contains("Deleted Volumes:"), "{out}");
    assert_eq!(
        k.ok(&["volume", "ls", "-q"]),
        "named\n",
        "only the anonymous one"
    );
    let out = answered(&k, &["volume", "prune", "-a"], "");
    assert!(out.contains("remove all local volumes"), "{out}");
    assert_eq!(volumes(), 1);
    assert_eq!(
        k.ok(&["volume", "prune", "-a", "-f"]),
        "Deleted Volumes:\nnamed\n"
    );
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn exec_into_a_paused_container_fails_at_once_and_start_of_a_running_one_is_a_no_op() {
    let k = Kist::with_busybox();
    let id = k.ok(&["run", "-d", "--name", "frozen", "busybox", "sleep", "1000"]);
    k.ok(&["pause", "frozen"]);
    // With a watchdog: before, this hung.
    let out = k.run_with_stdin(&["exec", "frozen", "true"], b"");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "Container {} is paused, unpause the container before exec",
            id.trim()
        )),
        "{}",
        stderr(&out)
    );
    k.ok(&["unpause", "frozen"]);
    k.ok(&["exec", "frozen", "true"]);
    // Docker's exit status for what its daemon refuses: 1.
    k.fails(&["exec", "nosuch", "true"], 1);
    // start of a running container: its name, status 0, and it runs on, the same process.
    let pid = k.ok(&["inspect", "-f", "{{.State.Pid}}", "frozen"]);
    assert_eq!(k.ok(&["start", "frozen"]), "frozen\n");
    assert_eq!(k.ok(&["inspect", "-f", "{{.State.Pid}}", "frozen"]), pid);
    k.ok(&["rm", "-f", "frozen"]);
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn stop_stops_several_containers_at_once() {
    let k = Kist::with_busybox();
    let shared = tempfile::tempdir().unwrap();
    let volume = format!("{}:/shared", shared.path().display());
    let names = ["one", "two", "three"];
    for name in names {
        // Each notes its SIGTERM, then ignores it: only the SIGKILL after -t ends it.
        let script = format!("trap 'touch /shared/{name}' TERM; while true; do sleep 0.1; done");
        k.ok(&[
            "run", "-d", "--name", name, "-v", &volume, "busybox", "sh", "-c", &script,
        ]);
    }
    let mut stop = k
        .command(&["stop", "-t", "5", "one", "two", "three"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // One at a time, the first would be killed 5 s before the third got its SIGTERM: here
    // all three have theirs while all three still run.
    wait_until("every container got SIGTERM", || {
        names.iter().all(|n| shared.path().join(n).exists())
    });
    assert_eq!(
        k.ok(&["ps", "-q"]).lines().count(),
        3,
        "all three were signalled before any was killed"
    );
    let mut out = String::new();
    stop.stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert!(stop.wait().unwrap().success());
    assert_eq!(out, "one\ntwo\nthree\n", "each name, in the order given");
    assert_eq!(k.ok(&["ps", "-q"]), "");
    k.ok(&["rm", "one", "two", "three"]);
    k.assert_clean();
}

/// The host's online CPUs as the kernel lists them, and how many.
fn online_cpus() -> (String, usize) {
    let listed = std::fs::read_to_string("/sys/devices/system/cpu/online").unwrap();
    let listed = listed.trim().to_string();
    let count = listed
        .split(',')
        .map(|r| match r.split_once('-') {
            Some((a, b)) => b.parse::<usize>().unwrap() - a.parse::<usize>().unwrap() + 1,
            None => 1,
        })
        .sum();
    (listed, count)
}

#[test]
#[ignore = "needs root"]
fn memory_zero_is_no_limit_and_cpus_beyond_the_host_are_refused() {
    let k = Kist::with_busybox();
    k.ok(&["run", "--name", "unlimited", "-m", "0", "busybox", "true"]);
    assert_eq!(
        k.ok(&["inspect", "-f", "{{.HostConfig.Memory}}", "unlimited"]),
        "0\n"
    );
    k.ok(&["rm", "unlimited"]);
    let (listed, count) = online_cpus();
    let too_many = (count + 1).to_string();
    let err = k.fails(&["run", "--cpus", &too_many, "busybox", "true"], 125);
    assert!(
        err.contains(&format!("as there are only {count} CPUs available")),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    let beyond = (count + 7).to_string();
    let err = k.fails(&["run", "--cpuset-cpus", &beyond, "busybox", "true"], 125);
    assert!(
        err.contains(&format!("requested {beyond}, available: {listed}")),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    k.ok(&["run", "--rm", "--cpuset-cpus", "0", "busybox", "true"]);
    k.assert_clean();
}

/// The entries of a tar archive: (path, contents of regular files).
fn tar_entries(bytes: &[u8]) -> Vec<(String, String)> {
    let mut archive = tar::Archive::new(bytes);
    archive
        .entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let path = e.path().unwrap().to_string_lossy().into_owned();
            let path = path.trim_end_matches('/').to_string();
            let mut content = String::new();
            if e.header().entry_type() == tar::EntryType::Regular {
                e.read_to_string(&mut content).unwrap();
            }
            (path, content)
        })
        .collect()
}

#[test]
#[ignore = "needs root"]
fn cp_streams_tar_archives_out_and_in() {
    let k = Kist::with_busybox();
    k.ok(&[
        "run",
        "-d",
        "--name",
        "box",
        "busybox",
        "sh",
        "-c",
        "mkdir -p /data/sub /dest && echo hi > /data/sub/f && ln -s /etc /data/link && sleep 1000",
    ]);
    wait_until("the files exist", || {
        k.run(&["exec", "box", "test", "-L", "/data/link"])
            .status
            .success()
    });
    let out = k.run(&["cp", "box:/data", "-"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let entries = tar_entries(&out.stdout);
    let names: Vec<&str> = entries.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        names,
        ["data", "data/link", "data/sub", "data/sub/f"],
        "{entries:?}"
    );
    assert!(entries.contains(&("data/sub/f".into(), "hi\n".into())));
    let out = k.run(&["cp", "box:/data/sub/f", "-"]);
    assert_eq!(
        tar_entries(&out.stdout),
        [("f".to_string(), "hi\n".to_string())]
    );
    k.fails(&["cp", "box:/nothing", "-"], 1);

    // In: a stream whose names try to leave the directory stays inside it.
    let mut builder = tar::Builder::new(Vec::new());
    let mut add = |path: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        h.set_entry_type(tar::EntryType::Regular);
        // Raw names: the tar crate refuses to write `..` through its checked setters.
        let name = &mut h.as_old_mut().name;
        name[..path.len()].copy_from_slice(path.as_bytes());
        h.set_cksum();
        builder.append(&h, data).unwrap();
    };
    add("new/file", b"in\n");
    add("../escaped", b"out\n");
    let archive = builder.into_inner().unwrap();
    let out = k.run_with_stdin(&["cp", "-", "box:/dest"], &archive);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(k.ok(&["exec", "box", "cat", "/dest/new/file"]), "in\n");
    assert_eq!(
        k.ok(&["exec", "box", "cat", "/dest/escaped"]),
        "out\n",
        "`..` resolved inside the directory"
    );
    assert!(
        !k.run(&["exec", "box", "test", "-e", "/escaped"])
            .status
            .success()
    );
    let out = k.run_with_stdin(&["cp", "-", "box:/data/sub/f"], &archive);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not a directory"), "{}", stderr(&out));
    k.ok(&["rm", "-f", "box"]);
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn it_without_a_terminal_is_refused_and_creates_nothing() {
    let k = Kist::with_busybox();
    for args in [
        vec!["run", "-it", "busybox", "true"],
        vec!["run", "-i", "-t", "--name", "x", "busybox", "true"],
    ] {
        let err = k.fails(&args, 1);
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains("the input device is not a TTY"), "{err}");
    }
    assert_eq!(k.ok(&["ps", "-aq"]), "");
    k.assert_clean();
    k.ok(&["run", "-d", "--name", "up", "busybox", "sleep", "1000"]);
    let err = k.fails(&["exec", "-it", "up", "true"], 1);
    assert!(err.contains("the input device is not a TTY"), "{err}");
    // -t alone, or -d, needs no terminal.
    k.ok(&["exec", "-t", "up", "true"]);
    k.ok(&["rm", "-f", "up"]);
    k.assert_clean();
}
