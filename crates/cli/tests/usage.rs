//! The command line as a Docker user types it: help, typos, unknown flags, missing arguments,
//! Docker's booleans. Those that stop at parsing run no container and need no root.

mod common;

use std::process::{Command, Output, Stdio};

use common::{KIST, Kist, stderr, stdout};

/// kist with a root of its own that parsing never opens.
fn kist(args: &[&str]) -> Output {
    let root = tempfile::tempdir().unwrap();
    Command::new(KIST)
        .args(args)
        .env("KIST_ROOT", root.path())
        .env("KIST_DEFAULT_NETWORK", "none")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// A usage error: one line on stderr, nothing on stdout, status 125.
fn usage_error(args: &[&str]) -> String {
    let out = kist(args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(125), "kist {args:?}: {err}");
    assert_eq!(stdout(&out), "", "kist {args:?}");
    assert_eq!(err.lines().count(), 1, "kist {args:?}: {err}");
    err.trim_end().to_string()
}

#[test]
fn help_is_printed_on_stdout_with_status_0() {
    for args in [
        &[][..],
        &["help"],
        &["--help"],
        &["image"],
        &["help", "run"],
    ] {
        let out = kist(args);
        assert_eq!(out.status.code(), Some(0), "kist {args:?}");
        assert!(
            stdout(&out).contains("Usage: kist"),
            "kist {args:?}: {}",
            stdout(&out)
        );
    }
    assert!(stdout(&kist(&["help", "run"])).contains("Usage: kist run"));
}

#[test]
fn a_mistyped_command_gets_the_nearest_one() {
    assert_eq!(
        usage_error(&["imagess"]),
        "kist: unknown command: kist imagess; did you mean images?; see 'kist --help'"
    );
    assert_eq!(
        usage_error(&["volume", "lss"]),
        "kist: unknown command: kist volume lss; did you mean ls?; see 'kist volume --help'"
    );
}

#[test]
fn a_bad_flag_points_at_the_command_s_help() {
    assert_eq!(
        usage_error(&["ps", "--bogus"]),
        "kist: unknown flag: --bogus; see 'kist ps --help'"
    );
    assert_eq!(
        usage_error(&["--root", "/tmp", "image", "ls", "--al"]),
        "kist: unknown flag: --al; did you mean --all?; see 'kist image ls --help'"
    );
    assert_eq!(
        usage_error(&["stop", "--time", "soon", "c"]),
        "kist: invalid argument \"soon\" for \"--time\" flag: invalid digit found in string; see 'kist stop --help'"
    );
    assert_eq!(
        usage_error(&["logs", "--tail"]),
        "kist: flag needs an argument: --tail; see 'kist logs --help'"
    );
}

#[test]
fn a_missing_argument_is_named() {
    assert_eq!(
        usage_error(&["inspect"]),
        "kist: 'kist inspect' requires <NAME|ID>...; see 'kist inspect --help'"
    );
    assert_eq!(
        usage_error(&["rename", "old"]),
        "kist: 'kist rename' requires <NEW_NAME>; see 'kist rename --help'"
    );
}

#[test]
fn flags_before_the_image_are_kist_s() {
    assert_eq!(
        usage_error(&["run", "--rm", "-j", "8080:80", "busybox"]),
        "kist: unknown flag: -j; see 'kist run --help'"
    );
    assert_eq!(
        usage_error(&["exec", "-x", "c", "ls"]),
        "kist: unknown flag: -x; see 'kist exec --help'"
    );
}

#[test]
fn booleans_take_docker_s_values() {
    assert_eq!(
        usage_error(&["run", "--rm=maybe", "busybox"]),
        "kist: invalid argument \"maybe\" for \"--rm\" flag: strconv.ParseBool: parsing \"maybe\": invalid syntax; see 'kist run --help'"
    );
    for args in [
        &["ps", "-a=false", "-q"][..],
        &["ps", "--all=true"],
        &["ps", "-aq=0"],
    ] {
        let out = kist(args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "kist {args:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
#[ignore = "needs root"]
fn everything_after_the_image_is_the_program_s() {
    let k = Kist::with_busybox();
    assert_eq!(
        k.ok(&["run", "--rm", "busybox", "echo", "-p", "--rm=false", "-d"]),
        "-p --rm=false -d\n"
    );
    let err = k.fails(&["run", "--rm", "busybox", "--bogus"], 127);
    assert!(
        err.contains("\"--bogus\": executable file not found"),
        "{err}"
    );
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn booleans_are_turned_on_and_off_as_docker_s() {
    let k = Kist::with_busybox();
    // -d=false runs in the foreground; --rm=true removes; -i=true passes stdin; -t=false
    // gives no terminal.
    let out = k.run_with_stdin(
        &[
            "run",
            "-d=false",
            "--rm=true",
            "-i=true",
            "-t=false",
            "busybox",
            "sh",
            "-c",
            "cat; [ -t 0 ] || echo no-tty",
        ],
        b"in\n",
    );
    assert_eq!(stdout(&out), "in\nno-tty\n", "{}", stderr(&out));
    let id = k.ok(&["run", "--detach=true", "--rm=false", "busybox", "true"]);
    k.ok(&["wait", id.trim()]);
    assert_eq!(k.ok(&["ps", "-aq", "--no-trunc=true"]).trim(), id.trim());
    k.ok(&["rm", id.trim()]);
    k.assert_clean();
}

/// `kist ARGS | head ...` in bash: kist's status and stderr, and what head printed.
fn into_head(k: &Kist, args: &str, head: &str) -> (String, String, String) {
    let script = format!(
        "{KIST} {args} 2>/tmp/kist-head-err.$$ | {head}; s=${{PIPESTATUS[0]}}; \
         echo; echo \"status $s\"; cat /tmp/kist-head-err.$$ >&2; rm -f /tmp/kist-head-err.$$"
    );
    let out = Command::new("bash")
        .args(["-c", &script])
        .env("KIST_ROOT", k.path())
        .env("KIST_CGROUP_PARENT", &k.cgroup_parent)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = stdout(&out);
    let (printed, status) = text.rsplit_once("\nstatus ").unwrap();
    (printed.to_string(), status.trim().to_string(), stderr(&out))
}

#[test]
#[ignore = "needs root"]
fn a_reader_that_goes_away_ends_kist_quietly() {
    let k = Kist::with_busybox();
    for i in 0..8 {
        k.ok(&["run", "--name", &format!("c{i}"), "busybox", "true"]);
    }
    for _ in 0..100 {
        let (printed, status, err) = into_head(&k, "ps -a", "head -c 10");
        assert_eq!(
            (printed.as_str(), status.as_str(), err.as_str()),
            ("CONTAINER ", "0", "")
        );
    }
    k.ok(&[
        "run", "-d", "--name", "counter", "busybox", "seq", "1", "100000",
    ]);
    k.ok(&["wait", "counter"]);
    let (printed, status, err) = into_head(&k, "logs counter", "head -1");
    assert_eq!(
        (printed.as_str(), status.as_str(), err.as_str()),
        ("1\n", "0", "")
    );
    k.ok(&["rm", "counter"]);
    for i in 0..8 {
        k.ok(&["rm", &format!("c{i}")]);
    }
    k.assert_clean();
}

#[test]
fn completions_and_man_pages_come_from_the_same_definitions() {
    let bash = kist(&["completion", "bash"]);
    assert_eq!(bash.status.code(), Some(0), "{}", stderr(&bash));
    assert!(stdout(&bash).contains("--cap-add"), "{}", stdout(&bash));
    for shell in ["zsh", "fish"] {
        let out = kist(&["completion", shell]);
        assert!(
            stdout(&out).contains("cap-add"),
            "{shell}: {}",
            stderr(&out)
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let out = kist(&["__man", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // roff writes a hyphen as \-.
    let page = std::fs::read_to_string(dir.path().join("kist-run.1")).unwrap();
    assert!(page.replace("\\-", "-").contains("--cap-add"), "{page}");
    for page in ["kist.1", "kist-image-ls.1", "kist-volume-ls.1"] {
        assert!(dir.path().join(page).exists(), "{page}");
    }
    assert!(!dir.path().join("kist-__supervise.1").exists());
}

/// kist's status for `args`, and its stderr, which is one line.
fn status(args: &[&str]) -> i32 {
    let out = kist(args);
    assert_eq!(
        stderr(&out).lines().count(),
        1,
        "kist {args:?}: {}",
        stderr(&out)
    );
    out.status.code().unwrap()
}

#[test]
fn failures_exit_as_docker_s() {
    for args in [
        &["inspect", "nothing"][..],
        &["logs", "nothing"],
        &["rm", "nothing"],
        &["rmi", "nothing"],
        &["history", "nothing"],
        &["start", "nothing"],
        &["volume", "rm", "nothing"],
        &["ps", "--filter", "colour=red"],
        // What Docker's daemon refuses, exec and start -a exit 1 for too.
        &["exec", "nothing", "ls"],
        &["start", "-a", "nothing"],
    ] {
        assert_eq!(status(args), 1, "kist {args:?}");
    }
    // Those that run a program exit 125 for kist's own failures.
    assert_eq!(status(&["run", "Bad:Name"]), 125);
}
