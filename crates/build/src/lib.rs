//! kist's Dockerfile frontend: it reads a Dockerfile as BuildKit's frontend does, into typed
//! instructions that `kist build` executes.
//!
//! Parsing is in two steps, as in BuildKit: [`parse_ast`] splits the text into raw [`Node`]s
//! (what BuildKit's parser test results dump), and [`parse`] types them into [`Instruction`]s.
//! Nothing is expanded while parsing: the executor expands each instruction's words with
//! [`expand`] and [`expand_words`] and the ARG and ENV values in scope at that point.

mod arguments;
mod directives;
mod error;
mod expand;
mod heredoc;
mod json;
mod lines;
mod node;
mod parser;
mod pattern;
mod quote;
mod split;
mod words;

pub use directives::{Directive, Directives};
pub use error::{ErrorKind, ParseError};
pub use expand::{Env, ExpandError, ExpandErrorKind, Lexer, expand, expand_words};
pub use heredoc::{Heredoc, parse_marker};
pub use node::{Args, Ast, Node, Pair, Warning};
pub use parser::parse_ast;
