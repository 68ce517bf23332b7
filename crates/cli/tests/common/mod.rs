//! Test helpers: a kist with its own root in a temporary directory, and the busybox tarball.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

pub const KIST: &str = env!("CARGO_BIN_EXE_kist");

/// The busybox root filesystem tarball, built once per test binary by the repository's script
/// into cargo's temporary directory for tests: one file there, replaced by each binary (a
/// directory per process in /tmp was never removed, 4 MB a test binary and run).
pub fn busybox_tar() -> &'static Path {
    static TAR: OnceLock<PathBuf> = OnceLock::new();
    TAR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
        std::fs::create_dir_all(dir).unwrap();
        let building = dir.join(format!("busybox-{}.tar", std::process::id()));
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/make-busybox-tar");
        let out = Command::new(script).arg(&building).output().unwrap();
        assert!(
            out.status.success(),
            "make-busybox-tar: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let tar = dir.join("busybox.tar");
        std::fs::rename(&building, &tar).unwrap();
        tar
    })
}

/// A kist with its own root, removed when dropped, and its own cgroup parent: relative, so
/// below the test process's own cgroups (this host manages those; nothing may leave them).
pub struct Kist {
    pub root: tempfile::TempDir,
    pub cgroup_parent: String,
    /// More environment for every kist command.
    pub env: Vec<(String, String)>,
    /// The network namespace every command runs in (`in_netns`), else the test's own.
    pub netns: Option<NetNs>,
}

/// A network (and mount) namespace a test owns: a holder process made by `unshare --net
/// --mount`, with `lo` up, entered by every command with `nsenter`; killed by its pid when
/// dropped. Bridges, veths and nftables rules made in it never touch the machine's own.
pub struct NetNs {
    holder: std::process::Child,
}

