//! `events`: a container's resource usage as runc prints it, one JSON object a line
//! (`{"type":"stats","id":...,"data":{cpu, memory, pids, blkio}}`): once with `--stats`, else
//! every `--interval` until the container stops.

use std::path::Path;
use std::time::Duration;

use anyhow::{Result, anyhow};

use crate::state::{Container, Status};

#[derive(clap::Args)]
pub struct EventsArgs {
    /// Print the usage once and exit
    #[arg(long)]
    pub stats: bool,
    /// Seconds between two reports (default 5)
    #[arg(long, default_value = "5s")]
    pub interval: String,
    /// The container's id
    pub id: String,
}

pub fn events(root: &Path, args: &EventsArgs) -> Result<i32> {
    let interval = seconds(&args.interval)?;
    loop {
        let container = Container::load(root, &args.id)?;
        if container.status() == Status::Stopped {
            return Err(anyhow!("container {} is not running", args.id));
        }
        println!("{}", stats(&container)?);
        if args.stats {
            return Ok(0);
        }
        std::thread::sleep(interval);
    }
}

fn stats(container: &Container) -> Result<serde_json::Value> {
    let cgroup = container.cgroup()?.ok_or_else(|| {
        anyhow!(
            "container {} has no cgroup (linux.cgroupsPath)",
            container.saved.id
        )
    })?;
    let u = cgroup.usage();
    Ok(serde_json::json!({
        "type": "stats",
        "id": container.saved.id,
        "data": {
            "cpu": {"usage": {"total": u.cpu_ns}},
            "memory": {"usage": {"usage": u.memory, "limit": u.memory_limit.unwrap_or(0)}},
            "pids": {"current": u.pids},
            "blkio": {"ioServiceBytesRecursive": [
                {"op": "Read", "value": u.io_read},
                {"op": "Write", "value": u.io_write}
            ]}
        }
    }))
}

/// `5s`, `500ms`, `1m` or a bare number of seconds.
fn seconds(text: &str) -> Result<Duration> {
    let bad = || anyhow!("invalid --interval {text:?}: use a duration such as 5s or 500ms");
    let (n, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let n: u64 = n.parse().map_err(|_| bad())?;
    let d = match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        _ => return Err(bad()),
    };
    if d.is_zero() {
        return Err(bad());
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals() {
        assert_eq!(seconds("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(seconds("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(seconds("2").unwrap(), Duration::from_secs(2));
        assert!(seconds("0s").is_err() && seconds("soon").is_err());
    }
}
