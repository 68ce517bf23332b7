//! A container's cgroups, on cgroup v1 (one directory per mounted hierarchy), v2 (one
//! directory in the unified hierarchy), or both on a hybrid host: the v1 controllers carry the
//! limits and the freezer; the cgroup2 membership gives `cgroup.kill`.
//!
//! A path is the spec's `linux.cgroupsPath`: absolute as given, or relative to the calling
//! process's own cgroup in each hierarchy (runc's rule), so that a parent can always be put
//! below the caller's cgroup, as a host that manages its processes' cgroups requires.

use std::fs;
use std::path::{Path, PathBuf};

use oci_spec::runtime::LinuxResources;

use crate::error::{Error, Result};

/// One hierarchy: where it is mounted, the caller's own cgroup in it, and what it controls.
#[derive(Debug, Clone)]
struct Hierarchy {
    mount: PathBuf,
    own: PathBuf,
    controllers: Vec<String>,
    v2: bool,
}

/// The directories of one container's cgroup, one per hierarchy.
#[derive(Debug, Clone)]
pub struct Cgroup {
    dirs: Vec<(Hierarchy, PathBuf)>,
}

fn io_err(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::sys(format!("{what} {}", path.display()), e)
}

fn hierarchies() -> Result<Vec<Hierarchy>> {
    let own = fs::read_to_string("/proc/self/cgroup")
        .map_err(|e| io_err("reading", Path::new("/proc/self/cgroup"), e))?;
    let mountinfo = fs::read_to_string("/proc/self/mountinfo")
        .map_err(|e| io_err("reading", Path::new("/proc/self/mountinfo"), e))?;
    let mut out = Vec::new();
    for line in mountinfo.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let mount = PathBuf::from(left.split_whitespace().nth(4).unwrap_or_default());
        let mut r = right.split_whitespace();
        let fstype = r.next().unwrap_or_default();
        let options = r.nth(1).unwrap_or_default();
        match fstype {
            "cgroup2" => {
                let path = own
                    .lines()
                    .find_map(|l| l.strip_prefix("0::"))
                    .unwrap_or("/");
                out.push(Hierarchy {
                    mount,
                    own: PathBuf::from(path),
                    controllers: Vec::new(),
                    v2: true,
                });
            }
            "cgroup" => {
                let controllers: Vec<String> = options
                    .split(',')
                    .filter(|o| {
                        !["rw", "ro"].contains(o) && !o.starts_with("name=") && !o.contains('=')
                    })
                    .map(String::from)
                    .collect();
                // Named hierarchies (name=systemd) control nothing, and kist has no use yet for
                // devices, blkio or cpuacct: each hierarchy costs a mkdir, a write and an rmdir
                // per container.
                if !controllers.iter().any(|c| USED_V1.contains(&c.as_str())) {
                    continue;
                }
                let path = own
                    .lines()
                    .find_map(|l| {
                        let mut f = l.splitn(3, ':');
                        let (_, c, p) = (f.next()?, f.next()?, f.next()?);
                        let set: Vec<&str> = c.split(',').collect();
                        controllers
                            .iter()
                            .all(|x| set.contains(&x.as_str()))
                            .then_some(p)
                    })
                    .unwrap_or("/");
                out.push(Hierarchy {
                    mount,
                    own: PathBuf::from(path),
                    controllers,
                    v2: false,
                });
            }
            _ => {}
        }
    }
    // On a hybrid host the v1 hierarchies carry the controllers and the freezer; the empty
    // cgroup2 tree would only add a directory per container.
    if out.iter().any(|h| !h.v2) {
        out.retain(|h| !h.v2);
    }
    Ok(out)
}

/// The v1 controllers kist uses.
const USED_V1: [&str; 5] = ["memory", "pids", "cpu", "freezer", "cpuset"];

impl Cgroup {
    /// The cgroup at `path` (see the module's rule) in every hierarchy of this host.
    pub fn resolve(path: &str) -> Result<Cgroup> {
        let dirs = hierarchies()?
            .into_iter()
            .map(|h| {
                let rel = Path::new(path);
                let full = if rel.is_absolute() {
                    h.mount.join(rel.strip_prefix("/").unwrap_or(rel))
                } else {
                    h.mount
                        .join(h.own.strip_prefix("/").unwrap_or(&h.own))
                        .join(rel)
                };
                (h, full)
            })
            .collect();
        Ok(Cgroup { dirs })
    }

