//! `kist logs`: a container's json-file log, printed back to stdout and stderr as it was written.

use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, bail};
use clap::Args;
use kist_engine::logs::{LogEntry, log_path, read_all};
use kist_engine::{ContainerState, Engine};

use crate::flags;

#[derive(Args)]
pub struct LogsArgs {
    #[command(flatten)]
    options: LogsOptions,
    #[command(flatten)]
    container: flags::Container,
}

pub fn logs(engine: &Engine, args: &LogsArgs) -> Result<i32> {
    show(engine, &args.container.name, &args.options)
}

// What to print of a log: `kist logs`'s flags, or what `attach` follows.
#[derive(Args)]
pub struct LogsOptions {
    /// Follow the output until the container exits
    #[arg(short, long)]
    pub follow: bool,
    /// Number of lines from the end (or "all")
    #[arg(short = 'n', long, default_value = "all")]
    pub tail: String,
    /// Show logs since a timestamp (RFC 3339 or Unix) or a relative time (42m)
    #[arg(long)]
    pub since: Option<String>,
    /// Show logs before a timestamp (RFC 3339 or Unix) or a relative time (42m)
    #[arg(long)]
    pub until: Option<String>,
    /// Show the time of each line
    #[arg(short, long)]
    pub timestamps: bool,
}

/// A time as Docker takes it: RFC 3339, Unix seconds, or a duration ago (`10m`, `1h30m`).
fn parse_time(s: &str) -> Result<SystemTime> {
    if let Ok(t) = humantime::parse_rfc3339_weak(s) {
        return Ok(t);
    }
    if let Ok(secs) = s.parse::<f64>() {
        return Ok(SystemTime::UNIX_EPOCH + Duration::from_secs_f64(secs));
    }
    if let Ok(d) = humantime::parse_duration(s) {
        return Ok(SystemTime::now() - d);
    }
    bail!(
        "invalid time {s:?}: use RFC 3339 (2026-11-22T10:00:00Z), Unix seconds, or a duration like 10m"
    )
}

/// Prints the log of the container `name`, and with `follow` what it adds until it exits.
pub fn show(engine: &Engine, name: &str, opts: &LogsOptions) -> Result<i32> {
    let c = engine.store.find_container(name)?;
    let since = opts.since.as_deref().map(parse_time).transpose()?;
    let until = opts.until.as_deref().map(parse_time).transpose()?;
    let tail = match opts.tail.as_str() {
        "all" => None,
        n => Some(
            n.parse::<usize>()
                .with_context(|| format!("invalid --tail {n:?}: use a number or all"))?,
        ),
    };
    let path = log_path(&engine.layout.container_dir(&c.id), &c.id);
    let in_range = |e: &LogEntry| {
        let t = humantime::parse_rfc3339_weak(&e.time).ok();
        since.is_none_or(|s| t.is_some_and(|t| t >= s))
            && until.is_none_or(|u| t.is_some_and(|t| t <= u))
    };
    let mut entries: Vec<LogEntry> = read_all(&path).into_iter().filter(&in_range).collect();
    // Where following resumes: entries are in time order, and their timestamps (nanoseconds,
    // fixed width) order as strings. A count would not do: rotation drops old entries.
    let mut last = entries.last().map(|e| e.time.clone()).unwrap_or_default();
    if let Some(n) = tail {
        entries = entries.split_off(entries.len().saturating_sub(n));
    }
    print_entries(&entries, opts.timestamps)?;
    if !opts.follow {
        return Ok(0);
    }
    // Until the container exits: read what was added, every 50 ms.
    loop {
        let running = engine
            .store
            .find_container(&c.id)
            .map(|c| c.state == ContainerState::Running || c.state == ContainerState::Created)
            .unwrap_or(false);
        let new: Vec<LogEntry> = read_all(&path)
            .into_iter()
            .filter(|e| e.time > last)
            .filter(&in_range)
            .collect();
        if let Some(e) = new.last() {
            last = e.time.clone();
        }
        print_entries(&new, opts.timestamps)?;
        if !running {
            return Ok(0);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Each entry to the stream it was written to (`output` ends kist quietly if a reader went).
fn print_entries(entries: &[LogEntry], timestamps: bool) -> Result<()> {
    for e in entries {
        let write = if e.stream == "stderr" {
            crate::output::write_err
        } else {
            crate::output::write_out
        };
        if timestamps {
            write(format!("{} ", e.time).as_bytes());
        }
        write(e.log.as_bytes());
    }
    crate::output::flush();
    Ok(())
}
