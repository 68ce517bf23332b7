//! A container's life after `run`: stop, kill, wait, start, restart, rename.
//!
//! Signals go through a pidfd opened on the recorded process after checking it is still that
//! process (pid and start time), so a recycled pid is never signalled. Whoever reaps the
//! container (its supervisor, or a foreground `kist run`) records the exit; `stop` and `wait`
//! wait for that record.

use std::time::{Duration, Instant};

use kist_runtime::pidfd::{Delivery, Pidfd};
use kist_runtime::process::ProcessStamp;

use crate::Engine;
use crate::error::{Error, Result};
use crate::state::launch_config::LaunchConfig;
use crate::state::store::{ContainerRecord, ContainerState};

/// The running process of a container, or an error saying it is not running.
pub(crate) fn running_process(c: &ContainerRecord) -> Result<ProcessStamp> {
    match (c.state, c.process) {
        (ContainerState::Running, Some(p)) if p.is_alive() => Ok(p),
        _ => Err(Error::ContainerNotRunning {
            name: c.name.clone(),
        }),
    }
}

/// A signal by name (`TERM`, `SIGTERM`) or number.
pub fn parse_signal(s: &str) -> Result<i32> {
    if let Ok(n) = s.parse::<i32>()
        && (1..=64).contains(&n)
    {
        return Ok(n);
    }
    let name = s.to_ascii_uppercase();
    let name = name.strip_prefix("SIG").unwrap_or(&name);
    let n = match name {
        "HUP" => libc::SIGHUP,
        "INT" => libc::SIGINT,
        "QUIT" => libc::SIGQUIT,
        "ILL" => libc::SIGILL,
        "TRAP" => libc::SIGTRAP,
        "ABRT" | "IOT" => libc::SIGABRT,
        "BUS" => libc::SIGBUS,
        "FPE" => libc::SIGFPE,
        "KILL" => libc::SIGKILL,
        "USR1" => libc::SIGUSR1,
        "SEGV" => libc::SIGSEGV,
        "USR2" => libc::SIGUSR2,
        "PIPE" => libc::SIGPIPE,
        "ALRM" => libc::SIGALRM,
        "TERM" => libc::SIGTERM,
        "CHLD" => libc::SIGCHLD,
        "CONT" => libc::SIGCONT,
        "STOP" => libc::SIGSTOP,
        "TSTP" => libc::SIGTSTP,
        "TTIN" => libc::SIGTTIN,
        "TTOU" => libc::SIGTTOU,
        "URG" => libc::SIGURG,
        "XCPU" => libc::SIGXCPU,
        "XFSZ" => libc::SIGXFSZ,
        "VTALRM" => libc::SIGVTALRM,
        "PROF" => libc::SIGPROF,
        "WINCH" => libc::SIGWINCH,
        "IO" | "POLL" => libc::SIGIO,
        "PWR" => libc::SIGPWR,
        "SYS" => libc::SIGSYS,
        _ => {
            return Err(Error::invalid_value(
                "signal",
                s,
                "use a name like TERM or a number",
            ));
        }
    };
    Ok(n)
}

/// Sends `signal` to the process if it is still the one recorded. Returns its pidfd for
/// waiting, or `None` when the process is gone (so nothing was sent).
fn signal(p: ProcessStamp, signal: i32) -> Result<Option<Pidfd>> {
    let Some(pidfd) = Pidfd::open(p.pid)? else {
        return Ok(None);
    };
    // Checked after the pidfd exists: from now on the pid cannot be recycled under us.
    if !p.is_alive() {
        return Ok(None);
    }
    Ok(match pidfd.send_signal(signal)? {
        Delivery::Sent => Some(pidfd),
        Delivery::Gone => None,
    })
}

/// `kist kill`: sends a signal (default SIGKILL) to a running container.
pub fn kill(engine: &Engine, c: &ContainerRecord, sig: i32) -> Result<()> {
    // As in Docker, a kill is not a stop: a restart policy may start the container again.
    match signal(running_process(c)?, sig)? {
        Some(_) => {
            killed(engine, c, sig);
            Ok(())
        }
        // It exited since it was found running: the signal went nowhere.
        None => Err(Error::ContainerNotRunning {
            name: c.name.clone(),
        }),
    }
}

