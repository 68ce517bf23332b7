//! kist-runtime driven as containerd's shim drives runc: each command its own process, over a
//! bundle made from the busybox root filesystem; what a user sees is checked (state, output,
//! exit statuses, messages) and that nothing is left under --root or in the cgroups after.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

mod common;
use common::{BIN, assert_root, unpack_busybox};

/// A root and a bundle in a temp dir, and a cgroup of the test's own (relative: below the
/// test process's cgroups); whatever is left is deleted and removed when dropped.
struct Oci {
    dir: tempfile::TempDir,
    cgroup: String,
}

impl Oci {
    fn new() -> Oci {
        assert_root();
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = tempfile::tempdir().unwrap();
        unpack_busybox(&dir.path().join("bundle/rootfs"));
        let cgroup = format!(
            "kist-oci-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        Oci { dir, cgroup }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    fn bundle(&self) -> PathBuf {
        self.dir.path().join("bundle")
    }

    /// Writes the bundle's config.json: kist-runtime's default spec running `args`.
    fn config(&self, args: &[&str]) {
        let config = self.bundle().join("config.json");
        let _ = std::fs::remove_file(&config);
        let out = self
            .cmd(&["spec", "--bundle"])
            .arg(self.bundle())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut spec: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&config).unwrap()).unwrap();
        spec["process"]["terminal"] = false.into();
        spec["process"]["args"] = serde_json::json!(args);
        spec["linux"]["cgroupsPath"] = self.cgroup.clone().into();
        std::fs::write(&config, serde_json::to_vec(&spec).unwrap()).unwrap();
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.arg("--root").arg(self.root()).args(args);
        c.stdin(Stdio::null());
        c
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd(args).output().unwrap();
        assert!(
            out.status.success(),
            "kist-runtime {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn fails(&self, args: &[&str]) -> Output {
        let out = self.cmd(args).output().unwrap();
        assert!(!out.status.success(), "kist-runtime {args:?} succeeded");
        out
    }

    /// `create` with the container's output going to `log`.
    fn create(&self, id: &str, log: &Path) {
        let log = std::fs::File::create(log).unwrap();
        let out = self
            .cmd(&["create", "--bundle"])
            .arg(self.bundle())
            .arg(id)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .status()
            .unwrap();
        assert!(out.success(), "create {id} failed");
    }

    /// `run -d`; the container's streams go nowhere (a pipe would be held open by it).
    fn run_detached(&self, flags: &[&str], id: &str) {
        let status = self
            .cmd(&["run", "-d"])
            .args(flags)
            .arg("--bundle")
            .arg(self.bundle())
            .arg(id)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "run -d {id} failed");
    }

    fn state(&self, id: &str) -> serde_json::Value {
        serde_json::from_str(&self.ok(&["state", id])).unwrap()
    }

    fn wait_status(&self, id: &str, want: &str) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let s = self.state(id);
            if s["status"] == want || Instant::now() > deadline {
                assert_eq!(s["status"], want, "{s}");
                return s;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The container's cgroup directories that exist.
    fn cgroup_dirs(&self) -> Vec<PathBuf> {
        kist_runtime::Cgroup::resolve(&self.cgroup)
            .unwrap()
            .dirs()
            .filter(|d| d.exists())
            .map(Path::to_path_buf)
            .collect()
    }

    fn assert_nothing_left(&self, id: &str) {
        assert!(
            !self.root().join(id).exists(),
            "{id}'s state is left under --root"
        );
        assert_eq!(self.cgroup_dirs(), Vec::<PathBuf>::new(), "cgroup left");
    }
}

impl Drop for Oci {
    fn drop(&mut self) {
        if let Ok(entries) = std::fs::read_dir(self.root()) {
            for e in entries.flatten() {
                let id = e.file_name().to_string_lossy().into_owned();
                let _ = self.cmd(&["delete", "--force", &id]).output();
            }
        }
        if let Ok(cg) = kist_runtime::Cgroup::resolve(&self.cgroup) {
            let _ = cg.destroy();
        }
    }
}

fn wait_for_text(path: &Path, text: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = std::fs::read_to_string(path).unwrap_or_default();
        if got.contains(text) || Instant::now() > deadline {
            assert!(got.contains(text), "{text:?} not in {got:?}");
            return got;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn pid_alive(pid: i64) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit(')')
            .next()
            .is_some_and(|r| !r.trim_start().starts_with('Z'))
    })
}

/// The runtime-spec lifecycle across processes: `create` exits leaving the program waiting
/// (nothing printed yet), `start` runs it, a killed init reads as stopped, `delete` leaves
/// neither state nor cgroup.
#[test]
#[ignore = "needs root"]
fn create_start_kill_delete_as_separate_processes() {
    let oci = Oci::new();
    oci.config(&["sh", "-c", "echo started as $$; exec sleep 100"]);
    let log = oci.dir.path().join("out");
    oci.create("c1", &log);
    let s = oci.state("c1");
    assert_eq!(s["status"], "created");
    assert_eq!(s["id"], "c1");
    assert_eq!(
        s["bundle"],
        oci.bundle().canonicalize().unwrap().to_str().unwrap()
    );
    assert!(s["ociVersion"].as_str().unwrap().starts_with("1."));
    let pid = s["pid"].as_i64().unwrap();
    assert!(pid > 0 && pid_alive(pid), "{s}");
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "",
        "the program ran before start"
    );
    assert!(!oci.cgroup_dirs().is_empty(), "no cgroup made");

    oci.ok(&["start", "c1"]);
    assert_eq!(wait_for_text(&log, "started"), "started as 1\n");
    assert_eq!(oci.state("c1")["status"], "running");
    let list: serde_json::Value =
        serde_json::from_str(&oci.ok(&["list", "--format", "json"])).unwrap();
    assert_eq!(list[0]["id"], "c1");
    assert_eq!(list[0]["status"], "running");
    let pids: Vec<i64> = serde_json::from_str(&oci.ok(&["ps", "--format", "json", "c1"])).unwrap();
    assert_eq!(pids, [pid]);

    let again = oci.fails(&["start", "c1"]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("already running"));

    oci.ok(&["kill", "c1", "KILL"]);
    let s = oci.wait_status("c1", "stopped");
    assert_eq!(s["pid"], 0);
    let dead = oci.fails(&["kill", "c1"]);
    assert!(String::from_utf8_lossy(&dead.stderr).contains("container not running"));
    oci.ok(&["delete", "c1"]);
    oci.assert_nothing_left("c1");
    assert!(oci.fails(&["state", "c1"]).status.code() == Some(1));
}

