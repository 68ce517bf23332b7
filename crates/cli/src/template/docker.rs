//! The functions Docker's CLI adds to Go's (its `templates` package): `json`, `split`, `join`,
//! `title`, `lower`, `upper`, `pad` and `truncate`, and the header variants that leave a
//! column name as it is when a `table` header is printed.

use serde_json::Value;

use super::builtins::{Func, arity, string_val, want_int, want_str};
use super::fmt::display;
use super::json;
use super::value::Val;

pub(crate) fn lookup(name: &str, header: bool) -> Option<Func> {
    // In a header, dot's fields are column names: the string functions must not change them.
    if header
        && matches!(
            name,
            "json" | "split" | "join" | "title" | "lower" | "upper" | "truncate"
        )
    {
        return Some(|mut a| {
            if a.is_empty() {
                return Err("wrong number of args: want at least 1 got 0".into());
            }
            Ok(a.swap_remove(0))
        });
    }
    let f: Func = match name {
        "json" => |a| {
            arity(&a, 1)?;
            Ok(string_val(json::encode(a[0].or_null())))
        },
        "split" => |a| {
            arity(&a, 2)?;
            Ok(Val::Own(split(want_str(&a[0])?, want_str(&a[1])?)))
        },
        "join" => join,
        "title" => |a| one_string(&a, title),
        "lower" => |a| one_string(&a, str::to_lowercase),
        "upper" => |a| one_string(&a, str::to_uppercase),
        "pad" => pad,
        "truncate" => truncate,
        _ => return None,
    };
    Some(f)
}

fn one_string<'a>(args: &[Val<'_>], f: impl Fn(&str) -> String) -> Result<Val<'a>, String> {
    arity(args, 1)?;
    Ok(string_val(f(want_str(&args[0])?)))
}

/// Go's `strings.Split`: an empty separator splits into characters.
fn split(s: &str, sep: &str) -> Value {
    let parts: Vec<Value> = if sep.is_empty() {
        s.chars().map(|c| Value::String(c.to_string())).collect()
    } else {
        s.split(sep).map(|p| Value::String(p.to_string())).collect()
    };
    Value::Array(parts)
}

/// `join LIST SEP`. Docker's takes a list of strings; other elements print as `%v` does.
fn join<'a>(args: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    arity(&args, 2)?;
    let sep = want_str(&args[1])?;
    let Value::Array(items) = args[0].or_null() else {
        return Err(format!(
            "wrong type for value; expected []string; got {}",
            super::value::type_name(args[0].or_null())
        ));
    };
    let parts: Vec<String> = items
        .iter()
        .map(|v| match v {
            Value::String(s) => s.clone(),
            other => display(other),
        })
        .collect();
    Ok(string_val(parts.join(sep)))
}

/// Go's `strings.Title`: the first letter of each word upper-cased. ASCII letters, digits and
/// `_`, and any other letter or digit, make up words; other ASCII and any space part them.
fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_separator = true;
    for c in s.chars() {
        if prev_separator {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev_separator = if c.is_ascii() {
            !(c.is_ascii_alphanumeric() || c == '_')
        } else {
            !c.is_alphanumeric() && c.is_whitespace()
        };
    }
    out
}

/// `pad STR PREFIX SUFFIX`: spaces around a non-empty string.
fn pad<'a>(args: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    arity(&args, 3)?;
    let s = want_str(&args[0])?;
    if s.is_empty() {
        return Ok(string_val(String::new()));
    }
    let spaces = |n: i64| " ".repeat(usize::try_from(n).unwrap_or(0).min(1 << 16));
    Ok(string_val(format!(
        "{}{s}{}",
        spaces(want_int(&args[1])?),
        spaces(want_int(&args[2])?)
    )))
}

/// `truncate STR N`: the first N bytes (Docker's count), cut back to a character boundary.
fn truncate<'a>(args: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    arity(&args, 2)?;
    let s = want_str(&args[0])?;
    let n = want_int(&args[1])?;
    let mut end = usize::try_from(n).map_err(|_| format!("truncate: negative length {n}"))?;
    if end >= s.len() {
        return Ok(string_val(s.to_string()));
    }
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    Ok(string_val(s[..end].to_string()))
}
