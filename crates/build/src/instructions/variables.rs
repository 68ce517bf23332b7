//! ENV and LABEL (name-value pairs) and ARG (names with optional defaults). Names and values
//! are kept as written, quotes included, for the executor to expand.

use super::words;
use crate::error::ErrorKind;
use crate::flags::Flags;
use crate::node::{Args, Node};

/// An ENV variable or a label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    pub key: String,
    pub value: String,
}

/// One ARG: a name, and its default if it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgDecl {
    pub name: String,
    pub default: Option<String>,
}

/// ENV and LABEL: at least one pair, no blank name, no flags.
pub(super) fn parse_pairs(
    node: &Node,
    instruction: &'static str,
) -> Result<Vec<KeyValue>, ErrorKind> {
    Flags::parse(&node.flags, &[])?;
    let Args::Pairs(pairs) = &node.args else {
        return Err(ErrorKind::AtLeastOneArgument(instruction));
    };
    if pairs.is_empty() {
        return Err(ErrorKind::AtLeastOneArgument(instruction));
    }
    pairs
        .iter()
        .map(|pair| match pair.key.as_str() {
            "" => Err(ErrorKind::BlankName(instruction)),
            key => Ok(KeyValue {
                key: key.to_string(),
                value: pair.value.clone(),
            }),
        })
        .collect()
}

/// ARG: `name` or `name=default`, one or more. BuildKit ignores flags here; they are refused.
pub(super) fn parse_arg(node: &Node) -> Result<Vec<ArgDecl>, ErrorKind> {
    let args = words(node);
    if args.is_empty() {
        return Err(ErrorKind::AtLeastOneArgument("ARG"));
    }
    Flags::parse(&node.flags, &[])?;
    args.iter()
        .map(|arg| match arg.split_once('=') {
            Some(("", _)) => Err(ErrorKind::BlankName("ARG")),
            Some((name, default)) => Ok(ArgDecl {
                name: name.to_string(),
                default: Some(default.to_string()),
            }),
            None => Ok(ArgDecl {
                name: arg.clone(),
                default: None,
            }),
        })
        .collect()
}
