//! Where COPY reads from: the build context (a directory, with `.dockerignore`), or an image's
//! layers (`COPY --from`), seen merged as overlayfs would show them: the topmost layer's entry
//! wins, whiteouts hide, opaque directories stop the layers below. A walk follows symlinks
//! inside the tree's root, never out of it (`stat` of the context refuses one on the way).

use std::collections::BTreeSet;
use std::fs::{self, Metadata};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use super::error::BuildError;
use super::ignore::Ignore;

/// An entry found: the host path holding it (never a symlink on the way) and its metadata.
pub(super) struct Entry {
    pub real: PathBuf,
    pub meta: Metadata,
}

pub(super) enum Tree {
    Context {
        root: PathBuf,
        ignore: Ignore,
    },
    /// Layer directories, topmost first.
    Layers(Vec<PathBuf>),
}

/// How many symlinks a lookup follows (Linux's limit).
const MAX_LINKS: usize = 40;

impl Tree {
    /// Whether `.dockerignore` leaves `rel` out.
    pub fn excludes(&self, rel: &Path) -> bool {
        match self {
            Tree::Context { ignore, .. } => ignore.excludes(&rel.to_string_lossy()),
            Tree::Layers(_) => false,
        }
    }

    /// The entry at `rel` (the last element never followed), if there is one.
    pub fn stat(&self, rel: &Path, step: &str) -> Result<Option<Entry>, BuildError> {
        match self {
            Tree::Context { root, .. } => {
                let mut here = root.clone();
                let parts: Vec<_> = rel.iter().collect();
                for (i, part) in parts.iter().enumerate() {
                    here.push(part);
                    let Ok(meta) = fs::symlink_metadata(&here) else {
                        return Ok(None);
                    };
                    if i + 1 == parts.len() {
                        return Ok(Some(Entry { real: here, meta }));
                    }
                    if meta.file_type().is_symlink() {
                        return Err(BuildError::Invalid(format!(
                            "{step}: {} is a symlink, which kist does not follow out of its place in the context",
                            rel.display()
                        )));
                    }
                }
                let meta =
                    fs::symlink_metadata(root).map_err(BuildError::io("reading the context"))?;
                Ok(Some(Entry {
                    real: root.clone(),
                    meta,
                }))
            }
            Tree::Layers(layers) => {
                let parts = rel
                    .iter()
                    .map(|p| p.to_string_lossy().into_owned())
                    .collect();
                Ok(merged(layers, parts).map(|(entry, _)| entry))
            }
        }
    }

    /// Where `rel` leads, its symlinks followed inside the tree (the last one too when
    /// `follow_last`), as BuildKit follows a COPY's source or destination.
    pub fn walk(&self, rel: &Path, follow_last: bool) -> Walk {
        let parts = rel
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        match self {
            Tree::Context { root, .. } => walk(std::slice::from_ref(root), parts, follow_last),
            Tree::Layers(layers) => walk(layers, parts, follow_last),
        }
    }

    /// The entry `name` in the directory `dir` (found at `rel`'s parent): in the context,
    /// where `dir` was found with no symlink on its way, a look at the child alone (a walk
    /// of the 1,000 files of a context was seven stats a file with `stat` for each).
    pub fn child(
        &self,
        dir: &Entry,
        rel: &Path,
        name: &str,
        step: &str,
    ) -> Result<Option<Entry>, BuildError> {
        match self {
            Tree::Context { .. } => {
                let real = dir.real.join(name);
                Ok(fs::symlink_metadata(&real)
                    .ok()
                    .map(|meta| Entry { real, meta }))
            }
            Tree::Layers(_) => self.stat(rel, step),
        }
    }

    /// The names in the directory `rel`.
    pub fn children(&self, rel: &Path, step: &str) -> Result<Vec<String>, BuildError> {
        let dirs = match self {
            Tree::Context { root, .. } => vec![root.join(rel)],
            Tree::Layers(layers) => {
                let parts = rel
                    .iter()
                    .map(|p| p.to_string_lossy().into_owned())
                    .collect();
                merged(layers, parts)
                    .map(|(_, dirs)| dirs)
                    .unwrap_or_default()
            }
        };
        let mut names = BTreeSet::new();
        let mut hidden = BTreeSet::new();
        // Only layers have whiteouts to look for.
        let layers = matches!(self, Tree::Layers(_));
        for dir in dirs {
            let entries = fs::read_dir(&dir)
                .map_err(BuildError::io(format!("{step}: listing {}", dir.display())))?;
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if hidden.contains(&name) || names.contains(&name) {
                    continue;
                }
                if !layers {
                    names.insert(name);
                    continue;
                }
                match entry.metadata() {
                    Ok(m) if is_whiteout(&m) => {
                        hidden.insert(name);
                    }
                    Ok(_) => {
                        names.insert(name);
                    }
                    Err(_) => {}
                }
            }
        }
        Ok(names.into_iter().collect())
    }
}

/// overlayfs's mark of a deleted file: a 0:0 character device.
fn is_whiteout(meta: &Metadata) -> bool {
    meta.file_type().is_char_device() && meta.rdev() == 0
}

