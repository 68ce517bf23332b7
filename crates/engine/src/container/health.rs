//! Health checks without a daemon: the process that waits for a container (its supervisor, or
//! a foreground `run`) runs its check on a thread of its own, as Docker's daemon does.
//!
//! Each probe is a `kist exec` of the check's program into the container, so it joins the
//! container exactly as a user's exec does (namespaces, cgroup, user, seccomp, the sealed
//! binary when needed); its stdout and stderr are one pipe, read up to Docker's 4096 bytes, and
//! a probe that outlives the timeout is killed (its process in the container dies with it:
//! `PR_SET_PDEATHSIG`). The state — Status starting/healthy/unhealthy, FailingStreak, the last
//! five results — is Docker's `State.Health`, written whole to `ROOT/containers/ID/health.json`
//! (a new file renamed over the old) after every probe, so `ps` and `inspect` read it without
//! the store; a change of status is a `health_status: ...` event. A paused container is not
//! probed.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::options::healthcheck::Healthcheck;
use crate::state::layout::Layout;
use crate::state::store::{ContainerRecord, now};

/// How many results Docker keeps.
pub const MAX_LOG_ENTRIES: usize = 5;
/// How much of a probe's output Docker keeps.
pub const MAX_OUTPUT: usize = 4096;

const FILE: &str = "health.json";

/// Docker's `State.Health`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Health {
    #[serde(rename = "Status")]
    pub status: String,
    #[serde(rename = "FailingStreak")]
    pub failing_streak: i64,
    #[serde(rename = "Log", default)]
    pub log: Vec<Probe>,
}

/// One result, as Docker's `State.Health.Log[]` has it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Probe {
    #[serde(rename = "Start")]
    pub start: String,
    #[serde(rename = "End")]
    pub end: String,
    #[serde(rename = "ExitCode")]
    pub exit_code: i64,
    #[serde(rename = "Output")]
    pub output: String,
}

pub const STARTING: &str = "starting";
pub const HEALTHY: &str = "healthy";
pub const UNHEALTHY: &str = "unhealthy";

