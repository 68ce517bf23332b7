//! The spec's hooks, run by the runtime in its own namespaces: each hook's program with its
//! args and env, the container's state JSON on its stdin, killed and failed past its timeout.
//! kist runs `prestart` and `createRuntime` once the container's namespaces exist (after its
//! set-up, before `create` returns), `poststart` after `start`, `poststop` in `delete`.

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use oci_spec::runtime::Hook;

/// The hooks kist runs (`features` lists these).
pub const SUPPORTED: &[&str] = &["prestart", "createRuntime", "poststart", "poststop"];

/// Runs `hooks` in order, stopping at the first that fails.
pub fn run_all(kind: &str, hooks: Option<&Vec<Hook>>, state: &serde_json::Value) -> Result<()> {
    let bytes = serde_json::to_vec(state)?;
    for (i, hook) in hooks.into_iter().flatten().enumerate() {
        run(hook, &bytes)
            .with_context(|| format!("{kind} hook #{i} ({}) failed", hook.path().display()))?;
    }
    Ok(())
}

fn run(hook: &Hook, state: &[u8]) -> Result<()> {
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
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().context("cannot run it")?;
    let pid = i32::try_from(child.id()).context("pid out of range")?;
    let pidfd = kist_runtime::pidfd::Pidfd::open(pid)?;
    if let Some(mut stdin) = child.stdin.take() {
        // A hook need not read its stdin: a closed pipe is no failure.
        let _ = stdin.write_all(state);
    }
    let mut stderr = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(s) = stderr.as_mut() {
            let _ = s.read_to_string(&mut text);
        }
        text
    });
    if let (Some(secs), Some(pidfd)) = (hook.timeout(), &pidfd) {
        let secs = u64::try_from(secs)
            .ok()
            .filter(|s| *s > 0)
            .ok_or_else(|| anyhow!("its timeout must be positive, not {secs}"))?;
        if !pidfd.wait_exited(Duration::from_secs(secs))? {
            // SAFETY: kill(2) of the process group this function made (not yet reaped, so
            // its id cannot have been reused).
            unsafe { libc::kill(-pid, libc::SIGKILL) };
            let _ = child.wait();
            bail!("timed out after {secs}s");
        }
    }
    let status = child.wait().context("cannot wait for it")?;
    let stderr = reader.join().unwrap_or_default();
    if !status.success() {
        let said = stderr.trim();
        if said.is_empty() {
            bail!("{status}");
        }
        bail!("{status}: {said}");
    }
    Ok(())
}
