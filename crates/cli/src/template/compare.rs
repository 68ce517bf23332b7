//! Go's comparison functions (`eq`, `ne`, `lt`, `le`, `gt`, `ge`): basic values only, integers
//! against integers, floats against floats, strings against strings, or it is an error.

use std::cmp::Ordering;

use serde_json::Value;

use super::fmt::display;
use super::value::{Num, Val, num, type_name};

#[derive(Debug, Clone, Copy)]
pub(crate) enum Op {
    Lt,
    Le,
    Gt,
    Ge,
}

/// A comparable value, by Go's kind.
enum Basic<'v> {
    Nil,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(&'v str),
}

const INCOMPATIBLE: &str = "incompatible types for comparison";

fn basic(v: &Value) -> Result<Basic<'_>, String> {
    Ok(match v {
        Value::Null => Basic::Nil,
        Value::Bool(b) => Basic::Bool(*b),
        Value::Number(n) => match num(n) {
            Num::Int(i) => Basic::Int(i128::from(i)),
            Num::Uint(u) => Basic::Int(i128::from(u)),
            Num::Float(f) => Basic::Float(f),
        },
        Value::String(s) => Basic::Str(s),
        other => {
            return Err(format!(
                "non-comparable type {}: {}",
                display(other),
                type_name(other)
            ));
        }
    })
}

fn equal(a: &Value, b: &Value) -> Result<bool, String> {
    Ok(match (basic(a)?, basic(b)?) {
        (Basic::Nil, Basic::Nil) => true,
        (Basic::Nil, _) | (_, Basic::Nil) => false,
        (Basic::Bool(x), Basic::Bool(y)) => x == y,
        (Basic::Int(x), Basic::Int(y)) => x == y,
        (Basic::Float(x), Basic::Float(y)) => x == y,
        (Basic::Str(x), Basic::Str(y)) => x == y,
        _ => return Err(INCOMPATIBLE.into()),
    })
}

/// `eq a b c...`: a equals any of the others.
pub(crate) fn eq(args: &[Val<'_>]) -> Result<bool, String> {
    let Some((first, rest)) = args.split_first() else {
        return Err("missing argument for comparison".into());
    };
    if rest.is_empty() {
        return Err("missing argument for comparison".into());
    }
    for other in rest {
        if equal(first.or_null(), other.or_null())? {
            return Ok(true);
        }
    }
    Ok(false)
}

pub(crate) fn ne(args: &[Val<'_>]) -> Result<bool, String> {
    match args {
        [a, b] => equal(a.or_null(), b.or_null()).map(|e| !e),
        _ => Err(format!("wrong number of args: want 2 got {}", args.len())),
    }
}

pub(crate) fn ordered(args: &[Val<'_>], op: Op) -> Result<bool, String> {
    let [a, b] = args else {
        return Err(format!("wrong number of args: want 2 got {}", args.len()));
    };
    let order = match (basic(a.or_null())?, basic(b.or_null())?) {
        (Basic::Int(x), Basic::Int(y)) => x.cmp(&y),
        (Basic::Float(x), Basic::Float(y)) => x.partial_cmp(&y).ok_or(INCOMPATIBLE)?,
        (Basic::Str(x), Basic::Str(y)) => x.cmp(y),
        (Basic::Nil | Basic::Bool(_), _) | (_, Basic::Nil | Basic::Bool(_)) => {
            return Err("invalid type for comparison".into());
        }
        _ => return Err(INCOMPATIBLE.into()),
    };
    Ok(match op {
        Op::Lt => order == Ordering::Less,
        Op::Le => order != Ordering::Greater,
        Op::Gt => order == Ordering::Greater,
        Op::Ge => order != Ordering::Less,
    })
}
