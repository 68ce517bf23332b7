//! HEALTHCHECK: `NONE`, or `CMD` and a command line with `--interval`, `--timeout`,
//! `--start-period`, `--start-interval` (Go durations) and `--retries`.

use std::time::Duration;

use super::command::CommandLine;
use super::words;
use crate::duration::parse_duration;
use crate::error::ErrorKind;
use crate::flags::{Flags, Kind};
use crate::node::Node;

/// What HEALTHCHECK sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Healthcheck {
    /// `HEALTHCHECK NONE`: no check, not even the base image's.
    None,
    Command(HealthcheckCommand),
}

/// `HEALTHCHECK [flags] CMD command`. A duration or count left out (or zero) is `None`: the
/// default applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthcheckCommand {
    pub command: CommandLine,
    pub interval: Option<Duration>,
    pub timeout: Option<Duration>,
    pub start_period: Option<Duration>,
    pub start_interval: Option<Duration>,
    pub retries: Option<u32>,
}

const FLAGS: &[(&str, Kind)] = &[
    ("interval", Kind::String),
    ("timeout", Kind::String),
    ("start-period", Kind::String),
    ("start-interval", Kind::String),
    ("retries", Kind::String),
];

pub(super) fn parse(node: &Node) -> Result<Healthcheck, ErrorKind> {
    let Some((kind, command)) = words(node).split_first() else {
        return Err(ErrorKind::AtLeastOneArgument("HEALTHCHECK"));
    };
    let kind = kind.to_uppercase();
    if kind == "NONE" {
        if !command.is_empty() {
            return Err(ErrorKind::HealthcheckNoneArguments);
        }
        Flags::parse(&node.flags, &[])?;
        return Ok(Healthcheck::None);
    }
    let flags = Flags::parse(&node.flags, FLAGS)?;
    if kind != "CMD" {
        return Err(ErrorKind::HealthcheckType(kind));
    }
    if command.is_empty() {
        return Err(ErrorKind::HealthcheckNoCommand);
    }
    Ok(Healthcheck::Command(HealthcheckCommand {
        command: CommandLine::new(command, node.json),
        interval: interval(&flags, "interval")?,
        timeout: interval(&flags, "timeout")?,
        start_period: interval(&flags, "start-period")?,
        start_interval: interval(&flags, "start-interval")?,
        retries: retries(&flags)?,
    }))
}

/// A duration flag: none if not given, empty or zero; at least a millisecond otherwise.
fn interval(flags: &Flags, name: &str) -> Result<Option<Duration>, ErrorKind> {
    let Some(value) = flags.string(name).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let bad = |why: String| ErrorKind::BadFlagValue {
        flag: name.to_string(),
        value: value.clone(),
        why,
    };
    match parse_duration(&value).map_err(bad)? {
        0 => Ok(None),
        n if n < 1_000_000 => Err(ErrorKind::IntervalTooShort(name.to_string())),
        n => u64::try_from(n)
            .map(|n| Some(Duration::from_nanos(n)))
            .map_err(|_| bad(format!("duration {value:?} is too long"))),
    }
}

fn retries(flags: &Flags) -> Result<Option<u32>, ErrorKind> {
    let Some(value) = flags.string("retries").filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let retries: i32 =
        value
            .parse()
            .map_err(|e: std::num::ParseIntError| ErrorKind::BadFlagValue {
                flag: "retries".to_string(),
                value: value.clone(),
                why: e.to_string(),
            })?;
    match u32::try_from(retries) {
        Ok(0) => Ok(None),
        Ok(n) => Ok(Some(n)),
        Err(_) => Err(ErrorKind::NegativeRetries(retries.into())),
    }
}
