//! FROM: the base image or stage of a build stage, its optional `AS name`, and `--platform`.

use super::words;
use crate::error::ErrorKind;
use crate::flags::{Flags, Kind};
use crate::node::Node;

/// `FROM [--platform=P] image [AS name]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FromInstruction {
    /// The image reference or earlier stage, as written (it may hold ARG variables).
    pub image: String,
    /// The stage's name, lower case (stage names are case-insensitive).
    pub name: Option<String>,
    /// `--platform`, as written.
    pub platform: Option<String>,
}

pub(super) fn parse(node: &Node) -> Result<FromInstruction, ErrorKind> {
    let args = words(node);
    let name = match args {
        [_] => None,
        [_, as_, name] if as_.eq_ignore_ascii_case("as") => Some(stage_name(name)?),
        _ => return Err(ErrorKind::FromArguments),
    };
    let flags = Flags::parse(&node.flags, &[("platform", Kind::String)])?;
    Ok(FromInstruction {
        image: args[0].clone(),
        name,
        platform: flags.string("platform"),
    })
}

/// A stage name, lower case: a letter, then letters, digits, `-`, `_` and `.`.
fn stage_name(name: &str) -> Result<String, ErrorKind> {
    let lower = name.to_lowercase();
    let mut chars = lower.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c));
    if !valid {
        return Err(ErrorKind::BadStageName(name.to_string()));
    }
    Ok(lower)
}