impl NetNs {
    pub fn new() -> NetNs {
        let mut holder = Command::new("unshare")
            .args(["--net", "--mount", "--", "sleep", "100000"])
            .stdin(Stdio::null())
            .spawn()
            .expect("starting unshare");
        let pid = holder.id();
        let own = std::fs::read_link("/proc/self/ns/net").unwrap();
        // unshare(2) comes before the exec of sleep: wait for the namespace to be new.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::fs::read_link(format!("/proc/{pid}/ns/net"))
            .ok()
            .as_ref()
            == Some(&own)
            || std::fs::read_link(format!("/proc/{pid}/exe"))
                .is_ok_and(|e| !e.to_string_lossy().contains("sleep"))
        {
            assert!(
                std::time::Instant::now() < deadline,
                "unshare did not start"
            );
            if let Ok(Some(status)) = holder.try_wait() {
                panic!("unshare --net --mount failed: {status}");
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let ns = NetNs { holder };
        let out = ns
            .command("ip", &["link", "set", "lo", "up"])
            .output()
            .unwrap();
        assert!(out.status.success(), "ip link set lo up: {out:?}");
        ns
    }

    pub fn pid(&self) -> u32 {
        self.holder.id()
    }

    /// `program args` inside the namespace.
    pub fn command(&self, program: &str, args: &[&str]) -> Command {
        let pid = self.pid();
        let mut c = Command::new("nsenter");
        c.arg(format!("--net=/proc/{pid}/ns/net"))
            .arg(format!("--mount=/proc/{pid}/ns/mnt"))
            .arg("--")
            .arg(program)
            .args(args)
            .stdin(Stdio::null());
        c
    }

    /// Runs `program args` inside the namespace; requires success, returns stdout.
    pub fn ok(&self, program: &str, args: &[&str]) -> String {
        let out = self.command(program, args).output().unwrap();
        assert!(
            out.status.success(),
            "{program} {args:?} in the test's netns failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

impl Drop for Kist {
    fn drop(&mut self) {
        if self.netns.is_some() {
            // Nothing of this test may stay in its namespace (supervisors keep it alive).
            let ids = self.run(&["ps", "-aq"]);
            for id in String::from_utf8_lossy(&ids.stdout).split_whitespace() {
                let _ = self.run(&["rm", "-f", id]);
            }
        }
        for version in [
            kist_runtime::CgroupVersion::Auto,
            kist_runtime::CgroupVersion::V2,
        ] {
            if let Ok(cg) = kist_runtime::Cgroup::resolve_version(&self.cgroup_parent, version) {
                let _ = cg.destroy();
            }
        }
    }
}

impl Kist {
    /// Every test here runs real containers: it needs root, and fails (never passes) without.
    pub fn new() -> Kist {
        needs_root();
        let root = tempfile::Builder::new()
            .prefix("kist-test-")
            .tempdir()
            .unwrap();
        let cgroup_parent = format!(
            "kist-test-{}",
            root.path()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .trim_start_matches("kist-test-")
        );
        Kist {
            root,
            cgroup_parent,
            // A test that is not about networks gets `--network none` by default, so that
            // it never makes kist0 in the machine's own network namespace.
            env: vec![("KIST_DEFAULT_NETWORK".into(), "none".into())],
            netns: None,
        }
    }

    /// A kist whose every command runs in a network namespace of this test's own, with the
    /// default network as users get it (`bridge`). Every test that makes bridges, veths,
    /// addresses or nftables rules uses this.
    pub fn in_netns() -> Kist {
        let mut k = Kist::new();
        k.env.retain(|(key, _)| key != "KIST_DEFAULT_NETWORK");
        k.netns = Some(NetNs::new());
        k
    }

    /// `in_netns` with the busybox image.
    pub fn in_netns_with_busybox() -> Kist {
        let k = Kist::in_netns();
        k.ok(&["import", busybox_tar().to_str().unwrap(), "busybox"]);
        k
    }

    /// The test's network namespace (`in_netns`).
    pub fn ns(&self) -> &NetNs {
        self.netns
            .as_ref()
            .expect("a kist made with Kist::in_netns")
    }

    /// This kist with `key=value` in the environment of its commands.
    pub fn with_env(mut self, key: &str, value: &str) -> Kist {
        self.env.push((key.into(), value.into()));
        self
    }

    /// The directory of container `id`'s cgroup in a hierarchy ("memory", "cpuacct",
    /// "unified"...), below this kist's parent.
    pub fn cgroup_dir(&self, hierarchy: &str, id: &str) -> PathBuf {
        let own = std::fs::read_to_string("/proc/self/cgroup").unwrap();
        let path = own
            .lines()
            .find_map(|l| {
                let mut f = l.splitn(3, ':');
                let (_, controllers, path) = (f.next()?, f.next()?, f.next()?);
                let matches = if hierarchy == "unified" {
                    controllers.is_empty()
                } else {
                    controllers.split(',').any(|c| c == hierarchy)
                };
                matches.then_some(path)
            })
            .unwrap_or("/");
        Path::new("/sys/fs/cgroup")
            .join(hierarchy)
            .join(path.trim_start_matches('/'))
            .join(&self.cgroup_parent)
            .join(id)
    }

    /// A file of container `id`'s cgroup, trimmed.
    pub fn cgroup_file(&self, hierarchy: &str, id: &str, file: &str) -> String {
        let path = self.cgroup_dir(hierarchy, id).join(file);
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
            .trim()
            .to_string()
    }

    /// The container cgroups under this kist's parent, in the memory and unified hierarchies.
    pub fn container_cgroups(&self) -> Vec<String> {
        let memory = self.cgroup_dir("memory", "");
        let unified = self.cgroup_dir("unified", "");
        [memory, unified]
            .iter()
            .flat_map(|dir| std::fs::read_dir(dir).into_iter().flatten())
            .flatten()
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    }

    /// A kist whose store already has the busybox image.
    pub fn with_busybox() -> Kist {
        let k = Kist::new();
        k.ok(&["import", busybox_tar().to_str().unwrap(), "busybox"]);
        k
    }

    pub fn path(&self) -> &Path {
        self.root.path()
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = match &self.netns {
            Some(ns) => ns.command(KIST, args),
            None => {
                let mut c = Command::new(KIST);
                c.args(args);
                c
            }
        };
        c.env("KIST_ROOT", self.path())
            .env("KIST_CGROUP_PARENT", &self.cgroup_parent)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs kist with `input` on its stdin; fails (killing it) if it takes over 60 s, so a
    /// container left waiting for input fails the test instead of hanging the suite.
    pub fn run_with_stdin(&self, args: &[&str], input: &[u8]) -> Output {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input).unwrap();
        let pid = i32::try_from(child.id()).unwrap();
        let watchdog = std::thread::spawn(move || {
            for _ in 0..600 {
                std::thread::sleep(std::time::Duration::from_millis(100));
                if std::fs::read_to_string(format!("/proc/{pid}/stat")).is_err() {
                    return false;
                }
            }
            // SAFETY: kill(2) takes plain integers; pid is kist's, which this test started.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            true
        });
        let out = child.wait_with_output().unwrap();
        let killed = watchdog.join().unwrap();
        assert!(!killed, "kist {args:?} ran over 60 s and was killed");
        out
    }

    /// Runs kist, requires success, returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "kist {args:?} failed ({:?}): {}{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs kist, requires the exit code, returns stderr.
    pub fn fails(&self, args: &[&str], code: i32) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(
            out.status.code(),
            Some(code),
            "kist {args:?}: stdout {:?} stderr {stderr:?}",
            String::from_utf8_lossy(&out.stdout)
        );
        stderr
    }

    /// Names of what is in a directory of the root (containers, volumes, layers...).
    pub fn entries(&self, dir: &str) -> Vec<String> {
        match std::fs::read_dir(self.path().join(dir)) {
            Ok(rd) => rd
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Mounts on the host that mention this root: there must never be any.
    pub fn host_mounts(&self) -> Vec<String> {
        let root = self.path().to_string_lossy().into_owned();
        std::fs::read_to_string("/proc/self/mountinfo")
            .unwrap()
            .lines()
            .filter(|l| l.contains(&root))
            .map(String::from)
            .collect()
    }

    /// The supervisors of this root's containers still running (their pids).
    pub fn supervisors(&self) -> Vec<u32> {
        let root = self.path().as_os_str().as_encoded_bytes().to_vec();
        std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| {
                let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
                args.contains(&b"__supervise".as_slice()) && args.contains(&root.as_slice())
            })
            .collect()
    }

    /// Asserts that no container, write layer or mount is left.
    pub fn assert_clean(&self) {
        assert_eq!(self.ok(&["ps", "-aq"]), "", "containers left");
        assert!(
            self.entries("containers").is_empty(),
            "write layers left: {:?}",
            self.entries("containers")
        );
        assert!(
            self.entries("run/containers").is_empty(),
            "runtime dirs left: {:?}",
            self.entries("run/containers")
        );
        assert!(
            self.host_mounts().is_empty(),
            "mounts left: {:?}",
            self.host_mounts()
        );
        assert!(
            self.container_cgroups().is_empty(),
            "cgroups left: {:?}",
            self.container_cgroups()
        );
    }
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Waits (up to 15 s) for `cond`, polling.
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(15),
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Pids of the supervisors of this kist's root.
pub fn supervisors(k: &Kist) -> Vec<i32> {
    let root = k.path().to_string_lossy().into_owned();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let pid: i32 = e.file_name().to_str()?.parse().ok()?;
            let cmd = String::from_utf8_lossy(&std::fs::read(e.path().join("cmdline")).ok()?)
                .into_owned();
            (cmd.contains("__supervise") && cmd.contains(&root)).then_some(pid)
        })
        .collect()
}

/// Fails the test (never skips it) when not run as root. The tests that need root are marked
/// `#[ignore = "needs root"]`, so that a plain `cargo test` reports them as skipped;
/// `scripts/test` runs them (`--include-ignored`) as root.
pub fn needs_root() {
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
    assert_eq!(
        uid, 0,
        "this test runs real containers and needs root (run scripts/test as root)"
    );
}

/// The probe program (tests/probe/probe.c), built once per test binary as a static binary,
/// in a directory of its own (under cargo's temporary directory for tests, replaced by each
/// binary) to bind into containers at /probe.
pub fn probe_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("probe");
        std::fs::create_dir_all(&dir).unwrap();
        let building = dir.join(format!("probe-{}", std::process::id()));
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/probe/probe.c");
        let out = Command::new("cc")
            .args(["-static", "-O2", "-o"])
            .arg(&building)
            .arg(&source)
            .output()
            .expect("running cc (scripts/test installs gcc)");
        assert!(
            out.status.success(),
            "building the probe: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::rename(&building, dir.join("probe")).unwrap();
        dir
    })
}

/// `-v PROBE_DIR:/probe:ro`, for `kist run` arguments.
pub fn probe_volume() -> String {
    format!("{}:/probe:ro", probe_dir().display())
}
