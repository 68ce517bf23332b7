//! Builds the node tree from tokens, with Go's checks done at parse time: unknown functions,
//! undeclared variables, unbalanced `{{end}}`s and `{{break}}` outside `{{range}}` are errors
//! before anything runs.

use std::collections::HashMap;

use serde_json::Value;

use super::ast::{Branch, Cmd, List, Node, Operand, Pipe, Span};
use super::error::{Pos, TemplateError};
use super::lex::{Kind, Token};

/// A parsed template: its body and the templates it defines.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tree {
    pub root: List,
    pub defines: HashMap<String, List>,
}

/// Deeper nesting than this is refused, so that a hostile template cannot overflow the stack.
const MAX_DEPTH: usize = 64;

/// Parses `tokens` (from `src`); `is_func` says which function names exist.
pub(crate) fn parse(
    src: &str,
    tokens: Vec<Token>,
    is_func: &dyn Fn(&str) -> bool,
) -> Result<Tree, TemplateError> {
    let mut p = Parser {
        src,
        tokens,
        at: 0,
        is_func,
        vars: vec!["$".into()],
        ranges: 0,
        depth: 0,
        defines: HashMap::new(),
    };
    let root = p.top()?;
    Ok(Tree {
        root,
        defines: p.defines,
    })
}

struct Parser<'s> {
    src: &'s str,
    tokens: Vec<Token>,
    at: usize,
    is_func: &'s dyn Fn(&str) -> bool,
    /// Variables in scope, innermost last.
    vars: Vec<String>,
    /// How many `{{range}}`s enclose the current point (for `break`/`continue`).
    ranges: usize,
    depth: usize,
    defines: HashMap<String, List>,
}

/// What ended a list of nodes.
enum Stop {
    End,
    Else,
    /// `{{else if ...` or `{{else with ...`: the keyword's token is next.
    ElseChain(String),
    Eof,
}

fn describe(kind: &Kind) -> String {
    match kind {
        Kind::Text(_) => "text".into(),
        Kind::Open => "\"{{\"".into(),
        Kind::Close => "\"}}\"".into(),
        Kind::Field(f) => format!("field .{f}"),
        Kind::Dot => "\".\"".into(),
        Kind::Variable(v) => format!("variable {v}"),
        Kind::Ident(i) => format!("<{i}>"),
        Kind::Str(s) => format!("string {s:?}"),
        Kind::Char(_) => "character constant".into(),
        Kind::Number(n) => format!("number {n}"),
        Kind::Pipe => "\"|\"".into(),
        Kind::LParen => "\"(\"".into(),
        Kind::RParen => "\")\"".into(),
        Kind::Declare => "\":=\"".into(),
        Kind::Assign => "\"=\"".into(),
        Kind::Comma => "\",\"".into(),
        Kind::Eof => "EOF".into(),
    }
}

const KEYWORDS: [&str; 10] = [
    "if", "else", "end", "range", "with", "define", "template", "block", "break", "continue",
];

