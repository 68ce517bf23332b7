//! The parsed form of a template: Go's text/template node kinds, for JSON data.

use serde_json::Value;

/// A byte range of the source, for error messages.
pub(crate) type Span = (usize, usize);

pub(crate) type List = Vec<Node>;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Text(String),
    /// `{{pipeline}}`: prints the value unless the pipeline declares variables.
    Action(Pipe),
    If(Box<Branch>),
    With(Box<Branch>),
    Range(Box<Branch>),
    /// `{{template "name" pipeline}}` (and the call half of `{{block}}`).
    Template {
        name: String,
        pipe: Option<Pipe>,
        span: Span,
    },
    Break,
    Continue,
}

/// The common shape of `if`, `with` and `range`: `{{else if}}` nests another branch in `otherwise`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Branch {
    pub pipe: Pipe,
    pub list: List,
    pub otherwise: Option<List>,
}

/// `$x := cmd | cmd ...`, or a bare chain of commands.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Pipe {
    pub decl: Vec<String>,
    /// `$x = ...` assigns to a variable declared earlier instead of declaring one.
    pub assign: bool,
    pub cmds: Vec<Cmd>,
    pub span: Span,
}

/// One stage of a pipeline: a function and its arguments, or a single value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cmd {
    pub args: Vec<Operand>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Operand {
    Dot,
    Nil,
    /// A literal: a boolean, number or string constant.
    Const(Value),
    Function(String),
    /// `.A.B`: fields of dot.
    Field(Vec<String>),
    /// `$x.A.B`; `$` alone is the data the template was run with.
    Variable(String, Vec<String>),
    /// `(pipeline).A.B`; the field list may be empty.
    Pipe(Box<Pipe>, Vec<String>),
}
