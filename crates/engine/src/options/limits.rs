//! Resource limits (`--memory`, `--cpus`, `--pids-limit`, `--ulimit`...), checked the way Docker
//! checks them and turned into the OCI `linux.resources` of a container's spec.

use oci_spec::runtime::{LinuxBlockIo, LinuxCpu, LinuxMemory, LinuxPids, LinuxResources};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Resource limits, in Docker's units. Kept with the container (launch.json) as the truth its
/// spec's `linux.resources` is made from, so that `update` and `inspect` see what was asked.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    pub memory: Option<i64>,
    /// Memory plus swap (Docker's --memory-swap); -1 for unlimited swap.
    pub memory_swap: Option<i64>,
    /// A soft limit, enforced when memory is short.
    pub memory_reservation: Option<i64>,
    pub pids: Option<i64>,
    /// --cpus: a fraction of CPUs.
    pub cpus: Option<f64>,
    pub cpu_shares: Option<u64>,
    /// CFS period and quota in microseconds (an alternative to --cpus).
    pub cpu_period: Option<u64>,
    pub cpu_quota: Option<i64>,
    pub cpuset_cpus: Option<String>,
    pub cpuset_mems: Option<String>,
    /// Relative block I/O weight, 10 to 1000.
    pub blkio_weight: Option<u16>,
    /// `--ulimit NAME=SOFT[:HARD]`, as (RLIMIT_NAME, soft, hard).
    pub ulimits: Vec<(String, u64, u64)>,
    /// `--oom-score-adj`, -1000 to 1000.
    pub oom_score_adj: Option<i32>,
}

/// Parses Docker's `--ulimit nofile=1024:2048` (or `nofile=1024`: soft and hard alike).
pub fn parse_ulimit(value: &str) -> Result<(String, u64, u64)> {
    let bad = |why: &str| Error::invalid_value("ulimit", value, why);
    let (name, limits) = value
        .split_once('=')
        .ok_or_else(|| bad("use NAME=SOFT[:HARD], like nofile=1024:2048"))?;
    const NAMES: [&str; 16] = [
        "as",
        "core",
        "cpu",
        "data",
        "fsize",
        "locks",
        "memlock",
        "msgqueue",
        "nice",
        "nofile",
        "nproc",
        "rss",
        "rtprio",
        "rttime",
        "sigpending",
        "stack",
    ];
    if !NAMES.contains(&name) {
        return Err(bad(&format!(
            "unknown limit {name:?}; known: {}",
            NAMES.join(", ")
        )));
    }
    let number = |s: &str| {
        s.parse::<i64>()
            .map_err(|_| bad("limits are whole numbers (-1 for unlimited)"))
    };
    let to_u64 = |n: i64| u64::try_from(n).unwrap_or(u64::MAX);
    let (soft, hard) = match limits.split_once(':') {
        Some((s, h)) => (to_u64(number(s)?), to_u64(number(h)?)),
        None => {
            let n = to_u64(number(limits)?);
            (n, n)
        }
    };
    if soft > hard {
        return Err(bad("the soft limit is above the hard one"));
    }
    Ok((format!("RLIMIT_{}", name.to_ascii_uppercase()), soft, hard))
}

impl Limits {
    /// Checks the values the way Docker does, before anything is created.
    pub fn validate(&self) -> Result<()> {
        self.validate_memory()?;
        if let Some(adj) = self.oom_score_adj
            && !(-1000..=1000).contains(&adj)
        {
            return Err(Error::invalid_option(
                "--oom-score-adj",
                format!("invalid --oom-score-adj {adj}: it must be between -1000 and 1000"),
            ));
        }
        self.validate_cpu()?;
        if let Some(w) = self.blkio_weight
            && !(10..=1000).contains(&w)
        {
            return Err(Error::invalid_option(
                "--blkio-weight",
                format!("invalid --blkio-weight {w}: it must be between 10 and 1000"),
            ));
        }
        for set in [&self.cpuset_cpus, &self.cpuset_mems].into_iter().flatten() {
            if !is_cpu_list(set) {
                return Err(Error::invalid_value(
                    "cpuset",
                    set.as_str(),
                    "use a list like 0-2,4",
                ));
            }
        }
        self.validate_against_host()
    }

