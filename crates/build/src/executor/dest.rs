//! Where COPY, ADD and WORKDIR write in the stage: the path resolved in the stage's files as
//! BuildKit resolves it (symlinks followed inside the image's root), the directories on the
//! way that are there (written into the layer as they are, so that the layer changes nothing
//! of them) and the ones the step makes: 0755, owned by the `--chown` user (COPY, ADD) or the
//! USER (WORKDIR), as BuildKit's MkdirAll makes them.

use std::fs::Metadata;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use kist_image::NewLayer;

use super::error::BuildError;
use super::stage::{Builder, StageState, layer_dirs};
use super::tree::{Tree, Walk, lexical};
use super::{config, owner};

/// A path of the stage, resolved.
pub(super) struct Place {
    /// Its elements, no symlink among them.
    pub parts: Vec<String>,
    /// The metadata of the elements that exist, from the first (all directories but,
    /// perhaps, the last).
    found: Vec<Metadata>,
}

/// A directory on the way to where a step writes.
pub(super) struct Dir {
    /// Its path, relative to the root.
    path: String,
    /// Its metadata, when the stage has it already.
    existing: Option<Metadata>,
}

impl Place {
    /// `path` (absolute) in the stage's files, the last element followed too.
    pub fn resolve(
        builder: &Builder,
        state: &StageState,
        path: &str,
        step: &str,
    ) -> Result<Place, BuildError> {
        let tree = Tree::Layers(layer_dirs(builder.engine, &state.config));
        let written: Vec<String> = path.split('/').map(String::from).collect();
        let rel: PathBuf = lexical(written.iter()).iter().collect();
        let (parts, there) = match tree.walk(&rel, true) {
            Walk::Found { at, .. } => (at.clone(), at.len()),
            Walk::Missing { at, rest, .. } => {
                let there = at.len();
                (at.into_iter().chain(rest).collect(), there)
            }
            Walk::NotADirectory(at) => {
                return Err(BuildError::Invalid(format!(
                    "{step}: {path}: /{} is not a directory",
                    at.join("/")
                )));
            }
            Walk::Loop => {
                return Err(BuildError::Invalid(format!(
                    "{step}: {path}: too many levels of symbolic links"
                )));
            }
        };
        let mut found = Vec::new();
        for n in 1..=there {
            let prefix: PathBuf = parts[..n].iter().collect();
            match tree.stat(&prefix, step)? {
                Some(entry) => found.push(entry.meta),
                None => break,
            }
        }
        Ok(Place { parts, found })
    }

    /// The resolved path, absolute.
    pub fn path(&self) -> String {
        format!("/{}", self.parts.join("/"))
    }

    /// What is at the path now, if anything.
    pub fn existing(&self) -> Option<&Metadata> {
        (self.found.len() == self.parts.len())
            .then(|| self.found.last())
            .flatten()
    }

    pub fn is_dir(&self) -> bool {
        self.existing().is_some_and(Metadata::is_dir) || self.parts.is_empty()
    }

    /// The directories down to the path itself (`with_self`) or to its parent.
    pub fn dirs(&self, with_self: bool) -> Vec<Dir> {
        let end = match with_self {
            true => self.parts.len(),
            false => self.parts.len().saturating_sub(1),
        };
        (1..=end)
            .map(|n| Dir {
                path: self.parts[..n].join("/"),
                existing: self.found.get(n - 1).cloned(),
            })
            .collect()
    }
}

/// Writes `dirs` into a layer's tar: those there as they are, the others made 0755 and
/// owned by `owner`; times left out (`zero_mtime`) for a cache key.
pub(super) fn append_dirs<W: Write>(
    tar: &mut tar::Builder<W>,
    dirs: &[Dir],
    owner: (u32, u32),
    zero_mtime: bool,
    step: &str,
) -> Result<(), BuildError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    for dir in dirs {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Directory);
        header.set_size(0);
        let (mode, uid, gid, mtime) = match &dir.existing {
            Some(m) => (
                m.mode() & 0o7777,
                m.uid(),
                m.gid(),
                u64::try_from(m.mtime()).unwrap_or(0),
            ),
            None => (0o755, owner.0, owner.1, now),
        };
        header.set_mode(mode);
        header.set_uid(u64::from(uid));
        header.set_gid(u64::from(gid));
        header.set_mtime(if zero_mtime { 0 } else { mtime });
        tar.append_data(&mut header, format!("{}/", dir.path), std::io::empty())
            .map_err(BuildError::io(format!("{step}: writing /{}", dir.path)))?;
    }
    Ok(())
}

/// WORKDIR `dir`: the directory made, with its missing parents, owned by the USER in force
/// (BuildKit's Mkdir with parents); `None` when it is there already (or is the root), as
/// nothing changes then.
pub(super) fn workdir(
    builder: &Builder,
    state: &StageState,
    dir: &str,
    step: &str,
) -> Result<Option<NewLayer>, BuildError> {
    if Path::new(dir) == Path::new("/") {
        return Ok(None);
    }
    // As BuildKit does, the USER is looked up whether or not anything is made.
    let user = config::user(&state.config);
    let owner = match user.is_empty() {
        true => (0, 0),
        false => owner::resolve(builder, state, &user, step, &format!("USER {user}"))?,
    };
    let place = Place::resolve(builder, state, dir, step)?;
    if place.is_dir() {
        return Ok(None);
    }
    if place.existing().is_some() {
        return Err(BuildError::Invalid(format!(
            "{step}: {} is not a directory",
            place.path()
        )));
    }
    let mut tar = tar::Builder::new(Vec::new());
    append_dirs(&mut tar, &place.dirs(true), owner, false, step)?;
    let bytes = tar
        .into_inner()
        .map_err(BuildError::io(format!("{step}: writing the layer")))?;
    let layer = kist_image::add_layer(&builder.engine.images, &bytes[..], state.chain.as_ref())?;
    Ok(Some(layer))
}
