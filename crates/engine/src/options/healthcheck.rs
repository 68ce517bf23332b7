//! A container's health check as Docker keeps it (`Config.Healthcheck`): the test, and its
//! durations in nanoseconds, as the image config stores them. The user's `--health-*` flags
//! are merged over the image's, field by field, as Docker merges them.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Docker's defaults for fields left at zero.
pub const DEFAULT_INTERVAL_NS: i64 = 30_000_000_000;
pub const DEFAULT_TIMEOUT_NS: i64 = 30_000_000_000;
pub const DEFAULT_START_INTERVAL_NS: i64 = 5_000_000_000;
pub const DEFAULT_RETRIES: i64 = 3;

/// `Config.Healthcheck`. Zero means "the default" (or, in flags, "the image's").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Healthcheck {
    /// `[]` inherits, `["NONE"]` disables, `["CMD", prog, args...]`, `["CMD-SHELL", command]`.
    #[serde(rename = "Test", default, skip_serializing_if = "Vec::is_empty")]
    pub test: Vec<String>,
    #[serde(rename = "Interval", default, skip_serializing_if = "is_zero")]
    pub interval: i64,
    #[serde(rename = "Timeout", default, skip_serializing_if = "is_zero")]
    pub timeout: i64,
    #[serde(rename = "StartPeriod", default, skip_serializing_if = "is_zero")]
    pub start_period: i64,
    #[serde(rename = "StartInterval", default, skip_serializing_if = "is_zero")]
    pub start_interval: i64,
    #[serde(rename = "Retries", default, skip_serializing_if = "is_zero")]
    pub retries: i64,
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

impl Healthcheck {
    /// The image config's `Healthcheck` (Docker's extension of the OCI config), if any.
    pub fn from_image_config(config_json: &[u8]) -> Option<Healthcheck> {
        #[derive(Deserialize)]
        struct Image {
            config: Option<Inner>,
        }
        #[derive(Deserialize)]
        struct Inner {
            #[serde(rename = "Healthcheck")]
            healthcheck: Option<Healthcheck>,
        }
        let image: Image = serde_json::from_slice(config_json).ok()?;
        image.config?.healthcheck
    }

    /// The user's check over the image's: each field the user left empty is the image's.
    pub fn merge(user: Option<Healthcheck>, image: Option<Healthcheck>) -> Option<Healthcheck> {
        let Some(mut user) = user else {
            return image;
        };
        if let Some(image) = image {
            if user.test.is_empty() {
                user.test = image.test;
            }
            for (mine, theirs) in [
                (&mut user.interval, image.interval),
                (&mut user.timeout, image.timeout),
                (&mut user.start_period, image.start_period),
                (&mut user.start_interval, image.start_interval),
                (&mut user.retries, image.retries),
            ] {
                if *mine == 0 {
                    *mine = theirs;
                }
            }
        }
        Some(user)
    }

    /// Refuses what Docker's daemon refuses: durations under 1 ms, negative retries, an
    /// unknown test type.
    pub fn validate(&self) -> Result<()> {
        for (flag, v) in [
            ("--health-interval", self.interval),
            ("--health-timeout", self.timeout),
            ("--health-start-period", self.start_period),
            ("--health-start-interval", self.start_interval),
        ] {
            if v != 0 && v < 1_000_000 {
                return Err(Error::invalid_option(
                    flag,
                    format!("{flag} must be 0 (the default) or at least 1ms"),
                ));
            }
        }
        if self.retries < 0 {
            return Err(Error::invalid_option(
                "--health-retries",
                "--health-retries cannot be negative",
            ));
        }
        match self.test.first().map(String::as_str) {
            None | Some("NONE" | "CMD" | "CMD-SHELL") => Ok(()),
            Some(other) => Err(Error::invalid_option(
                "healthcheck",
                format!("unknown health check type {other:?}: use CMD, CMD-SHELL or NONE"),
            )),
        }
    }

    /// The program to run in the container, or `None` when there is no check to run.
    pub fn command(&self) -> Option<Vec<String>> {
        match self.test.split_first() {
            Some((kind, args)) if kind == "CMD" && !args.is_empty() => Some(args.to_vec()),
            Some((kind, args)) if kind == "CMD-SHELL" && !args.is_empty() => {
                Some(vec!["/bin/sh".into(), "-c".into(), args.join(" ")])
            }
            _ => None,
        }
    }

    pub fn interval(&self) -> std::time::Duration {
        nanos(self.interval, DEFAULT_INTERVAL_NS)
    }

    pub fn timeout(&self) -> std::time::Duration {
        nanos(self.timeout, DEFAULT_TIMEOUT_NS)
    }

    pub fn start_period(&self) -> std::time::Duration {
        nanos(self.start_period, 0)
    }

    pub fn start_interval(&self) -> std::time::Duration {
        nanos(self.start_interval, DEFAULT_START_INTERVAL_NS)
    }

    pub fn retries(&self) -> i64 {
        if self.retries == 0 {
            DEFAULT_RETRIES
        } else {
            self.retries
        }
    }
}

fn nanos(v: i64, default: i64) -> std::time::Duration {
    let v = if v == 0 { default } else { v };
    std::time::Duration::from_nanos(u64::try_from(v).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_image_s_check_is_read_and_merged_under_the_user_s() {
        let config = br#"{"config": {"Healthcheck": {"Test": ["CMD-SHELL", "curl -f localhost"],
            "Interval": 10000000000, "Retries": 5}}}"#;
        let image = Healthcheck::from_image_config(config).unwrap();
        assert_eq!(image.test, ["CMD-SHELL", "curl -f localhost"]);
        assert_eq!(image.interval(), std::time::Duration::from_secs(10));
        assert_eq!(image.timeout(), std::time::Duration::from_secs(30));
        assert_eq!(Healthcheck::from_image_config(br#"{"config": {}}"#), None);
        let user = Healthcheck {
            interval: 200_000_000,
            ..Healthcheck::default()
        };
        let merged = Healthcheck::merge(Some(user), Some(image.clone())).unwrap();
        assert_eq!(merged.test, image.test, "the image's test");
        assert_eq!(merged.interval, 200_000_000, "the user's interval");
        assert_eq!(merged.retries, 5, "the image's retries");
        let none = Healthcheck {
            test: vec!["NONE".into()],
            ..Healthcheck::default()
        };
        let merged = Healthcheck::merge(Some(none), Some(image)).unwrap();
        assert_eq!(merged.command(), None, "--no-healthcheck");
    }

    #[test]
    fn tests_become_programs_and_bad_values_are_refused() {
        let shell = Healthcheck {
            test: vec!["CMD-SHELL".into(), "exit 1".into()],
            ..Healthcheck::default()
        };
        assert_eq!(shell.command().unwrap(), ["/bin/sh", "-c", "exit 1"]);
        let cmd = Healthcheck {
            test: vec!["CMD".into(), "true".into()],
            ..Healthcheck::default()
        };
        assert_eq!(cmd.command().unwrap(), ["true"]);
        let short = Healthcheck {
            interval: 1000,
            ..shell.clone()
        };
        assert!(short.validate().is_err());
        let odd = Healthcheck {
            test: vec!["RUN".into()],
            ..Healthcheck::default()
        };
        assert!(odd.validate().is_err());
        assert!(shell.validate().is_ok());
        let json = serde_json::to_value(&cmd).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"Test": ["CMD", "true"]}),
            "zeros omitted"
        );
    }
}
