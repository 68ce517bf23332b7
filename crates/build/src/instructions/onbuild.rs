//! ONBUILD: an instruction kept for the builds that use this image as their base. It is typed
//! now, so that mistakes show here; the image keeps its text, for those builds to parse.

use super::{Instruction, type_node};
use crate::error::ErrorKind;
use crate::flags::Flags;
use crate::node::{Args, Node};

/// `ONBUILD instruction`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnbuildInstruction {
    /// The instruction, typed.
    pub trigger: Box<Instruction>,
    /// Its text as the image config keeps it: the line without `ONBUILD`, followed by each
    /// heredoc's body and terminator.
    pub expression: String,
}

pub(super) fn parse(node: &Node, escape: char) -> Result<OnbuildInstruction, ErrorKind> {
    let Args::Sub(sub) = &node.args else {
        return Err(ErrorKind::AtLeastOneArgument("ONBUILD"));
    };
    Flags::parse(&node.flags, &[])?;
    match sub.name.to_uppercase().as_str() {
        "ONBUILD" => return Err(ErrorKind::OnbuildOnbuild),
        name @ ("FROM" | "MAINTAINER") => return Err(ErrorKind::OnbuildTrigger(name.to_string())),
        _ => {}
    }
    let trigger = Node {
        start_line: node.start_line,
        end_line: node.end_line,
        ..sub.as_ref().clone()
    };
    Ok(OnbuildInstruction {
        trigger: Box::new(type_node(&trigger, escape)?),
        expression: expression(&trigger),
    })
}

/// The trigger's text and heredocs, as BuildKit stores them.
fn expression(trigger: &Node) -> String {
    let mut text = trigger.original.trim_start().to_string();
    for heredoc in &trigger.heredocs {
        text.push('\n');
        text.push_str(&heredoc.content);
        text.push_str(&heredoc.name);
    }
    text
}
