//! Runs a parsed template against JSON data, as Go's text/template executes one: dot and
//! variables, pipelines, `if`/`with`/`range` with `else`, `break`/`continue`, and named
//! templates.

use std::collections::HashMap;

use serde_json::Value;

use super::ast::{Branch, Cmd, List, Node, Operand, Pipe, Span};
use super::builtins::{self, Func};
use super::docker;
use super::error::TemplateError;
use super::fmt::display;
use super::parse::Tree;
use super::value::{Num, Val, num, type_name};

/// Named templates calling each other may nest this deep, no deeper.
const MAX_CALL_DEPTH: usize = 100;

/// How field lookups behave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissingKey {
    /// Go's default: a key that is not in a map is `<no value>`.
    #[default]
    NoValue,
    /// Go's `missingkey=error`: such a key is an error. Docker's `--format` behaves so for the
    /// fields of the rows it prints, which are Go structs there.
    Error,
}

/// Whether a function exists, for the parser.
pub(crate) fn is_func(name: &str) -> bool {
    matches!(name, "and" | "or") || lookup(name, false).is_some()
}

fn lookup(name: &str, header: bool) -> Option<Func> {
    docker::lookup(name, header).or_else(|| builtins::lookup(name))
}

/// What a walk through a list of nodes ended with.
#[derive(Debug, PartialEq)]
enum Flow {
    Normal,
    Break,
    Continue,
}

type Result<T> = std::result::Result<T, TemplateError>;

/// One execution's state.
pub(crate) struct Exec<'t, 'a> {
    tree: &'t Tree,
    src: &'t str,
    missing: MissingKey,
    /// Set for a `table` header: fields are looked up here, by their dotted path.
    headers: Option<&'t HashMap<String, String>>,
    pub out: String,
    vars: Vec<(String, Val<'a>)>,
    name: String,
    depth: usize,
}

impl<'t, 'a> Exec<'t, 'a> {
    pub fn new(
        tree: &'t Tree,
        src: &'t str,
        missing: MissingKey,
        headers: Option<&'t HashMap<String, String>>,
    ) -> Self {
        Exec {
            tree,
            src,
            missing,
            headers,
            out: String::new(),
            vars: Vec::new(),
            name: String::new(),
            depth: 0,
        }
    }

    /// Runs the template's body with `data` as dot and `$`; what was printed stays in `out`
    /// even when it fails.
    pub fn run(&mut self, data: Val<'a>) -> Result<()> {
        self.vars = vec![("$".into(), data.clone())];
        let tree = self.tree;
        self.walk(&tree.root, &data).map(|_| ())
    }

    fn fail(&self, span: Span, msg: impl Into<String>) -> TemplateError {
        TemplateError::exec(self.src, span, &self.name, msg.into())
    }

    fn walk(&mut self, list: &'t List, dot: &Val<'a>) -> Result<Flow> {
        for node in list {
            let flow = match node {
                Node::Text(t) => {
                    self.out.push_str(t);
                    Flow::Normal
                }
                Node::Action(pipe) => {
                    let v = self.pipe(pipe, dot)?;
                    if pipe.decl.is_empty() {
                        self.print(&v);
                    }
                    Flow::Normal
                }
                Node::If(b) => self.branch(b, dot, false)?,
                Node::With(b) => self.branch(b, dot, true)?,
                Node::Range(b) => self.range(b, dot)?,
                Node::Template { name, pipe, span } => {
                    let data = match pipe {
                        Some(p) => self.pipe(p, dot)?,
                        // Go runs `{{template "name"}}` with nil data.
                        None => Val::Own(Value::Null),
                    };
                    self.call_template(name, data, *span)?;
                    Flow::Normal
                }
                Node::Break => Flow::Break,
                Node::Continue => Flow::Continue,
            };
            if flow != Flow::Normal {
                return Ok(flow);
            }
        }
        Ok(Flow::Normal)
    }

    /// How an action prints a value: nil and missing values are `<no value>`, as in Go.
    fn print(&mut self, v: &Val<'a>) {
        match v.get() {
            None | Some(Value::Null) => self.out.push_str("<no value>"),
            Some(Value::String(s)) => self.out.push_str(s),
            Some(other) => self.out.push_str(&display(other)),
        }
    }

    /// `if` and `with`: `with` also moves dot to the value.
    fn branch(&mut self, b: &'t Branch, dot: &Val<'a>, with: bool) -> Result<Flow> {
        let mark = self.vars.len();
        let v = self.pipe(&b.pipe, dot)?;
        let flow = if v.truth() {
            let inner = if with { v } else { dot.clone() };
            self.walk(&b.list, &inner)?
        } else if let Some(otherwise) = &b.otherwise {
            self.walk(otherwise, dot)?
        } else {
            Flow::Normal
        };
        self.vars.truncate(mark);
        Ok(flow)
    }

