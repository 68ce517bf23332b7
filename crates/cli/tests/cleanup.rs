//! Nothing is left behind: after --rm, after a failed start, after kist or the container is
//! killed with SIGKILL.

mod common;
use common::*;
use std::time::Duration;

/// Pids of `sleep MARKER` processes: containers that have exec'd their program. (Before the
/// exec, the container's process is a copy of kist, whose command line holds the marker too.)
fn processes_with(marker: &str) -> Vec<i32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains(marker))
                .unwrap_or(false)
                && std::fs::read_to_string(format!("/proc/{pid}/comm"))
                    .is_ok_and(|c| c.trim() == "sleep")
        })
        .collect()
}

/// Starts `kist run ... sleep MARKER`, waits until the container runs, SIGKILLs kist.
fn kill_kist_mid_run(k: &Kist, extra: &[&str], marker: &str) {
    let mut args = vec!["run"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["busybox", "sleep", marker]);
    let mut child = k.command(&args).spawn().unwrap();
    wait_until("the container to start", || {
        !processes_with(marker)
            .iter()
            .all(|p| *p == i32::try_from(child.id()).unwrap())
    });
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
#[ignore = "needs root"]
fn kill_9_of_kist_run_is_cleaned_by_the_next_command() {
    let k = Kist::with_busybox();
    let marker = format!("{}.25", 4000 + std::process::id() % 1000);
    kill_kist_mid_run(&k, &["--rm"], &marker);
    // The container dies with its kist (it must not run on unsupervised).
    wait_until("the container to die with kist", || {
        processes_with(&marker).is_empty()
    });
    // Any next command reconciles: the --rm container is gone entirely.
    k.ok(&["images"]);
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn kill_9_of_kist_run_marks_a_kept_container_exited() {
    let k = Kist::with_busybox();
    let marker = format!("{}.5", 5000 + std::process::id() % 1000);
    kill_kist_mid_run(&k, &["--name", "kept"], &marker);
    let ps = k.ok(&["ps", "-a"]);
    assert!(ps.contains("Exited (137)") && ps.contains("kept"), "{ps}");
    assert!(processes_with(&marker).is_empty());
    assert!(k.host_mounts().is_empty());
    // Its write layer is kept (it was not --rm) until it is removed.
    assert_eq!(k.entries("containers").len(), 1);
    k.ok(&["rm", "kept"]);
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn a_container_killed_from_outside_reports_137_and_is_removed() {
    let k = Kist::with_busybox();
    let marker = format!("{}.75", 6000 + std::process::id() % 1000);
    let child = k
        .command(&["run", "--rm", "busybox", "sleep", &marker])
        .spawn()
        .unwrap();
    wait_until("the container to start", || {
        !processes_with(&marker).is_empty()
    });
    for pid in processes_with(&marker) {
        if pid != i32::try_from(child.id()).unwrap() {
            nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            )
            .unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(137));
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn a_failed_start_leaves_nothing() {
    let k = Kist::with_busybox();
    k.fails(
        &[
            "run",
            "--name",
            "broken",
            "-v",
            "newvol:/v",
            "busybox",
            "/no/such/program",
        ],
        127,
    );
    k.fails(
        &[
            "run", "--name", "broken", "-w", "relative", "busybox", "true",
        ],
        125,
    );
    assert_eq!(
        k.ok(&["volume", "ls", "-q"]),
        "",
        "a volume made for a failed start was kept"
    );
    k.assert_clean();
    // And the name is free again.
    k.ok(&["run", "--rm", "--name", "broken", "busybox", "true"]);
}

#[test]
#[ignore = "needs root"]
fn system_prune_removes_stopped_containers() {
    let k = Kist::with_busybox();
    k.ok(&["run", "busybox", "true"]);
    k.ok(&["run", "busybox", "true"]);
    assert_eq!(k.ok(&["ps", "-aq"]).lines().count(), 2);
    let out = k.ok(&["system", "prune", "-f"]);
    assert_eq!(out.lines().count(), 2, "{out}");
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn system_prune_removes_directories_that_have_no_record() {
    let k = Kist::with_busybox();
    let old = k.path().join("containers").join("0".repeat(64));
    let young = k.path().join("containers").join("1".repeat(64));
    std::fs::create_dir_all(old.join("upper")).unwrap();
    std::fs::create_dir_all(&young).unwrap();
    let an_hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::open(&old)
        .unwrap()
        .set_modified(an_hour_ago)
        .unwrap();
    k.ok(&["system", "prune", "-f"]);
    assert!(!old.exists(), "an old orphan was kept");
    assert!(
        young.exists(),
        "a young one may belong to a run in progress"
    );
}

#[test]
#[ignore = "needs root"]
fn a_process_left_in_a_removed_containers_cgroup_is_killed_with_it() {
    // In a PID namespace it joined, a container's first process can exit while a child of it
    // runs on (reparented to the donor's init): its cgroup cannot simply be removed, and the
    // process must not outlive the container.
    let k = Kist::with_busybox();
    k.ok(&["run", "-d", "--name", "donor", "busybox", "sleep", "1000"]);
    let marker = "4242";
    k.ok(&[
        "run",
        "--rm",
        "--pid",
        "container:donor",
        "busybox",
        "sh",
        "-c",
        &format!("sleep {marker} >/dev/null 2>&1 & exit 0"),
    ]);
    assert!(
        processes_with(marker).is_empty(),
        "the left-behind sleep survived its container"
    );
    k.ok(&["rm", "-f", "donor"]);
    k.assert_clean();
}
