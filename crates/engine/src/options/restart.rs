//! `--restart`: Docker's restart policies, and when one starts an exited container again.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "Name", content = "MaximumRetryCount")]
pub enum RestartPolicy {
    #[default]
    #[serde(rename = "no")]
    No,
    #[serde(rename = "on-failure")]
    OnFailure(u32),
    #[serde(rename = "always")]
    Always,
    #[serde(rename = "unless-stopped")]
    UnlessStopped,
}

impl RestartPolicy {
    /// Docker's `--restart` values: `no`, `on-failure[:N]`, `always`, `unless-stopped`.
    pub fn parse(s: &str) -> Result<RestartPolicy> {
        let bad = || {
            Error::invalid_value(
                "restart policy",
                s,
                "use no, on-failure[:N], always or unless-stopped",
            )
        };
        Ok(match s.split_once(':') {
            None => match s {
                "no" => RestartPolicy::No,
                "on-failure" => RestartPolicy::OnFailure(0),
                "always" => RestartPolicy::Always,
                "unless-stopped" => RestartPolicy::UnlessStopped,
                _ => return Err(bad()),
            },
            Some(("on-failure", n)) => RestartPolicy::OnFailure(n.parse().map_err(|_| bad())?),
            Some(_) => return Err(bad()),
        })
    }

    /// Whether a container that exited with `code` after `restarts` restarts is started again.
    /// A stop a user asked for is never a reason to restart.
    pub fn restarts(self, code: i32, restarts: i64, stopped_by_user: bool) -> bool {
        if stopped_by_user {
            return false;
        }
        match self {
            RestartPolicy::No => false,
            RestartPolicy::OnFailure(max) => code != 0 && (max == 0 || restarts < i64::from(max)),
            RestartPolicy::Always | RestartPolicy::UnlessStopped => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_policies() {
        assert_eq!(
            RestartPolicy::parse("on-failure:3").unwrap(),
            RestartPolicy::OnFailure(3)
        );
        assert!(RestartPolicy::parse("sometimes").is_err());
        assert!(RestartPolicy::parse("always:2").is_err());
        let p = RestartPolicy::OnFailure(2);
        assert!(p.restarts(1, 0, false) && p.restarts(1, 1, false) && !p.restarts(1, 2, false));
        assert!(!p.restarts(0, 0, false));
        assert!(RestartPolicy::Always.restarts(0, 100, false));
        assert!(
            !RestartPolicy::Always.restarts(1, 0, true),
            "a user's stop is not a failure"
        );
        assert!(!RestartPolicy::No.restarts(1, 0, false));
    }
}
