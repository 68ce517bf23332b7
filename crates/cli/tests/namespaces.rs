//! `--pid`, `--ipc` and `--uts`: a container in the host's namespaces or another container's,
//! seen from inside (`/proc/self/ns`) against the host's view of the same namespaces.

mod common;
use common::*;

/// What `/proc/PID/ns/NS` names, seen from the host.
fn ns(pid: &str, which: &str) -> String {
    std::fs::read_link(format!("/proc/{pid}/ns/{which}"))
        .unwrap()
        .display()
        .to_string()
}

/// The commands `kist top` lists for a container.
fn commands(k: &Kist, name: &str) -> Vec<String> {
    k.ok(&["top", name])
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().skip(3).collect::<Vec<_>>().join(" "))
        .collect()
}

fn host_config(k: &Kist, name: &str) -> serde_json::Value {
    let out = k.ok(&["inspect", name]);
    serde_json::from_str::<serde_json::Value>(&out).unwrap()[0]["HostConfig"].clone()
}

#[test]
#[ignore = "needs root"]
fn a_container_joins_another_containers_pid_and_ipc_namespaces() {
    let k = Kist::with_busybox();
    k.ok(&[
        "run",
        "-d",
        "--name",
        "donor",
        "--ipc",
        "shareable",
        "busybox",
        "sh",
        "-c",
        "echo from-donor > /dev/shm/seg; exec sleep 300",
    ]);
    wait_until("the donor's segment", || {
        k.run(&["exec", "donor", "test", "-e", "/dev/shm/seg"])
            .status
            .success()
    });
    let pid = k.ok(&["inspect", "-f", "{{.State.Pid}}", "donor"]);
    let pid = pid.trim();
    let out = k.ok(&[
        "run",
        "--name",
        "joiner",
        "--pid",
        "container:donor",
        "--ipc",
        "container:donor",
        "busybox",
        "sh",
        "-c",
        "for n in pid ipc uts; do readlink /proc/self/ns/$n; done; ps -o pid,args; \
         cat /dev/shm/seg; echo from-joiner > /dev/shm/back",
    ]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], ns(pid, "pid"), "{out}");
    assert_eq!(lines[1], ns(pid, "ipc"), "{out}");
    assert_ne!(lines[2], ns(pid, "uts"), "its own UTS namespace: {out}");
    // The donor's program is PID 1 of the namespace both are in.
    assert!(lines.iter().any(|l| l.trim() == "1 sleep 300"), "{out}");
    // The donor's /dev/shm goes with its IPC namespace, both ways.
    assert!(lines.contains(&"from-donor"), "{out}");
    assert_eq!(
        k.ok(&["exec", "donor", "cat", "/dev/shm/back"]),
        "from-joiner\n"
    );
    let hc = host_config(&k, "joiner");
    assert_eq!(hc["PidMode"], "container:donor");
    assert_eq!(hc["IpcMode"], "container:donor");
    assert_eq!(host_config(&k, "donor")["IpcMode"], "shareable");
    // top tells the two apart though they share the namespace.
    k.ok(&[
        "run",
        "-d",
        "--name",
        "joiner2",
        "--pid",
        "container:donor",
        "busybox",
        "sleep",
        "301",
    ]);
    assert_eq!(commands(&k, "joiner2"), ["sleep 301"]);
    assert_eq!(commands(&k, "donor"), ["sleep 300"]);
    k.ok(&["rm", "-f", "donor", "joiner", "joiner2"]);
}

#[test]
#[ignore = "needs root"]
fn host_namespaces_are_the_hosts() {
    let k = Kist::with_busybox();
    let out = k.ok(&[
        "run",
        "--name",
        "hosted",
        "--pid",
        "host",
        "--ipc",
        "host",
        "--uts",
        "host",
        "busybox",
        "sh",
        "-c",
        "for n in pid ipc uts; do readlink /proc/self/ns/$n; done; hostname; \
         grep ' /dev/shm ' /proc/self/mountinfo",
    ]);
    let me = std::process::id().to_string();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[..3],
        [ns(&me, "pid"), ns(&me, "ipc"), ns(&me, "uts")],
        "{out}"
    );
    let host_name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(lines[3], host_name.trim());
    // The host's /dev/shm, not a tmpfs named shm of its own.
    assert!(!lines[4].contains(" - tmpfs shm "), "{out}");
    let hc = host_config(&k, "hosted");
    assert_eq!(
        (&hc["PidMode"], &hc["IpcMode"], &hc["UTSMode"]),
        (&"host".into(), &"host".into(), &"host".into())
    );
    // top shows its processes, not every process of the host.
    k.ok(&[
        "run", "-d", "--name", "hostd", "--pid", "host", "busybox", "sleep", "302",
    ]);
    assert_eq!(commands(&k, "hostd"), ["sleep 302"]);
    k.ok(&["rm", "-f", "hostd"]);
    // By default each is the container's own, and Docker's modes say so.
    let out = k.ok(&[
        "run",
        "--name",
        "own",
        "busybox",
        "sh",
        "-c",
        "readlink /proc/self/ns/pid; readlink /proc/self/ns/ipc",
    ]);
    let lines: Vec<&str> = out.lines().collect();
    assert_ne!(lines[0], ns(&me, "pid"));
    assert_ne!(lines[1], ns(&me, "ipc"));
    let hc = host_config(&k, "own");
    assert_eq!(
        (&hc["PidMode"], &hc["IpcMode"], &hc["UTSMode"]),
        (&"".into(), &"private".into(), &"".into())
    );
    // --ipc none: no /dev/shm at all.
    let out = k.run(&["run", "--rm", "--ipc", "none", "busybox", "ls", "/dev/shm"]);
    assert!(stderr(&out).contains("No such file"), "{}", stderr(&out));
}

