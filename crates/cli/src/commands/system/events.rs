//! `kist events`: the event log as Docker's `docker events` shows it. It follows the log (until
//! Ctrl-C, or `--until`), from now or from `--since`; `--filter` keeps some events, `--format`
//! runs a template over each (`json` prints the line as the log has it).

use anyhow::{Result, bail};
use clap::Args;
use kist_engine::Engine;
use kist_engine::events::{Event, Window};
use serde_json::{Value, json};

use crate::flags;
use crate::template::Template;

#[derive(Args)]
#[command(mut_arg("filter", |a| a.help("type=, event=, container=, image=, label=, volume=")))]
#[command(mut_arg("format", |a| a.help("A template per event, such as '{{.Action}} {{.Actor.ID}}', or 'json'")))]
pub struct EventsArgs {
    /// Show events since this time: RFC 3339, Unix seconds, or a duration ago (10m)
    #[arg(long)]
    since: Option<String>,
    /// Stop at this time (same forms); without it, follow for ever
    #[arg(long)]
    until: Option<String>,
    #[command(flatten)]
    filter: flags::Filters,
    #[command(flatten)]
    format: flags::Format,
}

pub fn events(engine: &Engine, args: &EventsArgs) -> Result<i32> {
    let now = kist_engine::events::now_nanos();
    let window = Window {
        since: args
            .since
            .as_deref()
            .map(|s| timestamp(s, now))
            .transpose()?,
        until: args
            .until
            .as_deref()
            .map(|s| timestamp(s, now))
            .transpose()?,
    };
    let filters = Filters::parse(&args.filter.values)?;
    let format = args.format.value.as_deref().map(str::trim);
    let template = match format {
        None | Some("json" | "{{json .}}") => None,
        Some(f) => Some(Template::parse(f)?),
    };
    let mut failed = None;
    kist_engine::events::read(&engine.layout.root, window, |line, event| {
        if !filters.keep(event) {
            return true;
        }
        match (&template, format) {
            (Some(t), _) => match t.execute(&template_data(event)) {
                Ok(text) => outln!("{text}"),
                Err(e) => {
                    failed = Some(e);
                    return false;
                }
            },
            (None, Some(_)) => outln!("{line}"),
            (None, None) => outln!("{}", text_line(event)),
        }
        true
    })?;
    match failed {
        Some(e) => Err(e.into()),
        None => Ok(0),
    }
}

/// Docker's line: `TIME TYPE ACTION ID (k=v, ...)`, the time in UTC to the nanosecond.
fn text_line(e: &Event) -> String {
    let mut line = format!("{} {} {}", time_of(e.time_nano), e.typ, e.action);
    if !e.actor.id.is_empty() {
        line.push(' ');
        line.push_str(&e.actor.id);
    }
    if !e.actor.attributes.is_empty() {
        let attrs: Vec<String> = e
            .actor
            .attributes
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        line.push_str(&format!(" ({})", attrs.join(", ")));
    }
    line
}

fn time_of(nanos: i64) -> String {
    let t =
        std::time::UNIX_EPOCH + std::time::Duration::from_nanos(u64::try_from(nanos).unwrap_or(0));
    humantime::format_rfc3339_nanos(t).to_string()
}

/// The event as Docker's Go type names its fields, for templates.
fn template_data(e: &Event) -> Value {
    json!({
        "Status": e.action,
        "ID": e.actor.id,
        "From": e.actor.attributes.get("image").cloned().unwrap_or_default(),
        "Type": e.typ,
        "Action": e.action,
        "Actor": {"ID": e.actor.id, "Attributes": e.actor.attributes},
        "Scope": "local",
        "Time": e.time_nano.div_euclid(1_000_000_000),
        "TimeNano": e.time_nano,
    })
}

