//! Go's `strconv.Quote`, for dumping a parse in BuildKit's format: `"` and `\` escaped, and
//! characters that are not printable as `\n`, `\x00`, `\u200b`...
//!
//! Go decides what is printable with Unicode tables; this follows the same categories
//! (control, format, private use, separators other than the space) without the tables of
//! unassigned code points, which it prints as they are.

/// `s` quoted as Go quotes it.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        push_escaped(&mut out, c);
    }
    out.push('"');
    out
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '"' => out.push_str("\\\""),
        '\\' => out.push_str("\\\\"),
        c if is_print(c) => out.push(c),
        '\x07' => out.push_str("\\a"),
        '\x08' => out.push_str("\\b"),
        '\x0c' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\x0b' => out.push_str("\\v"),
        c if c < ' ' || c == '\x7f' => out.push_str(&format!("\\x{:02x}", c as u32)),
        c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
        c => out.push_str(&format!("\\U{:08x}", c as u32)),
    }
}

/// Whether Go prints `c` as it is.
fn is_print(c: char) -> bool {
    let n = c as u32;
    if n <= 0xff {
        return (0x20..0x7f).contains(&n) || ((0xa1..=0xff).contains(&n) && n != 0xad);
    }
    !(c.is_control()
        || c.is_whitespace()
        || is_format(n)
        || is_private_use(n)
        || is_noncharacter(n))
}

/// Unicode's format characters (category Cf) above U+00FF.
fn is_format(n: u32) -> bool {
    const RANGES: &[(u32, u32)] = &[
        (0x0600, 0x0605),
        (0x061c, 0x061c),
        (0x06dd, 0x06dd),
        (0x070f, 0x070f),
        (0x0890, 0x0891),
        (0x08e2, 0x08e2),
        (0x180e, 0x180e),
        (0x200b, 0x200f),
        (0x202a, 0x202e),
        (0x2060, 0x2064),
        (0x2066, 0x206f),
        (0xfeff, 0xfeff),
        (0xfff9, 0xfffb),
        (0x110bd, 0x110bd),
        (0x110cd, 0x110cd),
        (0x13430, 0x1343f),
        (0x1bca0, 0x1bca3),
        (0x1d173, 0x1d17a),
        (0xe0001, 0xe0001),
        (0xe0020, 0xe007f),
    ];
    RANGES.iter().any(|&(lo, hi)| (lo..=hi).contains(&n))
}

fn is_private_use(n: u32) -> bool {
    (0xe000..=0xf8ff).contains(&n) || n >= 0xf0000
}

/// U+FDD0..U+FDEF and the last two code points of every plane.
fn is_noncharacter(n: u32) -> bool {
    (0xfdd0..=0xfdef).contains(&n) || n & 0xfffe == 0xfffe
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_as_go_does() {
        assert_eq!(go_quote("a \"b\" \\c"), r#""a \"b\" \\c""#);
        assert_eq!(
            go_quote("\t\n\r\x07\x08\x0b\x0c\0\x7f"),
            r#""\t\n\r\a\b\v\f\x00\x7f""#
        );
        assert_eq!(go_quote("♥ ☃ 한국어 é"), "\"♥ ☃ 한국어 é\"");
        assert_eq!(
            go_quote("\u{a0}\u{ad}\u{200b}\u{2028}\u{e000}\u{f0000}"),
            r#""\u00a0\u00ad\u200b\u2028\ue000\U000f0000""#
        );
    }
}