fn is_opaque(dir: &Path) -> bool {
    let mut value = [0u8; 4];
    matches!(rustix::fs::lgetxattr(dir, "trusted.overlay.opaque", &mut value), Ok(1) if value[0] == b'y')
}

/// `parts` looked up in the merged `layers`: the entry, and (for a directory) the layer
/// directories whose contents make it up, topmost first. The last element is not followed.
fn merged(layers: &[PathBuf], parts: Vec<String>) -> Option<(Entry, Vec<PathBuf>)> {
    match walk(layers, parts, false) {
        Walk::Found { entry, dirs, .. } => Some((entry, dirs)),
        Walk::Missing { .. } | Walk::NotADirectory(_) | Walk::Loop => None,
    }
}

/// Where a path led in a tree, its symlinks followed inside the tree's root as the kernel
/// follows them in a chroot (an absolute target starts from the root, `..` stops there).
pub(super) enum Walk {
    /// Everything is there: the entry, its resolved path, and (for a directory) the layer
    /// directories that make it up.
    Found {
        entry: Entry,
        at: Vec<String>,
        dirs: Vec<PathBuf>,
    },
    /// `at` (resolved, each element a directory) is there, `rest` is not.
    Missing { at: Vec<String>, rest: Vec<String> },
    /// This resolved path, on the way, is not a directory.
    NotADirectory(Vec<String>),
    /// Too many symlinks.
    Loop,
}

/// `parts` followed through the merged `layers` (topmost first), the last element too when
/// `follow_last`.
pub(super) fn walk(layers: &[PathBuf], mut parts: Vec<String>, follow_last: bool) -> Walk {
    let mut links = 0;
    'restart: loop {
        // The directories that make up the current directory, and its path.
        let mut dirs: Vec<PathBuf> = layers.to_vec();
        let mut at: Vec<String> = Vec::new();
        let mut i = 0;
        loop {
            let Some(part) = parts.get(i).cloned() else {
                let Some(real) = dirs.first().cloned() else {
                    return Walk::Missing {
                        at,
                        rest: Vec::new(),
                    };
                };
                let Ok(meta) = fs::symlink_metadata(&real) else {
                    return Walk::Missing {
                        at,
                        rest: Vec::new(),
                    };
                };
                let entry = Entry { real, meta };
                return Walk::Found { entry, at, dirs };
            };
            match part.as_str() {
                "" | "." => {
                    i += 1;
                    continue;
                }
                ".." => {
                    // Back up from the root: the rest, resolved again from there.
                    at.pop();
                    let rest = parts[i + 1..].to_vec();
                    parts = at.iter().cloned().chain(rest).collect();
                    continue 'restart;
                }
                _ => {}
            }
            let found = dirs.iter().find_map(|d| {
                let path = d.join(&part);
                fs::symlink_metadata(&path).ok().map(|m| (path, m))
            });
            let Some((real, meta)) = found.filter(|(_, m)| !is_whiteout(m)) else {
                let rest = &parts[i..];
                if rest.iter().any(|p| p == "..") {
                    // A `..` after what is missing (from a symlink's target) may lead back
                    // to what exists: the path, taken lexically from the root, again.
                    parts = lexical(at.iter().chain(rest));
                    continue 'restart;
                }
                return Walk::Missing {
                    at,
                    rest: lexical(rest.iter()),
                };
            };
            let last = i + 1 == parts.len();
            if meta.file_type().is_symlink() && (!last || follow_last) {
                links += 1;
                if links > MAX_LINKS {
                    return Walk::Loop;
                }
                let Ok(target) = fs::read_link(&real) else {
                    return Walk::Loop;
                };
                let target = target.to_string_lossy().into_owned();
                let rest = parts[i + 1..].to_vec();
                let base: Vec<String> = if target.starts_with('/') {
                    Vec::new()
                } else {
                    at.clone()
                };
                parts = base
                    .into_iter()
                    .chain(target.split('/').map(String::from))
                    .chain(rest)
                    .collect();
                continue 'restart;
            }
            at.push(part.clone());
            if !meta.is_dir() {
                return if last {
                    let entry = Entry { real, meta };
                    Walk::Found {
                        entry,
                        at,
                        dirs: Vec::new(),
                    }
                } else {
                    Walk::NotADirectory(at)
                };
            }
            // The layers below keep contributing to this directory while theirs is a
            // directory too and no layer above made it opaque.
            let mut below = Vec::new();
            for d in &dirs {
                let path = d.join(&part);
                match fs::symlink_metadata(&path) {
                    Ok(m) if m.is_dir() => {
                        let opaque = is_opaque(&path);
                        below.push(path);
                        if opaque {
                            break;
                        }
                    }
                    Ok(_) if !below.is_empty() => break,
                    _ => {}
                }
            }
            dirs = below;
            i += 1;
        }
    }
}

/// A path's elements with `.` and `..` taken as written, not followed (`..` stops at the
/// root), as Go's `filepath.Clean` takes them.
pub(super) fn lexical<'p>(parts: impl Iterator<Item = &'p String>) -> Vec<String> {
    let mut left: Vec<String> = Vec::new();
    for part in parts {
        match part.as_str() {
            "" | "." => {}
            ".." => {
                left.pop();
            }
            p => left.push(p.to_string()),
        }
    }
    left
}
