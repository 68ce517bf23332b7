//! Resource limits through cgroups, as a user sees them.

mod common;
use common::*;
use std::time::Duration;

#[test]
#[ignore = "needs root"]
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
#[ignore = "needs root"]
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
#[ignore = "needs root"]
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
#[ignore = "needs root"]
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
        (
            vec!["--memory-reservation", "1k"],
            "minimum memory reservation",
        ),
        (
            vec!["-m", "32m", "--memory-reservation", "64m"],
            "must be below --memory",
        ),
        (vec!["--cpu-period", "10"], "--cpu-period"),
        (vec!["--cpu-quota", "500"], "--cpu-quota"),
        (vec!["--cpus", "1", "--cpu-quota", "50000"], "conflicting"),
        (vec!["--blkio-weight", "5"], "between 10 and 1000"),
        (vec!["--cgroupns", "bogus"], "use host or private"),
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
#[ignore = "needs root"]
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

#[test]
#[ignore = "needs root"]
fn every_limit_lands_in_its_cgroup_file() {
    let k = Kist::with_busybox();
    let id = k.ok(&[
        "run",
        "-d",
        "--memory-reservation",
        "32m",
        "--cpu-period",
        "50000",
        "--cpu-quota",
        "25000",
        "-c",
        "512",
        "--blkio-weight",
        "300",
        "--pids-limit",
        "50",
        "busybox",
        "sleep",
        "1000",
    ]);
    let id = id.trim();
    assert_eq!(
        k.cgroup_file("memory", id, "memory.soft_limit_in_bytes"),
        "33554432"
    );
    assert_eq!(k.cgroup_file("cpu", id, "cpu.cfs_period_us"), "50000");
    assert_eq!(k.cgroup_file("cpu", id, "cpu.cfs_quota_us"), "25000");
    assert_eq!(k.cgroup_file("cpu", id, "cpu.shares"), "512");
    assert_eq!(k.cgroup_file("pids", id, "pids.max"), "50");
    let weight = k.cgroup_dir("blkio", id);
    let weight = ["blkio.bfq.weight", "blkio.weight"]
        .iter()
        .find_map(|f| std::fs::read_to_string(weight.join(f)).ok())
        .expect("a blkio weight file");
    // blkio.bfq.weight reads "default 300".
    assert!(weight.trim().ends_with("300"), "{weight}");
    assert_eq!(
        k.ok(&[
            "inspect",
            "-f",
            "{{.HostConfig.MemoryReservation}} {{.HostConfig.CpuQuota}} {{.HostConfig.BlkioWeight}} {{.HostConfig.PidsLimit}}",
            id
        ]),
        "33554432 25000 300 50\n"
    );
    k.ok(&["rm", "-f", id]);
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn cpus_holds_a_busy_loop_near_its_share() {
    let k = Kist::with_busybox();
    let id = k.ok(&[
        "run",
        "-d",
        "--name",
        "spin",
        "--cpus",
        "0.5",
        "busybox",
        "sh",
        "-c",
        "while :; do :; done",
    ]);
    let id = id.trim();
    let usage = || {
        k.cgroup_file("cpuacct", id, "cpuacct.usage")
            .parse::<u64>()
            .unwrap()
    };
    std::thread::sleep(Duration::from_millis(500));
    let (before, start) = (usage(), std::time::Instant::now());
    std::thread::sleep(Duration::from_secs(3));
    let cores = (usage() - before) as f64 / start.elapsed().as_nanos() as f64;
    // Unbounded, the loop takes a whole core; the other tests share the machine meanwhile.
    assert!(
        (0.25..=0.6).contains(&cores),
        "the loop used {cores:.2} cores"
    );
    // `stats` shows the same, as a percentage of one CPU.
    let line = k.ok(&[
        "stats",
        "--no-stream",
        "--format",
        "{{.Name}} {{.CPUPerc}} {{.PIDs}}",
        "spin",
    ]);
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert_eq!((fields[0], fields[2]), ("spin", "1"), "{line}");
    let percent: f64 = fields[1].trim_end_matches('%').parse().unwrap();
    assert!((20.0..=62.0).contains(&percent), "{line}");
    k.ok(&["rm", "-f", "spin"]);
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn stats_shows_dockers_columns_for_running_containers() {
    let k = Kist::with_busybox();
    k.ok(&[
        "run", "-d", "--name", "s1", "-m", "64m", "busybox", "sleep", "1000",
    ]);
    k.ok(&["run", "--name", "done", "busybox", "true"]);
    let table = k.ok(&["stats", "--no-stream"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 2, "only the running container: {table}");
    // Docker's tabwriter: columns at least 10 wide, 3 spaces apart.
    assert!(
        lines[0].starts_with("CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT"),
        "{table}"
    );
    let header: Vec<&str> = lines[0]
        .split("  ")
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .collect();
    assert_eq!(
        header,
        [
            "CONTAINER ID",
            "NAME",
            "CPU %",
            "MEM USAGE / LIMIT",
            "MEM %",
            "NET I/O",
            "BLOCK I/O",
            "PIDS"
        ]
    );
    assert!(lines[1].contains(" s1 "), "{table}");
    assert!(lines[1].contains(" / 64MiB "), "{table}");
    assert_eq!(
        k.ok(&[
            "stats",
            "--no-stream",
            "--format",
            "table {{.Name}}\t{{.PIDs}}"
        ]),
        "NAME      PIDS\ns1        1\n"
    );
    // A stopped container named: no figures, but a line.
    let out = k.ok(&[
        "stats",
        "--no-stream",
        "--format",
        "{{.Name}} {{.CPUPerc}}",
        "done",
    ]);
    assert_eq!(out, "done --\n");
    let err = k.fails(&["stats", "--no-stream", "nosuch"], 1);
    assert!(err.contains("nosuch"), "{err}");
    k.ok(&["rm", "-f", "s1", "done"]);
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn update_changes_the_limits_of_a_running_container() {
    let k = Kist::with_busybox();
    k.ok(&[
        "run",
        "-d",
        "--name",
        "upd",
        "-m",
        "256m",
        "--cgroupns",
        "private",
        "busybox",
        "sleep",
        "1000",
    ]);
    let limit_inside = || {
        k.ok(&[
            "exec",
            "upd",
            "cat",
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",
        ])
    };
    assert_eq!(limit_inside(), "268435456\n");
    let hog = [
        "exec",
        "upd",
        "dd",
        "if=/dev/zero",
        "of=/dev/null",
        "bs=64M",
        "count=1",
    ];
    k.ok(&hog);
    assert_eq!(k.ok(&["update", "-m", "32m", "upd"]), "upd\n");
    // The container sees the new limit, and an allocation past it is killed.
    assert_eq!(limit_inside(), "33554432\n");
    k.fails(&hog, 137);
    assert_eq!(
        k.ok(&[
            "inspect",
            "-f",
            "{{.HostConfig.Memory}} {{.State.Status}}",
            "upd"
        ]),
        "33554432 running\n"
    );
    // Bad values change nothing.
    let err = k.fails(&["update", "-m", "1k", "upd"], 1);
    assert!(err.contains("minimum memory"), "{err}");
    assert_eq!(limit_inside(), "33554432\n");
    // A stopped container gets its new limits when it starts again.
    k.ok(&["stop", "-t", "1", "upd"]);
    k.ok(&["update", "--cpus", "1.5", "upd"]);
    k.ok(&["start", "upd"]);
    assert_eq!(
        k.ok(&["exec", "upd", "cat", "/sys/fs/cgroup/cpu/cpu.cfs_quota_us"]),
        "150000\n"
    );
    assert_eq!(limit_inside(), "33554432\n");
    let err = k.fails(&["update", "upd"], 1);
    assert!(err.contains("nothing to update"), "{err}");
    k.ok(&["rm", "-f", "upd"]);
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn cgroupns_private_shows_the_containers_cgroup_as_the_root() {
    let k = Kist::with_busybox();
    let script = "grep :memory: /proc/self/cgroup | cut -d: -f3; cat /sys/fs/cgroup/memory/memory.limit_in_bytes; ls /sys/fs/cgroup";
    let out = k.ok(&[
        "run",
        "--rm",
        "--cgroupns",
        "private",
        "-m",
        "64m",
        "busybox",
        "sh",
        "-c",
        script,
    ]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[..2], ["/", "67108864"], "{out}");
    for hierarchy in ["cpu", "memory", "pids", "freezer"] {
        assert!(lines.contains(&hierarchy), "{hierarchy} missing: {out}");
    }
    // The hierarchies are read-only inside.
    let err = k.fails(
        &[
            "run",
            "--rm",
            "--cgroupns",
            "private",
            "busybox",
            "mkdir",
            "/sys/fs/cgroup/memory/x",
        ],
        1,
    );
    assert!(err.contains("Read-only"), "{err}");
    // With the host's cgroup namespace the path is the host's.
    let out = k.ok(&[
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "grep :memory: /proc/self/cgroup",
    ]);
    assert!(out.contains(&k.cgroup_parent), "{out}");
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn the_v2_path_joins_freezes_and_kills_in_the_unified_hierarchy() {
    // This host's cgroup2 tree has no controllers, but cgroup.procs, cgroup.freeze and
    // cgroup.kill work: KIST_CGROUP_VERSION=2 puts containers there alone.
    let k = Kist::with_busybox().with_env("KIST_CGROUP_VERSION", "2");
    let id = k.ok(&["run", "-d", "--name", "v2", "busybox", "sleep", "1000"]);
    let id = id.trim();
    let pid = k.ok(&["inspect", "-f", "{{.State.Pid}}", "v2"]);
    let procs = k.cgroup_file("unified", id, "cgroup.procs");
    assert!(procs.lines().any(|p| p == pid.trim()), "{procs}");
    k.ok(&["pause", "v2"]);
    assert!(
        k.cgroup_file("unified", id, "cgroup.events")
            .contains("frozen 1")
    );
    assert!(k.ok(&["ps"]).contains("(Paused)"));
    k.ok(&["unpause", "v2"]);
    assert!(
        k.cgroup_file("unified", id, "cgroup.events")
            .contains("frozen 0")
    );
    let cg = k.ok(&["exec", "v2", "grep", "^0::", "/proc/self/cgroup"]);
    assert!(
        cg.trim().ends_with(&format!("{}/{id}", k.cgroup_parent)),
        "{cg}"
    );
    // A limit its controllers cannot hold is refused, and nothing is left of the attempt.
    let err = k.fails(&["run", "--rm", "-m", "64m", "busybox", "true"], 125);
    assert!(err.contains("no memory controller"), "{err}");
    k.ok(&["rm", "-f", "v2"]);
    assert!(!k.cgroup_dir("unified", id).exists());
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn the_containers_own_cgroups_are_read_only_at_sys_fs_cgroup() {
    // As Docker gives them on a v1 host, in the host's cgroup namespace: runtimes such as the
    // JVM read their limits there.
    let k = Kist::with_busybox();
    let script = "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max; \
                  wc -l < /sys/fs/cgroup/pids/cgroup.procs; \
                  mkdir /sys/fs/cgroup/memory/x 2>/dev/null || echo read-only";
    let out = k.ok(&[
        "run",
        "--rm",
        "-m",
        "64m",
        "--pids-limit",
        "30",
        "busybox",
        "sh",
        "-c",
        script,
    ]);
    // Its own cgroup, not the host's: the limits are the container's and it lists only the
    // container's processes (sh, and wc or cat).
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    assert_eq!(lines[..2], ["67108864", "30"], "{out}");
    let procs: u32 = lines[2].parse().unwrap();
    assert!((1..=3).contains(&procs), "{out}");
    assert_eq!(lines[3], "read-only", "{out}");
    k.assert_clean();
}
