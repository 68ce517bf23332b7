//! The values a running template handles: JSON data borrowed from the caller or made on the
//! way, plus Go's "no value" for a key that is not there.

use serde_json::Value;

/// One value during execution.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val<'a> {
    /// What Go calls an invalid value: a missing map key. It prints as `<no value>`.
    Missing,
    Ref(&'a Value),
    Own(Value),
}

/// JSON's kinds of number, split as Go's template functions see them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Num {
    Int(i64),
    Uint(u64),
    Float(f64),
}

pub(crate) fn num(n: &serde_json::Number) -> Num {
    if let Some(i) = n.as_i64() {
        Num::Int(i)
    } else if let Some(u) = n.as_u64() {
        Num::Uint(u)
    } else {
        Num::Float(n.as_f64().unwrap_or(f64::NAN))
    }
}

impl<'a> Val<'a> {
    pub fn get(&self) -> Option<&Value> {
        match self {
            Val::Missing => None,
            Val::Ref(v) => Some(v),
            Val::Own(v) => Some(v),
        }
    }

    /// The value as a function argument: Go hands a function nil for a missing one.
    pub fn or_null(&self) -> &Value {
        const NULL: &Value = &Value::Null;
        self.get().unwrap_or(NULL)
    }

    /// A part of this value (a member or an element), borrowed when this value is.
    pub fn part(&self, pick: impl Fn(&Value) -> Option<&Value>) -> Val<'a> {
        match self {
            Val::Missing => Val::Missing,
            Val::Ref(v) => pick(v).map_or(Val::Missing, Val::Ref),
            Val::Own(v) => pick(v).map_or(Val::Missing, |p| Val::Own(p.clone())),
        }
    }

    /// Go's truth: false, 0, "", nil, an empty list or map, and no value are false.
    pub fn truth(&self) -> bool {
        match self.get() {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(Value::Number(n)) => match num(n) {
                Num::Int(i) => i != 0,
                Num::Uint(u) => u != 0,
                Num::Float(f) => f != 0.0,
            },
            Some(Value::String(s)) => !s.is_empty(),
            Some(Value::Array(a)) => !a.is_empty(),
            Some(Value::Object(o)) => !o.is_empty(),
        }
    }
}

/// The Go type a JSON value decodes to, as `%T` and error messages name it.
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(n) => match num(n) {
            Num::Int(_) => "int",
            Num::Uint(_) => "uint64",
            Num::Float(_) => "float64",
        },
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}
