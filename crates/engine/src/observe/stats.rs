//! `kist stats`: what a running container uses, from its cgroup and its network namespace.

use std::time::Instant;

use kist_runtime::Usage;

use crate::options::NetworkMode;
use crate::state::store::{ContainerRecord, ContainerState};

/// The counters of one container at one moment.
#[derive(Debug, Clone)]
pub struct Sample {
    pub at: Instant,
    pub usage: Usage,
    pub net_rx: u64,
    pub net_tx: u64,
}

/// One line of `kist stats`, as numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    /// Percent of one CPU (200 is two CPUs busy), over the time between two samples.
    pub cpu_percent: f64,
    pub memory: u64,
    /// The container's memory limit, or the host's memory when it has none.
    pub memory_limit: u64,
    pub memory_percent: f64,
    pub net_rx: u64,
    pub net_tx: u64,
    pub block_read: u64,
    pub block_write: u64,
    pub pids: u64,
}

/// Reads the counters of a running container; None when it is not running.
pub fn sample(c: &ContainerRecord) -> Option<Sample> {
    if c.state != ContainerState::Running {
        return None;
    }
    let cgroup = crate::container::cgroup::of(c)?;
    let usage = cgroup.usage();
    let config: serde_json::Value = serde_json::from_str(&c.config).unwrap_or_default();
    let own_network = serde_json::from_value::<NetworkMode>(config["NetworkMode"].clone())
        .is_ok_and(|n| n != NetworkMode::Host);
    // Docker shows no network figures for a container on the host's network.
    let (net_rx, net_tx) = match (own_network, c.process) {
        (true, Some(p)) => std::fs::read_to_string(format!("/proc/{}/net/dev", p.pid))
            .map(|t| network_bytes(&t))
            .unwrap_or_default(),
        _ => (0, 0),
    };
    Some(Sample {
        at: Instant::now(),
        usage,
        net_rx,
        net_tx,
    })
}

/// Received and sent bytes of every interface but the loopback, from /proc/PID/net/dev.
fn network_bytes(text: &str) -> (u64, u64) {
    let mut rx = 0;
    let mut tx = 0;
    for line in text.lines().skip(2) {
        let Some((name, fields)) = line.split_once(':') else {
            continue;
        };
        if name.trim() == "lo" {
            continue;
        }
        let f: Vec<u64> = fields
            .split_whitespace()
            .map(|n| n.parse().unwrap_or(0))
            .collect();
        if f.len() >= 9 {
            rx += f[0];
            tx += f[8];
        }
    }
    (rx, tx)
}

/// The host's memory, the limit of a container that has none.
pub fn host_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// The figures of `now`, with CPU use over the time since `before`.
pub fn figures(before: Option<&Sample>, now: &Sample, host_memory: u64) -> Figures {
    let cpu_percent = match before {
        Some(b) => {
            let wall = now.at.duration_since(b.at).as_nanos() as f64;
            let cpu = now.usage.cpu_ns.saturating_sub(b.usage.cpu_ns) as f64;
            if wall > 0.0 { cpu / wall * 100.0 } else { 0.0 }
        }
        None => 0.0,
    };
    let memory_limit = now
        .usage
        .memory_limit
        .filter(|&l| l > 0 && (host_memory == 0 || l < host_memory))
        .unwrap_or(host_memory);
    let memory_percent = if memory_limit > 0 {
        now.usage.memory as f64 / memory_limit as f64 * 100.0
    } else {
        0.0
    };
    Figures {
        cpu_percent,
        memory: now.usage.memory,
        memory_limit,
        memory_percent,
        net_rx: now.net_rx,
        net_tx: now.net_tx,
        block_read: now.usage.io_read,
        block_write: now.usage.io_write,
        pids: now.usage.pids,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn network_bytes_skip_the_loopback() {
        let text = "Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    lo:    1000      10    0    0    0     0          0         0     1000      10    0    0    0     0       0          0\n  eth0:    2048      3    0    0    0     0          0         0      512       2    0    0    0     0       0          0\n";
        assert_eq!(network_bytes(text), (2048, 512));
    }

    #[test]
    fn cpu_is_the_share_of_wall_time_and_memory_of_the_limit() {
        let t0 = Instant::now();
        let before = Sample {
            at: t0,
            usage: Usage {
                cpu_ns: 1_000_000_000,
                ..Default::default()
            },
            net_rx: 0,
            net_tx: 0,
        };
        let now = Sample {
            at: t0 + Duration::from_secs(2),
            usage: Usage {
                cpu_ns: 2_000_000_000,
                memory: 16 << 20,
                memory_limit: Some(64 << 20),
                pids: 2,
                ..Default::default()
            },
            net_rx: 0,
            net_tx: 0,
        };
        let f = figures(Some(&before), &now, 1 << 34);
        assert!((f.cpu_percent - 50.0).abs() < 1e-9);
        assert!((f.memory_percent - 25.0).abs() < 1e-9);
        assert_eq!(f.memory_limit, 64 << 20);
        // Without a limit, the host's memory is the limit; the first sample has no CPU figure.
        let unlimited = Sample {
            usage: Usage {
                memory_limit: None,
                ..now.usage.clone()
            },
            ..now
        };
        let f = figures(None, &unlimited, 1 << 30);
        assert_eq!((f.cpu_percent, f.memory_limit), (0.0, 1 << 30));
    }
}
