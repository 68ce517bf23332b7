//! Docker's ways of showing sizes, durations and tables.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Result;
use serde_json::Value;

/// A listing's output (`ps`, `images`, `volume ls`...), as Docker's formatter makes it: the
/// rows through `--format` (Go's template: one line per row, `json` for `{{json .}}`, or a
/// `table` with a header row and aligned columns), or through the command's `default` table
/// when none is given or the format is a bare `table`. `headers` names each field's column
/// (`.ID` → `CONTAINER ID`).
pub fn print_rows(
    format: Option<&str>,
    default: &str,
    rows: &[Value],
    headers: &[(&str, &str)],
) -> Result<()> {
    let format = crate::template::resolve_table_default(format.unwrap_or(default), default);
    let headers: HashMap<&str, &str> = headers.iter().copied().collect();
    crate::output::print(&crate::template::render_table(&format, rows, &headers)?);
    Ok(())
}

/// Docker's `HumanSize`: decimal units, three significant digits ("4.26MB").
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit < UNITS.len() - 1 {
        v /= 1000.0;
        unit += 1;
    }
    let digits = if v >= 100.0 {
        0
    } else if v >= 10.0 {
        1
    } else {
        2
    };
    let mut s = format!("{v:.digits$}");
    if s.contains('.') {
        s = s.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    format!("{s}{}", UNITS[unit])
}

/// Docker's `BytesSize`: binary units, four significant digits ("1.5MiB", "15.63GiB").
pub fn bytes_size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    // Cannot lose a sign or truncate: v is at least 1 and at most 2^14 here, so its log is a
    // small non-negative number.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let integer_digits = if v < 1.0 {
        1
    } else {
        v.log10().floor() as usize + 1
    };
    let decimals = 4usize.saturating_sub(integer_digits);
    let mut s = format!("{v:.decimals$}");
    if s.contains('.') {
        s = s.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    format!("{s}{}", UNITS[unit])
}

/// Docker's `HumanDuration`: "Less than a second", "3 minutes", "About an hour", "2 days".
pub fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    let plural = |n: u64, unit: &str| {
        if n == 1 {
            format!("1 {unit}")
        } else {
            format!("{n} {unit}s")
        }
    };
    match s {
        0 => "Less than a second".into(),
        1..=59 => plural(s, "second"),
        60..=119 => "About a minute".into(),
        120..=3599 => plural(s / 60, "minute"),
        3600..=7199 => "About an hour".into(),
        7200..=172_799 => plural(s / 3600, "hour"),
        172_800..=1_209_599 => plural(s / 86_400, "day"),
        1_209_600..=7_862_399 => plural(s / 604_800, "week"),
        7_862_400..=63_071_999 => plural(s / 2_592_000, "month"),
        _ => plural(s / 31_536_000, "year"),
    }
}

/// How long ago an RFC 3339 time was, as Docker shows it ("5 minutes ago").
pub fn ago(rfc3339: &str) -> String {
    match humantime::parse_rfc3339_weak(rfc3339) {
        Ok(t) => format!("{} ago", human_duration(t.elapsed().unwrap_or_default())),
        Err(_) => String::new(),
    }
}

/// A time as Go's `time.Time` prints by default, which Docker's `CreatedAt` columns show:
/// `2026-01-02 15:04:05 +0000 UTC`.
pub fn go_time(t: std::time::SystemTime) -> String {
    let rfc3339 = humantime::format_rfc3339_seconds(t).to_string();
    format!(
        "{} +0000 UTC",
        rfc3339.trim_end_matches('Z').replace('T', " ")
    )
}

/// `go_time` of an RFC 3339 time, or the text as it is if it is not one.
pub fn go_time_of(rfc3339: &str) -> String {
    humantime::parse_rfc3339_weak(rfc3339).map_or_else(|_| rfc3339.to_string(), go_time)
}

pub fn since(rfc3339: &str) -> String {
    humantime::parse_rfc3339_weak(rfc3339)
        .map(|t| human_duration(t.elapsed().unwrap_or_default()))
        .unwrap_or_default()
}

/// Prints rows in columns three spaces apart, as Docker's tabwriter does.
pub fn print_table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, c) in cells.iter().enumerate() {
            out.push_str(c);
            if i + 1 < cells.len() {
                out.push_str(&" ".repeat(widths[i] - c.chars().count() + 3));
            }
        }
        outln!("{}", out.trim_end());
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_like_go_s() {
        let t = std::time::UNIX_EPOCH + Duration::from_secs(1_767_366_245);
        assert_eq!(go_time(t), "2026-01-02 15:04:05 +0000 UTC");
        assert_eq!(
            go_time_of("2026-01-02T15:04:05.123456789Z"),
            "2026-01-02 15:04:05 +0000 UTC"
        );
    }

    #[test]
    fn sizes_like_docker() {
        assert_eq!(human_size(0), "0B");
        assert_eq!(human_size(999), "999B");
        assert_eq!(human_size(1_240), "1.24kB");
        assert_eq!(human_size(4_261_000), "4.26MB");
        assert_eq!(human_size(42_600_000), "42.6MB");
        assert_eq!(human_size(1_000_000), "1MB");
    }

    #[test]
    fn binary_sizes_like_docker() {
        assert_eq!(bytes_size(0), "0B");
        assert_eq!(bytes_size(1536 * 1024), "1.5MiB");
        assert_eq!(bytes_size(64 << 20), "64MiB");
        assert_eq!(bytes_size(16_000_000_000), "14.9GiB");
        assert_eq!(bytes_size(25_280_000_000), "23.54GiB");
        assert_eq!(bytes_size(1023), "1023B");
    }

    #[test]
    fn durations_like_docker() {
        assert_eq!(
            human_duration(Duration::from_millis(300)),
            "Less than a second"
        );
        assert_eq!(human_duration(Duration::from_secs(1)), "1 second");
        assert_eq!(human_duration(Duration::from_secs(90)), "About a minute");
        assert_eq!(human_duration(Duration::from_secs(300)), "5 minutes");
        assert_eq!(human_duration(Duration::from_secs(3 * 3600)), "3 hours");
        assert_eq!(human_duration(Duration::from_secs(3 * 86400)), "3 days");
    }
}
