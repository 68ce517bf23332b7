//! A user's `run` options, and the parsers for the values that need one (`-v`, `-e`, env files).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, IoContext, Result};

pub mod security;
pub(crate) mod units;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum NetworkMode {
    /// Its own network namespace with only `lo` (until bridge networking lands).
    #[default]
    None,
    /// The host's network namespace.
    Host,
}

impl NetworkMode {
    pub fn parse(s: &str) -> Result<NetworkMode> {
        match s {
            "none" => Ok(NetworkMode::None),
            "host" => Ok(NetworkMode::Host),
            other => Err(Error::Invalid(format!(
                "network {other:?} is not available: use --network none or --network host"
            ))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum VolumeSpec {
    /// `-v /host/dir:/ctr/dir[:ro]`
    Bind {
        source: PathBuf,
        target: String,
        read_only: bool,
    },
    /// `-v NAME:/ctr/dir[:ro]`, or an anonymous volume for `-v /ctr/dir` (name None).
    Named {
        name: Option<String>,
        target: String,
        read_only: bool,
    },
}

impl VolumeSpec {
    pub fn target(&self) -> &str {
        match self {
            VolumeSpec::Bind { target, .. } | VolumeSpec::Named { target, .. } => target,
        }
    }
}

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
    let bad = |why: &str| Error::Invalid(format!("invalid ulimit {value:?}: {why}"));
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
    let to_u64 = |n: i64| if n < 0 { u64::MAX } else { n as u64 };
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
        let invalid = |m: String| Err(Error::Invalid(m));
        const MIN_MEMORY: i64 = 6 * 1024 * 1024;
        if let Some(m) = self.memory
            && m < MIN_MEMORY
        {
            return invalid("minimum memory limit allowed is 6MB".into());
        }
        if let Some(r) = self.memory_reservation {
            if r < MIN_MEMORY {
                return invalid("minimum memory reservation allowed is 6MB".into());
            }
            if self.memory.is_some_and(|m| m < r) {
                return invalid(
                    "--memory-reservation must be below --memory: the soft limit cannot pass the hard one".into(),
                );
            }
        }
        if let (Some(s), Some(m)) = (self.memory_swap, self.memory)
            && s != -1
            && s < m
        {
            return invalid(
                "--memory-swap must be at least --memory (or -1 for unlimited swap)".into(),
            );
        }
        if self.memory_swap.is_some() && self.memory.is_none() {
            return invalid("--memory-swap needs --memory".into());
        }
        if let Some(adj) = self.oom_score_adj
            && !(-1000..=1000).contains(&adj)
        {
            return invalid(format!(
                "invalid --oom-score-adj {adj}: it must be between -1000 and 1000"
            ));
        }
        if let Some(c) = self.cpus
            && !(c > 0.0 && c <= 1024.0)
        {
            return invalid(format!(
                "invalid --cpus {c}: give a positive number of CPUs"
            ));
        }
        if self.cpus.is_some() && (self.cpu_period.is_some() || self.cpu_quota.is_some()) {
            return invalid(
                "conflicting options: --cpus and --cpu-period/--cpu-quota cannot both be set"
                    .into(),
            );
        }
        if let Some(p) = self.cpu_period
            && !(1000..=1_000_000).contains(&p)
        {
            return invalid(format!(
                "invalid --cpu-period {p}: it must be between 1000 (1ms) and 1000000 (1s) microseconds"
            ));
        }
        if let Some(q) = self.cpu_quota
            && q != -1
            && q < 1000
        {
            return invalid(format!(
                "invalid --cpu-quota {q}: it must be at least 1000 (1ms) microseconds, or -1 for none"
            ));
        }
        if let Some(w) = self.blkio_weight
            && !(10..=1000).contains(&w)
        {
            return invalid(format!(
                "invalid --blkio-weight {w}: it must be between 10 and 1000"
            ));
        }
        for set in [&self.cpuset_cpus, &self.cpuset_mems].into_iter().flatten() {
            if !is_cpu_list(set) {
                return invalid(format!("invalid cpuset {set:?}: use a list like 0-2,4"));
            }
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
        self.to_spec() != serde_json::json!({})
    }

    /// The OCI `linux.resources` for these limits.
    pub fn to_spec(&self) -> serde_json::Value {
        let mut r = serde_json::json!({});
        if let Some(m) = self.memory {
            r["memory"]["limit"] = m.into();
            if let Some(s) = self.memory_swap {
                r["memory"]["swap"] = s.into();
            }
        }
        if let Some(m) = self.memory_reservation {
            r["memory"]["reservation"] = m.into();
        }
        if let Some(p) = self.pids {
            r["pids"]["limit"] = p.into();
        }
        if let Some(c) = self.cpus {
            r["cpu"]["period"] = 100_000.into();
            r["cpu"]["quota"] = ((c * 100_000.0) as i64).into();
        }
        if let Some(p) = self.cpu_period {
            r["cpu"]["period"] = p.into();
        }
        if let Some(q) = self.cpu_quota {
            r["cpu"]["quota"] = q.into();
        }
        if let Some(s) = self.cpu_shares {
            r["cpu"]["shares"] = s.into();
        }
        if let Some(c) = &self.cpuset_cpus {
            r["cpu"]["cpus"] = c.clone().into();
        }
        if let Some(m) = &self.cpuset_mems {
            r["cpu"]["mems"] = m.clone().into();
        }
        if let Some(w) = self.blkio_weight {
            r["blockIO"]["weight"] = w.into();
        }
        r
    }
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

/// What `kist run` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub image: String,
    pub command: Vec<String>,
    pub remove: bool,
    pub interactive: bool,
    pub tty: bool,
    pub name: Option<String>,
    /// Raw `-e` values: `K=V`, or `K` to take the value from kist's environment.
    pub env: Vec<String>,
    pub env_files: Vec<PathBuf>,
    pub workdir: Option<String>,
    pub user: Option<String>,
    pub hostname: Option<String>,
    pub volumes: Vec<VolumeSpec>,
    /// `Some("")` clears the image's entrypoint.
    pub entrypoint: Option<String>,
    pub read_only: bool,
    pub init: bool,
    pub network: NetworkMode,
    /// `-d`: run under a supervisor and return once it runs.
    pub detach: bool,
    /// `--label K=V` (or `K`, an empty value).
    pub labels: Vec<String>,
    /// The cgroup the container's cgroup goes under: absolute, or relative to kist's own.
    pub cgroup_parent: String,
    /// Which cgroup hierarchies to use (`KIST_CGROUP_VERSION`; detected by default).
    pub cgroup_version: kist_runtime::CgroupVersion,
    /// `--cgroupns private`: the container sees its own cgroup as the root.
    pub cgroupns_private: bool,
    pub limits: Limits,
    pub restart: crate::state::launch_config::RestartPolicy,
    pub log: crate::state::launch_config::LogOptions,
    /// Capabilities, seccomp, devices, sysctls, `--privileged`.
    pub security: crate::options::security::Security,
}

/// Parses a `-v` value the way Docker does.
pub fn parse_volume(value: &str) -> Result<VolumeSpec> {
    let bad = |why: &str| Error::Invalid(format!("invalid volume specification {value:?}: {why}"));
    let parts: Vec<&str> = value.split(':').collect();
    let (source, target, mode) = match parts.as_slice() {
        [target] => (None, *target, None),
        [source, target] => (Some(*source), *target, None),
        [source, target, mode] => (Some(*source), *target, Some(*mode)),
        _ => return Err(bad("expected SOURCE:TARGET[:ro|rw]")),
    };
    if !target.starts_with('/') {
        return Err(bad("the container path must be absolute"));
    }
    if target == "/" {
        return Err(bad("the container path cannot be /"));
    }
    let read_only = match mode {
        None | Some("rw") => false,
        Some("ro") => true,
        Some(other) => return Err(bad(&format!("unknown mode {other:?}: use ro or rw"))),
    };
    let target = target.to_string();
    match source {
        None => Ok(VolumeSpec::Named {
            name: None,
            target,
            read_only,
        }),
        Some("") => Err(bad("the source is empty")),
        Some(s) if s.starts_with('/') => Ok(VolumeSpec::Bind {
            source: PathBuf::from(s),
            target,
            read_only,
        }),
        Some(s) if s.contains('/') || s.starts_with('.') || s.starts_with('~') => Err(bad(
            "a host path must be absolute (like /srv/data); a volume name has no '/'",
        )),
        Some(s) if crate::filesystem::volumes::is_valid_name(s) => Ok(VolumeSpec::Named {
            name: Some(s.to_string()),
            target,
            read_only,
        }),
        Some(_) => Err(bad(
            "a volume name is letters, digits, '_', '.' and '-', starting with a letter or digit",
        )),
    }
}

/// Resolves a `-e` value: `K=V` as is, `K` from kist's own environment (skipped when unset).
pub fn resolve_env(value: &str) -> Result<Option<String>> {
    let key = value.split('=').next().unwrap_or("");
    if key.is_empty() || key.chars().any(char::is_whitespace) {
        return Err(Error::Invalid(format!(
            "invalid environment variable {value:?}: expected KEY=VALUE or KEY"
        )));
    }
    if value.contains('=') {
        Ok(Some(value.to_string()))
    } else {
        Ok(std::env::var(key).ok().map(|v| format!("{key}={v}")))
    }
}

/// Reads an `--env-file`: a `KEY=VALUE` or `KEY` per line, `#` comments and blank lines skipped.
pub fn parse_env_file(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).ctx("reading the env file", path)?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let resolved = resolve_env(line).map_err(|_| {
            Error::Invalid(format!(
                "{}:{}: invalid line {line:?}: expected KEY=VALUE",
                path.display(),
                i + 1
            ))
        })?;
        out.extend(resolved);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volumes_parse_like_docker() {
        assert_eq!(
            parse_volume("/srv/data:/data").unwrap(),
            VolumeSpec::Bind {
                source: "/srv/data".into(),
                target: "/data".into(),
                read_only: false
            }
        );
        assert_eq!(
            parse_volume("cache:/var/cache:ro").unwrap(),
            VolumeSpec::Named {
                name: Some("cache".into()),
                target: "/var/cache".into(),
                read_only: true
            }
        );
        assert_eq!(
            parse_volume("/data").unwrap(),
            VolumeSpec::Named {
                name: None,
                target: "/data".into(),
                read_only: false
            }
        );
        for bad in [
            "data", "./d:/x", "d/x:/x", "/a:rel", "/a:/b:rx", "a:b:c:d", ":/x", "/a:/",
        ] {
            assert!(parse_volume(bad).is_err(), "{bad:?} should be refused");
        }
        let msg = parse_volume("./d:/x").unwrap_err().to_string();
        assert!(msg.contains("must be absolute"), "{msg}");
    }

    #[test]
    fn env_values() {
        assert_eq!(resolve_env("A=1").unwrap(), Some("A=1".into()));
        assert_eq!(resolve_env("A=").unwrap(), Some("A=".into()));
        assert!(resolve_env("=1").is_err());
        assert!(resolve_env("A B=1").is_err());
        let path = std::env::var("PATH").unwrap();
        assert_eq!(resolve_env("PATH").unwrap(), Some(format!("PATH={path}")));
        assert_eq!(resolve_env("KIST_TEST_SURELY_UNSET").unwrap(), None);
    }

    #[test]
    fn env_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("env");
        std::fs::write(&p, "# comment\n\nA=1\n  B=two words\n").unwrap();
        assert_eq!(parse_env_file(&p).unwrap(), vec!["A=1", "B=two words"]);
        std::fs::write(&p, "A=1\n=bad\n").unwrap();
        assert!(parse_env_file(&p).unwrap_err().to_string().contains(":2:"));
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

    #[test]
    fn networks() {
        assert_eq!(NetworkMode::parse("host").unwrap(), NetworkMode::Host);
        assert!(NetworkMode::parse("bridge").is_err());
    }
}
