//! `update`: a running container's cgroup limits changed in place, from a runtime-spec
//! `linux.resources` document (`--resources FILE`, `-` for stdin) and runc's flags over it.

use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use oci_spec::runtime::LinuxResources;

use crate::state::{Container, Status};

#[derive(clap::Args)]
pub struct UpdateArgs {
    /// A JSON file of linux.resources to apply (- for stdin)
    #[arg(short, long)]
    pub resources: Option<String>,
    /// Memory limit (bytes, or with k, m, g)
    #[arg(long)]
    pub memory: Option<String>,
    /// Memory plus swap limit (bytes, or with k, m, g; -1 unlimited)
    #[arg(long, allow_hyphen_values = true)]
    pub memory_swap: Option<String>,
    /// Memory soft limit (bytes, or with k, m, g)
    #[arg(long)]
    pub memory_reservation: Option<String>,
    /// CPU shares (relative weight)
    #[arg(long)]
    pub cpu_shares: Option<u64>,
    /// CPU CFS period in microseconds
    #[arg(long)]
    pub cpu_period: Option<u64>,
    /// CPU CFS quota in microseconds
    #[arg(long, allow_hyphen_values = true)]
    pub cpu_quota: Option<i64>,
    /// CPUs the container may use (0-3, 0,1)
    #[arg(long)]
    pub cpuset_cpus: Option<String>,
    /// Memory nodes the container may use
    #[arg(long)]
    pub cpuset_mems: Option<String>,
    /// Maximum number of processes (-1 unlimited)
    #[arg(long, allow_hyphen_values = true)]
    pub pids_limit: Option<i64>,
    /// The container's id
    pub id: String,
}

pub fn update(root: &Path, args: &UpdateArgs) -> Result<i32> {
    let container = Container::load(root, &args.id)?;
    if container.status() == Status::Stopped {
        bail!("container {} is not running", args.id);
    }
    let cgroup = container
        .cgroup()?
        .ok_or_else(|| anyhow!("container {} has no cgroup (linux.cgroupsPath)", args.id))?;
    let resources = resources(args)?;
    cgroup
        .update(&resources)
        .with_context(|| format!("cannot update container {}", args.id))?;
    Ok(0)
}

/// The document, then each flag over it.
fn resources(args: &UpdateArgs) -> Result<LinuxResources> {
    let mut doc = match args.resources.as_deref() {
        None => serde_json::json!({}),
        Some(source) => {
            let mut text = String::new();
            if source == "-" {
                std::io::stdin().read_to_string(&mut text)?;
            } else {
                text = std::fs::read_to_string(source)
                    .with_context(|| format!("cannot read {source}"))?;
            }
            serde_json::from_str(&text).map_err(|e| anyhow!("invalid resources {source}: {e}"))?
        }
    };
    let mut set = |section: &str, key: &str, value: serde_json::Value| {
        if !doc[section].is_object() {
            doc[section] = serde_json::json!({});
        }
        doc[section][key] = value;
    };
    if let Some(m) = &args.memory {
        set("memory", "limit", size(m)?.into());
    }
    if let Some(m) = &args.memory_swap {
        set("memory", "swap", size(m)?.into());
    }
    if let Some(m) = &args.memory_reservation {
        set("memory", "reservation", size(m)?.into());
    }
    if let Some(v) = args.cpu_shares {
        set("cpu", "shares", v.into());
    }
    if let Some(v) = args.cpu_period {
        set("cpu", "period", v.into());
    }
    if let Some(v) = args.cpu_quota {
        set("cpu", "quota", v.into());
    }
    if let Some(v) = &args.cpuset_cpus {
        set("cpu", "cpus", v.clone().into());
    }
    if let Some(v) = &args.cpuset_mems {
        set("cpu", "mems", v.clone().into());
    }
    if let Some(v) = args.pids_limit {
        set("pids", "limit", v.into());
    }
    serde_json::from_value(doc).map_err(|e| anyhow!("invalid resources: {e}"))
}

/// Bytes, or a number with a k, m, g or t suffix (powers of 1024, as runc reads them); -1 is
/// unlimited.
fn size(text: &str) -> Result<i64> {
    let t = text.trim().to_ascii_lowercase();
    if t == "-1" {
        return Ok(-1);
    }
    let t = t.strip_suffix('b').unwrap_or(&t);
    let (digits, shift) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 10),
        Some('m') => (&t[..t.len() - 1], 20),
        Some('g') => (&t[..t.len() - 1], 30),
        Some('t') => (&t[..t.len() - 1], 40),
        _ => (t, 0),
    };
    let n: i64 = digits
        .parse()
        .map_err(|_| anyhow!("invalid size {text:?}: use bytes or a number with k, m or g"))?;
    n.checked_mul(1i64 << shift)
        .ok_or_else(|| anyhow!("size {text:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::size;

    #[test]
    fn sizes_as_runc_reads_them() {
        assert_eq!(size("1024").unwrap(), 1024);
        assert_eq!(size("64m").unwrap(), 64 << 20);
        assert_eq!(size("1G").unwrap(), 1 << 30);
        assert_eq!(size("-1").unwrap(), -1);
        assert!(size("lots").is_err());
    }
}
