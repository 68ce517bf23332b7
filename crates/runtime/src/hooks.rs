//! Running the runtime spec's hooks: each hook's program with its args and env, the
//! container's state JSON on its stdin, killed (with whatever it started) and failed past its
//! timeout. Here in the core because two hooks run inside the container (`createContainer`
//! before its `pivot_root`, `startContainer` before its program): the container's own process
//! runs those, the OCI front end the others, with this same code.
//!
//! No thread is started (the container's process must stay single-threaded) and nothing can
//! block past a timeout: the state is the hook's stdin as a memfd holding it (a hook that
//! never reads it cannot stall a pipe), its output goes to another, read once it has exited.

use std::io::{Read, Seek, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use oci_spec::runtime::Hook;

use crate::error::{Error, Result};

/// The hooks the container's own process runs, and what they are told. With them, the
/// process stops before its `pivot_root` until its creator has run its own hooks and sent the
/// state documents (see [`crate::Created::wait_mounted`]).
#[derive(Clone, Copy, Default)]
pub struct ContainerHooks<'a> {
    /// Run in the container's namespaces before `pivot_root` (their paths still resolve in the
    /// runtime's mount namespace, a copy of which the container's still is).
    pub create_container: &'a [Hook],
    /// Run in the container, its root pivoted, when `start` releases it, before its program.
    pub start_container: &'a [Hook],
}

/// Runs `hooks` in order with `state` on their stdin, stopping at the first that fails.
/// `kind` names them in the error (`createRuntime`, `startContainer`...).
pub fn run_all(kind: &str, hooks: &[Hook], state: &[u8]) -> Result<()> {
    for (index, hook) in hooks.iter().enumerate() {
        run(hook, state).map_err(|reason| Error::Hook {
            kind: kind.to_string(),
            index,
            path: hook.path().clone(),
            reason,
        })?;
    }
    Ok(())
}

/// Runs every hook of `hooks` whatever the others do, as the runtime spec has it for
/// `poststart` and `poststop` (each failure a warning); the failures, in order.
pub fn run_each(kind: &str, hooks: &[Hook], state: &[u8]) -> Vec<Error> {
    hooks
        .iter()
        .enumerate()
        .filter_map(|(index, hook)| {
            run(hook, state).err().map(|reason| Error::Hook {
                kind: kind.to_string(),
                index,
                path: hook.path().clone(),
                reason,
            })
        })
        .collect()
}

/// One hook; why it failed.
fn run(hook: &Hook, state: &[u8]) -> std::result::Result<(), String> {
    // Checked before anything runs, so that a bad timeout leaves no process behind.
    let timeout = match hook.timeout() {
        None => None,
        Some(secs) => Some(
            u64::try_from(secs)
                .ok()
                .filter(|s| *s > 0)
                .ok_or_else(|| format!("its timeout must be positive, not {secs}"))?,
        ),
    };
    let output = memfd("kist-hook-output")?;
    let mut input = memfd("kist-hook-state")?;
    input
        .write_all(state)
        .and_then(|()| input.rewind())
        .map_err(|e| format!("cannot write its state: {e}"))?;
    let mut child = command(hook, input, &output)?
        .spawn()
        .map_err(|e| format!("cannot run it: {e}"))?;
    let status = match timeout {
        None => child.wait(),
        Some(secs) => {
            if !exits_within(&child, Duration::from_secs(secs))? {
                kill_group(&child);
                let _ = child.wait();
                return Err(format!("timed out after {secs}s"));
            }
            child.wait()
        }
    }
    .map_err(|e| format!("cannot wait for it: {e}"))?;
    if status.success() {
        return Ok(());
    }
    let said = read_back(output);
    match said.trim() {
        "" => Err(status.to_string()),
        said => Err(format!("{status}: {said}")),
    }
}

fn command(
    hook: &Hook,
    input: std::fs::File,
    output: &std::fs::File,
) -> std::result::Result<Command, String> {
    let mut cmd = Command::new(hook.path());
    if let Some(args) = hook.args() {
        if let Some(first) = args.first() {
            cmd.arg0(first);
        }
        cmd.args(args.iter().skip(1));
    }
    cmd.env_clear();
    for kv in hook.env().iter().flatten() {
        if let Some((k, v)) = kv.split_once('=') {
            cmd.env(k, v);
        }
    }
    // Its own process group, so that a timeout kills whatever it started too.
    cmd.process_group(0);
    let out = output
        .try_clone()
        .map_err(|e| format!("cannot capture its output: {e}"))?;
    cmd.stdin(Stdio::from(input)).stdout(Stdio::from(out));
    cmd.stderr(Stdio::from(
        output
            .try_clone()
            .map_err(|e| format!("cannot capture its output: {e}"))?,
    ));
    Ok(cmd)
}

/// An anonymous file: the hook's state (its stdin), or its output (stdout and stderr, told
/// back when it fails).
fn memfd(name: &str) -> std::result::Result<std::fs::File, String> {
    rustix::fs::memfd_create(name, rustix::fs::MemfdFlags::CLOEXEC)
        .map(std::fs::File::from)
        .map_err(|e| format!("cannot make its {name} file: {e}"))
}