    fn range(&mut self, b: &'t Branch, dot: &Val<'a>) -> Result<Flow> {
        let mark = self.vars.len();
        let v = self.pipe(&b.pipe, dot)?;
        let items = self.elements(&v, b)?;
        let body_mark = self.vars.len();
        for (key, elem) in &items {
            self.set_range_vars(&b.pipe, mark, key, elem);
            let flow = self.walk(&b.list, elem)?;
            self.vars.truncate(body_mark);
            if flow == Flow::Break {
                break;
            }
        }
        let flow = match (&b.otherwise, items.is_empty()) {
            (Some(otherwise), true) => self.walk(otherwise, dot)?,
            _ => Flow::Normal,
        };
        self.vars.truncate(mark);
        Ok(flow)
    }

    /// What `range` walks over: list elements, map entries by sorted key, or 0..n.
    fn elements(&self, v: &Val<'a>, b: &Branch) -> Result<Vec<(Value, Val<'a>)>> {
        let span = b.pipe.span;
        Ok(match v.get() {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => (0..a.len())
                .map(|i| (Value::from(i), v.part(|x| x.get(i))))
                .collect(),
            Some(Value::Object(o)) => {
                let mut keys: Vec<&String> = o.keys().collect();
                keys.sort();
                keys.into_iter()
                    .map(|k| (Value::String(k.clone()), v.part(|x| x.get(k))))
                    .collect()
            }
            Some(Value::Number(n)) if !matches!(num(n), Num::Float(_)) => {
                if b.pipe.decl.len() > 1 {
                    return Err(self.fail(span, "can't use two variables to range over an integer"));
                }
                let count = n.as_u64().unwrap_or(0).min(u64::from(u32::MAX));
                (0..count)
                    .map(|i| (Value::from(i), Val::Own(Value::from(i))))
                    .collect()
            }
            Some(other) => {
                return Err(self.fail(span, format!("range can't iterate over {}", display(other))));
            }
        })
    }

    /// `range $e :=` gets the element, `range $i, $e :=` the key or index and the element.
    fn set_range_vars(&mut self, pipe: &Pipe, mark: usize, key: &Value, elem: &Val<'a>) {
        let values: Vec<Val<'a>> = match pipe.decl.len() {
            0 => return,
            1 => vec![elem.clone()],
            _ => vec![Val::Own(key.clone()), elem.clone()],
        };
        for (i, (name, value)) in pipe.decl.iter().zip(values).enumerate() {
            if pipe.assign {
                self.assign(name, value);
            } else if let Some(slot) = self.vars.get_mut(mark + i) {
                slot.1 = value;
            }
        }
    }

    fn call_template(&mut self, name: &str, data: Val<'a>, span: Span) -> Result<()> {
        let Some(list) = self.tree.defines.get(name) else {
            return Err(self.fail(span, format!("template {name:?} not defined")));
        };
        if self.depth >= MAX_CALL_DEPTH {
            return Err(self.fail(
                span,
                format!("exceeded maximum template depth ({MAX_CALL_DEPTH})"),
            ));
        }
        let vars = std::mem::replace(&mut self.vars, vec![("$".into(), data.clone())]);
        let caller = std::mem::replace(&mut self.name, name.to_string());
        self.depth += 1;
        let result = self.walk(list, &data);
        self.depth -= 1;
        self.name = caller;
        self.vars = vars;
        result.map(|_| ())
    }

    fn assign(&mut self, name: &str, value: Val<'a>) {
        if let Some(slot) = self.vars.iter_mut().rev().find(|(n, _)| n == name) {
            slot.1 = value;
        }
    }

