//! Following a container until it exits: `kist attach`, and `kist start -a`/`-i`. A `-t`
//! container's terminal is shared by its supervisor (`terminal`: raw mode, detach keys);
//! otherwise the output comes from the container's json-file log and stdin goes through the
//! supervisor's socket.

use std::time::SystemTime;

use anyhow::Result;
use clap::Args;
use kist_engine::{ContainerRecord, ContainerState, Engine, lifecycle};

use super::logs::{self, LogsOptions};
use crate::{flags, terminal};

#[derive(Args)]
pub struct AttachArgs {
    #[command(flatten)]
    detach_keys: flags::DetachKeys,
    #[command(flatten)]
    container: flags::Container,
}

/// Output from now on, then the container's exit status; with a terminal, until the user
/// detaches.
pub fn attach(engine: &Engine, args: &AttachArgs) -> Result<i32> {
    let keys = terminal::detach_keys(args.detach_keys.value.as_deref())?;
    let c = engine.store.find_container(&args.container.name)?;
    if c.state != ContainerState::Running {
        anyhow::bail!(
            "container {} is not running: start it with 'kist start -a'",
            c.name
        );
    }
    if let Some(client) = kist_engine::console::ConsoleClient::connect(&engine.layout, &c.id)? {
        let config: serde_json::Value = serde_json::from_str(&c.config).unwrap_or_default();
        let input = config["OpenStdin"].as_bool().unwrap_or(false);
        return Ok(
            match terminal::attach(engine, &c.id, client, &keys, input)? {
                terminal::Ended::Exited(code) => code,
                terminal::Ended::Detached => {
                    // What Docker's attach says (its run -it and start -ai say nothing).
                    eprintln!("read escape sequence");
                    0
                }
            },
        );
    }
    let now = humantime::format_rfc3339_nanos(SystemTime::now()).to_string();
    send_stdin(engine, &c);
    follow(engine, &c, now)?;
    Ok(lifecycle::wait(engine, &c)?)
}

/// Starts one container and follows it: its output since it last stopped (or was created),
/// then its exit status.
pub fn start_attached(
    engine: &Engine,
    names: &[String],
    interactive: bool,
    detach_keys: Option<&str>,
) -> Result<i32> {
    let [name] = names else {
        anyhow::bail!("-a attaches to one container only");
    };
    let c = engine
        .store
        .find_container(name)
        .map_err(crate::status::daemon_refusal)?;
    let config: serde_json::Value = serde_json::from_str(&c.config).unwrap_or_default();
    if config["Tty"].as_bool().unwrap_or(false) {
        return start_on_terminal(engine, &c, interactive, detach_keys);
    }
    lifecycle::start(engine, &c)?;
    if interactive {
        send_stdin(engine, &c);
    }
    let since = c.finished_at.clone().unwrap_or_else(|| c.created.clone());
    let code = follow(engine, &c, since)?;
    if code != 0 {
        return Ok(code);
    }
    Ok(lifecycle::wait(engine, &c)?)
}

/// `start -a` of a `-t` container: its terminal, shared by its supervisor, from the program's
/// first output on (it starts once attached); with `-i` the user's terminal is raw and typed
/// into the container's, as Docker's `start -ai`.
fn start_on_terminal(
    engine: &Engine,
    c: &ContainerRecord,
    interactive: bool,
    detach_keys: Option<&str>,
) -> Result<i32> {
    let keys = terminal::detach_keys(detach_keys)?;
    if interactive {
        crate::status::require_terminal_stdin()?;
    }
    lifecycle::start_for_attach(engine, c)?;
    let client = kist_engine::console::ConsoleClient::connect(&engine.layout, &c.id)?
        .ok_or_else(|| anyhow::anyhow!("container {} shares no terminal", c.name))?;
    Ok(
        match terminal::attach(engine, &c.id, client, &keys, interactive)? {
            terminal::Ended::Exited(code) => code,
            terminal::Ended::Detached => 0,
        },
    )
}

/// Prints the container's log from `since` until it exits.
fn follow(engine: &Engine, c: &ContainerRecord, since: String) -> Result<i32> {
    let opts = LogsOptions {
        follow: true,
        tail: "all".into(),
        since: Some(since),
        until: None,
        timestamps: false,
    };
    logs::show(engine, &c.id, &opts)
}

/// With a container started with -i: kist's stdin goes to it, through its supervisor's
/// attach socket, from a thread of its own while the output is followed.
fn send_stdin(engine: &Engine, c: &ContainerRecord) {
    let socket = engine.layout.container_run_dir(&c.id).join("attach.sock");
    let connected = kist_engine::supervisor::with_short_path(&socket, |p| {
        std::os::unix::net::UnixStream::connect(p)
    });
    let Ok(mut stream) = connected else {
        return; // not started with -i: output only
    };
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut stream);
    });
}
