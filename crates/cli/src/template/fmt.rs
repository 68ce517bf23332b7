//! Go's fmt for JSON values: `print`, `println` and `printf` with Go's verbs, flags, widths and
//! its `%!d(string=x)` way of reporting a verb that does not fit, and `%v` as actions print.
//!
//! A list prints as `[a b c]` and a map as `map[k:v]` with its keys sorted, each element with
//! the verb and flags given, as Go does for `[]interface{}` and `map[string]interface{}`.

use serde_json::Value;

use super::float;
use super::quote::{can_backquote, is_print, quote, quote_rune};
use super::value::{Num, num, type_name};

/// The flags, width and precision of one verb.
#[derive(Debug, Default, Clone, Copy)]
struct Spec {
    plus: bool,
    minus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

/// `%v` of one value, as `{{.}}` prints it.
pub(crate) fn display(v: &Value) -> String {
    let mut out = String::new();
    arg(&mut out, &Spec::default(), 'v', v, true);
    out
}

/// Go's `fmt.Sprint`: a space between operands when neither is a string.
pub(crate) fn sprint(args: &[&Value]) -> String {
    let mut out = String::new();
    let mut prev_string = false;
    for (i, a) in args.iter().enumerate() {
        let is_string = a.is_string();
        if i > 0 && !is_string && !prev_string {
            out.push(' ');
        }
        arg(&mut out, &Spec::default(), 'v', a, true);
        prev_string = is_string;
    }
    out
}

/// Go's `fmt.Sprintln`: spaces between all operands, and a newline.
pub(crate) fn sprintln(args: &[&Value]) -> String {
    let parts: Vec<String> = args.iter().map(|a| display(a)).collect();
    format!("{}\n", parts.join(" "))
}

/// Go's `fmt.Sprintf`.
pub(crate) fn sprintf(format: &str, args: &[&Value]) -> String {
    let mut p = Printf {
        out: String::new(),
        args,
        next: 0,
        reordered: false,
    };
    p.run(format);
    p.out
}

struct Printf<'v> {
    out: String,
    args: &'v [&'v Value],
    /// The argument the next verb takes.
    next: usize,
    /// An explicit `[n]` index was used: unused arguments are then not reported.
    reordered: bool,
}

