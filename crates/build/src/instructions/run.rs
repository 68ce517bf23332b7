//! RUN: a command line, its heredocs, and its flags: `--mount` (see [`crate::MountSpec`]),
//! `--network=default|none|host` and `--security=sandbox|insecure`.

use super::command::CommandLine;
use super::words;
use crate::error::ErrorKind;
use crate::flags::{Flags, Kind};
use crate::heredoc::Heredoc;
use crate::mount::MountSpec;
use crate::node::Node;

/// `RUN [--mount=...] [--network=...] [--security=...] command`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunInstruction {
    pub command: CommandLine,
    /// The heredocs of a shell-form command (`RUN <<EOF`, `RUN python3 <<EOF`...).
    pub heredocs: Vec<Heredoc>,
    pub mounts: Vec<MountSpec>,
    pub network: Network,
    pub security: Security,
}

/// `--network`: the network the command runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Network {
    /// The build's default network.
    #[default]
    Default,
    None,
    Host,
}

/// `--security`: `insecure` runs the command with all capabilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Security {
    #[default]
    Sandbox,
    Insecure,
}

const FLAGS: &[(&str, Kind)] = &[
    ("mount", Kind::List),
    ("network", Kind::String),
    ("security", Kind::String),
];

pub(super) fn parse(node: &Node, escape: char) -> Result<RunInstruction, ErrorKind> {
    let flags = Flags::parse(&node.flags, FLAGS)?;
    let mounts = flags
        .list("mount")
        .iter()
        .map(|spec| MountSpec::parse(spec, escape))
        .collect::<Result<_, _>>()
        .map_err(ErrorKind::Mount)?;
    Ok(RunInstruction {
        command: CommandLine::new(words(node), node.json),
        heredocs: node.heredocs.clone(),
        mounts,
        network: network(flags.string("network"))?,
        security: security(flags.string("security"))?,
    })
}

fn network(value: Option<String>) -> Result<Network, ErrorKind> {
    match value.as_deref() {
        None | Some("default") => Ok(Network::Default),
        Some("none") => Ok(Network::None),
        Some("host") => Ok(Network::Host),
        Some(other) => Err(ErrorKind::BadNetwork(other.to_string())),
    }
}

fn security(value: Option<String>) -> Result<Security, ErrorKind> {
    match value.as_deref() {
        None | Some("sandbox") => Ok(Security::Sandbox),
        Some("insecure") => Ok(Security::Insecure),
        Some(other) => Err(ErrorKind::BadSecurity(other.to_string())),
    }
}
