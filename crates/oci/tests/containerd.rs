//! containerd drives kist-runtime through its runc shim (`ctr --runc-binary`), as Kubernetes
//! does through containerd: a private containerd (its own root, state and sockets in a temp
//! dir, the CRI plugin off), started and stopped by this test by its pid.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

mod common;
use common::{BIN, assert_root, unpack_busybox};

struct Containerd {
    dir: tempfile::TempDir,
    daemon: Child,
    cgroup: String,
}

impl Containerd {
    fn start() -> Containerd {
        assert_root();
        for tool in [
            "/usr/bin/containerd",
            "/usr/bin/ctr",
            "/usr/bin/containerd-shim-runc-v2",
        ] {
            assert!(
                Path::new(tool).exists(),
                "{tool} is missing: apt-get install containerd (see ../shared/PEERS.md)"
            );
        }
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        unpack_busybox(&d.join("rootfs"));
        let config = format!(
            "version = 2\nroot = \"{0}/root\"\nstate = \"{0}/state\"\n\
             disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n\
             [grpc]\n  address = \"{0}/c.sock\"\n[ttrpc]\n  address = \"{0}/c.ttrpc\"\n",
            d.display()
        );
        std::fs::write(d.join("config.toml"), config).unwrap();
        let log = std::fs::File::create(d.join("containerd.log")).unwrap();
        let daemon = Command::new("/usr/bin/containerd")
            .arg("--config")
            .arg(d.join("config.toml"))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let cgroup = format!("kist-ctr-test-{}", std::process::id());
        let c = Containerd {
            dir,
            daemon,
            cgroup,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while !c.ctr(&["version"]).status.success() {
            assert!(Instant::now() < deadline, "containerd did not come up");
            std::thread::sleep(Duration::from_millis(50));
        }
        c
    }

    fn ctr(&self, args: &[&str]) -> Output {
        Command::new("/usr/bin/ctr")
            .arg("-a")
            .arg(self.dir.path().join("c.sock"))
            .args(args)
            .output()
            .unwrap()
    }

    fn runtime_root(&self) -> PathBuf {
        self.dir.path().join("kr")
    }

    /// `ctr run` over the unpacked busybox, through kist-runtime, in a cgroup below ours.
    fn run(&self, flags: &[&str], id: &str, command: &[&str]) -> Output {
        let root = self.runtime_root();
        let rootfs = self.dir.path().join("rootfs");
        let cgroup = format!("{}-{id}", self.cgroup);
        let mut args = vec!["run", "--rootfs", "--runc-binary", BIN, "--runc-root"];
        args.push(root.to_str().unwrap());
        args.extend(["--cgroup", &cgroup]);
        args.extend(flags);
        args.extend([rootfs.to_str().unwrap(), id]);
        args.extend(command);
        self.ctr(&args)
    }

    fn cgroup_left(&self, id: &str) -> Vec<PathBuf> {
        kist_runtime::Cgroup::resolve(&format!("{}-{id}", self.cgroup))
            .unwrap()
            .dirs()
            .filter(|d| d.exists())
            .map(Path::to_path_buf)
            .collect()
    }

    fn task_status(&self, id: &str) -> String {
        let out = self.ctr(&["task", "ls"]);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find(|l| l.split_whitespace().next() == Some(id))
            .and_then(|l| l.split_whitespace().nth(2).map(str::to_string))
            .unwrap_or_default()
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
        // Shims outlive the daemon: those serving this test's containers (their command line
        // names this test's directory) are ended by pid.
        let me = self.dir.path().to_string_lossy().into_owned();
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            if String::from_utf8_lossy(&cmdline).contains(&me) {
                // SAFETY: kill(2) of a process this test started (its command names our dir).
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
        for id in ["c1", "c2"] {
            if let Ok(cg) = kist_runtime::Cgroup::resolve(&format!("{}-{id}", self.cgroup)) {
                let _ = cg.destroy();
            }
        }
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
#[ignore = "needs root and containerd"]
fn containerd_runs_containers_through_kist_runtime() {
    let c = Containerd::start();

    // A foreground run: its output, its exit status, removed after.
    let out = c.run(
        &["--rm"],
        "c1",
        &["sh", "-c", "echo hello from kist; exit 4"],
    );
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello from kist\n");
    assert!(!c.runtime_root().join("default/c1").exists());
    assert_eq!(c.cgroup_left("c1"), Vec::<PathBuf>::new());

    // Detached: exec, ps, pause/resume, kill, delete.
    let out = c.run(&["-d"], "c2", &["sleep", "100"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(c.task_status("c2"), "RUNNING");
    let out = c.ctr(&[
        "task",
        "exec",
        "--exec-id",
        "e1",
        "c2",
        "sh",
        "-c",
        "echo in exec; exit 5",
    ]);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "in exec\n");
    let ps = c.ctr(&["task", "ps", "c2"]);
    assert_eq!(
        String::from_utf8_lossy(&ps.stdout).lines().count(),
        2,
        "{}",
        text(&ps)
    );
    assert!(c.ctr(&["task", "pause", "c2"]).status.success());
    assert_eq!(c.task_status("c2"), "PAUSED");
    assert!(c.ctr(&["task", "resume", "c2"]).status.success());
    assert_eq!(c.task_status("c2"), "RUNNING");
    assert!(
        c.ctr(&["task", "kill", "-s", "KILL", "c2"])
            .status
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while c.task_status("c2") != "STOPPED" {
        assert!(Instant::now() < deadline, "c2 did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(c.ctr(&["task", "delete", "c2"]).status.success());
    assert!(c.ctr(&["container", "rm", "c2"]).status.success());
    assert!(!c.runtime_root().join("default/c2").exists());
    assert_eq!(c.cgroup_left("c2"), Vec::<PathBuf>::new());
}