    /// What the kernel would refuse later with "numerical result out of range": more CPUs
    /// than the host has, or CPUs and memory nodes it does not have online. Docker's words,
    /// naming what there is.
    fn validate_against_host(&self) -> Result<()> {
        // Read only when asked about: every `run` passes here.
        if self.cpus.is_none() && self.cpuset_cpus.is_none() && self.cpuset_mems.is_none() {
            return Ok(());
        }
        let online_cpus = online("/sys/devices/system/cpu/online");
        if let (Some(cpus), Some(online)) = (self.cpus, &online_cpus) {
            let count = online.1.len();
            // Cannot truncate: a CPU count.
            #[allow(clippy::cast_precision_loss)]
            if cpus > count as f64 {
                return Err(Error::invalid_option(
                    "--cpus",
                    format!(
                        "invalid --cpus {cpus}: range of CPUs is from 0.01 to {count}.00, as there are only {count} CPUs available"
                    ),
                ));
            }
        }
        let sets = [
            (&self.cpuset_cpus, online_cpus, "--cpuset-cpus", "CPUs"),
            (
                &self.cpuset_mems,
                online("/sys/devices/system/node/online"),
                "--cpuset-mems",
                "memory nodes",
            ),
        ];
        for (asked, online, flag, what) in sets {
            let (Some(asked), Some((listed, available))) = (asked, online) else {
                continue;
            };
            if !cpu_list(asked).is_some_and(|a| a.is_subset(&available)) {
                return Err(Error::invalid_option(
                    flag,
                    format!(
                        "invalid {flag} {asked}: requested {what} are not available - requested {asked}, available: {listed}"
                    ),
                ));
            }
        }
        Ok(())
    }

    fn validate_memory(&self) -> Result<()> {
        const MIN_MEMORY: i64 = 6 * 1024 * 1024;
        if let Some(m) = self.memory
            && m < MIN_MEMORY
        {
            return Err(Error::invalid_option(
                "--memory",
                "minimum memory limit allowed is 6MB",
            ));
        }
        if let Some(r) = self.memory_reservation {
            if r < MIN_MEMORY {
                return Err(Error::invalid_option(
                    "--memory-reservation",
                    "minimum memory reservation allowed is 6MB",
                ));
            }
            if self.memory.is_some_and(|m| m < r) {
                return Err(Error::invalid_option(
                    "--memory-reservation",
                    "--memory-reservation must be below --memory: the soft limit cannot pass the hard one",
                ));
            }
        }
        if let (Some(s), Some(m)) = (self.memory_swap, self.memory)
            && s != -1
            && s < m
        {
            return Err(Error::invalid_option(
                "--memory-swap",
                "--memory-swap must be at least --memory (or -1 for unlimited swap)",
            ));
        }
        if self.memory_swap.is_some() && self.memory.is_none() {
            return Err(Error::invalid_option(
                "--memory-swap",
                "--memory-swap needs --memory",
            ));
        }
        Ok(())
    }

    fn validate_cpu(&self) -> Result<()> {
        if let Some(c) = self.cpus
            && !(c > 0.0 && c <= 1024.0)
        {
            return Err(Error::invalid_option(
                "--cpus",
                format!("invalid --cpus {c}: give a positive number of CPUs"),
            ));
        }
        if self.cpus.is_some() && (self.cpu_period.is_some() || self.cpu_quota.is_some()) {
            return Err(Error::invalid_option(
                "--cpus",
                "conflicting options: --cpus and --cpu-period/--cpu-quota cannot both be set",
            ));
        }
        if let Some(p) = self.cpu_period
            && !(1000..=1_000_000).contains(&p)
        {
            return Err(Error::invalid_option(
                "--cpu-period",
                format!(
                    "invalid --cpu-period {p}: it must be between 1000 (1ms) and 1000000 (1s) microseconds"
                ),
            ));
        }
        if let Some(q) = self.cpu_quota
            && q != -1
            && q < 1000
        {
            return Err(Error::invalid_option(
                "--cpu-quota",
                format!(
                    "invalid --cpu-quota {q}: it must be at least 1000 (1ms) microseconds, or -1 for none"
                ),
            ));
        }
        Ok(())
    }

    /// These limits changed by the ones `update` sets, as `docker update` does: a given value
    /// replaces the old one; --cpus and a CFS period or quota replace each other.
    pub fn updated_by(&self, update: &Limits) -> Limits {
        let mut out = self.clone();
        macro_rules! take {
            ($($f:ident),*) => { $( if update.$f.is_some() { out.$f = update.$f.clone(); } )* };
        }
        take!(
            memory,
            memory_swap,
            memory_reservation,
            pids,
            cpu_shares,
            cpuset_cpus,
            cpuset_mems,
            blkio_weight
        );
        if update.cpus.is_some() {
            out.cpus = update.cpus;
            out.cpu_period = None;
            out.cpu_quota = None;
        }
        if update.cpu_period.is_some() || update.cpu_quota.is_some() {
            out.cpus = None;
            take!(cpu_period, cpu_quota);
        }
        out
    }

    /// Whether any cgroup limit is set (ulimits and oom_score_adj are not cgroup limits).
    pub fn has_cgroup_limits(&self) -> bool {
        self.to_spec() != LinuxResources::default()
    }