#[test]
#[ignore = "needs root"]
fn namespaces_that_cannot_be_joined_are_refused_and_nothing_is_made() {
    let k = Kist::with_busybox();
    k.ok(&["run", "-d", "--name", "private", "busybox", "sleep", "300"]);
    k.ok(&[
        "run",
        "-d",
        "--name",
        "tracer",
        "--cap-add",
        "SYS_PTRACE",
        "busybox",
        "sleep",
        "300",
    ]);
    // The host's own value: were the refusal to fail, nothing would change.
    let shmmax = std::fs::read_to_string("/proc/sys/kernel/shmmax").unwrap();
    let same_shmmax = format!("kernel.shmmax={}", shmmax.trim());
    k.ok(&["run", "--name", "stopped", "busybox", "true"]);
    let stopped = k.ok(&["inspect", "-f", "{{.Id}}", "stopped"]);
    for (args, says) in [
        (
            vec!["--pid", "container:stopped"],
            format!(
                "cannot join PID of a non running container: {}",
                stopped.trim()
            ),
        ),
        (
            vec!["--ipc", "container:stopped"],
            format!(
                "cannot join IPC of a non running container: {}",
                stopped.trim()
            ),
        ),
        (
            vec!["--ipc", "container:private"],
            "non-shareable IPC (hint: use IpcMode:shareable for the donor container)".into(),
        ),
        (
            vec!["--pid", "container:nosuch"],
            "no such container: nosuch".into(),
        ),
        (vec!["--pid", "bogus"], "--pid".into()),
        (vec!["--uts", "container:private"], "--uts".into()),
        (
            vec!["--uts", "host", "-h", "box"],
            "--hostname and --uts host".into(),
        ),
        (
            vec!["--ipc", "host", "--shm-size", "1m"],
            "--shm-size".into(),
        ),
        (
            vec!["--ipc", "host", "--sysctl", &same_shmmax],
            "--sysctl kernel.shmmax cannot be used with --ipc host".into(),
        ),
    ] {
        let mut cmd = vec!["run", "--rm"];
        cmd.extend(&args);
        cmd.extend(["busybox", "true"]);
        let err = k.fails(&cmd, 125);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(&says), "{args:?}: {err}");
    }
    let mut all: Vec<String> = k
        .ok(&["ps", "-a", "--format", "{{.Names}}"])
        .lines()
        .map(String::from)
        .collect();
    all.sort();
    assert_eq!(all, ["private", "stopped", "tracer"]);
    k.ok(&["rm", "-f", "private", "stopped", "tracer"]);
}

/// The donor is found again at each start: after it restarted (a new process, a new PID
/// namespace), a created container joins the new one.
#[test]
#[ignore = "needs root"]
fn a_container_joins_its_donor_as_it_is_when_it_starts() {
    let k = Kist::with_busybox();
    k.ok(&["run", "-d", "--name", "donor", "busybox", "sleep", "300"]);
    k.ok(&[
        "create",
        "--name",
        "later",
        "--pid",
        "container:donor",
        "busybox",
        "ps",
        "-o",
        "pid,args",
    ]);
    let before = k.ok(&["inspect", "-f", "{{.State.Pid}}", "donor"]);
    k.ok(&["restart", "-t", "0", "donor"]);
    let after = k.ok(&["inspect", "-f", "{{.State.Pid}}", "donor"]);
    assert_ne!(before, after);
    let out = k.ok(&["start", "-a", "later"]);
    assert!(
        out.lines().any(|l| l.trim() == "1 sleep 300"),
        "the donor's program is PID 1 where it runs: {out}"
    );
    // A donor that is not running is named at start, with Docker's words.
    k.ok(&["stop", "-t", "0", "donor"]);
    let out = k.run(&["start", "-a", "later"]);
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cannot join PID of a non running container"),
        "{}",
        stderr(&out)
    );
    k.ok(&["rm", "-f", "donor", "later"]);
}