impl Parser<'_> {
    fn peek(&self) -> &Token {
        // The lexer always ends with Eof, and nothing moves past it.
        &self.tokens[self.at.min(self.tokens.len() - 1)]
    }

    fn peek_kind(&self, ahead: usize) -> &Kind {
        let i = (self.at + ahead).min(self.tokens.len() - 1);
        &self.tokens[i].kind
    }

    fn next(&mut self) -> Token {
        let t = self.peek().clone();
        if self.at < self.tokens.len() - 1 {
            self.at += 1;
        }
        t
    }

    fn err(&self, pos: usize, msg: impl Into<String>) -> TemplateError {
        TemplateError::parse(self.src, Pos(pos), msg)
    }

    fn unexpected(&self, t: &Token, context: &str) -> TemplateError {
        self.err(
            t.pos,
            format!("unexpected {} in {context}", describe(&t.kind)),
        )
    }

    fn expect_close(&mut self, context: &str) -> Result<(), TemplateError> {
        let t = self.next();
        match t.kind {
            Kind::Close => Ok(()),
            _ => Err(self.unexpected(&t, context)),
        }
    }

    /// The end of the previous token, roughly: where the next one starts.
    fn span_from(&self, start: usize) -> Span {
        (start, self.peek().pos)
    }

    fn enter(&mut self, pos: usize) -> Result<(), TemplateError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err(pos, "template nests too deeply"));
        }
        Ok(())
    }

    fn top(&mut self) -> Result<List, TemplateError> {
        let mut list = Vec::new();
        loop {
            let t = self.peek().clone();
            match &t.kind {
                Kind::Eof => return Ok(list),
                Kind::Open if matches!(self.peek_kind(1), Kind::Ident(i) if i == "define") => {
                    self.next();
                    self.next();
                    self.define(t.pos)?;
                }
                _ => match self.item(&mut list)? {
                    None => {}
                    Some(Stop::End) => return Err(self.err(t.pos, "unexpected {{end}}")),
                    Some(Stop::Else | Stop::ElseChain(_)) => {
                        return Err(self.err(t.pos, "unexpected {{else}}"));
                    }
                    Some(Stop::Eof) => return Ok(list),
                },
            }
        }
    }

    /// Parses nodes up to an `{{end}}` or `{{else}}`; what stopped it is returned.
    fn list(&mut self, context: &str, open: usize) -> Result<(List, Stop), TemplateError> {
        let mut list = Vec::new();
        loop {
            match self.item(&mut list)? {
                None => {}
                Some(Stop::Eof) => {
                    return Err(self.err(
                        open,
                        format!("unexpected EOF: {context} has no {{{{end}}}}"),
                    ));
                }
                Some(stop) => return Ok((list, stop)),
            }
        }
    }

    /// One text or action; `Some` when it ends a list.
    fn item(&mut self, list: &mut List) -> Result<Option<Stop>, TemplateError> {
        let t = self.next();
        match t.kind {
            Kind::Eof => Ok(Some(Stop::Eof)),
            Kind::Text(s) => {
                list.push(Node::Text(s));
                Ok(None)
            }
            Kind::Open => self.action(t.pos, list),
            _ => Err(self.unexpected(&t, "template")),
        }
    }

    /// After `{{`: a keyword's construct or a pipeline to print.
    fn action(&mut self, open: usize, list: &mut List) -> Result<Option<Stop>, TemplateError> {
        let keyword = match &self.peek().kind {
            Kind::Ident(i) if KEYWORDS.contains(&i.as_str()) => i.clone(),
            _ => {
                let pipe = self.pipeline("command", &Kind::Close)?;
                self.expect_close("command")?;
                list.push(Node::Action(pipe));
                return Ok(None);
            }
        };
        let kw = self.next();
        match keyword.as_str() {
            "end" => {
                self.expect_close("end")?;
                Ok(Some(Stop::End))
            }
            "else" => match self.peek_kind(0).clone() {
                Kind::Ident(i) if i == "if" || i == "with" => Ok(Some(Stop::ElseChain(i))),
                _ => {
                    self.expect_close("else")?;
                    Ok(Some(Stop::Else))
                }
            },
            "if" | "with" | "range" => {
                let node = self.control(&keyword, open)?;
                list.push(node);
                Ok(None)
            }
            "break" | "continue" => {
                if self.ranges == 0 {
                    return Err(
                        self.err(kw.pos, format!("{{{{{keyword}}}}} outside {{{{range}}}}"))
                    );
                }
                self.expect_close(&keyword)?;
                list.push(if keyword == "break" {
                    Node::Break
                } else {
                    Node::Continue
                });
                Ok(None)
            }
            "template" => {
                let node = self.template(open)?;
                list.push(node);
                Ok(None)
            }
            "block" => {
                let node = self.block(open)?;
                list.push(node);
                Ok(None)
            }
            _ => Err(self.err(kw.pos, format!("unexpected <{keyword}> in command"))),
        }
    }

    /// `if`, `with` or `range` after its keyword, through the `{{end}}`.
    fn control(&mut self, keyword: &str, open: usize) -> Result<Node, TemplateError> {
        self.enter(open)?;
        let scope = self.vars.len();
        let pipe = self.pipeline(keyword, &Kind::Close)?;
        self.expect_close(keyword)?;
        if keyword == "range" {
            self.ranges += 1;
        }
        let (list, stop) = self.list(&format!("{{{{{keyword}}}}}"), open)?;
        if keyword == "range" {
            self.ranges -= 1;
        }
        let otherwise = match stop {
            Stop::End => None,
            Stop::Else => {
                let (otherwise, stop) = self.list(&format!("{{{{{keyword}}}}}"), open)?;
                if !matches!(stop, Stop::End) {
                    return Err(self.err(self.peek().pos, "expected {{end}}; found {{else}}"));
                }
                Some(otherwise)
            }
            Stop::ElseChain(chained) if chained == keyword && keyword != "range" => {
                self.next();
                Some(vec![self.control(keyword, open)?])
            }
            Stop::ElseChain(chained) => {
                return Err(self.err(
                    self.peek().pos,
                    format!("unexpected <{chained}> after {{{{else}}}} in {{{{{keyword}}}}}"),
                ));
            }
            Stop::Eof => return Err(self.err(open, "unexpected EOF")),
        };
        self.vars.truncate(scope);
        self.depth -= 1;
        let branch = Box::new(Branch {
            pipe,
            list,
            otherwise,
        });
        Ok(match keyword {
            "if" => Node::If(branch),
            "with" => Node::With(branch),
            _ => Node::Range(branch),
        })
    }

    fn template_name(&mut self, context: &str) -> Result<String, TemplateError> {
        let t = self.next();
        match t.kind {
            Kind::Str(name) => Ok(name),
            _ => Err(self.unexpected(&t, context)),
        }
    }

    fn template(&mut self, open: usize) -> Result<Node, TemplateError> {
        let name = self.template_name("template clause")?;
        let pipe = match self.peek_kind(0) {
            Kind::Close => None,
            _ => Some(self.pipeline("template clause", &Kind::Close)?),
        };
        let span = self.span_from(open);
        self.expect_close("template clause")?;
        Ok(Node::Template { name, pipe, span })
    }

    /// `{{block "name" pipeline}}default{{end}}`: defines "name" and runs it here.
    fn block(&mut self, open: usize) -> Result<Node, TemplateError> {
        let name = self.template_name("block clause")?;
        let pipe = self.pipeline("block clause", &Kind::Close)?;
        let span = self.span_from(open);
        self.expect_close("block clause")?;
        let body = self.body(open, "{{block}}")?;
        self.add_define(open, name.clone(), body)?;
        Ok(Node::Template {
            name,
            pipe: Some(pipe),
            span,
        })
    }

    /// `{{define "name"}}body{{end}}`, after the keyword.
    fn define(&mut self, open: usize) -> Result<(), TemplateError> {
        let name = self.template_name("define clause")?;
        self.expect_close("define clause")?;
        let body = self.body(open, "{{define}}")?;
        self.add_define(open, name, body)
    }

    /// The body of a named template: its own variables, outside any range.
    fn body(&mut self, open: usize, context: &str) -> Result<List, TemplateError> {
        let vars = std::mem::replace(&mut self.vars, vec!["$".into()]);
        let ranges = std::mem::take(&mut self.ranges);
        self.enter(open)?;
        let (body, stop) = self.list(context, open)?;
        self.depth -= 1;
        self.vars = vars;
        self.ranges = ranges;
        match stop {
            Stop::End => Ok(body),
            _ => Err(self.err(open, format!("unexpected {{{{else}}}} in {context}"))),
        }
    }

    /// Go lets an empty definition give way to a full one, but not two full ones.
    fn add_define(&mut self, open: usize, name: String, body: List) -> Result<(), TemplateError> {
        let empty = |l: &List| {
            l.iter()
                .all(|n| matches!(n, Node::Text(t) if t.trim().is_empty()))
        };
        match self.defines.get(&name) {
            Some(old) if !empty(old) && !empty(&body) => Err(self.err(
                open,
                format!("template: multiple definition of template {name:?}"),
            )),
            Some(old) if empty(&body) && !empty(old) => Ok(()),
            _ => {
                self.defines.insert(name, body);
                Ok(())
            }
        }
    }

    /// A pipeline up to (not including) `end`, with its variable declarations.
    fn pipeline(&mut self, context: &str, end: &Kind) -> Result<Pipe, TemplateError> {
        let start = self.peek().pos;
        let (decl, assign) = self.declarations(context)?;
        let mut cmds = Vec::new();
        loop {
            let cmd = self.command()?;
            cmds.push(cmd);
            let t = self.peek().clone();
            if t.kind == Kind::Pipe {
                self.next();
                continue;
            }
            if &t.kind == end {
                break;
            }
            return Err(self.unexpected(&t, context));
        }
        for (stage, cmd) in cmds.iter().enumerate().skip(1) {
            if matches!(cmd.args[0], Operand::Dot | Operand::Nil | Operand::Const(_)) {
                return Err(self.err(
                    cmd.span.0,
                    format!("non executable command in pipeline stage {}", stage + 1),
                ));
            }
        }
        Ok(Pipe {
            decl,
            assign,
            cmds,
            span: self.span_from(start),
        })
    }

    /// `$x :=`, `$x =`, or in a range `$i, $e :=`; nothing if the pipeline does not start so.
    fn declarations(&mut self, context: &str) -> Result<(Vec<String>, bool), TemplateError> {
        let mut names = Vec::new();
        let mut ahead = 0;
        loop {
            let Kind::Variable(v) = self.peek_kind(ahead).clone() else {
                return Ok((Vec::new(), false));
            };
            names.push(v);
            match self.peek_kind(ahead + 1) {
                Kind::Comma if context == "range" && names.len() < 2 => ahead += 2,
                Kind::Comma if context == "range" => {
                    let pos = self.tokens.get(self.at + ahead + 1).map_or(0, |t| t.pos);
                    return Err(self.err(pos, "too many declarations in range"));
                }
                Kind::Declare | Kind::Assign => break,
                _ => return Ok((Vec::new(), false)),
            }
        }
        let pos = self.peek().pos;
        self.at += ahead + 1;
        let assign = self.next().kind == Kind::Assign;
        if assign {
            if let Some(v) = names.iter().find(|v| !self.vars.contains(v)) {
                return Err(self.err(pos, format!("undefined variable {v:?}")));
            }
        } else {
            self.vars.extend(names.iter().cloned());
        }
        Ok((names, assign))
    }

    /// Operands up to a `|`, `}}` or `)`.
    fn command(&mut self) -> Result<Cmd, TemplateError> {
        let start = self.peek().pos;
        let mut args = Vec::new();
        loop {
            let t = self.peek().clone();
            match t.kind {
                Kind::Close | Kind::RParen | Kind::Pipe => break,
                _ if !args.is_empty() && !t.spaced => {
                    return Err(self.unexpected(&t, "operand"));
                }
                _ => args.push(self.operand()?),
            }
        }
        if args.is_empty() {
            return Err(self.err(start, "missing value for command"));
        }
        Ok(Cmd {
            args,
            span: self.span_from(start),
        })
    }

    /// A term and the fields that follow it without a space.
    fn operand(&mut self) -> Result<Operand, TemplateError> {
        let t = self.next();
        let mut term = match t.kind {
            Kind::Ident(name) => self.identifier(t.pos, name)?,
            Kind::Dot => Operand::Dot,
            Kind::Variable(v) => {
                if !self.vars.contains(&v) {
                    return Err(self.err(t.pos, format!("undefined variable {v:?}")));
                }
                Operand::Variable(v, Vec::new())
            }
            Kind::Field(f) => Operand::Field(vec![f]),
            Kind::Str(s) => Operand::Const(Value::String(s)),
            Kind::Char(c) => Operand::Const(Value::from(c)),
            Kind::Number(n) => Operand::Const(number(&n).map_err(|m| self.err(t.pos, m))?),
            Kind::LParen => {
                self.enter(t.pos)?;
                let pipe = self.pipeline("parenthesized pipeline", &Kind::RParen)?;
                self.next();
                self.depth -= 1;
                Operand::Pipe(Box::new(pipe), Vec::new())
            }
            _ => return Err(self.unexpected(&t, "operand")),
        };
        while let Token {
            kind: Kind::Field(f),
            spaced: false,
            pos,
        } = self.peek().clone()
        {
            self.next();
            match &mut term {
                Operand::Field(fields)
                | Operand::Variable(_, fields)
                | Operand::Pipe(_, fields) => fields.push(f),
                _ => {
                    return Err(
                        self.err(pos, format!("unexpected .{f} after a constant or function"))
                    );
                }
            }
        }
        Ok(term)
    }

    fn identifier(&self, pos: usize, name: String) -> Result<Operand, TemplateError> {
        match name.as_str() {
            "true" => Ok(Operand::Const(Value::Bool(true))),
            "false" => Ok(Operand::Const(Value::Bool(false))),
            "nil" => Ok(Operand::Nil),
            k if KEYWORDS.contains(&k) => {
                Err(self.err(pos, format!("unexpected <{k}> in operand")))
            }
            f if (self.is_func)(f) => Ok(Operand::Function(name)),
            _ => Err(self.err(pos, format!("function {name:?} not defined"))),
        }
    }
}