    /// The OCI `linux.resources` for these limits.
    pub fn to_spec(&self) -> LinuxResources {
        let mut r = LinuxResources::default();
        r.set_memory(self.memory_spec());
        r.set_pids(self.pids.map(|limit| {
            let mut p = LinuxPids::default();
            p.set_limit(limit);
            p
        }));
        r.set_cpu(self.cpu_spec());
        r.set_block_io(self.blkio_weight.map(|w| {
            let mut b = LinuxBlockIo::default();
            b.set_weight(Some(w));
            b
        }));
        r
    }

    fn memory_spec(&self) -> Option<LinuxMemory> {
        if self.memory.is_none() && self.memory_reservation.is_none() {
            return None;
        }
        let mut m = LinuxMemory::default();
        m.set_limit(self.memory);
        // Swap means memory plus swap: only with a memory limit.
        m.set_swap(self.memory.and(self.memory_swap));
        m.set_reservation(self.memory_reservation);
        Some(m)
    }

    fn cpu_spec(&self) -> Option<LinuxCpu> {
        let mut c = LinuxCpu::default();
        if let Some(cpus) = self.cpus {
            // --cpus is a quota over Docker's 100 ms period.
            c.set_period(Some(100_000));
            // Cannot truncate: --cpus is checked to be in (0, 1024].
            #[allow(clippy::cast_possible_truncation)]
            let quota = (cpus * 100_000.0) as i64;
            c.set_quota(Some(quota));
        }
        if let Some(p) = self.cpu_period {
            c.set_period(Some(p));
        }
        if let Some(q) = self.cpu_quota {
            c.set_quota(Some(q));
        }
        c.set_shares(self.cpu_shares);
        c.set_cpus(self.cpuset_cpus.clone());
        c.set_mems(self.cpuset_mems.clone());
        (c != LinuxCpu::default()).then_some(c)
    }
}

/// The host's online CPUs or memory nodes, as the kernel lists them (`0-1`) and as a set;
/// None where the kernel does not say (then nothing is checked against it).
fn online(path: &str) -> Option<(String, std::collections::BTreeSet<u32>)> {
    let listed = std::fs::read_to_string(path).ok()?.trim().to_string();
    let set = cpu_list(&listed)?;
    Some((listed, set))
}

/// The numbers of a list like `0-2,4`; None if it is not one, or names absurdly many.
fn cpu_list(list: &str) -> Option<std::collections::BTreeSet<u32>> {
    const MOST: u32 = 1 << 16;
    let mut set = std::collections::BTreeSet::new();
    for range in list.split(',') {
        let (from, to) = match range.split_once('-') {
            Some((a, b)) => (a.parse::<u32>().ok()?, b.parse::<u32>().ok()?),
            None => {
                let n = range.parse::<u32>().ok()?;
                (n, n)
            }
        };
        if from > to || to >= MOST {
            return None;
        }
        set.extend(from..=to);
    }
    Some(set)
}

/// A list of CPUs or memory nodes: `0-2,4`.
fn is_cpu_list(set: &str) -> bool {
    !set.is_empty()
        && set.split(',').all(|r| {
            let mut ends = r.splitn(2, '-').map(|n| n.parse::<u32>());
            matches!(
                (ends.next(), ends.next()),
                (Some(Ok(_)), None) | (Some(Ok(_)), Some(Ok(_)))
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_become_linux_resources() {
        let limits = Limits {
            memory: Some(64 << 20),
            memory_swap: Some(-1),
            cpus: Some(1.5),
            pids: Some(50),
            blkio_weight: Some(300),
            ..Default::default()
        };
        let r = limits.to_spec();
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "memory": {"limit": 64 << 20, "swap": -1},
                "cpu": {"period": 100000, "quota": 150000},
                "pids": {"limit": 50},
                "blockIO": {"weight": 300},
            })
        );
        assert!(limits.has_cgroup_limits());
        assert!(!Limits::default().has_cgroup_limits());
    }

    #[test]
    fn cpu_lists() {
        assert_eq!(
            cpu_list("0-2,4").unwrap().into_iter().collect::<Vec<_>>(),
            [0, 1, 2, 4]
        );
        assert_eq!(cpu_list("3").unwrap().len(), 1);
        for bad in ["", "a", "2-1", "0-99999999", "1,"] {
            assert!(cpu_list(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn ulimits() {
        assert_eq!(
            parse_ulimit("nofile=1024:2048").unwrap(),
            ("RLIMIT_NOFILE".into(), 1024, 2048)
        );
        assert_eq!(
            parse_ulimit("nproc=50").unwrap(),
            ("RLIMIT_NPROC".into(), 50, 50)
        );
        assert_eq!(parse_ulimit("core=-1").unwrap().2, u64::MAX);
        for bad in ["nofile", "files=1", "nofile=a", "nofile=10:5"] {
            assert!(parse_ulimit(bad).is_err(), "{bad}");
        }
    }
}
