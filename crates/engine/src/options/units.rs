//! Docker's size units: `64m`, `1g`, `512k`, `100` (bytes), binary multiples.

pub fn parse_bytes(s: &str) -> std::result::Result<u64, String> {
    let s = s.trim().to_ascii_lowercase();
    let s = s.strip_suffix('b').unwrap_or(&s);
    let (num, mult) = match s.chars().last() {
        Some('k') => (&s[..s.len() - 1], 1u64 << 10),
        Some('m') => (&s[..s.len() - 1], 1 << 20),
        Some('g') => (&s[..s.len() - 1], 1 << 30),
        Some('t') => (&s[..s.len() - 1], 1 << 40),
        _ => (s, 1),
    };
    let value: f64 = num.parse().map_err(|_| format!("invalid size {s:?}"))?;
    if !(value.is_finite() && value >= 0.0) {
        return Err(format!("invalid size {s:?}"));
    }
    let bytes = value * mult as f64;
    if bytes >= 2f64.powi(64) {
        return Err(format!("size {s:?} is too large"));
    }
    // Cannot lose a sign or truncate: non-negative and below 2^64, checked above. Only the
    // fraction of a byte is dropped, as Docker drops it.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let bytes = bytes as u64;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes() {
        assert_eq!(super::parse_bytes("64m").unwrap(), 64 << 20);
        assert_eq!(super::parse_bytes("1.5k").unwrap(), 1536);
        assert_eq!(super::parse_bytes("100").unwrap(), 100);
        assert_eq!(super::parse_bytes("2GB").unwrap(), 2 << 30);
        assert!(super::parse_bytes("lots").is_err());
        assert!(super::parse_bytes("-1m").is_err());
        assert!(super::parse_bytes("16777216t").is_err(), "2^64 bytes");
    }
}
