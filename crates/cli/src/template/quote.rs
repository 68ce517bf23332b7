//! Go's string quoting (strconv's Quote, QuoteToASCII, QuoteRune, CanBackquote) and its idea
//! of a printable character, for `%q` and the `js` escaper.

/// Go's `unicode.IsPrint`, approximated without Unicode tables: letters, marks, numbers,
/// punctuation, symbols and the ASCII space, but no other spaces, controls or format marks.
pub(crate) fn is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    let code = u32::from(c);
    let format_or_private = matches!(code,
        0x00AD | 0x0600..=0x0605 | 0x061C | 0x06DD | 0x070F | 0x180E | 0x200B..=0x200F
        | 0x202A..=0x202E | 0x2060..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB
        | 0xE000..=0xF8FF | 0xF0000..=0x10FFFF);
    let noncharacter = matches!(code, 0xFDD0..=0xFDEF) || code & 0xFFFE == 0xFFFE;
    !format_or_private && !noncharacter
}

/// Go's `strconv.Quote` (or `QuoteToASCII` when `ascii`).
pub(crate) fn quote(s: &str, ascii: bool) -> String {
    let mut out = String::from('"');
    for c in s.chars() {
        escape_into(&mut out, c, '"', ascii);
    }
    out.push('"');
    out
}

/// Go's `strconv.QuoteRune`: `'x'`.
pub(crate) fn quote_rune(c: char, ascii: bool) -> String {
    let mut out = String::from('\'');
    escape_into(&mut out, c, '\'', ascii);
    out.push('\'');
    out
}

fn escape_into(out: &mut String, c: char, quote: char, ascii: bool) {
    if c == quote || c == '\\' {
        out.push('\\');
        out.push(c);
        return;
    }
    if is_print(c) && (!ascii || c.is_ascii()) {
        out.push(c);
        return;
    }
    match c {
        '\x07' => out.push_str("\\a"),
        '\x08' => out.push_str("\\b"),
        '\x0c' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\x0b' => out.push_str("\\v"),
        c if u32::from(c) < 0x20 || c == '\x7f' => {
            out.push_str(&format!("\\x{:02x}", u32::from(c)))
        }
        c if u32::from(c) < 0x10000 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
        c => out.push_str(&format!("\\U{:08x}", u32::from(c))),
    }
}

/// Go's `strconv.CanBackquote`: the string reads the same as a raw `...` literal.
pub(crate) fn can_backquote(s: &str) -> bool {
    s.chars()
        .all(|c| c != '`' && c != '\u{FEFF}' && (c == '\t' || !c.is_control()))
}