impl Printf<'_> {
    fn run(&mut self, format: &str) {
        let mut rest = format;
        while let Some(at) = rest.find('%') {
            self.out.push_str(&rest[..at]);
            rest = self.directive(&rest[at + 1..]);
        }
        self.out.push_str(rest);
        if !self.reordered && self.next < self.args.len() {
            self.out.push_str("%!(EXTRA ");
            for (i, a) in self.args[self.next..].iter().enumerate() {
                if i > 0 {
                    self.out.push_str(", ");
                }
                if a.is_null() {
                    self.out.push_str("<nil>");
                } else {
                    self.out.push_str(type_name(a));
                    self.out.push('=');
                    arg(&mut self.out, &Spec::default(), 'v', a, true);
                }
            }
            self.out.push(')');
        }
    }

    /// Handles one directive after its `%`; returns the text after it.
    fn directive<'f>(&mut self, mut s: &'f str) -> &'f str {
        let mut spec = Spec::default();
        while let Some(c) = s.chars().next() {
            match c {
                '+' => spec.plus = true,
                '-' => {
                    spec.minus = true;
                    spec.zero = false;
                }
                '#' => spec.sharp = true,
                ' ' => spec.space = true,
                '0' => spec.zero = !spec.minus,
                _ => break,
            }
            s = &s[1..];
        }
        let mut bad_index = false;
        s = self.index(s, &mut bad_index);
        let (width, rest) = self.number_or_star(s, &mut bad_index, &mut spec.minus);
        s = rest;
        match width {
            Ok(w) => spec.width = w,
            Err(()) => self.out.push_str("%!(BADWIDTH)"),
        }
        if spec.minus {
            spec.zero = false;
        }
        if let Some(after_dot) = s.strip_prefix('.') {
            s = self.index(after_dot, &mut bad_index);
            let mut ignored = false;
            let (prec, rest) = self.number_or_star(s, &mut bad_index, &mut ignored);
            s = rest;
            match prec {
                Ok(p) => spec.prec = Some(p.unwrap_or(0)),
                Err(()) => self.out.push_str("%!(BADPREC)"),
            }
            if ignored {
                // A negative `*` precision means none.
                spec.prec = None;
            }
        }
        s = self.index(s, &mut bad_index);
        let Some(verb) = s.chars().next() else {
            self.out.push_str("%!(NOVERB)");
            return s;
        };
        let rest = &s[verb.len_utf8()..];
        if verb == '%' {
            self.out.push('%');
            return rest;
        }
        if bad_index {
            self.out.push_str(&format!("%!{verb}(BADINDEX)"));
            return rest;
        }
        match self.args.get(self.next) {
            None => self.out.push_str(&format!("%!{verb}(MISSING)")),
            Some(a) => {
                self.next += 1;
                arg(&mut self.out, &spec, verb, a, true);
            }
        }
        rest
    }

    /// An explicit argument index `[n]`, if there is one.
    fn index<'f>(&mut self, s: &'f str, bad: &mut bool) -> &'f str {
        let Some(body) = s.strip_prefix('[') else {
            return s;
        };
        self.reordered = true;
        let Some(close) = body.find(']') else {
            *bad = true;
            return body;
        };
        match body[..close].parse::<usize>() {
            Ok(n) if n >= 1 && n <= self.args.len() => self.next = n - 1,
            _ => *bad = true,
        }
        &body[close + 1..]
    }

    /// Digits, or `*` taking an int argument; `Err` when that argument is not an int.
    /// A negative `*` sets `negative` (left-justify for a width).
    fn number_or_star<'f>(
        &mut self,
        s: &'f str,
        bad_index: &mut bool,
        negative: &mut bool,
    ) -> (Result<Option<usize>, ()>, &'f str) {
        if let Some(rest) = s.strip_prefix('*') {
            let n = self.args.get(self.next).and_then(|a| a.as_i64());
            self.next += 1;
            let rest = self.index(rest, bad_index);
            return match n {
                Some(n) if n.unsigned_abs() <= 1_000_000 => {
                    if n < 0 {
                        *negative = true;
                    }
                    // Cannot truncate: at most a million, checked above.
                    #[allow(clippy::cast_possible_truncation)]
                    let n = n.unsigned_abs() as usize;
                    (Ok(Some(n)), rest)
                }
                _ => (Err(()), rest),
            };
        }
        let len = s.bytes().take_while(u8::is_ascii_digit).count();
        match s[..len].parse::<usize>() {
            Ok(n) if n <= 1_000_000 => (Ok(Some(n)), &s[len..]),
            Ok(_) => (Err(()), &s[len..]),
            Err(_) => (Ok(None), s),
        }
    }
}

/// Prints one argument with a verb. `top` is false for the elements of a list or map, where Go
/// prints nil as `<nil>` whatever the verb.
fn arg(out: &mut String, spec: &Spec, verb: char, v: &Value, top: bool) {
    if verb == 'T' {
        pad(out, spec, type_name(v));
        return;
    }
    if spec.sharp && verb == 'v' {
        go_syntax(out, v, top);
        return;
    }
    match v {
        Value::Null if !top => out.push_str("<nil>"),
        Value::Null if verb == 'v' => pad(out, spec, "<nil>"),
        Value::Null => out.push_str(&format!("%!{verb}(<nil>)")),
        Value::Bool(b) if matches!(verb, 't' | 'v') => {
            pad(out, spec, if *b { "true" } else { "false" })
        }
        Value::Number(n) => match num(n) {
            Num::Int(i) => integer(out, spec, verb, i < 0, u128::from(i.unsigned_abs()), v),
            Num::Uint(u) => integer(out, spec, verb, false, u128::from(u), v),
            Num::Float(f) => float_verb(out, spec, verb, f, v),
        },
        Value::String(s) => string(out, spec, verb, s, v),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                arg(out, spec, verb, item, false);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push_str("map[");
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                string(out, spec, verb, k, &Value::String(k.clone()));
                out.push(':');
                arg(out, spec, verb, &map[k], false);
            }
            out.push(']');
        }
        _ => bad_verb(out, spec, verb, v),
    }
}

