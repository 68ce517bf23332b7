//! `run`'s health-check flags, as Docker's CLI turns them into `Config.Healthcheck`: any of them
//! makes a check, whose empty fields the image's check fills; `--no-healthcheck` disables the
//! image's.

use std::time::Duration;

use anyhow::{Result, bail};
use clap::Args;
use kist_engine::Healthcheck;

#[derive(Args, Default)]
pub struct HealthArgs {
    /// Command to run to check health (run by /bin/sh -c in the container)
    #[arg(long = "health-cmd")]
    cmd: Option<String>,
    /// Time between running the check (ms|s|m|h) [default: 30s]
    #[arg(long = "health-interval")]
    interval: Option<String>,
    /// Maximum time to allow one check to run (ms|s|m|h) [default: 30s]
    #[arg(long = "health-timeout")]
    timeout: Option<String>,
    /// Consecutive failures needed to report unhealthy [default: 3]
    #[arg(long = "health-retries", allow_hyphen_values = true)]
    retries: Option<i64>,
    /// Start period for the container to initialize before failures count (ms|s|m|h) [default: 0s]
    #[arg(long = "health-start-period")]
    start_period: Option<String>,
    /// Time between checks during the start period (ms|s|m|h) [default: 5s]
    #[arg(long = "health-start-interval")]
    start_interval: Option<String>,
    /// Disable any container-specified HEALTHCHECK
    #[arg(long = "no-healthcheck")]
    none: bool,
}

impl HealthArgs {
    /// The user's check, `None` when no flag was given (the image's stands).
    pub fn healthcheck(&self) -> Result<Option<Healthcheck>> {
        let durations = [
            ("--health-interval", &self.interval),
            ("--health-timeout", &self.timeout),
            ("--health-start-period", &self.start_period),
            ("--health-start-interval", &self.start_interval),
        ];
        let any = self.cmd.is_some()
            || self.retries.is_some()
            || durations.iter().any(|(_, v)| v.is_some());
        if self.none {
            if any {
                bail!("--no-healthcheck conflicts with --health-* options");
            }
            return Ok(Some(Healthcheck {
                test: vec!["NONE".into()],
                ..Healthcheck::default()
            }));
        }
        if !any {
            return Ok(None);
        }
        let mut nanos = [0i64; 4];
        for (slot, (flag, value)) in nanos.iter_mut().zip(durations) {
            if let Some(v) = value {
                *slot = duration_nanos(flag, v)?;
            }
        }
        let retries = self.retries.unwrap_or(0);
        if retries < 0 {
            bail!("--health-retries cannot be negative");
        }
        Ok(Some(Healthcheck {
            test: self
                .cmd
                .iter()
                .flat_map(|c| ["CMD-SHELL".to_string(), c.clone()])
                .collect(),
            interval: nanos[0],
            timeout: nanos[1],
            start_period: nanos[2],
            start_interval: nanos[3],
            retries,
        }))
    }
}

/// A Go duration (`200ms`, `30s`, `1m30s`; `0` for the default) in nanoseconds.
fn duration_nanos(flag: &str, value: &str) -> Result<i64> {
    if value.starts_with('-') {
        bail!("{flag} cannot be negative");
    }
    if value
        .trim_end_matches(['s', 'm', 'h'])
        .trim_end_matches('.')
        == "0"
        || value == "0"
    {
        return Ok(0);
    }
    let d: Duration = humantime::parse_duration(value).map_err(|e| {
        anyhow::anyhow!("invalid {flag} {value:?}: {e}; use a duration such as 200ms, 30s or 1m30s")
    })?;
    Ok(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_make_docker_s_healthcheck() {
        let args = HealthArgs {
            cmd: Some("exit 0".into()),
            interval: Some("200ms".into()),
            retries: Some(2),
            start_period: Some("1m30s".into()),
            ..HealthArgs::default()
        };
        let h = args.healthcheck().unwrap().unwrap();
        assert_eq!(h.test, ["CMD-SHELL", "exit 0"]);
        assert_eq!(h.interval, 200_000_000);
        assert_eq!(h.start_period, 90_000_000_000);
        assert_eq!((h.timeout, h.retries), (0, 2));
        assert_eq!(HealthArgs::default().healthcheck().unwrap(), None);
        let none = HealthArgs {
            none: true,
            ..HealthArgs::default()
        };
        assert_eq!(none.healthcheck().unwrap().unwrap().test, ["NONE"]);
        let both = HealthArgs {
            none: true,
            cmd: Some("true".into()),
            ..HealthArgs::default()
        };
        assert!(both.healthcheck().is_err());
        let negative = HealthArgs {
            interval: Some("-1s".into()),
            ..HealthArgs::default()
        };
        assert!(negative.healthcheck().is_err());
    }
}