/// The container's health as last written, if it has a check.
pub fn load(layout: &Layout, id: &str) -> Option<Health> {
    let bytes = std::fs::read(layout.container_dir(id).join(FILE)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Only the status, for `ps`: what it shows after "Up 3 seconds".
pub fn status(layout: &Layout, id: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Status {
        #[serde(rename = "Status")]
        status: String,
    }
    let bytes = std::fs::read(layout.container_dir(id).join(FILE)).ok()?;
    serde_json::from_slice::<Status>(&bytes)
        .ok()
        .map(|s| s.status)
}

fn save(dir: &Path, health: &Health) {
    if let Ok(bytes) = serde_json::to_vec(health) {
        let _ = crate::state::private_file::replace(
            &dir.join(FILE),
            &dir.join(".health.json.new"),
            &bytes,
        );
    }
}

impl Health {
    /// Takes a probe's result as Docker does: a success makes the container healthy; a
    /// failure counts towards `retries` unless the container is still starting within its
    /// start period.
    pub fn record(&mut self, probe: Probe, in_start_period: bool, retries: i64) {
        let ok = probe.exit_code == 0;
        self.log.push(probe);
        let excess = self.log.len().saturating_sub(MAX_LOG_ENTRIES);
        self.log.drain(..excess);
        if ok {
            self.failing_streak = 0;
            self.status = HEALTHY.into();
        } else if !(self.status == STARTING && in_start_period) {
            self.failing_streak += 1;
            if self.failing_streak >= retries {
                self.status = UNHEALTHY.into();
            }
        }
    }
}

/// The running check of one container; stopped (and its thread joined) when dropped.
pub(crate) struct Monitor {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Monitor {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// What a probe needs to know.
struct Target {
    layout: Layout,
    record: ContainerRecord,
    check: Healthcheck,
    command: Vec<String>,
}

impl Monitor {
    /// Starts checking the container just started, if it has a check to run; its health is
    /// "starting" from now.
    pub(crate) fn start(
        layout: &Layout,
        record: &ContainerRecord,
        check: Option<&Healthcheck>,
    ) -> Option<Monitor> {
        let check = check?;
        let command = check.command()?;
        let target = Target {
            layout: layout.clone(),
            record: record.clone(),
            check: check.clone(),
            command,
        };
        // "starting" before the caller reports the container started.
        let mut health = load(layout, &record.id).unwrap_or_default();
        health.status = STARTING.into();
        health.failing_streak = 0;
        save(&layout.container_dir(&record.id), &health);
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("health".into())
            .stack_size(256 * 1024)
            .spawn(move || monitor(&target, health, &rx))
            .ok()?;
        Some(Monitor {
            stop: Some(tx),
            thread: Some(thread),
        })
    }
}

fn monitor(target: &Target, mut health: Health, stop: &mpsc::Receiver<()>) {
    let dir = target.layout.container_dir(&target.record.id);
    let started = Instant::now();
    let check = &target.check;
    let cgroup = crate::container::cgroup::of(&target.record);
    loop {
        let in_start_period = started.elapsed() < check.start_period();
        let delay = if in_start_period && health.status == STARTING {
            check.start_interval()
        } else {
            check.interval()
        };
        match stop.recv_timeout(delay) {
            Err(RecvTimeoutError::Timeout) => {}
            _ => return,
        }
        // A frozen container cannot answer (an exec into it would freeze too): no result.
        if cgroup.as_ref().is_some_and(|g| g.is_frozen()) {
            continue;
        }
        let in_start_period = started.elapsed() < check.start_period();
        let probe = run_probe(target);
        let before = health.status.clone();
        health.record(probe, in_start_period, check.retries());
        save(&dir, &health);
        if health.status != before {
            let action = format!("health_status: {}", health.status);
            crate::state::events::container(&target.layout.root, &target.record, &action, &[]);
        }
    }
}

/// Runs the check once: `kist exec ID PROGRAM...`, its output and exit code, or -1 and
/// Docker's message when it outlives the timeout.
fn run_probe(target: &Target) -> Probe {
    let start = now();
    let timeout = target.check.timeout();
    let (exit_code, output) = match spawn(target) {
        Ok((child, out)) => wait(child, &out, timeout),
        Err(e) => (-1, format!("starting the health check: {e}")),
    };
    Probe {
        start,
        end: now(),
        exit_code,
        output,
    }
}

fn spawn(target: &Target) -> std::io::Result<(Child, OwnedFd)> {
    let (read, write) = crate::container::stdio::pipe().map_err(std::io::Error::other)?;
    let exe: PathBuf = std::env::current_exe().unwrap_or_else(|_| "/proc/self/exe".into());
    let mut cmd = Command::new(exe);
    cmd.arg("--root")
        .arg(&target.layout.root)
        .arg("--runroot")
        .arg(&target.layout.run)
        .arg("exec")
        .arg(&target.record.id)
        .args(&target.command)
        .stdin(Stdio::null())
        .stdout(Stdio::from(write.try_clone()?))
        .stderr(Stdio::from(write));
    let child = cmd.spawn()?;
    // The command holds the pipe's write ends until dropped: the end of output needs them gone.
    drop(cmd);
    Ok((child, read))
}

/// Reads the probe's output (up to [`MAX_OUTPUT`]) until it exits or the timeout passes.
fn wait(mut child: Child, out: &OwnedFd, timeout: Duration) -> (i64, String) {
    let deadline = Instant::now() + timeout;
    let mut output = Vec::new();
    let mut truncated = false;
    let mut buf = [0u8; 4096];
    let mut open = true;
    loop {
        if open && readable(out, Duration::from_millis(20)) {
            match rustix::io::read(out.as_fd(), &mut buf) {
                Ok(0) | Err(_) => open = false,
                Ok(n) => {
                    let room = MAX_OUTPUT.saturating_sub(output.len());
                    truncated |= n > room;
                    output.extend_from_slice(&buf[..n.min(room)]);
                }
            }
            continue;
        }
        if let Ok(Some(status)) = child.try_wait() {
            // What it wrote before exiting is in the pipe already.
            while readable(out, Duration::ZERO) {
                match rustix::io::read(out.as_fd(), &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let room = MAX_OUTPUT.saturating_sub(output.len());
                        truncated |= n > room;
                        output.extend_from_slice(&buf[..n.min(room)]);
                    }
                }
            }
            let code = status.code().map_or(-1, i64::from);
            let mut text = String::from_utf8_lossy(&output).into_owned();
            if truncated {
                text.push_str("...");
            }
            return (code, text);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return (
                -1,
                format!("Health check exceeded timeout ({})", go_duration(timeout)),
            );
        }
        if !open {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

fn readable(fd: &OwnedFd, wait: Duration) -> bool {
    let mut fds = [libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    }];
    let ms = i32::try_from(wait.as_millis()).unwrap_or(i32::MAX);
    // SAFETY: a valid pollfd array for the duration of the call.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), 1, ms) };
    n > 0 && fds[0].revents != 0
}

/// A duration as Go prints one: `200ms`, `30s`, `1m30s`, `1.5s`.
fn go_duration(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        let ms = d.as_secs_f64() * 1000.0;
        return format!("{}ms", trim(ms));
    }
    let total = d.as_secs();
    let (h, m) = (total / 3600, total / 60 % 60);
    let s = (total % 60) as f64 + f64::from(d.subsec_nanos()) / 1e9;
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if h > 0 || m > 0 {
        out.push_str(&format!("{m}m"));
    }
    out.push_str(&format!("{}s", trim(s)));
    out
}

fn trim(v: f64) -> String {
    let s = format!("{v:.9}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(code: i64) -> Probe {
        Probe {
            exit_code: code,
            ..Probe::default()
        }
    }

    #[test]
    fn results_move_the_status_as_docker_s_do() {
        let mut h = Health {
            status: STARTING.into(),
            ..Health::default()
        };
        h.record(probe(1), true, 2);
        assert_eq!(
            (h.status.as_str(), h.failing_streak),
            (STARTING, 0),
            "start period"
        );
        h.record(probe(1), false, 2);
        assert_eq!((h.status.as_str(), h.failing_streak), (STARTING, 1));
        h.record(probe(1), false, 2);
        assert_eq!((h.status.as_str(), h.failing_streak), (UNHEALTHY, 2));
        h.record(probe(0), false, 2);
        assert_eq!((h.status.as_str(), h.failing_streak), (HEALTHY, 0));
        h.record(probe(-1), true, 2);
        assert_eq!(
            h.failing_streak, 1,
            "a healthy container's failures count at once"
        );
        for _ in 0..10 {
            h.record(probe(0), false, 2);
        }
        assert_eq!(h.log.len(), MAX_LOG_ENTRIES);
    }

    #[test]
    fn durations_print_as_go_prints_them() {
        assert_eq!(go_duration(Duration::from_millis(200)), "200ms");
        assert_eq!(go_duration(Duration::from_secs(30)), "30s");
        assert_eq!(go_duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(go_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(go_duration(Duration::from_secs(3600)), "1h0m0s");
    }
}
