//! COPY and ADD: sources (paths, URLs for ADD, or heredocs) and a destination, and their
//! flags: `--from`, `--chown`, `--chmod`, `--link`, `--parents`, `--exclude`; ADD's
//! `--checksum`, `--keep-git-dir` and `--unpack`.

use super::words;
use crate::error::ErrorKind;
use crate::flags::{Flags, Kind};
use crate::heredoc::{Heredoc, parse_marker};
use crate::node::Node;

/// One thing to copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopySource {
    /// A path in the context or the `--from` source, or for ADD a URL; as written.
    Path(String),
    /// `<<EOF`: a file named after the heredoc, with its body (see [`Heredoc::body`]).
    Heredoc(Heredoc),
}

/// `COPY [flags] src... dest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyInstruction {
    pub sources: Vec<CopySource>,
    pub dest: String,
    /// `--from`: a stage name, a stage index, or an image.
    pub from: Option<String>,
    pub chown: Option<String>,
    pub chmod: Option<String>,
    pub link: bool,
    pub parents: bool,
    pub excludes: Vec<String>,
}

/// `ADD [flags] src... dest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddInstruction {
    pub sources: Vec<CopySource>,
    pub dest: String,
    pub chown: Option<String>,
    pub chmod: Option<String>,
    pub link: bool,
    pub excludes: Vec<String>,
    /// `--keep-git-dir`, if given.
    pub keep_git_dir: Option<bool>,
    /// `--checksum`: the digest a remote source must have.
    pub checksum: Option<String>,
    /// `--unpack`, if given: whether to extract a local or remote archive.
    pub unpack: Option<bool>,
}

const COPY_FLAGS: &[(&str, Kind)] = &[
    ("chown", Kind::String),
    ("from", Kind::String),
    ("chmod", Kind::String),
    ("link", Kind::Bool),
    ("exclude", Kind::List),
    ("parents", Kind::Bool),
];

const ADD_FLAGS: &[(&str, Kind)] = &[
    ("chown", Kind::String),
    ("chmod", Kind::String),
    ("link", Kind::Bool),
    ("keep-git-dir", Kind::Bool),
    ("checksum", Kind::String),
    ("unpack", Kind::Bool),
    ("exclude", Kind::List),
];

pub(super) fn parse_copy(node: &Node) -> Result<CopyInstruction, ErrorKind> {
    check_arguments(node, "COPY")?;
    let flags = Flags::parse(&node.flags, COPY_FLAGS)?;
    let (sources, dest) = sources_and_dest(node, "COPY")?;
    Ok(CopyInstruction {
        sources,
        dest,
        from: flags.string("from"),
        chown: flags.string("chown"),
        chmod: flags.string("chmod"),
        link: flags.bool("link"),
        parents: flags.bool("parents"),
        excludes: flags.list("exclude"),
    })
}

pub(super) fn parse_add(node: &Node) -> Result<AddInstruction, ErrorKind> {
    check_arguments(node, "ADD")?;
    let flags = Flags::parse(&node.flags, ADD_FLAGS)?;
    let (sources, dest) = sources_and_dest(node, "ADD")?;
    Ok(AddInstruction {
        sources,
        dest,
        chown: flags.string("chown"),
        chmod: flags.string("chmod"),
        link: flags.bool("link"),
        excludes: flags.list("exclude"),
        keep_git_dir: flags.bool_if_given("keep-git-dir"),
        checksum: flags.string("checksum"),
        unpack: flags.bool_if_given("unpack"),
    })
}

fn check_arguments(node: &Node, instruction: &'static str) -> Result<(), ErrorKind> {
    if words(node).len() < 2 {
        return Err(ErrorKind::NoDestination(instruction));
    }
    Ok(())
}

/// The sources, heredoc markers matched with the bodies the parser read, and the destination.
fn sources_and_dest(
    node: &Node,
    instruction: &'static str,
) -> Result<(Vec<CopySource>, String), ErrorKind> {
    let args = words(node);
    let (dest, sources) = args
        .split_last()
        .ok_or(ErrorKind::NoDestination(instruction))?;
    if is_marker(dest) {
        return Err(ErrorKind::HeredocDestination(instruction));
    }
    let sources = sources.iter().map(|src| source(node, src)).collect();
    Ok((sources, dest.clone()))
}

fn is_marker(word: &str) -> bool {
    matches!(parse_marker(word), Ok(Some(_)))
}

/// A source word: a heredoc if it is a marker (with the body of the heredoc of that name),
/// else a path.
fn source(node: &Node, word: &str) -> CopySource {
    let Ok(Some(marker)) = parse_marker(word) else {
        return CopySource::Path(word.to_string());
    };
    // Of heredocs of the same name, the last one wins, as in BuildKit.
    let content = node
        .heredocs
        .iter()
        .rev()
        .find(|h| h.name == marker.name)
        .map(|h| h.content.clone())
        .unwrap_or_default();
    CopySource::Heredoc(Heredoc { content, ..marker })
}
