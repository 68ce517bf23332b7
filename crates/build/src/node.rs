//! The raw parse of a Dockerfile, before instructions are typed: one node per instruction with
//! its flags and arguments as BuildKit's parser splits them, and its dump in BuildKit's format,
//! `(run ["--network=none"] "make")`, which the reference test results are written in.

use crate::directives::Directives;
use crate::heredoc::Heredoc;
use crate::quote::go_quote;

/// One instruction, as parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The instruction's name as written (`run`, `RUN`...).
    pub name: String,
    /// Its `--flags`, with their quotes and escapes resolved.
    pub flags: Vec<String>,
    pub args: Args,
    /// Whether the arguments were given in JSON (exec) form.
    pub json: bool,
    /// The heredocs it opens, with their bodies.
    pub heredocs: Vec<Heredoc>,
    /// The instruction's text, its continuation lines joined.
    pub original: String,
    /// The first and last line (from 1) it spans, heredoc bodies included.
    pub start_line: usize,
    pub end_line: usize,
    /// The comment lines just before it (without `#`).
    pub comments: Vec<String>,
}

/// An instruction's arguments, in the shape its instruction takes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Args {
    /// Words, a JSON array's strings, or a shell form's single string.
    Words(Vec<String>),
    /// `ENV` and `LABEL`'s names and values.
    Pairs(Vec<Pair>),
    /// `ONBUILD`'s instruction.
    Sub(Box<Node>),
}

/// `name=value`, or `name value` in the old one-pair form. Quotes and escapes are still there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    pub key: String,
    pub value: String,
    /// Written with `=`.
    pub equals: bool,
}

impl Node {
    /// The instruction's name, lower case.
    pub fn keyword(&self) -> String {
        self.name.to_ascii_lowercase()
    }

    /// The node as BuildKit dumps it (without the surrounding parentheses).
    pub fn dump(&self) -> String {
        let mut out = self.name.to_lowercase();
        if !self.flags.is_empty() {
            let flags: Vec<String> = self.flags.iter().map(|f| go_quote(f)).collect();
            out.push_str(&format!(" [{}]", flags.join(" ")));
        }
        match &self.args {
            Args::Words(words) => {
                for word in words {
                    out.push(' ');
                    out.push_str(&go_quote(word));
                }
            }
            Args::Pairs(pairs) => {
                for pair in pairs {
                    let sep = if pair.equals { "=" } else { "" };
                    for part in [pair.key.as_str(), pair.value.as_str(), sep] {
                        out.push(' ');
                        out.push_str(&go_quote(part));
                    }
                }
            }
            Args::Sub(node) => out.push_str(&format!(" ({})", node.dump())),
        }
        out.trim().to_string()
    }
}

/// A warning about a Dockerfile that still parses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub line: usize,
    pub message: String,
}

/// A parsed Dockerfile: its directives and its instructions in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ast {
    pub directives: Directives,
    pub nodes: Vec<Node>,
    pub warnings: Vec<Warning>,
}

impl Ast {
    /// The parse in BuildKit's dump format: one `(instruction ...)` a line.
    pub fn dump(&self) -> String {
        let lines: Vec<String> = self
            .nodes
            .iter()
            .map(|n| format!("({})", n.dump()))
            .collect();
        lines.join("\n")
    }
}