/// A running container is deleted only with --force, which kills it.
#[test]
#[ignore = "needs root"]
fn delete_of_a_running_container_needs_force() {
    let oci = Oci::new();
    oci.config(&["sleep", "100"]);
    let pid_file = oci.dir.path().join("pid");
    oci.run_detached(&["--pid-file", pid_file.to_str().unwrap()], "d1");
    let s = oci.state("d1");
    assert_eq!(s["status"], "running");
    let pid: i64 = std::fs::read_to_string(&pid_file).unwrap().parse().unwrap();
    assert_eq!(s["pid"], pid);
    let refused = oci.fails(&["delete", "d1"]);
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("not stopped: running"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(pid_alive(pid));
    oci.ok(&["delete", "--force", "d1"]);
    assert!(!pid_alive(pid));
    oci.assert_nothing_left("d1");
}

/// pause freezes the cgroup (the state says so), resume thaws it.
#[test]
#[ignore = "needs root"]
fn pause_and_resume() {
    let oci = Oci::new();
    oci.config(&["sleep", "100"]);
    oci.run_detached(&[], "p1");
    oci.ok(&["pause", "p1"]);
    assert_eq!(oci.state("p1")["status"], "paused");
    oci.ok(&["resume", "p1"]);
    assert_eq!(oci.state("p1")["status"], "running");
    oci.ok(&["delete", "--force", "p1"]);
    oci.assert_nothing_left("p1");
}

/// `run` in the foreground exits as the program does and removes the container.
#[test]
#[ignore = "needs root"]
fn run_exits_as_the_program_and_cleans_up() {
    let oci = Oci::new();
    oci.config(&["sh", "-c", "echo out; exit 3"]);
    let out = oci
        .cmd(&["run", "--bundle"])
        .arg(oci.bundle())
        .arg("r1")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "out\n");
    oci.assert_nothing_left("r1");
}

