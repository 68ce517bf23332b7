//! Typed instructions: each raw [`Node`] checked and turned into what the executor needs, as
//! BuildKit's `instructions` package does. Values stay as written (unexpanded): the executor
//! expands them with the variables in scope when it gets to the instruction.

mod command;
mod copy;
mod from;
mod healthcheck;
mod onbuild;
mod run;
mod simple;
mod variables;

pub use command::CommandLine;
pub use copy::{AddInstruction, CopyInstruction, CopySource};
pub use from::FromInstruction;
pub use healthcheck::{Healthcheck, HealthcheckCommand};
pub use onbuild::OnbuildInstruction;
pub use run::{Network, RunInstruction, Security};
pub use variables::{ArgDecl, KeyValue};

use crate::error::ErrorKind;
use crate::node::{Args, Node};
use crate::suggest::closest;

/// Where an instruction comes from: for error messages, and the build cache's key later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The instruction's name as written (`RUN`, `run`...).
    pub name: String,
    /// Its text, continuation lines joined, trimmed (heredoc bodies are in the instruction).
    pub original: String,
    /// The first and last line (from 1), heredoc bodies included.
    pub start_line: usize,
    pub end_line: usize,
}

/// One instruction of a Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    pub kind: InstructionKind,
    pub source: Source,
}

/// What an instruction does, with its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstructionKind {
    From(FromInstruction),
    Run(RunInstruction),
    Copy(CopyInstruction),
    Add(AddInstruction),
    /// `ENV k=v ...` or `ENV k v`.
    Env(Vec<KeyValue>),
    /// `ARG name[=default] ...`.
    Arg(Vec<ArgDecl>),
    Label(Vec<KeyValue>),
    Workdir(String),
    User(String),
    /// Ports as written (`80`, `53/udp`, `$PORT`).
    Expose(Vec<String>),
    /// Paths, from JSON or words.
    Volume(Vec<String>),
    Entrypoint(CommandLine),
    Cmd(CommandLine),
    /// `SHELL ["executable", "parameters"]`.
    Shell(Vec<String>),
    Healthcheck(Healthcheck),
    StopSignal(String),
    Onbuild(OnbuildInstruction),
    Maintainer(String),
}

/// The instructions there are, for suggestions.
const NAMES: &[&str] = &[
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// Types `node`, or says what is wrong with it.
pub(crate) fn type_node(node: &Node, escape: char) -> Result<Instruction, ErrorKind> {
    let kind = match node.keyword().as_str() {
        "from" => InstructionKind::From(from::parse(node)?),
        "run" => InstructionKind::Run(run::parse(node, escape)?),
        "copy" => InstructionKind::Copy(copy::parse_copy(node)?),
        "add" => InstructionKind::Add(copy::parse_add(node)?),
        "env" => InstructionKind::Env(variables::parse_pairs(node, "ENV")?),
        "label" => InstructionKind::Label(variables::parse_pairs(node, "LABEL")?),
        "arg" => InstructionKind::Arg(variables::parse_arg(node)?),
        "onbuild" => InstructionKind::Onbuild(onbuild::parse(node, escape)?),
        "healthcheck" => InstructionKind::Healthcheck(healthcheck::parse(node)?),
        "cmd" => InstructionKind::Cmd(command::parse_command(node)?),
        "entrypoint" => InstructionKind::Entrypoint(command::parse_command(node)?),
        "shell" => InstructionKind::Shell(command::parse_shell(node)?),
        "workdir" => InstructionKind::Workdir(simple::one("WORKDIR", node)?),
        "user" => InstructionKind::User(simple::one("USER", node)?),
        "stopsignal" => InstructionKind::StopSignal(simple::one("STOPSIGNAL", node)?),
        "maintainer" => InstructionKind::Maintainer(simple::one("MAINTAINER", node)?),
        "expose" => InstructionKind::Expose(simple::at_least_one("EXPOSE", node)?),
        "volume" => InstructionKind::Volume(simple::volumes(node)?),
        _ => return Err(unknown(&node.name)),
    };
    Ok(Instruction {
        kind,
        source: Source {
            name: node.name.clone(),
            original: node.original.trim().to_string(),
            start_line: node.start_line,
            end_line: node.end_line,
        },
    })
}

fn unknown(name: &str) -> ErrorKind {
    ErrorKind::UnknownInstruction {
        name: name.to_string(),
        suggestion: closest(name, NAMES),
    }
}

/// The node's arguments as words (ENV's pairs and ONBUILD's instruction are not words).
fn words(node: &Node) -> &[String] {
    match &node.args {
        Args::Words(words) => words,
        Args::Pairs(_) | Args::Sub(_) => &[],
    }
}
