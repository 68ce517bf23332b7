//! Podman drives kist-runtime (through conmon) with its own configuration and store in a
//! temp dir, as ../shared/PEERS.md describes for this host.
//!
//! Podman lets only the runtimes it knows by name run without cgroups (`--cgroups disabled`,
//! which keeps every cgroup out of this host's hierarchies: Podman's cgroupfs parent is one
//! absolute path, which cannot be below this test's cgroup in every v1 hierarchy), so
//! kist-runtime is registered under crun's name. The containers run under Podman's default
//! seccomp profile (/usr/share/containers/seccomp.json), as Podman gives it to any runtime.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

mod common;
use common::{BIN, assert_root, busybox_tar};

struct Podman {
    dir: tempfile::TempDir,
    /// Of PODMAN_RUN_DIRS, those that did not exist before this test.
    made_on_host: Vec<&'static str>,
}

impl Podman {
    fn new() -> Podman {
        assert_root();
        assert!(
            Path::new("/usr/bin/podman").exists(),
            "/usr/bin/podman is missing: apt-get install podman (see ../shared/PEERS.md)"
        );
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // SAFETY: getrlimit into a local struct.
        let nofile = unsafe {
            let mut r = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            libc::getrlimit(libc::RLIMIT_NOFILE, &mut r);
            r.rlim_max
        };
        // Podman gives a rootful runtime no --root: kist-runtime's would be /run/kist-runtime,
        // on the host. A wrapper in the test's directory gives it one there.
        let runtime = d.join("kist-runtime");
        std::fs::write(
            &runtime,
            format!(
                "#!/bin/sh\nexec {BIN} --root {}/runtime \"$@\"\n",
                d.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(
            d.join("containers.conf"),
            format!(
                "[containers]\ndefault_ulimits = [\"nofile={nofile}:{nofile}\", \"nproc=32768:32768\"]\n\
                 [engine]\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n\
                 events_logfile_path = \"{0}/events.log\"\ntmp_dir = \"{0}/tmp\"\n\
                 [network]\nnetwork_config_dir = \"{0}/networks\"\n\
                 [engine.runtimes]\ncrun = [\"{1}\"]\n",
                d.display(),
                runtime.display()
            ),
        )
        .unwrap();
        std::fs::write(
            d.join("storage.conf"),
            format!(
                "[storage]\ndriver = \"vfs\"\ngraphroot = \"{0}/graph\"\nrunroot = \"{0}/run\"\n",
                d.display()
            ),
        )
        .unwrap();
        // conmon daemonizes: as a subreaper this test gets its orphans, and reaps them at the
        // end, rather than leaving zombies to a PID 1 that may not reap.
        // SAFETY: prctl with integer arguments.
        unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
        let made_on_host = PODMAN_RUN_DIRS
            .into_iter()
            .filter(|d| !Path::new(d).exists())
            .collect();
        let p = Podman { dir, made_on_host };
        let out = p.podman(&[
            "import",
            busybox_tar().to_str().unwrap(),
            "localhost/busybox",
        ]);
        assert!(out.status.success(), "{}", text(&out));
        p
    }

    fn podman(&self, args: &[&str]) -> Output {
        Command::new("/usr/bin/podman")
            .env("CONTAINERS_CONF", self.dir.path().join("containers.conf"))
            .env(
                "CONTAINERS_STORAGE_CONF",
                self.dir.path().join("storage.conf"),
            )
            .args(["--runtime", "crun"])
            .args(args)
            .output()
            .unwrap()
    }

    fn run(&self, flags: &[&str], command: &[&str]) -> Output {
        let mut args = vec!["run", "--network", "none", "--cgroups", "disabled"];
        args.extend(flags);
        args.push("localhost/busybox");
        args.extend(command);
        self.podman(&args)
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        let _ = self.podman(&["rm", "-af", "-t", "0"]);
        // The exited conmons (this binary holds this one test, so no other test's children).
        // SAFETY: waitpid on any child, without blocking.
        while unsafe { libc::waitpid(-1, std::ptr::null_mut(), libc::WNOHANG) } > 0 {}
        // Podman's network backend makes its run directory on the host whatever the
        // configuration says: what this test made, it removes (only if empty, so never what
        // something else keeps there).
        for dir in self.made_on_host.iter().rev() {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// The host directories Podman makes on its first run.
const PODMAN_RUN_DIRS: [&str; 2] = ["/run/containers", "/run/containers/networks"];

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
#[ignore = "needs root and podman"]
fn podman_runs_containers_through_kist_runtime() {
    let p = Podman::new();
    let out = p.run(&["--rm"], &["sh", "-c", "echo hi from podman; exit 3"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hi from podman\n");
    // Podman's seccomp profile is in force (mode 2, a filter), not refused or skipped.
    let out = p.run(&["--rm"], &["grep", "^Seccomp:", "/proc/self/status"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Seccomp:\t2\n",
        "{}",
        text(&out)
    );

    let script = "echo started; trap 'exit 0' TERM; while true; do sleep 0.1; done";
    let out = p.run(&["-d", "--name", "p1"], &["sh", "-c", script]);
    assert!(out.status.success(), "{}", text(&out));
    let out = p.podman(&["exec", "p1", "sh", "-c", "echo in exec; exit 4"]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "in exec\n");
    let out = p.podman(&["logs", "p1"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "started\n",
        "{}",
        text(&out)
    );
    let out = p.podman(&["stop", "-t", "10", "p1"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = p.podman(&["inspect", "-f", "{{.State.ExitCode}}", "p1"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "0",
        "{}",
        text(&out)
    );
    let out = p.podman(&["rm", "p1"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = p.podman(&["ps", "-aq"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
}

/// Podman's own user namespaces (`--uidmap`/`--gidmap`) through kist-runtime: the container's
/// root is 0 inside, the mapped range outside.
#[test]
#[ignore = "needs root and podman"]
fn podman_runs_a_container_in_a_user_namespace() {
    let p = Podman::new();
    let maps = [
        "--rm",
        "--uidmap",
        "0:200000:65536",
        "--gidmap",
        "0:200000:65536",
    ];
    let out = p.run(
        &maps,
        &[
            "sh",
            "-c",
            "id -u; cat /proc/self/uid_map; echo ok > /tmp/f; ls -ln /tmp/f",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<String> = stdout
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(lines[..2], ["0", "0 200000 65536"], "{}", text(&out));
}
