//! Go's predefined template functions, but `and` and `or`, which the executor runs itself
//! because they evaluate their arguments lazily.

use serde_json::Value;

use super::compare;
use super::escape;
use super::fmt::{sprint, sprint_escaped, sprintf, sprintln};
use super::value::{Num, Val, num, type_name};

/// What a function gets: its arguments, evaluated. Errors are Go's messages without the name.
pub(crate) type Func = for<'a> fn(Vec<Val<'a>>) -> Result<Val<'a>, String>;

pub(crate) fn lookup(name: &str) -> Option<Func> {
    let f: Func = match name {
        "eq" => |a| compare::eq(&a).map(bool_val),
        "ne" => |a| compare::ne(&a).map(bool_val),
        "lt" => |a| compare::ordered(&a, compare::Op::Lt).map(bool_val),
        "le" => |a| compare::ordered(&a, compare::Op::Le).map(bool_val),
        "gt" => |a| compare::ordered(&a, compare::Op::Gt).map(bool_val),
        "ge" => |a| compare::ordered(&a, compare::Op::Ge).map(bool_val),
        "not" => |a| {
            arity(&a, 1)?;
            Ok(bool_val(!a[0].truth()))
        },
        "len" => len,
        "index" => index,
        "slice" => slice,
        "print" => |a| Ok(string_val(sprint(&refs(&a)))),
        "println" => |a| Ok(string_val(sprintln(&refs(&a)))),
        "printf" => printf,
        "html" => |a| Ok(string_val(escape::html(&sprint_escaped(&a)))),
        "js" => |a| Ok(string_val(escape::js(&sprint_escaped(&a)))),
        "urlquery" => |a| Ok(string_val(escape::urlquery(&sprint_escaped(&a)))),
        "call" => |_| Err("call of non-function: JSON data holds no functions".into()),
        _ => return None,
    };
    Some(f)
}

pub(crate) fn bool_val<'a>(b: bool) -> Val<'a> {
    Val::Own(Value::Bool(b))
}

pub(crate) fn string_val<'a>(s: String) -> Val<'a> {
    Val::Own(Value::String(s))
}

/// The arguments as values; a missing one is nil, as Go passes it.
pub(crate) fn refs<'v>(args: &'v [Val<'_>]) -> Vec<&'v Value> {
    args.iter().map(Val::or_null).collect()
}

pub(crate) fn arity(args: &[Val<'_>], n: usize) -> Result<(), String> {
    if args.len() == n {
        Ok(())
    } else {
        Err(format!("wrong number of args: want {n} got {}", args.len()))
    }
}

/// Go's check that an argument fits a `string` parameter.
pub(crate) fn want_str<'v>(v: &'v Val<'_>) -> Result<&'v str, String> {
    match v.or_null() {
        Value::String(s) => Ok(s),
        other => Err(format!(
            "wrong type for value; expected string; got {}",
            type_name(other)
        )),
    }
}

/// Go's check that an argument fits an `int` parameter.
pub(crate) fn want_int(v: &Val<'_>) -> Result<i64, String> {
    match v.or_null() {
        Value::Number(n) => match num(n) {
            Num::Int(i) => Ok(i),
            _ => Err(format!(
                "wrong type for value; expected int; got {}",
                type_name(v.or_null())
            )),
        },
        other => Err(format!(
            "wrong type for value; expected int; got {}",
            type_name(other)
        )),
    }
}

fn printf<'a>(args: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    let Some((format, rest)) = args.split_first() else {
        return Err("wrong number of args: want at least 1 got 0".into());
    };
    let format = want_str(format)?;
    Ok(string_val(sprintf(format, &refs(rest))))
}

fn len<'a>(args: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    arity(&args, 1)?;
    let n = match args[0].or_null() {
        Value::String(s) => s.len(),
        Value::Array(a) => a.len(),
        Value::Object(o) => o.len(),
        Value::Null => return Err("len of nil pointer".into()),
        other => return Err(format!("len of type {}", type_name(other))),
    };
    Ok(Val::Own(Value::from(n)))
}

/// An index into a list or string: an integer.
fn position(v: &Val<'_>) -> Result<i64, String> {
    match v.or_null() {
        Value::Number(n) => match num(n) {
            Num::Int(i) => Ok(i),
            Num::Uint(u) => i64::try_from(u).map_err(|_| format!("index out of range: {u}")),
            Num::Float(_) => Err("cannot index slice/array with type float64".into()),
        },
        other => Err(format!(
            "cannot index slice/array with type {}",
            type_name(other)
        )),
    }
}

fn in_range(i: i64, len: usize) -> Result<usize, String> {
    usize::try_from(i)
        .ok()
        .filter(|&u| u < len)
        .ok_or_else(|| format!("index out of range: {i}"))
}

fn index<'a>(mut args: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    if args.is_empty() {
        return Err("wrong number of args: want at least 1 got 0".into());
    }
    let indices = args.split_off(1);
    let mut item = args.remove(0);
    if item.or_null().is_null() {
        return Err("index of untyped nil".into());
    }
    for idx in &indices {
        item = match item.or_null() {
            Value::Null => return Err("index of untyped nil".into()),
            Value::Array(a) => {
                let i = in_range(position(idx)?, a.len())?;
                item.part(|v| v.get(i))
            }
            Value::String(s) => {
                let i = in_range(position(idx)?, s.len())?;
                Val::Own(Value::from(s.as_bytes()[i]))
            }
            Value::Object(_) => {
                let key = match idx.or_null() {
                    Value::String(k) => k.clone(),
                    other => {
                        return Err(format!(
                            "value has type {}; should be string",
                            type_name(other)
                        ));
                    }
                };
                item.part(|v| v.get(&key))
            }
            other => return Err(format!("can't index item of type {}", type_name(other))),
        };
    }
    Ok(item)
}

fn slice<'a>(args: Vec<Val<'a>>) -> Result<Val<'a>, String> {
    let Some((item, indices)) = args.split_first() else {
        return Err("wrong number of args: want at least 1 got 0".into());
    };
    if indices.len() > 3 {
        return Err(format!("too many slice indexes: {}", indices.len()));
    }
    let (len, is_string) = match item.or_null() {
        Value::String(s) => (s.len(), true),
        Value::Array(a) => (a.len(), false),
        Value::Null => return Err("slice of untyped nil".into()),
        other => return Err(format!("can't slice item of type {}", type_name(other))),
    };
    if is_string && indices.len() == 3 {
        return Err("cannot 3-index slice a string".into());
    }
    let mut bounds = [0, len, len];
    for (i, idx) in indices.iter().enumerate() {
        let at = position(idx)?;
        bounds[i] = usize::try_from(at)
            .ok()
            .filter(|&u| u <= len)
            .ok_or_else(|| format!("index out of range: {at}"))?;
    }
    let [from, to, cap] = bounds;
    if from > to {
        return Err(format!("invalid slice index: {from} > {to}"));
    }
    if indices.len() == 3 && to > cap {
        return Err(format!("invalid slice index: {to} > {cap}"));
    }
    Ok(Val::Own(match item.or_null() {
        Value::String(s) => {
            Value::String(String::from_utf8_lossy(&s.as_bytes()[from..to]).into_owned())
        }
        Value::Array(a) => Value::Array(a[from..to].to_vec()),
        _ => Value::Null,
    }))
}