/// What the hook wrote, at most its last 4 KiB (enough for an error message).
fn read_back(mut output: std::fs::File) -> String {
    const KEEP: u64 = 4096;
    let len = output.seek(std::io::SeekFrom::End(0)).unwrap_or(0);
    let _ = output.seek(std::io::SeekFrom::Start(len.saturating_sub(KEEP)));
    let mut bytes = Vec::new();
    let _ = output.take(KEEP).read_to_end(&mut bytes);
    String::from_utf8_lossy(&bytes).into_owned()
}

fn exits_within(
    child: &std::process::Child,
    timeout: Duration,
) -> std::result::Result<bool, String> {
    let pid = i32::try_from(child.id()).map_err(|_| "its pid is out of range".to_string())?;
    match crate::pidfd::Pidfd::open(pid).map_err(|e| e.to_string())? {
        Some(pidfd) => pidfd.wait_exited(timeout).map_err(|e| e.to_string()),
        // Not reaped yet, so always there: treat as exited, wait() tells.
        None => Ok(true),
    }
}

fn kill_group(child: &std::process::Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        // SAFETY: kill(2) of the process group this module made, whose leader is not reaped
        // yet (so its id cannot have been reused).
        unsafe { libc::kill(-pid, libc::SIGKILL) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str, timeout: Option<i64>) -> Hook {
        let mut hook: Hook = serde_json::from_value(serde_json::json!({
            "path": "/bin/sh",
            "args": ["sh", "-c", script],
            "env": ["PATH=/usr/bin:/bin", "WHO=hook"],
        }))
        .unwrap();
        hook.set_timeout(timeout);
        hook
    }

    #[test]
    fn a_hook_reads_the_state_and_gets_its_env_only() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let script = format!("cat > {0}; echo \"$WHO $HOME\" >> {0}", out.display());
        run_all("createRuntime", &[sh(&script, None)], b"{\"id\":\"x\"}").unwrap();
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "{\"id\":\"x\"}hook \n"
        );
    }

    #[test]
    fn a_failing_hook_says_which_and_why_and_the_rest_do_not_run() {
        let dir = tempfile::tempdir().unwrap();
        let ran = dir.path().join("ran");
        let hooks = [
            sh("echo nope >&2; exit 3", None),
            sh(&format!("touch {}", ran.display()), None),
        ];
        let e = run_all("createContainer", &hooks, b"{}").unwrap_err();
        assert_eq!(
            e.to_string(),
            "createContainer hook #0 (/bin/sh) failed: exit status: 3: nope"
        );
        assert!(!ran.exists());
        let missing: Hook =
            serde_json::from_value(serde_json::json!({"path": "/no/such"})).unwrap();
        let e = run_all("poststop", &[missing], b"{}")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("poststop hook #0 (/no/such) failed: cannot run it"),
            "{e}"
        );
    }

    #[test]
    fn after_the_start_every_hook_runs_whatever_the_others_do() {
        let dir = tempfile::tempdir().unwrap();
        let ran = dir.path().join("ran");
        let hooks = [
            sh("exit 1", None),
            sh(&format!("touch {}", ran.display()), None),
            sh("exit 2", None),
        ];
        let failed: Vec<String> = run_each("poststart", &hooks, b"{}")
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            failed,
            [
                "poststart hook #0 (/bin/sh) failed: exit status: 1",
                "poststart hook #2 (/bin/sh) failed: exit status: 2"
            ]
        );
        assert!(ran.exists());
    }

    #[test]
    fn a_late_hook_is_killed_with_what_it_started() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        let script = format!("sleep 30 & echo $! > {}; wait", pid_file.display());
        let started = std::time::Instant::now();
        let e = run_all("startContainer", &[sh(&script, Some(1))], b"{}").unwrap_err();
        assert!(e.to_string().ends_with("timed out after 1s"), "{e}");
        assert!(started.elapsed() < Duration::from_secs(10));
        let pid: i32 = std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // The sleep was the hook's (reaped by init once killed): give it a moment to go.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z"))
        {
            assert!(
                std::time::Instant::now() < deadline,
                "the hook's child {pid} survived"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A big state and a hook that never reads it: the hook's timeout still holds, and one
    /// that reads it gets all of it.
    #[test]
    fn a_big_state_never_blocks() {
        let state = vec![b'x'; 1 << 20];
        let started = std::time::Instant::now();
        let e = run_all("prestart", &[sh("sleep 30", Some(1))], &state).unwrap_err();
        assert!(e.to_string().ends_with("timed out after 1s"), "{e}");
        assert!(started.elapsed() < Duration::from_secs(10));
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        run_all(
            "prestart",
            &[sh(&format!("wc -c > {}", out.display()), None)],
            &state,
        )
        .unwrap();
        assert_eq!(std::fs::read_to_string(&out).unwrap().trim(), "1048576");
    }

    #[test]
    fn a_timeout_that_is_not_positive_runs_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let ran = dir.path().join("ran");
        let e = run_all(
            "prestart",
            &[sh(&format!("touch {}", ran.display()), Some(0))],
            b"{}",
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .ends_with("its timeout must be positive, not 0"),
            "{e}"
        );
        assert!(!ran.exists());
    }
}