/// A time as Docker's `--since`/`--until` take it, in nanoseconds since the epoch: a duration
/// before `now` (`10m`, `1h30m`), RFC 3339 (with or without seconds or a zone, or a date
/// alone; UTC when no zone is given), or Unix seconds with an optional fraction.
fn timestamp(value: &str, now: i64) -> Result<i64> {
    let value = value.trim();
    if value != "0"
        && let Ok(d) = humantime::parse_duration(value)
    {
        return Ok(now.saturating_sub(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)));
    }
    if value.contains('-') || value.contains(':') {
        return rfc3339(value).ok_or_else(|| {
            anyhow::anyhow!(
                "invalid time {value:?}: use RFC 3339 (2026-01-02T15:04:05Z), Unix seconds, or a duration (10m)"
            )
        });
    }
    let (secs, frac) = value.split_once('.').unwrap_or((value, ""));
    let secs: i64 = secs.parse().map_err(|_| {
        anyhow::anyhow!("invalid time {value:?}: use RFC 3339, Unix seconds or a duration (10m)")
    })?;
    let frac = format!("{frac:0<9}");
    let nanos: i64 = frac.get(..9).unwrap_or("0").parse().unwrap_or(0);
    Ok(secs.saturating_mul(1_000_000_000).saturating_add(nanos))
}

/// RFC 3339 and its shorter forms, with `Z`, a `+HH:MM` offset or no zone (UTC).
fn rfc3339(value: &str) -> Option<i64> {
    let (body, offset_secs) = split_offset(value);
    let body = body.replace(' ', "T");
    let full = match body.len() {
        10 => format!("{body}T00:00:00"),
        13 => format!("{body}:00:00"),
        16 => format!("{body}:00"),
        _ => body,
    };
    let t = humantime::parse_rfc3339_weak(&full).ok()?;
    let nanos = i64::try_from(t.duration_since(std::time::UNIX_EPOCH).ok()?.as_nanos()).ok()?;
    Some(nanos - offset_secs * 1_000_000_000)
}

/// The text before a zone (`Z`, `+02:00`, `-0500`) and the zone's offset in seconds.
fn split_offset(value: &str) -> (&str, i64) {
    if let Some(body) = value.strip_suffix('Z').or_else(|| value.strip_suffix('z')) {
        return (body, 0);
    }
    // A zone follows the time (after a 'T' or space), so a date's own '-' is never one.
    let Some(t) = value.find(['T', ' ']) else {
        return (value, 0);
    };
    let Some(at) = value[t..].rfind(['+', '-']).map(|i| i + t) else {
        return (value, 0);
    };
    let zone = value[at + 1..].replace(':', "");
    let (Ok(h), Ok(m)) = (
        zone.get(..2).unwrap_or("x").parse::<i64>(),
        zone.get(2..4).unwrap_or("00").parse::<i64>(),
    ) else {
        return (value, 0);
    };
    let sign = if value.as_bytes()[at] == b'-' { -1 } else { 1 };
    (&value[..at], sign * (h * 3600 + m * 60))
}

/// `--filter KEY=VALUE`s: values of one key are alternatives, different keys must all match.
struct Filters(Vec<(String, String)>);

const KEYS: [&str; 7] = [
    "type",
    "event",
    "container",
    "image",
    "label",
    "volume",
    "scope",
];

impl Filters {
    fn parse(raw: &[String]) -> Result<Filters> {
        let mut out = Vec::new();
        for f in raw {
            match f.split_once('=') {
                Some((k, v)) if KEYS.contains(&k) => out.push((k.to_string(), v.to_string())),
                _ => bail!(
                    "invalid filter {f:?}: use type=, event=, container=, image=, label=, volume= or scope="
                ),
            }
        }
        Ok(Filters(out))
    }

    fn keep(&self, e: &Event) -> bool {
        KEYS.iter().all(|key| {
            let mut values = self.0.iter().filter(|(k, _)| k == key).peekable();
            values.peek().is_none() || values.any(|(_, v)| matches(key, v, e))
        })
    }
}

