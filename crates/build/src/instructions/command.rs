//! Command lines, in exec form (`["executable", "arg"]`) or shell form (one string for the
//! shell), for RUN, CMD, ENTRYPOINT and HEALTHCHECK; and SHELL, which takes only the exec form.

use super::words;
use crate::error::ErrorKind;
use crate::flags::Flags;
use crate::node::Node;

/// A command, as it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandLine {
    /// JSON: run as it is (an empty list for `CMD []`).
    Exec(Vec<String>),
    /// Anything else: the text, which the stage's shell runs.
    Shell(String),
}

impl CommandLine {
    /// The command line of `args`, in JSON form or not.
    pub(crate) fn new(args: &[String], json: bool) -> CommandLine {
        if json {
            CommandLine::Exec(args.to_vec())
        } else {
            CommandLine::Shell(args.join(" "))
        }
    }
}

/// CMD and ENTRYPOINT: a command line, no flags.
pub(super) fn parse_command(node: &Node) -> Result<CommandLine, ErrorKind> {
    Flags::parse(&node.flags, &[])?;
    Ok(CommandLine::new(words(node), node.json))
}

/// SHELL: a non-empty JSON array.
pub(super) fn parse_shell(node: &Node) -> Result<Vec<String>, ErrorKind> {
    Flags::parse(&node.flags, &[])?;
    let args = words(node);
    if args.is_empty() {
        return Err(ErrorKind::AtLeastOneArgument("SHELL"));
    }
    if !node.json {
        return Err(ErrorKind::NotJson("SHELL"));
    }
    Ok(args.to_vec())
}