/// `%!x(type=value)`: the verb does not apply to the value.
fn bad_verb(out: &mut String, spec: &Spec, verb: char, v: &Value) {
    out.push_str(&format!("%!{verb}({}=", type_name(v)));
    arg(out, spec, 'v', v, true);
    out.push(')');
}

/// `%#v`: the value as Go source.
fn go_syntax(out: &mut String, v: &Value, top: bool) {
    match v {
        Value::Null if top => out.push_str("<nil>"),
        Value::Null => out.push_str("interface {}(nil)"),
        Value::String(s) => out.push_str(&quote(s, false)),
        Value::Array(items) => {
            out.push_str("[]interface {}{");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                go_syntax(out, item, false);
            }
            out.push('}');
        }
        Value::Object(map) => {
            out.push_str("map[string]interface {}{");
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&quote(k, false));
                out.push(':');
                go_syntax(out, &map[k], false);
            }
            out.push('}');
        }
        Value::Number(n) if matches!(num(n), Num::Uint(_)) => {
            out.push_str(&format!("0x{:x}", n.as_u64().unwrap_or_default()));
        }
        other => out.push_str(&display(other)),
    }
}

/// Pads to the width with spaces, or zeros under the `0` flag, on the left unless `-`.
fn pad(out: &mut String, spec: &Spec, s: &str) {
    let len = s.chars().count();
    let fill = spec.width.unwrap_or(0).saturating_sub(len);
    if spec.minus {
        out.push_str(s);
        out.extend(std::iter::repeat_n(' ', fill));
    } else {
        out.extend(std::iter::repeat_n(if spec.zero { '0' } else { ' ' }, fill));
        out.push_str(s);
    }
}

fn integer(out: &mut String, spec: &Spec, verb: char, negative: bool, magnitude: u128, v: &Value) {
    let base = match verb {
        'd' | 'v' => 10,
        'b' => 2,
        'o' | 'O' => 8,
        'x' | 'X' => 16,
        'c' | 'q' | 'U' => return rune(out, spec, verb, negative, magnitude),
        _ => return bad_verb(out, spec, verb, v),
    };
    // Go's fmtInteger: the precision is a minimum of digits; the 0 flag pads digits to the width.
    let mut min_digits = 0;
    if let Some(p) = spec.prec {
        if p == 0 && magnitude == 0 {
            let blank = Spec {
                zero: false,
                ..*spec
            };
            return pad(out, &blank, "");
        }
        min_digits = p;
    } else if spec.zero
        && !spec.minus
        && let Some(w) = spec.width
    {
        min_digits = w.saturating_sub(usize::from(negative || spec.plus || spec.space));
    }
    let mut digits = match base {
        2 => format!("{magnitude:b}"),
        8 => format!("{magnitude:o}"),
        16 if verb == 'X' => format!("{magnitude:X}"),
        16 => format!("{magnitude:x}"),
        _ => magnitude.to_string(),
    };
    if digits.len() < min_digits {
        digits.insert_str(0, &"0".repeat(min_digits - digits.len()));
    }
    let prefix = match (base, spec.sharp, verb) {
        (8, _, 'O') => "0o",
        (2, true, _) => "0b",
        (8, true, _) if !digits.starts_with('0') => "0",
        (16, true, 'X') => "0X",
        (16, true, _) => "0x",
        _ => "",
    };
    let sign = if negative {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    };
    let unpadded = Spec {
        zero: false,
        ..*spec
    };
    pad(out, &unpadded, &format!("{sign}{prefix}{digits}"));
}

