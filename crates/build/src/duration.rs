//! Go's duration syntax, which HEALTHCHECK's `--interval` and the like are written in: `30s`,
//! `1m30s`, `1.5h`, `250ms`, `10us`...

/// Nanoseconds in each unit Go knows, longest names first where one is a prefix of another.
const UNITS: &[(&str, u128)] = &[
    ("ns", 1),
    ("us", 1_000),
    ("\u{b5}s", 1_000),
    ("\u{3bc}s", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// `text` as signed nanoseconds, or why not. The result fits Go's `int64` durations.
pub(crate) fn parse_duration(text: &str) -> Result<i128, String> {
    let invalid = || format!("invalid duration {text:?}");
    let (negative, mut rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let (nanos, after) = component(rest).ok_or_else(invalid)?;
        total = total.checked_add(nanos).ok_or_else(invalid)?;
        rest = after;
    }
    if total > i64::MAX as u128 + u128::from(negative) {
        return Err(invalid());
    }
    let total = i128::try_from(total).map_err(|_| invalid())?;
    Ok(if negative { -total } else { total })
}

/// One `<number><unit>` at the start of `text`: its nanoseconds and what follows.
fn component(text: &str) -> Option<(u128, &str)> {
    let int_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (int, mut rest) = text.split_at(int_end);
    let mut fraction = "";
    if let Some(after) = rest.strip_prefix('.') {
        let end = after
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(after.len());
        (fraction, rest) = after.split_at(end);
    }
    if int.is_empty() && fraction.is_empty() {
        return None;
    }
    let unit_end = rest
        .find(|c: char| c.is_ascii_digit() || c == '.')
        .unwrap_or(rest.len());
    let (unit, rest) = rest.split_at(unit_end);
    let &(_, scale) = UNITS.iter().find(|(name, _)| *name == unit)?;
    let whole: u128 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut nanos = whole.checked_mul(scale)?;
    if !fraction.is_empty() {
        // Only the digits that can matter: a nanosecond is the finest step.
        let digits = &fraction[..fraction.len().min(20)];
        let value: u128 = digits.parse().ok()?;
        let places = u32::try_from(digits.len()).ok()?;
        nanos = nanos.checked_add(value * scale / 10u128.pow(places))?;
    }
    Some((nanos, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("0"), Ok(0));
        assert_eq!(parse_duration("5s"), Ok(5_000_000_000));
        assert_eq!(parse_duration("1m30s"), Ok(90_000_000_000));
        assert_eq!(parse_duration("1.5h"), Ok(5_400_000_000_000));
        assert_eq!(parse_duration(".5ms"), Ok(500_000));
        assert_eq!(parse_duration("10us"), Ok(10_000));
        assert_eq!(parse_duration("10µs"), Ok(10_000));
        assert_eq!(parse_duration("-3ns"), Ok(-3));
        assert_eq!(parse_duration("0s"), Ok(0));
    }

    #[test]
    fn bad_durations() {
        for text in ["", "5", "s", "5x", "1..5s", "-", "3000000h"] {
            assert!(parse_duration(text).is_err(), "{text:?}");
        }
    }
}