    fn pipe(&mut self, pipe: &'t Pipe, dot: &Val<'a>) -> Result<Val<'a>> {
        let mut value = None;
        for cmd in &pipe.cmds {
            value = Some(self.command(cmd, dot, value)?);
        }
        let value = value.unwrap_or(Val::Missing);
        for name in &pipe.decl {
            if pipe.assign {
                self.assign(name, value.clone());
            } else {
                self.vars.push((name.clone(), value.clone()));
            }
        }
        Ok(value)
    }

    /// One stage: a function call, or a value (which takes no arguments).
    fn command(&mut self, cmd: &'t Cmd, dot: &Val<'a>, piped: Option<Val<'a>>) -> Result<Val<'a>> {
        let first = &cmd.args[0];
        if let Operand::Function(name) = first {
            return self.call(name, &cmd.args[1..], piped, dot, cmd.span);
        }
        if cmd.args.len() > 1 || piped.is_some() {
            return Err(self.fail(
                cmd.span,
                format!("can't give argument to non-function {}", describe(first)),
            ));
        }
        if *first == Operand::Nil {
            return Err(self.fail(cmd.span, "nil is not a command"));
        }
        self.operand(first, dot, cmd.span)
    }

    fn operand(&mut self, op: &'t Operand, dot: &Val<'a>, span: Span) -> Result<Val<'a>> {
        match op {
            Operand::Dot => Ok(dot.clone()),
            Operand::Nil => Ok(Val::Own(Value::Null)),
            Operand::Const(v) => Ok(Val::Own(v.clone())),
            Operand::Function(name) => self.call(name, &[], None, dot, span),
            Operand::Field(fields) => self.fields(dot.clone(), fields, span),
            Operand::Variable(name, fields) => {
                let v = self
                    .vars
                    .iter()
                    .rev()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.clone())
                    .ok_or_else(|| self.fail(span, format!("undefined variable: {name}")))?;
                self.fields(v, fields, span)
            }
            Operand::Pipe(pipe, fields) => {
                let v = self.pipe(pipe, dot)?;
                self.fields(v, fields, span)
            }
        }
    }

    /// `.A.B` on a value: map members, with Go's rules for missing and nil ones.
    fn fields(&self, mut v: Val<'a>, fields: &[String], span: Span) -> Result<Val<'a>> {
        if fields.is_empty() {
            return Ok(v);
        }
        if let Some(headers) = self.headers {
            return Ok(Val::Own(Value::String(header_for(headers, fields))));
        }
        for field in fields {
            v = match v.get() {
                None => Val::Missing,
                Some(Value::Object(map)) if map.contains_key(field) => v.part(|x| x.get(field)),
                Some(Value::Object(_)) if self.missing == MissingKey::Error => {
                    return Err(self.fail(span, format!("map has no entry for key {field:?}")));
                }
                Some(Value::Object(_)) => Val::Missing,
                Some(Value::Null) => {
                    return Err(self.fail(
                        span,
                        format!("nil pointer evaluating interface {{}}.{field}"),
                    ));
                }
                Some(other) => {
                    return Err(self.fail(
                        span,
                        format!("can't evaluate field {field} in type {}", type_name(other)),
                    ));
                }
            };
        }
        Ok(v)
    }

    fn call(
        &mut self,
        name: &str,
        ops: &'t [Operand],
        piped: Option<Val<'a>>,
        dot: &Val<'a>,
        span: Span,
    ) -> Result<Val<'a>> {
        if name == "and" || name == "or" {
            return self.and_or(name == "and", ops, piped, dot, span);
        }
        let mut args = Vec::with_capacity(ops.len() + 1);
        for op in ops {
            args.push(self.operand(op, dot, span)?);
        }
        args.extend(piped);
        let f = lookup(name, self.headers.is_some())
            .ok_or_else(|| self.fail(span, format!("function {name:?} not defined")))?;
        f(args).map_err(|m| self.fail(span, format!("error calling {name}: {m}")))
    }

    /// `and` stops at the first false argument, `or` at the first true one; else the last.
    fn and_or(
        &mut self,
        and: bool,
        ops: &'t [Operand],
        piped: Option<Val<'a>>,
        dot: &Val<'a>,
        span: Span,
    ) -> Result<Val<'a>> {
        let count = ops.len() + usize::from(piped.is_some());
        if count == 0 {
            let name = if and { "and" } else { "or" };
            return Err(self.fail(
                span,
                format!("wrong number of args for {name}: want at least 1 got 0"),
            ));
        }
        let mut last = Val::Missing;
        for op in ops {
            last = self.operand(op, dot, span)?;
            if last.truth() != and {
                return Ok(last);
            }
        }
        Ok(piped.unwrap_or(last))
    }
}

/// A field as Go's messages show it.
fn describe(op: &Operand) -> String {
    match op {
        Operand::Dot => ".".into(),
        Operand::Nil => "nil".into(),
        Operand::Const(Value::String(s)) => format!("{s:?}"),
        Operand::Const(v) => display(v),
        Operand::Function(f) => f.clone(),
        Operand::Field(f) => format!(".{}", f.join(".")),
        Operand::Variable(v, f) if f.is_empty() => v.clone(),
        Operand::Variable(v, f) => format!("{v}.{}", f.join(".")),
        Operand::Pipe(_, f) if f.is_empty() => "(...)".into(),
        Operand::Pipe(_, f) => format!("(...).{}", f.join(".")),
    }
}

/// A column's header: the caller's name for the whole path (`Config.Env`), else for its first
/// field, else nothing.
fn header_for(headers: &HashMap<String, String>, fields: &[String]) -> String {
    headers
        .get(&fields.join("."))
        .or_else(|| headers.get(&fields[0]))
        .cloned()
        .unwrap_or_default()
}
