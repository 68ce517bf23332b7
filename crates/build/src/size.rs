//! Sizes as Docker writes memory sizes (a tmpfs mount's `size=`): `64m`, `1.5g`, `512kb`,
//! `1GiB`; binary multiples, case ignored.

/// `text` in bytes, or `None` when it is not a size.
pub(crate) fn parse_size(text: &str) -> Option<u64> {
    let mut rest = text;
    rest = rest.strip_suffix(['b', 'B']).unwrap_or(rest);
    rest = rest.strip_suffix(['i', 'I']).unwrap_or(rest);
    let mut multiplier: u64 = 1;
    if let Some(last) = rest.chars().last() {
        let power = "kmgtp".find(last.to_ascii_lowercase());
        if let Some(power) = power {
            multiplier = 1024u64 << (10 * power);
            rest = &rest[..rest.len() - 1];
        }
    }
    rest = rest.strip_suffix(' ').unwrap_or(rest);
    if !is_number(rest) {
        return None;
    }
    let value: f64 = rest.parse().ok()?;
    let bytes = value * multiplier as f64;
    if bytes >= u64::MAX as f64 {
        return None;
    }
    // Cannot lose a sign or truncate: digits only, and below 2^64. Only the fraction of a byte
    // is dropped, as Docker drops it.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let whole = bytes as u64;
    Some(whole)
}

/// Digits, optionally with a fraction: `12`, `1.5`.
fn is_number(text: &str) -> bool {
    let (int, fraction) = text.split_once('.').unwrap_or((text, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(int) && digits(fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512"), Some(512));
        assert_eq!(parse_size("64m"), Some(64 << 20));
        assert_eq!(parse_size("64MB"), Some(64 << 20));
        assert_eq!(parse_size("1GiB"), Some(1 << 30));
        assert_eq!(parse_size("1.5k"), Some(1536));
        assert_eq!(parse_size("2 g"), Some(2 << 30));
        assert_eq!(parse_size("10b"), Some(10));
        for bad in ["", "m", "1x", "-1m", "1.2.3m", "1mbb"] {
            assert_eq!(parse_size(bad), None, "{bad:?}");
        }
    }
}