/// A program that does not exist fails `start` (not silently), and the container is then
/// stopped and removable.
#[test]
#[ignore = "needs root"]
fn start_of_a_missing_program_fails_and_the_container_is_removable() {
    let oci = Oci::new();
    oci.config(&["/no/such/program"]);
    oci.create("m1", &oci.dir.path().join("out"));
    let out = oci.fails(&["start", "m1"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/no/such/program"), "{err}");
    oci.wait_status("m1", "stopped");
    oci.ok(&["delete", "m1"]);
    oci.assert_nothing_left("m1");
}

/// Bad input: one line saying what is wrong, exit 1, JSON in --log, nothing left behind.
#[test]
#[ignore = "needs root"]
fn bad_input_is_one_line_and_leaves_nothing() {
    let oci = Oci::new();
    // No config.json.
    let log = oci.dir.path().join("log.json");
    let out = oci
        .cmd(&["create", "--bundle"])
        .arg(oci.bundle())
        .arg("b1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("config.json"), "{err}");
    assert!(!oci.root().join("b1").exists());

    // Invalid JSON, logged as runc logs: one JSON object with level, msg, time.
    std::fs::write(oci.bundle().join("config.json"), "{not json").unwrap();
    let out = Command::new(BIN)
        .arg("--root")
        .arg(oci.root())
        .arg("--log")
        .arg(&log)
        .args(["--log-format", "json", "create", "--bundle"])
        .arg(oci.bundle())
        .arg("b1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    let line: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    assert_eq!(line["level"], "error");
    assert!(
        line["msg"]
            .as_str()
            .unwrap()
            .contains("invalid config.json"),
        "{line}"
    );
    assert!(line["time"].as_str().unwrap().ends_with('Z'), "{line}");

    // An id in use, and an unknown one.
    oci.config(&["sleep", "100"]);
    oci.create("b2", &oci.dir.path().join("out"));
    let out = oci.fails(&["create", "--bundle", oci.bundle().to_str().unwrap(), "b2"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("container with id exists: b2"));
    assert_eq!(oci.state("b2")["status"], "created");
    let out = oci.fails(&["start", "nope"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("container nope does not exist"));
    // A created container is deleted without --force (it has run nothing yet).
    oci.ok(&["delete", "b2"]);
    oci.assert_nothing_left("b2");
}

#[test]
fn version_spec_and_features_need_no_container() {
    let out = Command::new(BIN).arg("--version").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("kist-runtime version "), "{text}");
    assert!(lines[1].starts_with("commit: "), "{text}");
    assert!(lines[2].starts_with("spec: 1."), "{text}");

    let features = Command::new(BIN).arg("features").output().unwrap();
    let f: serde_json::Value = serde_json::from_slice(&features.stdout).unwrap();
    assert!(
        f["linux"]["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n == "pid")
    );
    assert_eq!(f["linux"]["seccomp"]["enabled"], true);
    assert_eq!(f["linux"]["apparmor"]["enabled"], false);

    let dir = tempfile::tempdir().unwrap();
    let ok = Command::new(BIN)
        .args(["spec", "-b"])
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(ok.success());
    let spec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("config.json")).unwrap()).unwrap();
    assert_eq!(spec["root"]["path"], "rootfs");
    assert_eq!(spec["process"]["args"][0], "sh");
    // A second `spec` does not overwrite it.
    let again = Command::new(BIN)
        .args(["spec", "-b"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1));
}

/// `exec` runs another process in the container's namespaces: it sees the container's
/// processes (the first as PID 1), gets its --env and --cwd, and exits with its own status;
/// `exec -d` leaves it running, with its pid in --pid-file, in the container's `ps`.
#[test]
#[ignore = "needs root"]
fn exec_joins_the_running_container() {
    let oci = Oci::new();
    oci.config(&["sleep", "100"]);
    oci.run_detached(&[], "e1");
    let out = oci
        .cmd(&[
            "exec",
            "--env",
            "GREETING=hi",
            "--cwd",
            "/etc",
            "e1",
            "sh",
            "-c",
        ])
        .arg("echo $GREETING $(pwd) $(cat /proc/1/cmdline | tr '\\0' ' '); exit 7")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(7),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hi /etc sleep 100\n");

    let process = oci.dir.path().join("process.json");
    let spec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(oci.bundle().join("config.json")).unwrap()).unwrap();
    let mut p = spec["process"].clone();
    p["args"] = serde_json::json!(["sleep", "50"]);
    std::fs::write(&process, serde_json::to_vec(&p).unwrap()).unwrap();
    let pid_file = oci.dir.path().join("exec.pid");
    let status = oci
        .cmd(&["exec", "--detach", "--pid-file", pid_file.to_str().unwrap()])
        .arg("--process")
        .arg(&process)
        .arg("e1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let pid: i64 = std::fs::read_to_string(&pid_file).unwrap().parse().unwrap();
    assert!(pid_alive(pid));
    let pids: Vec<i64> = serde_json::from_str(&oci.ok(&["ps", "--format", "json", "e1"])).unwrap();
    assert!(pids.contains(&pid), "{pids:?} lacks {pid}");
    oci.ok(&["delete", "--force", "e1"]);
    assert!(!pid_alive(pid));
    oci.assert_nothing_left("e1");
}

/// The terminal's master side, as runc sends it on a console socket (SCM_RIGHTS).
fn receive_master(listener: &std::os::unix::net::UnixListener) -> std::fs::File {
    std::fs::File::from(receive_fd(listener))
}

/// One descriptor sent on a unix socket (SCM_RIGHTS), as runc sends a console or a pidfd.
fn receive_fd(listener: &std::os::unix::net::UnixListener) -> std::os::fd::OwnedFd {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    let (conn, _) = listener.accept().unwrap();
    let mut buf = [0u8; 64];
    let mut iov = [std::io::IoSliceMut::new(&mut buf)];
    let mut cmsg = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let msg = nix::sys::socket::recvmsg::<()>(
        conn.as_raw_fd(),
        &mut iov,
        Some(&mut cmsg),
        nix::sys::socket::MsgFlags::empty(),
    )
    .unwrap();
    let fd = msg
        .cmsgs()
        .unwrap()
        .find_map(|c| match c {
            nix::sys::socket::ControlMessageOwned::ScmRights(fds) => fds.first().copied(),
            _ => None,
        })
        .expect("no descriptor on the socket");
    // SAFETY: the kernel installed this descriptor for us alone.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// The first line written to a terminal's master side.
fn read_line(master: &mut std::fs::File) -> String {
    use std::io::Read;
    let mut got = Vec::new();
    let mut chunk = [0u8; 256];
    while !String::from_utf8_lossy(&got).contains('\n') {
        let n = master.read(&mut chunk).unwrap();
        assert!(n > 0, "the terminal closed");
        got.extend_from_slice(&chunk[..n]);
    }
    String::from_utf8_lossy(&got).into_owned()
}

/// With `process.terminal`, the terminal's master side arrives on --console-socket (as runc
/// sends it, SCM_RIGHTS), and the program writes to the terminal.
#[test]
#[ignore = "needs root"]
fn the_terminal_comes_over_the_console_socket() {
    let oci = Oci::new();
    oci.config(&["sh", "-c", "tty; sleep 100"]);
    let config = oci.bundle().join("config.json");
    let mut spec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&config).unwrap()).unwrap();
    spec["process"]["terminal"] = true.into();
    std::fs::write(&config, serde_json::to_vec(&spec).unwrap()).unwrap();

    // A console socket that is not a socket: one line, nothing left.
    let not_a_socket = oci.dir.path().join("plain-file");
    std::fs::write(&not_a_socket, "").unwrap();
    let out = oci.fails(&[
        "create",
        "--console-socket",
        not_a_socket.to_str().unwrap(),
        "--bundle",
        oci.bundle().to_str().unwrap(),
        "t1",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot connect to the console socket") && err.lines().count() == 1,
        "{err}"
    );
    assert!(!oci.root().join("t1").exists());
    assert_eq!(oci.cgroup_dirs(), Vec::<PathBuf>::new());

    // Without a console socket: refused, nothing left.
    let out = oci.fails(&["create", "--bundle", oci.bundle().to_str().unwrap(), "t1"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--console-socket"));
    assert!(!oci.root().join("t1").exists());

    let socket_path = oci.dir.path().join("console.sock");
    let listener = std::os::unix::net::UnixListener::bind(&socket_path).unwrap();
    let mut create = oci
        .cmd(&[
            "create",
            "--console-socket",
            socket_path.to_str().unwrap(),
            "--bundle",
        ])
        .arg(oci.bundle())
        .arg("t1")
        .spawn()
        .unwrap();
    let master = receive_master(&listener);

    assert!(create.wait().unwrap().success());
    oci.ok(&["start", "t1"]);
    let mut master = master;
    let line = read_line(&mut master);
    assert!(line.starts_with("/dev/pts/"), "{line:?}");

    // exec -t: its own terminal, over its own console socket; exec exits as the program.
    let socket2 = oci.dir.path().join("exec-console.sock");
    let listener2 = std::os::unix::net::UnixListener::bind(&socket2).unwrap();
    let mut exec = oci
        .cmd(&[
            "exec",
            "-t",
            "--console-socket",
            socket2.to_str().unwrap(),
            "t1",
            "sh",
            "-c",
        ])
        .arg("tty; exit 6")
        .spawn()
        .unwrap();
    // Held open until the program ends: a closed master would hang its terminal up.
    let mut master2 = receive_master(&listener2);
    let line = read_line(&mut master2);
    assert!(line.starts_with("/dev/pts/"), "{line:?}");
    assert_eq!(exec.wait().unwrap().code(), Some(6));
    drop(master2);
    oci.ok(&["delete", "--force", "t1"]);
    oci.assert_nothing_left("t1");
}

/// Sets the bundle's hooks: `kind` → hooks, each a shell script run by the host's /bin/sh.
fn set_hooks(oci: &Oci, hooks: serde_json::Value) {
    let config = oci.bundle().join("config.json");
    let mut spec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&config).unwrap()).unwrap();
    spec["hooks"] = hooks;
    std::fs::write(&config, serde_json::to_vec(&spec).unwrap()).unwrap();
}

fn sh_hook(script: &str) -> serde_json::Value {
    serde_json::json!({"path": "/bin/sh", "args": ["sh", "-c", script], "env": ["PATH=/usr/bin:/bin"]})
}

/// createRuntime, poststart and poststop run at their points of the lifecycle with the state
/// on stdin (creating with the container's pid, running, stopped).
#[test]
#[ignore = "needs root"]
fn hooks_get_the_state_at_their_point_of_the_lifecycle() {
    let oci = Oci::new();
    oci.config(&["sleep", "100"]);
    let d = oci.dir.path().to_str().unwrap().to_string();
    set_hooks(
        &oci,
        serde_json::json!({
            "createRuntime": [sh_hook(&format!("cat > {d}/create.json"))],
            "poststart": [sh_hook(&format!("cat > {d}/poststart.json"))],
            "poststop": [sh_hook(&format!("cat > {d}/poststop.json"))],
        }),
    );
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(oci.dir.path().join(name)).unwrap()).unwrap()
    };
    oci.create("h1", &oci.dir.path().join("out"));
    let created = read("create.json");
    assert_eq!(created["status"], "creating");
    assert_eq!(created["id"], "h1");
    assert_eq!(created["pid"], oci.state("h1")["pid"]);
    assert!(!oci.dir.path().join("poststart.json").exists());
    oci.ok(&["start", "h1"]);
    assert_eq!(read("poststart.json")["status"], "running");
    assert!(!oci.dir.path().join("poststop.json").exists());
    oci.ok(&["delete", "--force", "h1"]);
    assert_eq!(read("poststop.json")["status"], "stopped");
    oci.assert_nothing_left("h1");
}

/// A createRuntime hook that fails, or outlives its timeout, fails `create` with its reason,
/// and the container is gone (process, state and cgroup).
#[test]
#[ignore = "needs root"]
fn a_failing_or_late_hook_fails_create_and_leaves_nothing() {
    let oci = Oci::new();
    oci.config(&["sleep", "100"]);
    let d = oci.dir.path().to_str().unwrap().to_string();
    set_hooks(
        &oci,
        serde_json::json!({"createRuntime": [sh_hook(&format!("cat > {d}/s.json; echo nope >&2; exit 3"))]}),
    );
    let out = oci.fails(&["create", "--bundle", oci.bundle().to_str().unwrap(), "f1"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("createRuntime hook") && err.contains("nope"),
        "{err}"
    );
    let pid = serde_json::from_slice::<serde_json::Value>(
        &std::fs::read(oci.dir.path().join("s.json")).unwrap(),
    )
    .unwrap()["pid"]
        .as_i64()
        .unwrap();
    assert!(!pid_alive(pid), "the container's process {pid} survived");
    oci.assert_nothing_left("f1");

    let mut late = sh_hook("sleep 30");
    late["timeout"] = 1.into();
    set_hooks(&oci, serde_json::json!({"createRuntime": [late]}));
    let out = oci.fails(&["create", "--bundle", oci.bundle().to_str().unwrap(), "f2"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("timed out after 1s"), "{err}");
    oci.assert_nothing_left("f2");
}

/// The bundle's root made writable (kist-runtime's default spec has it read-only).
fn writable_root(oci: &Oci) {
    let config = oci.bundle().join("config.json");
    let mut spec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&config).unwrap()).unwrap();
    spec["root"]["readonly"] = false.into();
    std::fs::write(&config, serde_json::to_vec(&spec).unwrap()).unwrap();
}

/// The namespace `link` (`mnt`, `pid`) of process `pid` (`self` for the test's own).
fn ns_of(pid: &str, link: &str) -> String {
    std::fs::read_link(format!("/proc/{pid}/ns/{link}"))
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// Every kind of hook, in the spec's order: prestart and createRuntime in the runtime's
/// namespaces, createContainer in the container's before its pivot (its mounts made, its
/// path resolved on the host), startContainer in the container after it (its path resolved
/// in the container's root), poststart, poststop; each told the state of its point.
#[test]
#[ignore = "needs root"]
fn every_hook_runs_in_order_in_its_namespaces() {
    let oci = Oci::new();
    oci.config(&["sleep", "100"]);
    writable_root(&oci);
    let rootfs = oci.bundle().join("rootfs");
    let r = rootfs.to_str().unwrap().to_string();
    let d = oci.dir.path().to_str().unwrap().to_string();
    let root = oci.root().to_str().unwrap().to_string();
    let ns = "$(readlink /proc/self/ns/mnt) $(readlink /proc/self/ns/pid)";
    let host_side = |kind: &str| sh_hook(&format!("echo {kind} {ns} >> {r}/order"));
    set_hooks(
        &oci,
        serde_json::json!({
            "prestart": [host_side("prestart")],
            "createRuntime": [host_side("createRuntime")],
            "createContainer": [sh_hook(&format!(
                "echo createContainer {ns} $(test -e {r}/proc/1/stat && echo mounted) >> {r}/order; cat > {d}/cc.json"
            ))],
            // /bin/sh here is busybox's, in the container's root: the host's /order is not it.
            "startContainer": [sh_hook(&format!("echo startContainer {ns} >> /order; cat > /sc.json"))],
            "poststart": [host_side("poststart")],
            "poststop": [sh_hook(&format!(
                "echo poststop {ns} $(test -e {root}/o1 || echo deleted) >> {r}/order"
            ))],
        }),
    );
    oci.create("o1", &oci.dir.path().join("out"));
    let pid = oci.state("o1")["pid"].as_i64().unwrap().to_string();
    let (host, container) = (
        format!("{} {}", ns_of("self", "mnt"), ns_of("self", "pid")),
        format!("{} {}", ns_of(&pid, "mnt"), ns_of(&pid, "pid")),
    );
    assert_ne!(host, container);
    let order = || std::fs::read_to_string(rootfs.join("order")).unwrap();
    assert_eq!(
        order(),
        format!("prestart {host}\ncreateRuntime {host}\ncreateContainer {container} mounted\n")
    );
    let cc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(oci.dir.path().join("cc.json")).unwrap()).unwrap();
    assert_eq!(
        (&cc["status"], &cc["id"]),
        (&"creating".into(), &"o1".into())
    );
    assert_eq!(cc["pid"].to_string(), pid);
    assert!(
        !rootfs.join("sc.json").exists(),
        "startContainer ran in create"
    );

    oci.ok(&["start", "o1"]);
    let sc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(rootfs.join("sc.json")).unwrap()).unwrap();
    assert_eq!(
        (&sc["status"], &sc["id"]),
        (&"created".into(), &"o1".into())
    );
    oci.wait_status("o1", "running");
    oci.ok(&["delete", "--force", "o1"]);
    assert_eq!(
        order(),
        format!(
            "prestart {host}\ncreateRuntime {host}\ncreateContainer {container} mounted\n\
             startContainer {container}\npoststart {host}\npoststop {host} deleted\n"
        )
    );
    oci.assert_nothing_left("o1");
}

/// After the program starts, a failing hook is a warning: `start` and `delete` succeed, and
/// the hooks after it still run (the runtime spec's poststart and poststop).
#[test]
#[ignore = "needs root"]
fn failing_poststart_and_poststop_hooks_warn_and_the_rest_run() {
    let oci = Oci::new();
    oci.config(&["sleep", "100"]);
    let d = oci.dir.path().to_str().unwrap().to_string();
    set_hooks(
        &oci,
        serde_json::json!({
            "poststart": [sh_hook("echo late >&2; exit 5"), sh_hook(&format!("touch {d}/started"))],
            "poststop": [sh_hook("exit 6"), sh_hook(&format!("touch {d}/stopped"))],
        }),
    );
    oci.create("w1", &oci.dir.path().join("out"));
    let out = oci.cmd(&["start", "w1"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("warning: poststart hook #0 (/bin/sh) failed: exit status: 5: late"),
        "{err}"
    );
    assert!(oci.dir.path().join("started").exists());
    oci.wait_status("w1", "running");
    let out = oci.cmd(&["delete", "--force", "w1"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("warning: poststop hook #0"), "{err}");
    assert!(oci.dir.path().join("stopped").exists());
    oci.assert_nothing_left("w1");
}

/// A createContainer hook that fails or outlives its timeout fails `create` with its reason,
/// the container's process gone, nothing left; a failing startContainer hook fails `start`
/// (its program never runs) and leaves a stopped container that `delete` removes.
#[test]
#[ignore = "needs root"]
fn a_failing_container_hook_fails_its_operation_cleanly() {
    let oci = Oci::new();
    let r = oci.bundle().join("rootfs").to_str().unwrap().to_string();
    oci.config(&["sh", "-c", "echo ran > /ran; sleep 100"]);
    writable_root(&oci);
    let d = oci.dir.path().to_str().unwrap().to_string();
    let bundle = oci.bundle().to_str().unwrap().to_string();
    set_hooks(
        &oci,
        serde_json::json!({
            "createContainer": [sh_hook(&format!("cat > {d}/s.json; echo nope >&2; exit 3"))],
            // The failed create goes on to the container's destruction, then its poststop.
            "poststop": [sh_hook(&format!("test -e {d}/root/c1 || cat > {d}/poststop.json"))],
        }),
    );
    let out = oci.fails(&["create", "--bundle", &bundle, "c1"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("createContainer hook #0 (/bin/sh) failed: exit status: 3: nope"),
        "{err}"
    );
    let s: serde_json::Value =
        serde_json::from_slice(&std::fs::read(oci.dir.path().join("s.json")).unwrap()).unwrap();
    let pid = s["pid"].as_i64().unwrap();
    assert!(!pid_alive(pid), "the container's process {pid} survived");
    oci.assert_nothing_left("c1");
    let poststop: serde_json::Value =
        serde_json::from_slice(&std::fs::read(oci.dir.path().join("poststop.json")).unwrap())
            .unwrap();
    assert_eq!(poststop["status"], "stopped");

    let mut late = sh_hook("sleep 30");
    late["timeout"] = 1.into();
    set_hooks(&oci, serde_json::json!({"createContainer": [late]}));
    let out = oci.fails(&["create", "--bundle", &bundle, "c2"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("timed out after 1s"), "{err}");
    oci.assert_nothing_left("c2");

    set_hooks(
        &oci,
        serde_json::json!({"startContainer": [sh_hook("echo refused >&2; exit 4")]}),
    );
    oci.create("c3", &oci.dir.path().join("out"));
    let out = oci.fails(&["start", "c3"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("startContainer hook #0 (/bin/sh) failed: exit status: 4: refused"),
        "{err}"
    );
    oci.wait_status("c3", "stopped");
    assert!(!Path::new(&r).join("ran").exists(), "the program ran");
    oci.ok(&["delete", "c3"]);
    oci.assert_nothing_left("c3");

    // `run` is create, start and delete: a failed start leaves nothing, after poststop.
    set_hooks(
        &oci,
        serde_json::json!({
            "startContainer": [sh_hook("exit 4")],
            "poststop": [sh_hook(&format!("touch {d}/run-poststop"))],
        }),
    );
    let out = oci.fails(&["run", "--bundle", &bundle, "c4"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("startContainer hook #0"), "{err}");
    assert!(oci.dir.path().join("run-poststop").exists());
    assert!(!Path::new(&r).join("ran").exists(), "the program ran");
    oci.assert_nothing_left("c4");
}

/// `--preserve-fds 1` passes descriptor 3 to the program; without it, the program has none.
#[test]
#[ignore = "needs root"]
fn preserve_fds_passes_descriptors_above_stderr() {
    use std::os::fd::AsRawFd;
    use std::os::unix::process::CommandExt;
    let oci = Oci::new();
    oci.config(&["sh", "-c", "echo through-3 >&3"]);
    let run = |flags: &[&str], id: &str| {
        let target = oci.dir.path().join(format!("{id}.txt"));
        let file = std::fs::File::create(&target).unwrap();
        let raw = file.as_raw_fd();
        let mut cmd = oci.cmd(&["run"]);
        cmd.args(flags).arg("--bundle").arg(oci.bundle()).arg(id);
        // SAFETY: between fork and exec only dup2 and fcntl, which are async-signal-safe.
        unsafe {
            cmd.pre_exec(move || {
                // dup2 onto itself keeps close-on-exec: cleared explicitly.
                if libc::dup2(raw, 3) < 0 || libc::fcntl(3, libc::F_SETFD, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let out = cmd.output().unwrap();
        (out.status.code(), std::fs::read_to_string(&target).unwrap())
    };
    assert_eq!(
        run(&["--preserve-fds", "1"], "fd1"),
        (Some(0), "through-3\n".to_string())
    );
    let (code, text) = run(&[], "fd2");
    assert_ne!(code, Some(0));
    assert_eq!(text, "");
    oci.assert_nothing_left("fd1");
    oci.assert_nothing_left("fd2");
}

/// The first of the container's cgroup files named one of `names`, read.
fn cgroup_file(oci: &Oci, names: &[&str]) -> String {
    oci.cgroup_dirs()
        .iter()
        .flat_map(|d| names.iter().map(move |n| d.join(n)))
        .find_map(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_else(|| panic!("none of {names:?} in {:?}", oci.cgroup_dirs()))
        .trim()
        .to_string()
}

/// `update` changes a running container's limits in its cgroup, from flags and from a
/// resources document on stdin.
#[test]
#[ignore = "needs root"]
fn update_changes_the_limits_of_a_running_container() {
    use std::io::Write;
    let oci = Oci::new();
    oci.config(&["sleep", "100"]);
    oci.run_detached(&[], "u1");
    oci.ok(&["update", "--memory", "64m", "--pids-limit", "20", "u1"]);
    assert_eq!(
        cgroup_file(&oci, &["memory.limit_in_bytes", "memory.max"]),
        "67108864"
    );
    assert_eq!(cgroup_file(&oci, &["pids.max"]), "20");
    let mut child = oci
        .cmd(&["update", "--resources", "-", "u1"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(br#"{"pids": {"limit": 30}}"#)
        .unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(cgroup_file(&oci, &["pids.max"]), "30");
    let bad = oci.fails(&["update", "--memory", "lots", "u1"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("invalid size"));
    oci.ok(&["delete", "--force", "u1"]);
    oci.assert_nothing_left("u1");
}

/// A long --root and a Kubernetes-length id (64 hex digits): the start socket's path is past
/// what a unix socket address holds, and the lifecycle works all the same.
#[test]
#[ignore = "needs root"]
fn long_roots_and_ids_work() {
    let oci = Oci::new();
    oci.config(&["sleep", "100"]);
    let root = oci.dir.path().join("r".repeat(60));
    let id = "0123456789abcdef".repeat(4);
    let run = |args: &[&str]| {
        let out = Command::new(BIN)
            .arg("--root")
            .arg(&root)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    assert!(root.join(&id).join("start.sock").as_os_str().len() > 108);
    let status = Command::new(BIN)
        .arg("--root")
        .arg(&root)
        .args(["create", "--bundle"])
        .arg(oci.bundle())
        .arg(&id)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    run(&["start", &id]);
    let state: serde_json::Value = serde_json::from_str(&run(&["state", &id])).unwrap();
    assert_eq!(state["status"], "running");
    run(&["delete", "--force", &id]);
    assert!(!root.join(&id).exists());
    assert_eq!(oci.cgroup_dirs(), Vec::<PathBuf>::new());
}

/// `run` in the foreground passes the signals it gets to the container's first process (here
/// one that traps SIGTERM and exits 7), as runc does, and still removes the container after.
#[test]
#[ignore = "needs root"]
fn run_in_the_foreground_forwards_signals() {
    use std::io::BufRead;
    let oci = Oci::new();
    oci.config(&[
        "sh",
        "-c",
        "trap 'echo got TERM; exit 7' TERM; echo ready; while true; do sleep 0.1; done",
    ]);
    let mut child = oci
        .cmd(&["run", "--bundle"])
        .arg(oci.bundle())
        .arg("s1")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "ready");
    // SAFETY: kill(2) of our own child, not yet waited for.
    unsafe { libc::kill(i32::try_from(child.id()).unwrap(), libc::SIGTERM) };
    assert_eq!(lines.next().unwrap().unwrap(), "got TERM");
    assert_eq!(child.wait().unwrap().code(), Some(7));
    oci.assert_nothing_left("s1");
}

/// `events --stats` prints one runc-shaped stats object; `--pidfd-socket` gets a pidfd of the
/// first process; `kill --all` signals every process of the container's cgroup.
#[test]
#[ignore = "needs root"]
fn events_pidfd_socket_and_kill_all() {
    let oci = Oci::new();
    oci.config(&["sleep", "100"]);
    let socket_path = oci.dir.path().join("pidfd.sock");
    let listener = std::os::unix::net::UnixListener::bind(&socket_path).unwrap();
    let mut create = oci
        .cmd(&[
            "create",
            "--pidfd-socket",
            socket_path.to_str().unwrap(),
            "--bundle",
        ])
        .arg(oci.bundle())
        .arg("k1")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let pidfd = receive_fd(&listener);
    assert!(create.wait().unwrap().success());
    let pid = oci.state("k1")["pid"].as_i64().unwrap();
    use std::os::fd::AsRawFd;
    let fdinfo =
        std::fs::read_to_string(format!("/proc/self/fdinfo/{}", pidfd.as_raw_fd())).unwrap();
    assert!(
        fdinfo.lines().any(|l| l == format!("Pid:\t{pid}")),
        "{fdinfo}"
    );
    oci.ok(&["start", "k1"]);

    let line = oci.ok(&["events", "--stats", "k1"]);
    assert_eq!(line.lines().count(), 1, "{line}");
    let stats: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(stats["type"], "stats");
    assert_eq!(stats["id"], "k1");
    assert_eq!(stats["data"]["pids"]["current"], 1, "{stats}");

    let status = oci
        .cmd(&["exec", "-d", "k1", "sleep", "50"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let pids: Vec<i64> = serde_json::from_str(&oci.ok(&["ps", "--format", "json", "k1"])).unwrap();
    assert_eq!(pids.len(), 2, "{pids:?}");
    // SIGTERM: the first process (PID 1 of its namespace, no handler) ignores it, the exec'd
    // one dies of it; only --all reaches that one.
    oci.ok(&["kill", "k1", "TERM"]);
    assert!(pids.iter().all(|p| pid_alive(*p)));
    oci.ok(&["kill", "--all", "k1", "TERM"]);
    let other = *pids.iter().find(|p| **p != pid).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while pid_alive(other) {
        assert!(
            std::time::Instant::now() < deadline,
            "{other} survived kill --all"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(oci.state("k1")["status"], "running");
    oci.ok(&["kill", "k1", "KILL"]);
    oci.wait_status("k1", "stopped");
    oci.ok(&["delete", "k1"]);
    oci.assert_nothing_left("k1");
}

/// Gives every file of `dir` the owner and group it has plus `shift` (what a user namespace
/// mapping container id 0 to host id `shift` needs of a root filesystem).
fn shift_owners(dir: &Path, shift: u32) {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::symlink_metadata(dir).unwrap();
    std::os::unix::fs::lchown(dir, Some(meta.uid() + shift), Some(meta.gid() + shift)).unwrap();
    if meta.is_dir() {
        for e in std::fs::read_dir(dir).unwrap() {
            shift_owners(&e.unwrap().path(), shift);
        }
    }
}

/// The bundle's spec with a new user namespace mapping the container's 0..65536 to the host's
/// 100000.., and the temp dir above the bundle searchable (the container's root is nobody to
/// the host's root-owned 0700 directory).
fn in_user_namespace(oci: &Oci) {
    use std::os::unix::fs::PermissionsExt;
    let config = oci.bundle().join("config.json");
    let mut spec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&config).unwrap()).unwrap();
    let map = serde_json::json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    spec["linux"]["namespaces"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"type": "user"}));
    spec["linux"]["uidMappings"] = map.clone();
    spec["linux"]["gidMappings"] = map;
    std::fs::write(&config, serde_json::to_vec(&spec).unwrap()).unwrap();
    std::fs::set_permissions(oci.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// With a user namespace, the container's root is uid 0 to itself and 100000 to the host:
/// what it makes is the host's 100000's, what the host's root owns is nobody's to it and
/// closed to it; `exec` joins that namespace (not the host's root in the container).
#[test]
#[ignore = "needs root"]
fn a_user_namespace_maps_the_containers_root_to_a_host_range() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let oci = Oci::new();
    oci.config(&[
        "sh",
        "-c",
        "id -u; id -g; cat /proc/self/uid_map; echo hi > /tmp/made; stat -c %u /secret; cat /secret",
    ]);
    in_user_namespace(&oci);
    writable_root(&oci);
    let rootfs = oci.bundle().join("rootfs");
    shift_owners(&rootfs, 100_000);
    std::fs::write(rootfs.join("secret"), "host root's\n").unwrap();
    std::fs::set_permissions(
        rootfs.join("secret"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    let out = oci
        .cmd(&["run", "--bundle"])
        .arg(oci.bundle())
        .arg("u1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<String> = stdout
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        lines,
        ["0", "0", "0 100000 65536", "65534"],
        "{stdout}{stderr}"
    );
    assert!(stderr.contains("Permission denied"), "{stderr}");
    assert_ne!(out.status.code(), Some(0));
    let made = std::fs::metadata(rootfs.join("tmp/made")).unwrap();
    assert_eq!((made.uid(), made.gid()), (100_000, 100_000));
    oci.assert_nothing_left("u1");

    oci.config(&["sleep", "100"]);
    in_user_namespace(&oci);
    oci.run_detached(&[], "u2");
    let pid = oci.state("u2")["pid"].as_i64().unwrap().to_string();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert!(
        status.contains("\nUid:\t100000\t100000\t100000\t100000\n"),
        "{status}"
    );
    let theirs = ns_of(&pid, "user");
    assert_ne!(theirs, ns_of("self", "user"));
    let joined = oci.ok(&["exec", "u2", "readlink", "/proc/self/ns/user"]);
    assert_eq!(joined.trim(), theirs);
    assert_eq!(oci.ok(&["exec", "u2", "id", "-u"]).trim(), "0");
    oci.ok(&["delete", "--force", "u2"]);
    oci.assert_nothing_left("u2");
}

/// A user namespace without id maps is refused in one line, before anything is made.
#[test]
#[ignore = "needs root"]
fn a_user_namespace_without_maps_is_refused() {
    let oci = Oci::new();
    oci.config(&["true"]);
    let config = oci.bundle().join("config.json");
    let mut spec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&config).unwrap()).unwrap();
    spec["linux"]["namespaces"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"type": "user"}));
    std::fs::write(&config, serde_json::to_vec(&spec).unwrap()).unwrap();
    let out = oci.fails(&["create", "--bundle", oci.bundle().to_str().unwrap(), "n1"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("uidMappings"), "{err}");
    oci.assert_nothing_left("n1");
}

/// An idmapped bind mount (`mounts[].uidMappings`, `idmap`): a host directory owned by the
/// host's root, closed to everyone else, is the container's root's own through it (read,
/// written; what it writes is the host's root's); bound plainly, the same directory stays
/// closed to the container's root, which is nobody to it.
#[test]
#[ignore = "needs root"]
fn an_idmapped_mount_gives_host_files_to_the_containers_root() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let oci = Oci::new();
    oci.config(&[
        "sh",
        "-c",
        "stat -c %u /data/f; cat /data/f; echo new > /data/g; cat /plain/f",
    ]);
    in_user_namespace(&oci);
    shift_owners(&oci.bundle().join("rootfs"), 100_000);
    let data = oci.dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("f"), "host's\n").unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700)).unwrap();
    let config = oci.bundle().join("config.json");
    let mut spec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&config).unwrap()).unwrap();
    let map = serde_json::json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    let mounts = spec["mounts"].as_array_mut().unwrap();
    mounts.push(
        serde_json::json!({"destination": "/data", "type": "bind", "source": data,
        "options": ["bind", "idmap"], "uidMappings": map, "gidMappings": map}),
    );
    mounts.push(
        serde_json::json!({"destination": "/plain", "type": "bind", "source": data,
        "options": ["bind"]}),
    );
    std::fs::write(&config, serde_json::to_vec(&spec).unwrap()).unwrap();
    let out = oci
        .cmd(&["run", "--bundle"])
        .arg(oci.bundle())
        .arg("i1")
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(stdout, "0\nhost's\n", "stdout {stdout:?} stderr {stderr}");
    assert!(stderr.contains("'/plain/f': Permission denied"), "{stderr}");
    let g = std::fs::metadata(data.join("g")).unwrap();
    assert_eq!((g.uid(), g.gid()), (0, 0));
    oci.assert_nothing_left("i1");

    // One map without the other is refused before anything runs.
    spec["mounts"].as_array_mut().unwrap().pop();
    let idmapped = spec["mounts"].as_array_mut().unwrap().last_mut().unwrap();
    idmapped.as_object_mut().unwrap().remove("gidMappings");
    std::fs::write(&config, serde_json::to_vec(&spec).unwrap()).unwrap();
    let out = oci.fails(&["create", "--bundle", oci.bundle().to_str().unwrap(), "i2"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("needs both uidMappings and gidMappings"),
        "{err}"
    );
    oci.assert_nothing_left("i2");
}

/// The first `n` lines written to a terminal's master side (however the reads split them).
fn read_lines(master: &mut std::fs::File, n: usize) -> Vec<String> {
    use std::io::Read;
    let mut got = String::new();
    let mut chunk = [0u8; 256];
    while got.matches('\n').count() < n {
        let read = master.read(&mut chunk).unwrap();
        assert!(read > 0, "the terminal closed");
        got.push_str(&String::from_utf8_lossy(&chunk[..read]));
    }
    got.lines().take(n).map(|l| l.trim().to_string()).collect()
}

/// In a user namespace the terminal works too (devpts mounted there, its tty group mapped),
/// for the container's program and for `exec -t`, whose process is the namespace's root.
#[test]
#[ignore = "needs root"]
fn the_terminal_works_in_a_user_namespace() {
    let oci = Oci::new();
    oci.config(&["sh", "-c", "tty; id -u; sleep 100"]);
    in_user_namespace(&oci);
    shift_owners(&oci.bundle().join("rootfs"), 100_000);
    let config = oci.bundle().join("config.json");
    let mut spec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&config).unwrap()).unwrap();
    spec["process"]["terminal"] = true.into();
    std::fs::write(&config, serde_json::to_vec(&spec).unwrap()).unwrap();
    let socket_path = oci.dir.path().join("console.sock");
    let listener = std::os::unix::net::UnixListener::bind(&socket_path).unwrap();
    let mut create = oci
        .cmd(&[
            "create",
            "--console-socket",
            socket_path.to_str().unwrap(),
            "--bundle",
        ])
        .arg(oci.bundle())
        .arg("t1")
        .spawn()
        .unwrap();
    let mut master = receive_master(&listener);
    assert!(create.wait().unwrap().success());
    oci.ok(&["start", "t1"]);
    let lines = read_lines(&mut master, 2);
    assert!(lines[0].starts_with("/dev/pts/"), "{lines:?}");
    assert_eq!(lines[1], "0");

    let socket2 = oci.dir.path().join("exec-console.sock");
    let listener2 = std::os::unix::net::UnixListener::bind(&socket2).unwrap();
    let mut exec = oci
        .cmd(&[
            "exec",
            "-t",
            "--console-socket",
            socket2.to_str().unwrap(),
            "t1",
        ])
        .args(["sh", "-c", "tty; id -u; exit 6"])
        .spawn()
        .unwrap();
    let mut master2 = receive_master(&listener2);
    let lines = read_lines(&mut master2, 2);
    assert!(lines[0].starts_with("/dev/pts/"), "{lines:?}");
    assert_eq!(lines[1], "0");
    assert_eq!(exec.wait().unwrap().code(), Some(6));
    drop(master2);
    oci.ok(&["delete", "--force", "t1"]);
    oci.assert_nothing_left("t1");
}

/// A container joins another's user and network namespaces by path, as the containers of a
/// Kubernetes pod with user namespaces join its sandbox's: it is born in that user namespace
/// (so its own mount, PID... namespaces are that one's and its set-up works), root there,
/// and `state` names its process in the host's PID namespace.
#[test]
#[ignore = "needs root"]
fn a_container_joins_another_ones_user_namespace() {
    let oci = Oci::new();
    oci.config(&["sleep", "100"]);
    in_user_namespace(&oci);
    shift_owners(&oci.bundle().join("rootfs"), 100_000);
    oci.run_detached(&[], "sandbox");
    let sandbox = oci.state("sandbox")["pid"].as_i64().unwrap().to_string();

    oci.config(&["sleep", "100"]);
    let config = oci.bundle().join("config.json");
    let mut spec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&config).unwrap()).unwrap();
    let namespaces = spec["linux"]["namespaces"].as_array_mut().unwrap();
    namespaces.retain(|n| n["type"] != "network");
    namespaces
        .push(serde_json::json!({"type": "user", "path": format!("/proc/{sandbox}/ns/user")}));
    namespaces
        .push(serde_json::json!({"type": "network", "path": format!("/proc/{sandbox}/ns/net")}));
    std::fs::write(&config, serde_json::to_vec(&spec).unwrap()).unwrap();
    oci.run_detached(&[], "app");
    let app = oci.state("app")["pid"].as_i64().unwrap().to_string();
    assert_eq!(ns_of(&app, "user"), ns_of(&sandbox, "user"));
    assert_eq!(ns_of(&app, "net"), ns_of(&sandbox, "net"));
    assert_ne!(ns_of(&app, "mnt"), ns_of(&sandbox, "mnt"));
    assert_ne!(ns_of(&app, "pid"), ns_of(&sandbox, "pid"));
    let status = std::fs::read_to_string(format!("/proc/{app}/status")).unwrap();
    assert!(
        status.contains("\nUid:\t100000\t100000\t100000\t100000\n"),
        "{status}"
    );
    assert_eq!(oci.ok(&["exec", "app", "id", "-u"]).trim(), "0");
    oci.ok(&["delete", "--force", "app"]);
    oci.ok(&["delete", "--force", "sandbox"]);
    oci.assert_nothing_left("app");
    oci.assert_nothing_left("sandbox");
}
