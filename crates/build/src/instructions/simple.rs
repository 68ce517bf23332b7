//! The instructions that take one string (WORKDIR, USER, STOPSIGNAL, MAINTAINER) or a list of
//! words (EXPOSE, VOLUME), and no flags.

use super::words;
use crate::error::ErrorKind;
use crate::flags::Flags;
use crate::node::Node;

/// Exactly one argument (for these, the whole rest of the line).
pub(super) fn one(instruction: &'static str, node: &Node) -> Result<String, ErrorKind> {
    let [arg] = words(node) else {
        return Err(ErrorKind::ExactlyOneArgument(instruction));
    };
    Flags::parse(&node.flags, &[])?;
    Ok(arg.clone())
}

/// One or more arguments.
pub(super) fn at_least_one(
    instruction: &'static str,
    node: &Node,
) -> Result<Vec<String>, ErrorKind> {
    let args = words(node);
    if args.is_empty() {
        return Err(ErrorKind::AtLeastOneArgument(instruction));
    }
    Flags::parse(&node.flags, &[])?;
    Ok(args.to_vec())
}

/// VOLUME's paths, trimmed; none may be empty.
pub(super) fn volumes(node: &Node) -> Result<Vec<String>, ErrorKind> {
    let paths = at_least_one("VOLUME", node)?;
    paths
        .iter()
        .map(|path| match path.trim() {
            "" => Err(ErrorKind::EmptyVolume),
            path => Ok(path.to_string()),
        })
        .collect()
}
