//! `-a`/`--attach` (which streams a foreground run shows) and `--sig-proxy` (whether the
//! signals sent to the `kist run` process reach the container), with real signals sent by pid
//! to the kist process each test starts.

mod common;
use common::*;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Stdio};

#[test]
#[ignore = "needs root"]
fn attach_shows_only_the_streams_asked_for() {
    let k = Kist::with_busybox();
    let script = "echo to-stdout; echo to-stderr >&2";
    let out = k.run(&["run", "--rm", "-a", "stdout", "busybox", "sh", "-c", script]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        (stdout(&out), stderr(&out)),
        ("to-stdout\n".into(), "".into())
    );
    let out = k.run(&["run", "--rm", "-a", "STDERR", "busybox", "sh", "-c", script]);
    assert_eq!(
        (stdout(&out), stderr(&out)),
        ("".into(), "to-stderr\n".into())
    );
    // stdin attached only when asked: -i with -a stdout leaves the program without input.
    let out = k.run_with_stdin(
        &["run", "--rm", "-i", "-a", "stdout", "busybox", "cat"],
        b"typed\n",
    );
    assert_eq!(stdout(&out), "");
    let out = k.run_with_stdin(
        &[
            "run", "--name", "att", "-i", "-a", "stdin", "-a", "stdout", "busybox", "cat",
        ],
        b"typed\n",
    );
    assert_eq!(stdout(&out), "typed\n");
    // Not shown is not lost: the log has every stream, as Docker's has.
    k.ok(&[
        "run", "--name", "logged", "-a", "stdout", "busybox", "sh", "-c", script,
    ]);
    let logs = k.run(&["logs", "logged"]);
    assert_eq!(
        (stdout(&logs), stderr(&logs)),
        ("to-stdout\n".into(), "to-stderr\n".into())
    );
    let config = k.ok(&[
        "inspect",
        "-f",
        "{{.Config.AttachStdin}} {{.Config.AttachStdout}} {{.Config.AttachStderr}}",
        "att",
    ]);
    assert_eq!(config.trim(), "true true false");
    for (args, says) in [
        (
            vec!["-a", "stdtoe"],
            "valid streams are STDIN, STDOUT and STDERR",
        ),
        (vec!["-d", "-a", "stdout"], "-a and -d"),
    ] {
        let mut cmd = vec!["run", "--rm"];
        cmd.extend(&args);
        cmd.extend(["busybox", "true"]);
        let err = k.fails(&cmd, 125);
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

/// A foreground run of a program that reports the signals it gets, up to its "ready".
fn start_reporting(k: &Kist, extra: &[&str]) -> (Child, BufReader<std::process::ChildStdout>) {
    use std::os::unix::process::CommandExt;
    let script = "trap 'echo got-usr1' USR1; trap 'echo got-term; exit 3' TERM; echo ready; \
                  while true; do sleep 0.1; done";
    let mut args = vec!["run", "--rm", "--name", "signalled"];
    args.extend(extra);
    args.extend(["busybox", "sh", "-c", script]);
    // kist leads a process group of its own, as a shell runs a foreground job: a terminal's
    // Ctrl-C goes to that whole group.
    let mut child = k
        .command(&args)
        .process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");
    (child, out)
}

/// Sends `signal` to kist's process group, as a terminal does for Ctrl-C.
fn send_to_group(child: &Child, signal: i32) {
    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: kill(2) with plain integers, to the process group this test made for kist.
    assert_eq!(unsafe { libc::kill(-pid, signal) }, 0);
}

fn send(child: &Child, signal: i32) {
    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: kill(2) with plain integers, to the kist process this test started.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
}

/// Whether `signal` sent to `pid` is still waiting to be read (kist reads its signals from a
/// signalfd, which takes them off the pending set).
fn pending(pid: u32, signal: i32) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let mask = status
        .lines()
        .find_map(|l| l.strip_prefix("ShdPnd:"))
        .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
        .unwrap_or(0);
    mask & (1 << (signal - 1)) != 0
}

#[test]
#[ignore = "needs root"]
fn a_foreground_run_passes_its_signals_on() {
    let k = Kist::with_busybox();
    let (mut child, mut out) = start_reporting(&k, &[]);
    send(&child, libc::SIGUSR1);
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "got-usr1\n");
    // A signal to kist's whole group (a terminal's) reaches the program, through kist.
    send_to_group(&child, libc::SIGUSR1);
    line.clear();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "got-usr1\n");
    send(&child, libc::SIGTERM);
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "got-term\n");
    assert_eq!(child.wait().unwrap().code(), Some(3));
}

#[test]
#[ignore = "needs root"]
fn sig_proxy_false_keeps_the_signals_from_the_container() {
    let k = Kist::with_busybox();
    let (mut child, mut out) = start_reporting(&k, &["--sig-proxy=false"]);
    send(&child, libc::SIGUSR1);
    send(&child, libc::SIGTERM);
    // Nor does what a terminal sends kist's whole group: the container is not in it.
    send_to_group(&child, libc::SIGINT);
    wait_until("kist to take its signals", || {
        [libc::SIGUSR1, libc::SIGTERM, libc::SIGINT]
            .iter()
            .all(|s| !pending(child.id(), *s))
    });
    // Neither reached the container, and neither ended kist: both still run.
    assert!(child.try_wait().unwrap().is_none(), "kist ended");
    assert!(
        k.ok(&["ps", "--format", "{{.Names}}"])
            .contains("signalled"),
        "the container ended"
    );
    k.ok(&["kill", "signalled"]);
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "", "the program reported a signal");
    assert_eq!(child.wait().unwrap().code(), Some(137));
}