fn matches(key: &str, value: &str, e: &Event) -> bool {
    let attr = |k: &str| e.actor.attributes.get(k).map(String::as_str);
    match key {
        "type" => e.typ == value,
        // "health_status" matches "health_status: healthy", as in Docker.
        "event" => {
            e.action == value
                || e.action
                    .strip_prefix(value)
                    .is_some_and(|rest| rest.starts_with(':'))
        }
        "container" => {
            e.typ == "container"
                && (attr("name") == Some(value.trim_start_matches('/'))
                    || (!value.is_empty() && e.actor.id.starts_with(value)))
        }
        "image" => {
            let names = [
                attr("image"),
                attr("name").filter(|_| e.typ == "image"),
                Some(&e.actor.id),
            ];
            names.into_iter().flatten().any(|n| same_image(n, value))
        }
        "label" => match value.split_once('=') {
            Some((k, v)) => attr(k) == Some(v),
            None => attr(value).is_some(),
        },
        "volume" => e.typ == "volume" && e.actor.id == value,
        "scope" => value == "local",
        _ => false,
    }
}

/// An image named either way: `busybox` is `busybox:latest` is `docker.io/library/busybox`.
fn same_image(a: &str, b: &str) -> bool {
    a == b
        || matches!(
            (kist_image::Reference::parse(a), kist_image::Reference::parse(b)),
            (Ok(x), Ok(y)) if x == y
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_take_docker_s_forms() {
        let now = 1_800_000_000 * 1_000_000_000;
        assert_eq!(timestamp("10m", now).unwrap(), now - 600 * 1_000_000_000);
        assert_eq!(timestamp("1h30m", now).unwrap(), now - 5400 * 1_000_000_000);
        assert_eq!(
            timestamp("1700000000.5", now).unwrap(),
            1_700_000_000_500_000_000
        );
        assert_eq!(timestamp("0", now).unwrap(), 0);
        let z = timestamp("2026-12-02T03:40:00Z", now).unwrap();
        assert_eq!(timestamp("2026-12-02T03:40:00", now).unwrap(), z);
        assert_eq!(timestamp("2026-12-02T03:40", now).unwrap(), z);
        assert_eq!(
            timestamp("2026-12-02T05:40:00+02:00", now).unwrap(),
            z,
            "an offset"
        );
        assert_eq!(
            timestamp("2026-12-02T03:40:00.25Z", now).unwrap(),
            z + 250_000_000
        );
        assert_eq!(
            timestamp("2026-12-02", now).unwrap(),
            z - (3 * 3600 + 40 * 60) * 1_000_000_000
        );
        assert!(timestamp("yesterday", now).is_err());
    }

    fn die() -> Event {
        Event::new("container", "die", "3f2a00")
            .with("exitCode", "0")
            .with("image", "busybox")
            .with("name", "web")
            .with("tier", "front")
    }

    #[test]
    fn the_text_line_is_docker_s() {
        let mut e = die();
        e.time_nano = 1_796_182_800_123_456_789;
        assert_eq!(
            text_line(&e),
            "2026-12-02T03:40:00.123456789Z container die 3f2a00 (exitCode=0, image=busybox, name=web, tier=front)"
        );
    }

    #[test]
    fn filters_combine_like_docker_s() {
        let f = |s: &[&str]| {
            Filters::parse(&s.iter().map(|x| x.to_string()).collect::<Vec<_>>()).unwrap()
        };
        let e = die();
        assert!(f(&[]).keep(&e));
        assert!(f(&["type=container", "event=die"]).keep(&e));
        assert!(
            f(&["event=start", "event=die"]).keep(&e),
            "same key: either"
        );
        assert!(!f(&["event=die", "type=image"]).keep(&e), "keys: all");
        assert!(f(&["container=web"]).keep(&e));
        assert!(f(&["container=3f2a"]).keep(&e));
        assert!(!f(&["container=we"]).keep(&e));
        assert!(f(&["image=busybox:latest", "label=tier=front", "label=tier"]).keep(&e));
        assert!(!f(&["label=tier=back"]).keep(&e));
        let health = Event::new("container", "health_status: healthy", "x");
        assert!(f(&["event=health_status"]).keep(&health));
        assert!(!f(&["event=health"]).keep(&health));
        assert!(Filters::parse(&["colour=red".into()]).is_err());
    }
}
