//! `--chown=user[:group]` (and the USER a WORKDIR makes its directory for): numbers as they
//! are, names looked up in the stage's own `/etc/passwd` and `/etc/group` (the topmost layer
//! that has the file).

use std::path::Path;

use super::error::BuildError;
use super::stage::{Builder, StageState, layer_dirs};
use super::tree::Tree;

/// The uid and gid `spec` names. A user without a group takes the user's primary group when
/// named, or the same number when numeric (as BuildKit does). `source` is where the spec
/// comes from, for messages (`--chown=x`, `USER x`).
pub(super) fn resolve(
    builder: &Builder,
    state: &StageState,
    spec: &str,
    step: &str,
    source: &str,
) -> Result<(u32, u32), BuildError> {
    let (user, group) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let unknown = |what: &str, name: &str| {
        BuildError::Invalid(format!("{step}: {source}: no {what} {name:?} in the image"))
    };
    let (uid, primary) = match user.parse::<u32>() {
        Ok(n) => (n, n),
        Err(_) => {
            let passwd = read_file(builder, state, "etc/passwd");
            lookup(&passwd, user, 2, 3).ok_or_else(|| unknown("user", user))?
        }
    };
    let gid = match group {
        None => primary,
        Some(g) => match g.parse::<u32>() {
            Ok(n) => n,
            Err(_) => {
                let groups = read_file(builder, state, "etc/group");
                lookup(&groups, g, 2, 2)
                    .ok_or_else(|| unknown("group", g))?
                    .0
            }
        },
    };
    Ok((uid, gid))
}

/// The line of `name` in a colon-separated file: its fields `a` and `b` as numbers.
fn lookup(text: &str, name: &str, a: usize, b: usize) -> Option<(u32, u32)> {
    text.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        if fields.first() != Some(&name) {
            return None;
        }
        Some((fields.get(a)?.parse().ok()?, fields.get(b)?.parse().ok()?))
    })
}

/// `path` in the stage's filesystem, empty when it has none.
fn read_file(builder: &Builder, state: &StageState, path: &str) -> String {
    let tree = Tree::Layers(layer_dirs(builder.engine, &state.config));
    match tree.stat(Path::new(path), "--chown") {
        Ok(Some(e)) if e.meta.is_file() => std::fs::read_to_string(&e.real).unwrap_or_default(),
        _ => String::new(),
    }
}