    fn has(&self, controller: &str) -> Option<&Path> {
        self.dirs
            .iter()
            .find(|(h, _)| h.controllers.iter().any(|c| c == controller))
            .map(|(_, d)| d.as_path())
    }

    fn v2_dir(&self) -> Option<&Path> {
        self.dirs
            .iter()
            .find(|(h, _)| h.v2)
            .map(|(_, d)| d.as_path())
    }

    /// Creates the directories (and missing parents) and applies the limits.
    pub fn create(&self, resources: Option<&LinuxResources>) -> Result<()> {
        let wants_cpuset = resources
            .and_then(|r| r.cpu().as_ref())
            .is_some_and(|c| c.cpus().is_some() || c.mems().is_some());
        for (h, dir) in &self.dirs {
            let cpuset_only = h.controllers.iter().all(|c| c == "cpuset");
            if cpuset_only && !wants_cpuset {
                continue;
            }
            make_dirs(h, dir)?;
        }
        if let Some(r) = resources {
            self.apply(r)?;
        }
        Ok(())
    }

    fn apply(&self, r: &LinuxResources) -> Result<()> {
        let v1 = !self.dirs.iter().all(|(h, _)| h.v2);
        if let Some(m) = r.memory() {
            if let (Some(limit), Some(dir)) = (m.limit(), self.has("memory")) {
                write(dir, "memory.limit_in_bytes", &limit.to_string())?;
                if let Some(swap) = m.swap() {
                    // Docker's --memory-swap is memory plus swap, as memsw is; absent without swap accounting.
                    if dir.join("memory.memsw.limit_in_bytes").exists() {
                        write(dir, "memory.memsw.limit_in_bytes", &swap.to_string())?;
                    }
                }
            } else if let (Some(limit), false, Some(dir)) = (m.limit(), v1, self.v2_dir()) {
                write(dir, "memory.max", &limit.to_string())?;
            }
        }
        if let Some(p) = r.pids() {
            match (self.has("pids"), v1, self.v2_dir()) {
                (Some(dir), _, _) => write(dir, "pids.max", &p.limit().to_string())?,
                (None, false, Some(dir)) => write(dir, "pids.max", &p.limit().to_string())?,
                _ => {}
            }
        }
        if let Some(cpu) = r.cpu() {
            if let Some(dir) = self.has("cpu") {
                if let Some(shares) = cpu.shares() {
                    write(dir, "cpu.shares", &shares.to_string())?;
                }
                if let Some(period) = cpu.period() {
                    write(dir, "cpu.cfs_period_us", &period.to_string())?;
                }
                if let Some(quota) = cpu.quota() {
                    write(dir, "cpu.cfs_quota_us", &quota.to_string())?;
                }
            } else if let (false, Some(dir), Some(quota)) = (v1, self.v2_dir(), cpu.quota()) {
                write(
                    dir,
                    "cpu.max",
                    &format!("{quota} {}", cpu.period().unwrap_or(100_000)),
                )?;
            }
            if let Some(dir) = self.has("cpuset") {
                if let Some(cpus) = cpu.cpus() {
                    write(dir, "cpuset.cpus", cpus)?;
                }
                if let Some(mems) = cpu.mems() {
                    write(dir, "cpuset.mems", mems)?;
                }
            }
        }
        Ok(())
    }

    /// Moves a process into the cgroup, in every hierarchy.
    pub fn add(&self, pid: i32) -> Result<()> {
        for (_, dir) in self.dirs.iter().filter(|(_, d)| d.is_dir()) {
            write(dir, "cgroup.procs", &pid.to_string())?;
        }
        Ok(())
    }

