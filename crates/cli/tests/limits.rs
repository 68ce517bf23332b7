//! Resource limits through cgroups, as a user sees them.

mod common;
use common::*;
use std::time::Duration;

#[test]
fn a_container_past_its_memory_limit_is_oom_killed() {
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
    assert_eq!(
        k.ok(&[
            "inspect",
            "-f",
            "{{.State.OOMKilled}} {{.State.ExitCode}}",
            "hog"
        ]),
        "true 137\n"
    );
    // Within its limit, it runs.
    k.ok(&[
        "run",
        "--rm",
        "-m",
        "32m",
        "busybox",
        "dd",
        "if=/dev/zero",
        "of=/dev/null",
        "bs=8M",
        "count=1",
    ]);
    k.ok(&["rm", "hog"]);
    k.assert_clean();
}

#[test]
fn pids_limit_stops_a_fork_loop_and_cpuset_pins() {
    let k = Kist::with_busybox();
    // The fork loop is stopped: busybox's sh gives up with status 2 when fork fails.
    let out = k.run(&[
        "run",
        "--rm",
        "--pids-limit",
        "20",
        "busybox",
        "sh",
        "-c",
        "i=0; while [ $i -lt 40 ]; do sleep 5 & i=$((i+1)); done; echo all-forked",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("can't fork"), "{}", stderr(&out));
    assert!(!stdout(&out).contains("all-forked"));
    assert_eq!(
        k.ok(&[
            "run",
            "--rm",
            "--cpuset-cpus",
            "0",
            "busybox",
            "sh",
            "-c",
            "grep Cpus_allowed_list /proc/self/status | cut -f2"
        ]),
        "0\n"
    );
    k.assert_clean();
}

#[test]
fn pause_freezes_and_unpause_thaws() {
    let k = Kist::with_busybox();
    k.ok(&[
        "run",
        "-d",
        "--name",
        "counter",
        "busybox",
        "sh",
        "-c",
        "i=0; while true; do i=$((i+1)); echo $i > /tmp/n; sleep 0.02; done",
    ]);
    let count = || {
        k.ok(&["exec", "counter", "cat", "/tmp/n"])
            .trim()
            .parse::<u64>()
            .unwrap_or(0)
    };
    wait_until("the counter to run", || count() > 3);
    k.ok(&["pause", "counter"]);
    assert!(k.ok(&["ps"]).contains("(Paused)"));
    assert_eq!(
        k.ok(&[
            "inspect",
            "-f",
            "{{.State.Status}} {{.State.Paused}}",
            "counter"
        ]),
        "paused true\n"
    );
    let err = k.fails(&["pause", "counter"], 1);
    assert!(err.contains("already paused"), "{err}");
    let n = std::fs::read_dir(k.path().join("containers"))
        .map(|_| ())
        .ok();
    let _ = n;
    k.ok(&["unpause", "counter"]);
    let before = count();
    wait_until("the counter to move again", || count() > before + 2);
    let err = k.fails(&["unpause", "counter"], 1);
    assert!(err.contains("not paused"), "{err}");
    // exec'd processes join the container's cgroup.
    let id = k.ok(&["inspect", "-f", "{{.Id}}", "counter"]);
    let cg = k.ok(&["exec", "counter", "grep", "memory", "/proc/self/cgroup"]);
    assert!(
        cg.trim()
            .ends_with(&format!("{}/{}", k.cgroup_parent, id.trim())),
        "{cg}"
    );
    k.ok(&["rm", "-f", "counter"]);
    k.assert_clean();
}

#[test]
fn malformed_limits_are_refused_before_anything_is_made() {
    let k = Kist::with_busybox();
    for (args, why) in [
        (vec!["-m", "1k"], "minimum memory"),
        (vec!["-m", "lots"], "invalid size"),
        (vec!["--cpus", "-1"], "--cpus"),
        (vec!["--cpuset-cpus", "a-b"], "invalid cpuset"),
        (vec!["--memory-swap", "1g"], "needs --memory"),
        (
            vec!["-m", "64m", "--memory-swap", "32m"],
            "at least --memory",
        ),
    ] {
        let mut full = vec!["run", "--rm"];
        full.extend(args.iter());
        full.extend(["busybox", "true"]);
        let err = k.fails(&full, 125);
        assert!(err.contains(why), "{args:?}: {err}");
    }
    k.assert_clean();
    std::thread::sleep(Duration::from_millis(10));
}

#[test]
fn ulimits_and_oom_score_adj_reach_the_program_and_exec() {
    let k = Kist::with_busybox();
    let out = k.ok(&[
        "run",
        "--rm",
        "--ulimit",
        "nofile=100:200",
        "--oom-score-adj",
        "300",
        "busybox",
        "sh",
        "-c",
        "ulimit -n; ulimit -Hn; cat /proc/self/oom_score_adj",
    ]);
    assert_eq!(out, "100\n200\n300\n");
    k.ok(&[
        "run", "-d", "--name", "lim", "--ulimit", "nproc=77", "busybox", "sleep", "1000",
    ]);
    assert_eq!(k.ok(&["exec", "lim", "sh", "-c", "ulimit -u"]), "77\n");
    k.ok(&["rm", "-f", "lim"]);
    let err = k.fails(
        &["run", "--rm", "--ulimit", "files=1", "busybox", "true"],
        125,
    );
    assert!(err.contains("unknown limit"), "{err}");
    let err = k.fails(
        &["run", "--rm", "--oom-score-adj", "5000", "busybox", "true"],
        125,
    );
    assert!(err.contains("between -1000 and 1000"), "{err}");
    k.assert_clean();
}