/// A number constant as Go's template parser types it: integers stay integers, anything written
/// with a point or exponent is a float64.
pub(crate) fn number(text: &str) -> Result<Value, String> {
    let bad = || format!("bad number syntax: {text:?}");
    if text.ends_with('i') {
        return Err(format!("complex number {text} is not supported"));
    }
    let clean = text.replace('_', "");
    let (negative, digits) = match clean.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, clean.strip_prefix('+').unwrap_or(&clean)),
    };
    let lower = digits.to_ascii_lowercase();
    let radix = match lower.get(..2) {
        Some("0x") => Some((16, &digits[2..])),
        Some("0o") => Some((8, &digits[2..])),
        Some("0b") => Some((2, &digits[2..])),
        _ if digits.len() > 1
            && digits.starts_with('0')
            && digits.bytes().all(|b| b.is_ascii_digit()) =>
        {
            Some((8, &digits[1..]))
        }
        _ if digits.bytes().all(|b| b.is_ascii_digit()) => Some((10, digits)),
        _ => None,
    };
    if let Some((radix, body)) = radix {
        let magnitude = u64::from_str_radix(body, radix).map_err(|_| bad())?;
        return if negative {
            let n =
                i64::try_from(magnitude).map_err(|_| format!("number {text} is out of range"))?;
            Ok(Value::from(-n))
        } else if let Ok(n) = i64::try_from(magnitude) {
            Ok(Value::from(n))
        } else {
            Ok(Value::from(magnitude))
        };
    }
    if lower.contains('x') || lower.contains('p') {
        return Err(format!("hexadecimal float {text} is not supported"));
    }
    let f: f64 = clean.parse().map_err(|_| bad())?;
    if !f.is_finite() {
        return Err(format!("number {text} is out of range"));
    }
    Ok(Value::from(f))
}