    /// Freezes (`true`) or thaws the cgroup's processes, and waits until it is so.
    pub fn freeze(&self, frozen: bool) -> Result<()> {
        if let Some(dir) = self.has("freezer") {
            let want = if frozen { "FROZEN" } else { "THAWED" };
            write(dir, "freezer.state", want)?;
            for _ in 0..1000 {
                if fs::read_to_string(dir.join("freezer.state")).is_ok_and(|s| s.trim() == want) {
                    return Ok(());
                }
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            return Err(Error::Spec(format!(
                "the cgroup {} did not become {want}",
                dir.display()
            )));
        }
        match self.v2_dir() {
            Some(dir) => write(dir, "cgroup.freeze", if frozen { "1" } else { "0" }),
            None => Err(Error::Spec("no freezer on this host".into())),
        }
    }

    /// Whether the cgroup is frozen.
    pub fn is_frozen(&self) -> bool {
        if let Some(dir) = self.has("freezer") {
            return fs::read_to_string(dir.join("freezer.state"))
                .is_ok_and(|s| s.trim() == "FROZEN");
        }
        self.v2_dir()
            .and_then(|d| fs::read_to_string(d.join("cgroup.events")).ok())
            .is_some_and(|e| e.lines().any(|l| l == "frozen 1"))
    }

    /// Whether the kernel's OOM killer killed a process of the cgroup.
    pub fn oom_killed(&self) -> bool {
        let count = |text: String| {
            text.lines()
                .find_map(|l| l.strip_prefix("oom_kill "))
                .and_then(|n| n.trim().parse::<u64>().ok())
                .unwrap_or(0)
        };
        if let Some(dir) = self.has("memory") {
            return fs::read_to_string(dir.join("memory.oom_control"))
                .map(count)
                .unwrap_or(0)
                > 0;
        }
        self.v2_dir()
            .and_then(|d| fs::read_to_string(d.join("memory.events")).ok())
            .map(count)
            .unwrap_or(0)
            > 0
    }

    /// Kills whatever still runs in the cgroup (and any below it), then removes the
    /// directories. Frozen cgroups are thawed first: a frozen process does not die.
    pub fn destroy(&self) -> Result<()> {
        if self.dirs.iter().all(|(_, d)| !d.exists()) {
            return Ok(());
        }
        // Normally empty: every process of a PID namespace dies with its first.
        let occupied = self.dirs.iter().flat_map(|(_, d)| tree(d)).any(|d| {
            fs::read_to_string(d.join("cgroup.procs")).is_ok_and(|p| !p.trim().is_empty())
        });
        if !occupied {
            for (_, dir) in &self.dirs {
                remove_tree(dir)?;
            }
            return Ok(());
        }
        for (h, dir) in &self.dirs {
            for d in tree(dir) {
                if h.controllers.iter().any(|c| c == "freezer") {
                    let _ = fs::write(d.join("freezer.state"), "THAWED");
                }
                if h.v2 && d.join("cgroup.freeze").exists() {
                    let _ = fs::write(d.join("cgroup.freeze"), "0");
                }
            }
        }
        for _ in 0..200 {
            let mut left = 0;
            for (h, dir) in &self.dirs {
                for d in tree(dir) {
                    if h.v2 && d.join("cgroup.kill").exists() {
                        let _ = fs::write(d.join("cgroup.kill"), "1");
                    }
                    for pid in fs::read_to_string(d.join("cgroup.procs"))
                        .unwrap_or_default()
                        .lines()
                    {
                        if let Ok(pid) = pid.trim().parse::<i32>() {
                            left += 1;
                            // SAFETY: a process in the container's own cgroup.
                            unsafe { libc::kill(pid, libc::SIGKILL) };
                        }
                    }
                }
            }
            if left == 0 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        for (_, dir) in &self.dirs {
            remove_tree(dir)?;
        }
        Ok(())
    }
}

/// A cgroup directory and every one below it.
fn tree(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![dir.to_path_buf()];
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                out.extend(tree(&e.path()));
            }
        }
    }
    out
}

/// Removes a cgroup directory and any below it, deepest first (a cgroup directory holds only
/// kernel files besides its children, and rmdir takes it when it has no process and no child).
fn remove_tree(dir: &Path) -> Result<()> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(());
    };
    for e in entries.flatten() {
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            remove_tree(&e.path())?;
        }
    }
    match fs::remove_dir(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err("removing the cgroup", dir, e)),
    }
}

/// Creates `dir` and its missing parents; in the cpuset hierarchy a new cgroup has no CPUs or
/// memory nodes until given its parent's, so each new level copies them.
fn make_dirs(h: &Hierarchy, dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        make_dirs(h, parent)?;
    }
    match fs::create_dir(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(()),
        Err(e) => return Err(io_err("creating the cgroup", dir, e)),
    }
    if h.controllers.iter().any(|c| c == "cpuset")
        && let Some(parent) = dir.parent()
    {
        for file in ["cpuset.cpus", "cpuset.mems"] {
            let value = fs::read_to_string(parent.join(file)).unwrap_or_default();
            write(dir, file, value.trim())?;
        }
    }
    Ok(())
}

fn write(dir: &Path, file: &str, value: &str) -> Result<()> {
    let path = dir.join(file);
    fs::write(&path, value).map_err(|e| io_err(&format!("writing {value:?} to"), &path, e))
}
