//! The cgroup limits `run` and `update` take, in Docker's names and units: one definition, so
//! that both commands spell and document them alike.

use anyhow::Result;
use clap::Args;

// `run` and `update` flatten this where the limits go in their help.
#[derive(Args)]
pub struct ResourceArgs {
    /// Memory limit (64m, 1g)
    #[arg(short, long)]
    memory: Option<String>,
    /// Memory plus swap limit (-1: unlimited swap)
    #[arg(long = "memory-swap", allow_hyphen_values = true)]
    memory_swap: Option<String>,
    /// Memory soft limit (32m)
    #[arg(long = "memory-reservation")]
    memory_reservation: Option<String>,
    /// Number of CPUs (1.5)
    #[arg(long)]
    cpus: Option<f64>,
    /// CPU shares (relative weight)
    #[arg(short = 'c', long = "cpu-shares")]
    cpu_shares: Option<u64>,
    /// CPU CFS period in microseconds
    #[arg(long = "cpu-period")]
    cpu_period: Option<u64>,
    /// CPU CFS quota in microseconds (-1: none)
    #[arg(long = "cpu-quota", allow_hyphen_values = true)]
    cpu_quota: Option<i64>,
    /// CPUs to run on (0-2,4)
    #[arg(long = "cpuset-cpus")]
    cpuset_cpus: Option<String>,
    /// Memory nodes to use (0-1)
    #[arg(long = "cpuset-mems")]
    cpuset_mems: Option<String>,
    /// Most processes at once (-1: unlimited)
    #[arg(long = "pids-limit", allow_hyphen_values = true)]
    pids_limit: Option<i64>,
    /// Relative block I/O weight (10 to 1000)
    #[arg(long = "blkio-weight")]
    blkio_weight: Option<u16>,
}

impl ResourceArgs {
    /// The limits given; those not given stay unset (`update` leaves them as they are).
    pub fn limits(&self) -> Result<kist_engine::Limits> {
        Ok(kist_engine::Limits {
            memory: unset_if_zero(self.memory.as_deref().map(size).transpose()?),
            memory_swap: unset_if_zero(
                self.memory_swap
                    .as_deref()
                    .map(|s| if s == "-1" { Ok(-1) } else { size(s) })
                    .transpose()?,
            ),
            memory_reservation: unset_if_zero(
                self.memory_reservation.as_deref().map(size).transpose()?,
            ),
            pids: self.pids_limit,
            cpus: self.cpus,
            cpu_shares: self.cpu_shares,
            cpu_period: self.cpu_period,
            cpu_quota: self.cpu_quota,
            cpuset_cpus: self.cpuset_cpus.clone(),
            cpuset_mems: self.cpuset_mems.clone(),
            blkio_weight: self.blkio_weight,
            ..Default::default()
        })
    }
}

/// Docker's 0 for a memory limit: none (`-m 0` runs unlimited; `update -m 0` changes nothing).
fn unset_if_zero(bytes: Option<i64>) -> Option<i64> {
    bytes.filter(|&b| b != 0)
}

/// A size in Docker's units (`64m`).
fn size(s: &str) -> Result<i64> {
    let bytes = kist_engine::parse_bytes(s)
        .map_err(|e| anyhow::anyhow!("{e}: use a number with an optional unit, like 64m or 1g"))?;
    i64::try_from(bytes).map_err(|_| anyhow::anyhow!("size {s:?} is too large"))
}
