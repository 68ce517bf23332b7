//! kist's Dockerfile frontend: it reads a Dockerfile as BuildKit's frontend does, into typed
//! instructions that `kist build` executes.
//!
//! Parsing is in two steps, as in BuildKit: [`parse_ast`] splits the text into raw [`Node`]s
//! (what BuildKit's parser test results dump), and [`parse`] types them into [`Instruction`]s.
//! Nothing is expanded while parsing: the executor expands the words BuildKit expands (paths,
//! ENV, LABEL and ARG values, flag values, mount fields; not shell-form commands, which the
//! shell sees as written) with [`expand`] or [`expand_words`] and the ARG and ENV values in
//! scope at that instruction.
//!
//! ```
//! use kist_build::{InstructionKind, parse};
//!
//! let file = parse("Dockerfile", "FROM alpine AS base\nWORKDIR \"/srv/$APP\"\n")?;
//! let stage = &file.stages[0];
//! assert_eq!(stage.from.name.as_deref(), Some("base"));
//! let InstructionKind::Workdir(path) = &stage.instructions[0].kind else { unreachable!() };
//! let env = vec![("APP".to_string(), "web".to_string())];
//! assert_eq!(kist_build::expand(path, &env)?, "/srv/web");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod arguments;
mod csv;
mod directives;
mod dockerfile;
mod duration;
mod error;
pub mod executor;
mod expand;
mod flags;
mod heredoc;
mod instructions;
mod json;
mod lines;
mod mount;
mod node;
mod parser;
mod pattern;
mod quote;
mod size;
mod split;
mod suggest;
mod words;

pub use directives::{Directive, Directives};
pub use dockerfile::{Dockerfile, Stage, parse};
pub use error::{ErrorKind, ParseError};
pub use expand::{Env, ExpandError, ExpandErrorKind, Lexer, expand, expand_words};
pub use heredoc::{Heredoc, parse_marker};
pub use instructions::{
    AddInstruction, ArgDecl, CommandLine, CopyInstruction, CopySource, FromInstruction,
    Healthcheck, HealthcheckCommand, Instruction, InstructionKind, KeyValue, Network,
    OnbuildInstruction, RunInstruction, Security, Source,
};
pub use mount::{Mount, MountError, MountSpec, MountType, Sharing};
pub use node::{Args, Ast, Node, Pair, Warning};
pub use parser::parse_ast;
