//! What the OCI runtime-tools validation suite (its runtime-spec 1.1.0 version) checks, asserted
//! with kist's own busybox bundles: each test names the suite's test it follows. The suite
//! itself is run by hand (docs/oci-conformance.md); these keep kist passing what it passes.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

mod common;
use common::{BIN, assert_root, unpack_busybox};

/// A root and a bundle in a temp dir and a cgroup of the test's own (relative: below the test
/// process's cgroups); whatever containers are left are deleted when dropped.
struct Suite {
    dir: tempfile::TempDir,
    cgroup: String,
}

impl Suite {
    fn new() -> Suite {
        assert_root();
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = tempfile::tempdir().unwrap();
        unpack_busybox(&dir.path().join("bundle/rootfs"));
        let cgroup = format!(
            "kist-oci-conformance-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        Suite { dir, cgroup }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    fn bundle(&self) -> PathBuf {
        self.dir.path().join("bundle")
    }

    fn config_path(&self) -> PathBuf {
        self.bundle().join("config.json")
    }

    /// Writes config.json: kist-runtime's default spec running `args`, a writable root, then
    /// whatever `edit` changes.
    fn config(&self, args: &[&str], edit: impl FnOnce(&mut serde_json::Value)) {
        let _ = std::fs::remove_file(self.config_path());
        let bundle = self.bundle();
        self.ok(&["spec", "--bundle", bundle.to_str().unwrap()]);
        let mut spec: serde_json::Value =
            serde_json::from_slice(&std::fs::read(self.config_path()).unwrap()).unwrap();
        spec["process"]["terminal"] = false.into();
        spec["process"]["args"] = serde_json::json!(args);
        spec["root"]["readonly"] = false.into();
        spec["linux"]["cgroupsPath"] = self.cgroup.clone().into();
        edit(&mut spec);
        self.write_config(&spec);
    }

    fn write_config(&self, spec: &serde_json::Value) {
        std::fs::write(self.config_path(), serde_json::to_vec(spec).unwrap()).unwrap();
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

    /// `create`, the container's output going to OUT-ID in the temp dir.
    fn create(&self, id: &str) {
        let out = self.output_path(id);
        let log = std::fs::File::create(&out).unwrap();
        let bundle = self.bundle();
        let status = self
            .cmd(&["create", "--bundle", bundle.to_str().unwrap(), id])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .status()
            .unwrap();
        let text = std::fs::read_to_string(&out).unwrap_or_default();
        assert!(status.success(), "create {id} failed: {text}");
    }

    /// `create` expected to fail: its error. (Its streams go to a file, not a pipe that a
    /// container made by mistake would hold open.)
    fn create_fails(&self, id: &str) -> String {
        let path = self.output_path(id);
        let err = std::fs::File::create(&path).unwrap();
        let bundle = self.bundle();
        let status = self
            .cmd(&["create", "--bundle", bundle.to_str().unwrap(), id])
            .stdout(Stdio::null())
            .stderr(err)
            .status()
            .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!status.success(), "create {id} succeeded");
        text
    }

    fn output_path(&self, id: &str) -> PathBuf {
        self.dir.path().join(format!("OUT-{id}"))
    }

    fn output(&self, id: &str) -> String {
        std::fs::read_to_string(self.output_path(id)).unwrap()
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

    /// create, start, wait for the end, delete: what the program printed.
    fn run_to_end(&self, id: &str) -> String {
        self.create(id);
        self.ok(&["start", id]);
        self.wait_status(id, "stopped");
        self.ok(&["delete", id]);
        self.output(id)
    }

    /// Nothing of the test's bundle is mounted in the test's (the host's) mount namespace.
    fn assert_nothing_mounted_here(&self) {
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        let bundle = self.bundle().to_string_lossy().into_owned();
        assert!(
            !mounts.contains(&bundle),
            "the container's mounts reached the host:\n{mounts}"
        );
    }
}

impl Drop for Suite {
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

/// A process of the test's, killed by its pid and reaped when dropped.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn ns_link(pid: u32, ns: &str) -> String {
    std::fs::read_link(format!("/proc/{pid}/ns/{ns}"))
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// `hooks_stdin`: each hook gets the state on its stdin, with the container's id, bundle, pid
/// and annotations: `created` for prestart (the container set up, its program waiting),
/// `running` for poststart, a status for poststop.
#[test]
#[ignore = "needs root"]
fn hooks_get_the_state_on_stdin() {
    let suite = Suite::new();
    let d = suite.dir.path().to_str().unwrap().to_string();
    let hook = |name: &str| serde_json::json!({"path": "/bin/sh", "args": ["sh", "-c", format!("cat > {d}/{name}.json")], "timeout": 5});
    suite.config(&["true"], |s| {
        s["annotations"] =
            serde_json::json!({"org.opencontainers.runtime-tools": "hook stdin test"});
        s["hooks"] = serde_json::json!({
            "prestart": [hook("prestart")],
            "poststart": [hook("poststart")],
            "poststop": [hook("poststop")],
        });
    });
    suite.create("h");
    let pid = suite.state("h")["pid"].clone();
    suite.ok(&["start", "h"]);
    suite.wait_status("h", "stopped");
    suite.ok(&["delete", "h"]);
    let bundle = suite.bundle().canonicalize().unwrap();
    for (name, status) in [
        ("prestart", "created"),
        ("poststart", "running"),
        ("poststop", "stopped"),
    ] {
        let s = read_json(&suite.dir.path().join(format!("{name}.json")));
        assert_eq!(s["status"], status, "{name}: {s}");
        assert_eq!(s["id"], "h", "{name}");
        assert_eq!(s["bundle"], bundle.to_str().unwrap(), "{name}");
        assert_eq!(
            s["annotations"]["org.opencontainers.runtime-tools"], "hook stdin test",
            "{name}"
        );
        if name != "poststop" {
            assert_eq!(s["pid"], pid, "{name}");
        }
    }
}

/// What a container sees of its root's propagation, by the suite's probe: / bound recursively
/// on /t, then a directory bound on /m: the bind shows through /t/m only if / is shared; an
/// unbindable / cannot be bound at all.
const PROPAGATION_PROBE: &str = "mkdir /t /m /x && touch /x/f && \
     if mount -o rbind / /t 2>/dev/null; then mount -o bind /x /m && \
     if [ -e /t/m/f ]; then echo exposed; else echo hidden; fi; else echo unbindable; fi";

fn with_sys_admin(s: &mut serde_json::Value) {
    for set in ["bounding", "effective", "permitted"] {
        s["process"]["capabilities"][set] = serde_json::json!(["CAP_SYS_ADMIN", "CAP_MKNOD"]);
    }
}

/// `linux_rootfs_propagation`: shared, slave, private and unbindable roots behave as such
/// inside the container (a shared root once made pivot_root fail, an unbindable one the root's
/// bind), and none of the container's mounts reach the host.
#[test]
#[ignore = "needs root"]
fn the_root_has_the_propagation_the_spec_asks_for() {
    let suite = Suite::new();
    for (propagation, seen) in [
        ("shared", "exposed"),
        ("slave", "hidden"),
        ("private", "hidden"),
        ("unbindable", "unbindable"),
    ] {
        suite.config(&["sh", "-c", PROPAGATION_PROBE], |s| {
            with_sys_admin(s);
            s["linux"]["rootfsPropagation"] = propagation.into();
        });
        let id = format!("p-{propagation}");
        let out = suite.run_to_end(&id);
        assert_eq!(out.trim(), seen, "{propagation}");
        suite.assert_nothing_mounted_here();
        for d in ["t", "m", "x"] {
            let _ = std::fs::remove_dir_all(suite.bundle().join("rootfs").join(d));
        }
    }
}

/// `config_updates_without_affect`: once created, the container does not read config.json
/// again: replaced by a spec with nothing in it, `start` still runs the program as created
/// (here with the suite's shared root, oom_score_adj and rlimit).
#[test]
#[ignore = "needs root"]
fn config_json_changed_after_create_changes_nothing() {
    let suite = Suite::new();
    suite.config(
        &[
            "sh",
            "-c",
            "cat /proc/self/oom_score_adj; ulimit -n; awk '$5 == \"/\"' /proc/self/mountinfo | grep -c shared:",
        ],
        |s| {
            s["linux"]["rootfsPropagation"] = "shared".into();
            s["process"]["oomScoreAdj"] = 100.into();
            s["process"]["rlimits"] =
                serde_json::json!([{"type": "RLIMIT_NOFILE", "hard": 1000, "soft": 1000}]);
        },
    );
    suite.create("u");
    suite.write_config(&serde_json::json!({"ociVersion": "1.0.0"}));
    suite.ok(&["start", "u"]);
    suite.wait_status("u", "stopped");
    suite.ok(&["delete", "u"]);
    assert_eq!(suite.output("u"), "100\n1000\n1\n");
}

/// `linux_ns_path`: a namespace given by path is the container's (its init's link names the
/// same namespace), for the mount namespace too: the root is mounted in the joined one, and
/// nothing of it in the host's.
#[test]
#[ignore = "needs root"]
fn namespaces_given_by_path_are_joined() {
    let suite = Suite::new();
    for (ns, typ, flag) in [
        ("ipc", "ipc", "--ipc"),
        ("uts", "uts", "--uts"),
        ("net", "network", "--net"),
        ("mnt", "mount", "--mount"),
    ] {
        // unshare makes the namespace and execs sleep in it (no --fork: the pid is sleep's).
        let holder = Guard(
            Command::new("unshare")
                .args([flag, "sleep", "100"])
                .spawn()
                .unwrap(),
        );
        let pid = holder.0.id();
        let own = ns_link(std::process::id(), ns);
        let deadline = Instant::now() + Duration::from_secs(5);
        while ns_link(pid, ns) == own {
            assert!(
                Instant::now() < deadline,
                "unshare {flag} made no namespace"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        suite.config(&["sleep", "100"], |s| {
            let list = s["linux"]["namespaces"].as_array_mut().unwrap();
            list.retain(|n| n["type"] != typ);
            list.push(serde_json::json!({"type": typ, "path": format!("/proc/{pid}/ns/{ns}")}));
            if typ == "uts" {
                s.as_object_mut().unwrap().remove("hostname");
            }
        });
        let id = format!("ns-{ns}");
        suite.create(&id);
        let cpid = u32::try_from(suite.state(&id)["pid"].as_i64().unwrap()).unwrap();
        assert_eq!(ns_link(cpid, ns), ns_link(pid, ns), "{ns}");
        suite.assert_nothing_mounted_here();
        suite.ok(&["delete", "--force", &id]);
    }
}

/// A change to a spec.
type Edit = fn(&mut serde_json::Value);

/// `process_capabilities_fail`, `process_rlimits_fail`, `misc_props` (an invalid version):
/// a value the kernel has no interface for fails `create`, saying which, and leaves nothing.
#[test]
#[ignore = "needs root"]
fn values_with_no_kernel_interface_fail_create() {
    let suite = Suite::new();
    let cases: [(&str, Edit); 3] = [
        ("CAP_TEST", |s| {
            s["process"]["capabilities"]["bounding"]
                .as_array_mut()
                .unwrap()
                .push("CAP_TEST".into());
        }),
        ("RLIMIT_TEST", |s| {
            s["process"]["rlimits"] =
                serde_json::json!([{"type": "RLIMIT_TEST", "hard": 1024, "soft": 1024}]);
        }),
        ("invalid", |s| s["ociVersion"] = "invalid".into()),
    ];
    for (what, edit) in cases {
        suite.config(&["true"], edit);
        let err = suite.create_fails("bad");
        assert!(err.contains(what), "{what}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(!suite.root().join("bad").exists(), "{what}: state left");
    }
}

/// `misc_props`: an unknown annotation key and an unknown top-level property are no error.
#[test]
#[ignore = "needs root"]
fn unknown_annotations_and_properties_are_ignored() {
    let suite = Suite::new();
    suite.config(&["echo", "ran"], |s| {
        s["annotations"] = serde_json::json!({"org.c0ffee-1234": ""});
        s["unknown"] = "unknown".into();
    });
    assert_eq!(suite.run_to_end("m"), "ran\n");
}

/// `start`: without an id, or of a container that does not exist, `start` fails; the program
/// does not run before `start`, runs once on it, and a second `start` fails without effect.
#[test]
#[ignore = "needs root"]
fn start_runs_the_program_once_and_only_then() {
    let suite = Suite::new();
    suite.config(&["sh", "-c", "echo 'process called' >> /output"], |_| {});
    let output = suite.bundle().join("rootfs/output");
    suite.fails(&["start"]);
    suite.fails(&["start", "s"]);
    suite.create("s");
    assert!(!output.exists(), "the program ran before start");
    suite.ok(&["start", "s"]);
    suite.wait_status("s", "stopped");
    assert_eq!(
        std::fs::read_to_string(&output).unwrap(),
        "process called\n"
    );
    suite.fails(&["start", "s"]);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        std::fs::read_to_string(&output).unwrap(),
        "process called\n"
    );
    suite.ok(&["delete", "s"]);
}

/// `delete`, `kill`, `kill_no_effect`: without an id, or of an unknown id, they fail; a
/// running container is not deleted without --force and keeps running; a stopped one cannot
/// be signalled (an error, and no effect). Unlike the suite, a `created` container is deleted
/// without --force, as runc and crun do and containerd's shim relies on.
#[test]
#[ignore = "needs root"]
fn delete_and_kill_refuse_what_they_cannot_do() {
    let suite = Suite::new();
    suite.fails(&["delete"]);
    suite.fails(&["delete", "nope"]);
    suite.fails(&["kill"]);
    suite.fails(&["kill", "nope", "KILL"]);
    suite.config(&["sleep", "30"], |_| {});
    suite.create("d");
    suite.ok(&["start", "d"]);
    suite.fails(&["delete", "d"]);
    assert_eq!(suite.state("d")["status"], "running");
    suite.ok(&["kill", "d", "KILL"]);
    suite.wait_status("d", "stopped");
    suite.fails(&["kill", "d", "TERM"]);
    assert_eq!(suite.state("d")["status"], "stopped");
    suite.ok(&["delete", "d"]);
    suite.fails(&["state", "d"]);

    suite.create("c");
    suite.ok(&["delete", "c"]);
    suite.fails(&["state", "c"]);
}

/// `pidfile`, `state`: --pid-file holds the pid `state` reports; `state` of a created
/// container has the spec's fields (version, id, status, pid, absolute bundle).
#[test]
#[ignore = "needs root"]
fn pid_file_and_state_agree() {
    let suite = Suite::new();
    suite.config(&["true"], |_| {});
    let pid_file = suite.dir.path().join("pid");
    let bundle = suite.bundle();
    // The program's streams go to a file: a pipe would stay open as long as it lives.
    let status = suite
        .cmd(&["create", "--pid-file", pid_file.to_str().unwrap()])
        .args(["--bundle", bundle.to_str().unwrap(), "p"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let s = suite.state("p");
    let written: i64 = std::fs::read_to_string(&pid_file).unwrap().parse().unwrap();
    assert_eq!(s["pid"].as_i64(), Some(written));
    assert!(written > 0);
    assert_eq!(s["status"], "created");
    assert_eq!(s["id"], "p");
    assert!(s["ociVersion"].as_str().unwrap().starts_with("1."), "{s}");
    assert_eq!(
        s["bundle"],
        bundle.canonicalize().unwrap().to_str().unwrap()
    );
    suite.ok(&["delete", "p"]);
}

/// `linux_cgroups_memory`: the spec's memory limit, reservation, swappiness and disabled OOM
/// killer are in the container's memory cgroup (on v1, where the last two exist; kernel
/// memory limits are gone from Linux 6.x and not checked).
#[test]
#[ignore = "needs root"]
fn memory_settings_reach_the_cgroup() {
    let suite = Suite::new();
    suite.config(&["sleep", "100"], |s| {
        s["linux"]["resources"]["memory"] = serde_json::json!({
            "limit": 50593792, "reservation": 50593792, "swappiness": 10, "disableOOMKiller": true,
        });
    });
    suite.create("mem");
    let dirs: Vec<PathBuf> = kist_runtime::Cgroup::resolve(&suite.cgroup)
        .unwrap()
        .dirs()
        .map(Path::to_path_buf)
        .collect();
    let read = |file: &str| -> Option<String> {
        dirs.iter()
            .find_map(|d| std::fs::read_to_string(d.join(file)).ok())
    };
    if let Some(limit) = read("memory.limit_in_bytes") {
        assert_eq!(limit.trim(), "50593792");
        assert_eq!(
            read("memory.soft_limit_in_bytes").unwrap().trim(),
            "50593792"
        );
        assert_eq!(read("memory.swappiness").unwrap().trim(), "10");
        let oom = read("memory.oom_control").unwrap();
        assert!(oom.contains("oom_kill_disable 1"), "{oom}");
    } else {
        assert_eq!(read("memory.max").unwrap().trim(), "50593792");
        assert_eq!(read("memory.low").unwrap().trim(), "50593792");
    }
    suite.ok(&["delete", "--force", "mem"]);
}

/// `linux_ns_itype`: a spec that lists no namespace gets every one of the runtime's, the mount
/// namespace too (the root is mounted there and entered by chroot); `exec` is refused, as it
/// would see the runtime's files, and `delete` takes the root's mounts away again.
#[test]
#[ignore = "needs root"]
fn no_namespace_listed_means_the_runtimes_own() {
    let suite = Suite::new();
    // kist-runtime runs in a mount namespace of the test's: the container's mounts are made
    // there, never in the host's.
    let holder = Guard(
        Command::new("unshare")
            .args(["--mount", "--propagation", "private", "sleep", "100"])
            .spawn()
            .unwrap(),
    );
    let hpid = holder.0.id();
    let deadline = Instant::now() + Duration::from_secs(5);
    while ns_link(hpid, "mnt") == ns_link(std::process::id(), "mnt") {
        assert!(
            Instant::now() < deadline,
            "unshare --mount made no namespace"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let in_holder = |args: &[&str]| {
        let mut c = Command::new("nsenter");
        c.arg(format!("--mount=/proc/{hpid}/ns/mnt"))
            .arg(BIN)
            .arg("--root")
            .arg(suite.root())
            .args(args)
            .stdin(Stdio::null());
        c
    };
    suite.config(&["sleep", "100"], |s| {
        s["linux"]["namespaces"] = serde_json::json!([]);
        s.as_object_mut().unwrap().remove("hostname");
    });
    let bundle = suite.bundle();
    let status = in_holder(&["create", "--bundle", bundle.to_str().unwrap(), "i"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "create without namespaces failed");
    let state = in_holder(&["state", "i"]).output().unwrap();
    let state: serde_json::Value = serde_json::from_slice(&state.stdout).unwrap();
    let pid = u32::try_from(state["pid"].as_i64().unwrap()).unwrap();
    for ns in ["ipc", "net", "pid", "uts", "cgroup"] {
        assert_eq!(ns_link(pid, ns), ns_link(std::process::id(), ns), "{ns}");
    }
    assert_eq!(ns_link(pid, "mnt"), ns_link(hpid, "mnt"));
    let mounted = || {
        std::fs::read_to_string(format!("/proc/{hpid}/mountinfo"))
            .unwrap()
            .contains(bundle.to_str().unwrap())
    };
    assert!(
        mounted(),
        "the root is not mounted in the runtime's namespace"
    );
    suite.assert_nothing_mounted_here();
    assert!(in_holder(&["start", "i"]).status().unwrap().success());
    let exec = in_holder(&["exec", "i", "true"]).output().unwrap();
    assert!(!exec.status.success());
    let err = String::from_utf8_lossy(&exec.stderr);
    assert!(err.contains("no mount namespace of its own"), "{err}");
    assert!(
        in_holder(&["delete", "--force", "i"])
            .status()
            .unwrap()
            .success()
    );
    assert!(
        !mounted(),
        "delete left the root's mounts in the runtime's namespace"
    );
}
