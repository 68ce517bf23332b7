//! `kist run`: what a user sees from inside and outside a container.

mod common;
use common::*;

#[test]
#[ignore = "needs root"]
fn the_program_is_pid_1_with_its_own_hostname_and_processes() {
    let k = Kist::with_busybox();
    let out = k.ok(&[
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "echo $$; hostname; ps -o pid,comm; true",
    ]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "1");
    assert_eq!(
        lines[1].len(),
        12,
        "hostname defaults to the short id: {out}"
    );
    // Only the shell and ps itself: nothing of the host.
    let procs: Vec<&str> = lines[3..].iter().map(|l| l.trim()).collect();
    assert_eq!(procs.len(), 2, "{out}");
    assert!(procs[0].starts_with("1 "), "{out}");
    let out = k.ok(&["run", "--rm", "--hostname", "box", "busybox", "hostname"]);
    assert_eq!(out, "box\n");
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn exit_codes_follow_docker() {
    let k = Kist::with_busybox();
    k.fails(&["run", "--rm", "busybox", "sh", "-c", "exit 3"], 3);
    let err = k.fails(&["run", "--rm", "busybox", "no-such-program"], 127);
    assert!(err.contains("executable file not found"), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    let err = k.fails(&["run", "--rm", "busybox", "/etc/passwd"], 126);
    assert!(err.contains("permission denied"), "{err}");
    let err = k.fails(
        &[
            "run",
            "--rm",
            "--entrypoint",
            "/no/such/entrypoint",
            "busybox",
        ],
        127,
    );
    assert!(err.contains("no such file"), "{err}");
    // Killed by a signal: 128 + N. PID 1 cannot be killed from inside, so under --init.
    k.fails(
        &["run", "--rm", "--init", "busybox", "sh", "-c", "kill -9 $$"],
        137,
    );
    let err = k.fails(&["run", "--rm", "--pull", "never", "no-such-image"], 125);
    assert!(
        err.contains("No such image: no-such-image:latest") && err.contains("kist pull"),
        "{err}"
    );
    let err = k.fails(&["run", "--no-such-flag", "busybox"], 125);
    assert!(
        err.contains("--no-such-flag") && err.lines().count() == 1,
        "{err}"
    );
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn environment_workdir_and_user_are_docker_s() {
    let k = Kist::with_busybox();
    let env_file = k.path().join("env");
    std::fs::write(&env_file, "# settings\nB=from file\nA=overridden\n").unwrap();
    let out = k.ok(&[
        "run",
        "--rm",
        "--env-file",
        env_file.to_str().unwrap(),
        "-e",
        "A=1",
        "-w",
        "/work/dir",
        "-u",
        "nobody",
        "busybox",
        "sh",
        "-c",
        "echo $A/$B; pwd; id -u; id -g; echo $HOME; echo $PATH",
    ]);
    assert_eq!(
        out,
        "1/from file\n/work/dir\n65534\n65534\n/home\n/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"
    );
    assert_eq!(
        k.ok(&["run", "--rm", "-u", "1234:5678", "busybox", "id"]),
        "uid=1234 gid=5678 groups=5678\n"
    );
    let err = k.fails(&["run", "--rm", "-u", "nosuchuser", "busybox", "true"], 125);
    assert!(err.contains("nosuchuser"), "{err}");
    let err = k.fails(&["run", "--rm", "-e", "=x", "busybox", "true"], 125);
    assert!(err.contains("invalid environment variable"), "{err}");
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn writes_never_reach_the_image() {
    let k = Kist::with_busybox();
    k.ok(&[
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "echo x > /bin/added; rm /etc/passwd; echo y >> /etc/group",
    ]);
    let out = k.ok(&[
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "ls /bin/added; cat /etc/passwd | head -1; tail -1 /etc/group",
    ]);
    assert_eq!(out, "root:x:0:0:root:/root:/bin/sh\nnogroup:x:65534:\n");
    // The layer on disk is untouched.
    let layers = k.entries("layers");
    assert_eq!(layers.len(), 1);
    let diff = k.path().join("layers").join(&layers[0]).join("diff");
    assert!(diff.join("etc/passwd").exists());
    assert!(!diff.join("bin/added").exists());
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn the_container_sees_docker_s_devices_mounts_and_masks() {
    let k = Kist::with_busybox();
    let out = k.ok(&["run", "--rm", "busybox", "ls", "/dev"]);
    for dev in [
        "null", "zero", "full", "random", "urandom", "tty", "pts", "ptmx", "shm", "mqueue", "fd",
        "stdin", "stdout", "stderr",
    ] {
        assert!(out.lines().any(|l| l == dev), "/dev/{dev} missing: {out}");
    }
    let out = k.ok(&["run", "--rm", "busybox", "sh", "-c", "head -c 4 /dev/zero | wc -c; wc -c < /proc/timer_list; echo 1 > /proc/sys/vm/drop_caches && echo writable; touch /sys/x || true"]);
    assert!(out.starts_with("4\n0\n"), "{out}");
    assert!(!out.contains("writable"), "{out}");
    // Only stdio reaches the program: no descriptor of kist's leaks (3 is ls's own directory).
    let out = k.ok(&["run", "--rm", "busybox", "ls", "/proc/self/fd"]);
    assert_eq!(out, "0\n1\n2\n3\n");
    // /etc files are generated for the container.
    let out = k.ok(&[
        "run",
        "--rm",
        "--hostname",
        "h1",
        "busybox",
        "sh",
        "-c",
        "cat /etc/hostname; grep -c h1 /etc/hosts; test -s /etc/resolv.conf && echo resolv",
    ]);
    assert_eq!(out, "h1\n1\nresolv\n");
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn networks_none_and_host() {
    let k = Kist::with_busybox();
    let out = k.ok(&["run", "--rm", "busybox", "ls", "/sys/class/net"]);
    assert_eq!(out, "lo\n");
    let out = k.ok(&[
        "run",
        "--rm",
        "busybox",
        "cat",
        "/sys/class/net/lo/operstate",
    ]);
    assert_eq!(
        out.trim(),
        "unknown",
        "lo is up (its operstate reads unknown when up)"
    );
    let out = k.ok(&[
        "run",
        "--rm",
        "busybox",
        "ping",
        "-c",
        "1",
        "-W",
        "1",
        "127.0.0.1",
    ]);
    assert!(out.contains("1 packets received"), "{out}");
    let host: Vec<String> = std::fs::read_dir("/sys/class/net")
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let out = k.ok(&[
        "run",
        "--rm",
        "--network",
        "host",
        "busybox",
        "ls",
        "/sys/class/net",
    ]);
    assert_eq!(out.lines().count(), host.len(), "{out}");
    // An unknown network is refused before anything is made (the bridge tests, which make
    // devices, run in a namespace of their own: tests/network.rs).
    let e = k.fails(
        &["run", "--rm", "--network", "nosuchnet", "busybox", "true"],
        125,
    );
    assert_eq!(e, "kist: network nosuchnet not found\n");
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn read_only_root() {
    let k = Kist::with_busybox();
    let out = k.run(&["run", "--rm", "--read-only", "busybox", "touch", "/x"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("Read-only file system"),
        "{}",
        stderr(&out)
    );
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn stdin_reaches_the_program_only_with_i() {
    let k = Kist::with_busybox();
    let out = k.run_with_stdin(
        &["run", "--rm", "-i", "busybox", "sh", "-c", "cat; echo done"],
        b"hello\nworld\n",
    );
    assert_eq!(stdout(&out), "hello\nworld\ndone\n");
    let out = k.run_with_stdin(
        &["run", "--rm", "busybox", "sh", "-c", "cat; echo done"],
        b"ignored\n",
    );
    assert_eq!(stdout(&out), "done\n");
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn stdout_and_stderr_stay_apart() {
    let k = Kist::with_busybox();
    let out = k.run(&[
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "echo out; echo err >&2",
    ]);
    assert_eq!(stdout(&out), "out\n");
    assert_eq!(stderr(&out), "err\n");
}

#[test]
#[ignore = "needs root"]
fn signals_sent_to_kist_reach_the_container() {
    let k = Kist::with_busybox();
    let mut child = k
        .command(&[
            "run",
            "--rm",
            "--init",
            "busybox",
            "sh",
            "-c",
            "trap 'echo got TERM; exit 7' TERM; echo ready; while true; do sleep 0.05; done",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
    assert_eq!(line, "ready\n");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap()),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = child.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    assert_eq!(rest, "got TERM\n");
    assert_eq!(status.code(), Some(7));
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn init_is_pid_1_and_reaps_orphans() {
    let k = Kist::with_busybox();
    let out = k.ok(&[
        "run",
        "--rm",
        "--init",
        "busybox",
        "sh",
        "-c",
        "echo $$; (sleep 0.1 &); sleep 0.6; ps -o stat,comm | grep -c '^Z' || true",
    ]);
    assert_eq!(
        out, "2\n0\n",
        "the shell is not PID 1 and no zombie is left"
    );
}

#[test]
#[ignore = "needs root"]
fn names_are_unique() {
    let k = Kist::with_busybox();
    k.ok(&["run", "--name", "web", "busybox", "true"]);
    let err = k.fails(&["run", "--name", "web", "busybox", "true"], 125);
    assert!(err.contains("already in use"), "{err}");
    assert_eq!(k.ok(&["ps", "-aq"]).lines().count(), 1);
    let ps = k.ok(&["ps", "-a"]);
    assert!(
        ps.starts_with("CONTAINER ID   IMAGE     COMMAND   CREATED"),
        "{ps}"
    );
    assert!(ps.contains("Exited (0)") && ps.contains("web"), "{ps}");
    let err = k.fails(&["run", "--name", "bad/name", "busybox", "true"], 125);
    assert!(err.contains("invalid container name"), "{err}");
    k.ok(&["rm", "web"]);
    k.assert_clean();
}

/// `docker run --rm --name x ...` in one terminal, `docker exec x sh` in another: the most
/// common way in. kist kept no launch configuration for a foreground --rm container, so exec
/// into one failed.
#[test]
#[ignore = "needs root"]
fn exec_reaches_a_foreground_rm_container() {
    let k = Kist::with_busybox();
    let mut fg = k
        .command(&["run", "--rm", "--name", "fg", "busybox", "sleep", "30"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_until("the container runs", || {
        k.ok(&["ps", "--format", "{{.Names}}"]) == "fg\n"
    });
    assert_eq!(k.ok(&["exec", "fg", "echo", "inside"]), "inside\n");
    k.ok(&["stop", "-t", "0", "fg"]);
    fg.wait().unwrap();
    assert_eq!(k.ok(&["ps", "-aq"]), "", "--rm removed it");
}
