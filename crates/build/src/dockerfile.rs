//! A whole Dockerfile, typed: its directives, the ARGs before the first FROM (which FROM lines
//! can use), and its build stages, each a FROM and the instructions up to the next one.

use crate::directives::Directives;
use crate::error::{ErrorKind, ParseError};
use crate::instructions::{FromInstruction, Instruction, InstructionKind, Source, type_node};
use crate::node::Warning;
use crate::parser::parse_ast;

/// A parsed Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerfile {
    pub directives: Directives,
    /// The ARG instructions before the first FROM.
    pub meta_args: Vec<Instruction>,
    pub stages: Vec<Stage>,
    pub warnings: Vec<Warning>,
}

/// A build stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    pub from: FromInstruction,
    /// The FROM instruction's source.
    pub source: Source,
    /// The instructions after FROM, in order.
    pub instructions: Vec<Instruction>,
}

impl Dockerfile {
    /// The escape character the Dockerfile uses, which its words are expanded with.
    pub fn escape(&self) -> char {
        self.directives.escape
    }

    /// The stage named `name` (case-insensitive), with its index.
    pub fn stage(&self, name: &str) -> Option<(usize, &Stage)> {
        let name = name.to_lowercase();
        self.stages
            .iter()
            .enumerate()
            .find(|(_, s)| s.from.name.as_deref() == Some(name.as_str()))
    }
}

/// Parses and types `text`, the Dockerfile named `file` (the name errors give).
pub fn parse(file: &str, text: &str) -> Result<Dockerfile, ParseError> {
    let ast = parse_ast(file, text)?;
    let escape = ast.directives.escape;
    let mut meta_args = Vec::new();
    let mut stages: Vec<Stage> = Vec::new();
    for node in &ast.nodes {
        let instruction = type_node(node, escape).map_err(|kind| kind.at(file, node.start_line))?;
        match (instruction.kind, stages.last_mut()) {
            (InstructionKind::From(from), _) => stages.push(Stage {
                from,
                source: instruction.source,
                instructions: Vec::new(),
            }),
            (kind, Some(stage)) => stage.instructions.push(Instruction {
                kind,
                source: instruction.source,
            }),
            (kind @ InstructionKind::Arg(_), None) => meta_args.push(Instruction {
                kind,
                source: instruction.source,
            }),
            (_, None) => {
                let name = instruction.source.name.to_uppercase();
                return Err(ErrorKind::NoStage(name).at(file, node.start_line));
            }
        }
    }
    Ok(Dockerfile {
        directives: ast.directives,
        meta_args,
        stages,
        warnings: ast.warnings,
    })
}