/// `%c`, `%q` and `%U` of an integer: the character with that code.
fn rune(out: &mut String, spec: &Spec, verb: char, negative: bool, magnitude: u128) {
    let c = u32::try_from(magnitude)
        .ok()
        .filter(|_| !negative)
        .and_then(char::from_u32)
        .unwrap_or('\u{FFFD}');
    let text = match verb {
        'c' => c.to_string(),
        'q' => quote_rune(c, spec.plus),
        _ => {
            let code = if negative {
                format!("U+-{magnitude:04X}")
            } else {
                format!("U+{magnitude:04X}")
            };
            if spec.sharp && is_print(c) {
                format!("{code} '{c}'")
            } else {
                code
            }
        }
    };
    pad(out, spec, &text);
}

fn float_verb(out: &mut String, spec: &Spec, verb: char, f: f64, v: &Value) {
    let text = match verb {
        'v' => float::format(f, 'g', spec.prec),
        'e' | 'E' | 'f' | 'F' | 'g' | 'G' => float::format(f, verb, spec.prec),
        _ => return bad_verb(out, spec, verb, v),
    };
    // Go's fmtFloat: the sign goes before any zero padding.
    let (sign, digits) = match text.strip_prefix('-') {
        Some(d) => ("-", d),
        None if spec.plus => ("+", text.as_str()),
        None if spec.space => (" ", text.as_str()),
        None => ("", text.as_str()),
    };
    let width = spec.width.unwrap_or(0);
    let len = sign.len() + digits.chars().count();
    if !sign.is_empty() && spec.zero && !spec.minus && width > len {
        out.push_str(sign);
        out.push_str(&"0".repeat(width - len));
        out.push_str(digits);
        return;
    }
    pad(out, spec, &format!("{sign}{digits}"));
}

fn string(out: &mut String, spec: &Spec, verb: char, s: &str, v: &Value) {
    let s = match spec.prec {
        Some(p) => s.char_indices().nth(p).map_or(s, |(i, _)| &s[..i]),
        None => s,
    };
    match verb {
        'v' | 's' => pad(out, spec, s),
        'q' if spec.sharp && can_backquote(s) => pad(out, spec, &format!("`{s}`")),
        'q' => pad(out, spec, &quote(s, spec.plus)),
        'x' | 'X' => pad(out, spec, &hex_bytes(s.as_bytes(), spec, verb == 'X')),
        _ => bad_verb(out, spec, verb, v),
    }
}

/// `%x` of a string: its bytes in hex; `% x` spaces them, `%#x` marks them `0x`.
fn hex_bytes(bytes: &[u8], spec: &Spec, upper: bool) -> String {
    let mut out = String::new();
    let marker = if upper { "0X" } else { "0x" };
    for (i, b) in bytes.iter().enumerate() {
        if spec.space && i > 0 {
            out.push(' ');
        }
        if spec.sharp && (spec.space || i == 0) {
            out.push_str(marker);
        }
        if upper {
            out.push_str(&format!("{b:02X}"));
        } else {
            out.push_str(&format!("{b:02x}"));
        }
    }
    out
}

/// The text Go's escaping functions work on: a lone string as it is, else `fmt.Sprint` of the
/// arguments, with nil and missing ones as `<no value>`.
pub(crate) fn sprint_escaped(args: &[super::value::Val<'_>]) -> String {
    if let [one] = args
        && let Some(Value::String(s)) = one.get()
    {
        return s.clone();
    }
    let no_value = Value::String("<no value>".into());
    let values: Vec<&Value> = args
        .iter()
        .map(|a| match a.get() {
            None | Some(Value::Null) => &no_value,
            Some(v) => v,
        })
        .collect();
    sprint(&values)
}