/// How long `stop` waits for a container that has no `--stop-timeout`, as in Docker.
const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// `kist stop`: the container's stop signal (`--stop-signal`, else the image's StopSignal,
/// else SIGTERM), then SIGKILL after `timeout` (else its `--stop-timeout`, else 10 s; a
/// negative one waits for ever); returns once the exit is recorded. Not a failure for restart
/// policies. A container that is not running is stopped already: nothing to do, as in
/// Docker (scripts stop whatever may be running).
pub fn stop(engine: &Engine, c: &ContainerRecord, timeout: Option<Duration>) -> Result<()> {
    let Ok(p) = running_process(c) else {
        return Ok(());
    };
    engine.store.set_stop_requested(&c.id)?;
    let launch = LaunchConfig::load(&engine.layout.container_dir(&c.id)).ok();
    let stop_signal = launch
        .as_ref()
        .and_then(|l| l.stop_signal.as_deref())
        .map(parse_signal)
        .transpose()?
        .unwrap_or(libc::SIGTERM);
    let timeout = timeout.unwrap_or_else(|| match launch.and_then(|l| l.stop_timeout) {
        Some(s) => u64::try_from(s).map_or(Duration::MAX, Duration::from_secs),
        None => DEFAULT_STOP_TIMEOUT,
    });
    if let Some(pidfd) = signal(p, stop_signal)? {
        killed(engine, c, stop_signal);
        if !pidfd.wait_exited(timeout)? {
            // Recorded first: the supervisor records the death as soon as it comes.
            killed(engine, c, libc::SIGKILL);
            // Gone meanwhile is as good as killed.
            let _ = pidfd.send_signal(libc::SIGKILL)?;
            pidfd.wait_exited(Duration::from_secs(10))?;
        }
    }
    wait_recorded(engine, &c.id, Duration::from_secs(10))?;
    crate::state::events::container(&engine.layout.root, c, "stop", &[]);
    Ok(())
}

/// The event of a signal sent, as Docker records it (the signal's number).
fn killed(engine: &Engine, c: &ContainerRecord, sig: i32) {
    crate::state::events::container(
        &engine.layout.root,
        c,
        "kill",
        &[("signal", sig.to_string())],
    );
}

/// Waits until the container's exit is recorded; returns its exit code. A `--rm` container
/// removed by its supervisor meanwhile has exited too: with the last code seen, or 0.
pub fn wait_recorded(engine: &Engine, id: &str, timeout: Duration) -> Result<i32> {
    let start = Instant::now();
    let mut seen = false;
    let mut last_code = None;
    loop {
        let c = match engine.store.find_container(id) {
            Ok(c) => c,
            Err(Error::NoSuchContainer { .. }) if seen => return Ok(last_code.unwrap_or(0)),
            Err(e) => return Err(e),
        };
        seen = true;
        last_code = c.exit_code.or(last_code);
        match c.state {
            ContainerState::Exited => return Ok(c.exit_code.unwrap_or(0)),
            _ if !c.monitor.is_some_and(|m| m.is_alive()) => {
                // Its monitor died: reconciliation records it.
                crate::container::reconcile::reconcile(engine)?;
            }
            _ => {}
        }
        if start.elapsed() > timeout {
            return Err(Error::StopTimedOut { name: c.name });
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// `kist wait`: blocks until the container exits (it may be restarting: its next exit counts
/// only if it is not restarted); returns its exit code.
pub fn wait(engine: &Engine, c: &ContainerRecord) -> Result<i32> {
    wait_recorded(engine, &c.id, Duration::MAX)
}

/// `kist start`: starts an exited (or never started) container again, with its write layer as
/// it left it, under a supervisor. A running container is left as it is, as Docker does.
pub fn start(engine: &Engine, c: &ContainerRecord) -> Result<()> {
    start_with(engine, c, false)
}

/// `kist start -a` of a `-t` container: as `start`, its program waiting until the caller has
/// attached to its terminal (see `console`).
pub fn start_for_attach(engine: &Engine, c: &ContainerRecord) -> Result<()> {
    start_with(engine, c, true)
}

fn start_with(engine: &Engine, c: &ContainerRecord, wait_for_attach: bool) -> Result<()> {
    if c.state == ContainerState::Running && c.process.is_some_and(|p| p.is_alive()) {
        return Ok(());
    }
    if c.state == ContainerState::Removing {
        return Err(Error::BeingRemoved {
            name: c.name.clone(),
        });
    }
    if !engine
        .layout
        .container_dir(&c.id)
        .join("launch.json")
        .exists()
    {
        return Err(Error::NotRestartable {
            name: c.name.clone(),
        });
    }
    // Its generated /etc files live in the runtime directory, which a reboot empties.
    crate::container::run::restore_runtime_files(engine, c)?;
    crate::state::crash::point("start:launch");
    crate::container::supervisor::launch(engine, &c.id, wait_for_attach).map(|_| ())
}

/// `kist restart`: stop (if running, waiting as `stop` does), then start.
pub fn restart(engine: &Engine, c: &ContainerRecord, timeout: Option<Duration>) -> Result<()> {
    if running_process(c).is_ok() {
        stop(engine, c, timeout)?;
    }
    let c = engine.store.find_container(&c.id)?;
    start(engine, &c)?;
    crate::state::events::container(&engine.layout.root, &c, "restart", &[]);
    Ok(())
}

/// What `system boot` did.
pub struct BootReport {
    pub started: Vec<String>,
    /// Containers that would not start, and why.
    pub failed: Vec<(String, Error)>,
}

/// `kist system boot` (after a reboot, from a systemd unit): starts every container whose
/// restart policy says it should be running (always; unless-stopped unless a user stopped it).
pub fn boot(engine: &Engine) -> Result<BootReport> {
    let mut started = Vec::new();
    let mut failed = Vec::new();
    for c in engine.store.containers()? {
        if c.state == ContainerState::Running && c.process.is_some_and(|p| p.is_alive()) {
            continue;
        }
        let Ok(config) = LaunchConfig::load(&engine.layout.container_dir(&c.id)) else {
            continue;
        };
        let wanted = match config.restart {
            crate::options::RestartPolicy::Always => true,
            crate::options::RestartPolicy::UnlessStopped => !c.stop_requested,
            _ => false,
        };
        if wanted {
            match start(engine, &c) {
                Ok(()) => started.push(c.name.clone()),
                Err(e) => failed.push((c.name.clone(), e)),
            }
        }
    }
    Ok(BootReport { started, failed })
}

/// `kist pause` / `unpause`: freezes or thaws every process of a running container (the
/// cgroup freezer).
pub fn pause(c: &ContainerRecord, frozen: bool) -> Result<()> {
    running_process(c)?;
    let cgroup = crate::container::cgroup::of(c).ok_or_else(|| Error::NoCgroup {
        name: c.name.clone(),
    })?;
    if cgroup.is_frozen() == frozen {
        let name = c.name.clone();
        return Err(if frozen {
            Error::AlreadyPaused { name }
        } else {
            Error::NotPaused { name }
        });
    }
    Ok(cgroup.freeze(frozen)?)
}

/// Whether a container is paused.
pub fn is_paused(c: &ContainerRecord) -> bool {
    c.state == ContainerState::Running
        && crate::container::cgroup::of(c).is_some_and(|g| g.is_frozen())
}

/// `kist rename`.
pub fn rename(engine: &Engine, c: &ContainerRecord, name: &str) -> Result<()> {
    if !crate::options::names::is_valid(name) {
        return Err(Error::invalid_value(
            "container name",
            name,
            "use [a-zA-Z0-9][a-zA-Z0-9_.-]+",
        ));
    }
    engine.store.rename(&c.id, name)?;
    let renamed = ContainerRecord {
        name: name.to_string(),
        ..c.clone()
    };
    let old = ("oldName", c.name.clone());
    crate::state::events::container(&engine.layout.root, &renamed, "rename", &[old]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_by_name_and_number() {
        assert_eq!(parse_signal("TERM").unwrap(), libc::SIGTERM);
        assert_eq!(parse_signal("sigkill").unwrap(), libc::SIGKILL);
        assert_eq!(parse_signal("SIGUSR1").unwrap(), libc::SIGUSR1);
        assert_eq!(parse_signal("9").unwrap(), 9);
        assert!(parse_signal("NOPE").is_err());
        assert!(parse_signal("0").is_err());
    }
}
