//! Removing images as Docker does: a name at a time, never an image a container needs.

use std::collections::HashSet;

use kist_image::{Digest, Reference};

use crate::Engine;
use crate::error::{Error, Result};
use crate::state::store::ContainerState;

/// What a removal did, in Docker's words: "Untagged: NAME", "Deleted: sha256:…".
#[derive(Debug, Default)]
pub struct Removed {
    pub lines: Vec<String>,
    pub reclaimed: u64,
}

/// The containers (id, running) that use the image `id`.
fn users(engine: &Engine, id: &Digest) -> Result<Vec<(String, bool)>> {
    Ok(engine
        .store
        .containers()?
        .into_iter()
        .filter(|c| c.image_id == id.to_string())
        .map(|c| (c.id, c.state == ContainerState::Running))
        .collect())
}

/// `rmi [-f] NAME|ID`.
pub fn remove(engine: &Engine, name: &str, force: bool) -> Result<Removed> {
    // From the check of who uses the image to the end: no run may take it meanwhile.
    let lock = engine.images.lock_for_removal()?;
    let image = engine.images.resolve(name)?;
    let summaries = engine.images.list()?;
    let names: Vec<Reference> = summaries
        .iter()
        .filter(|s| s.id == image.id)
        .filter_map(|s| s.reference.clone())
        .collect();
    let by_name = Reference::parse(name).ok().filter(|r| names.contains(r));
    let users = users(engine, &image.id)?;
    let short = image.id.short().to_string();
    let mut removed = Removed::default();
    if let Some(reference) = &by_name
        && (names.len() > 1 || (force && !users.is_empty()))
    {
        // Another name keeps the image, or a container does: only this name goes.
        engine.images.untag(reference)?;
        untagged(engine, &mut removed, &image.id, reference);
        return Ok(removed);
    }
    if by_name.is_none() && names.len() > 1 && !force {
        return Err(Error::ImageHasNames {
            image: short,
            names: names.iter().map(|r| r.familiar()).collect(),
        });
    }
    if let Some((container, running)) = users.first() {
        let container = crate::state::ids::short(container).to_string();
        if *running && by_name.is_none() {
            return Err(Error::ImageUsedByRunning {
                image: short,
                container,
            });
        }
        if !force {
            return Err(Error::ImageInUse {
                reference: name.to_string(),
                image: short,
                container,
                running: *running,
            });
        }
        // Forced: the names go, the image stays (nameless) while the container needs it.
        for r in &names {
            engine.images.untag(r)?;
            untagged(engine, &mut removed, &image.id, r);
        }
        return Ok(removed);
    }
    for r in &names {
        untagged(engine, &mut removed, &image.id, r);
    }
    engine.images.remove_image(&image.id)?;
    removed.lines.push(format!("Deleted: {}", image.id));
    deleted(engine, &image.id);
    removed.reclaimed = engine.images.collect_garbage_locked(&lock)?.bytes;
    Ok(removed)
}

/// Records "Untagged: NAME" and its event.
fn untagged(engine: &Engine, removed: &mut Removed, id: &Digest, r: &Reference) {
    removed.lines.push(format!("Untagged: {}", r.familiar()));
    event(engine, "untag", id, &r.familiar());
}

fn deleted(engine: &Engine, id: &Digest) {
    event(engine, "delete", id, &id.to_string());
}

fn event(engine: &Engine, action: &str, id: &Digest, name: &str) {
    crate::state::events::image(&engine.layout.root, action, &id.to_string(), name);
}

/// `image prune [-a]`: nameless images (all images with `all`) that no container uses.
pub fn prune(engine: &Engine, all: bool) -> Result<Removed> {
    let lock = engine.images.lock_for_removal()?;
    let in_use: HashSet<String> = engine
        .store
        .containers()?
        .into_iter()
        .map(|c| c.image_id)
        .collect();
    let summaries = engine.images.list()?;
    let mut removed = Removed::default();
    let mut done: HashSet<&Digest> = HashSet::new();
    for s in &summaries {
        if in_use.contains(&s.id.to_string()) || !done.insert(&s.id) {
            continue;
        }
        let names: Vec<&Reference> = summaries
            .iter()
            .filter(|o| o.id == s.id)
            .filter_map(|o| o.reference.as_ref())
            .collect();
        if !names.is_empty() && !all {
            continue;
        }
        for r in names {
            removed.lines.push(format!("untagged: {}", r.familiar()));
            event(engine, "untag", &s.id, &r.familiar());
        }
        engine.images.remove_image(&s.id)?;
        removed.lines.push(format!("deleted: {}", s.id));
        deleted(engine, &s.id);
    }
    removed.reclaimed = engine.images.collect_garbage_locked(&lock)?.bytes;
    Ok(removed)
}

/// A row of `history`, newest first.
#[derive(Debug, Clone)]
pub struct HistoryRow {
    /// The image id on the newest row, None ("<missing>") below it.
    pub id: Option<Digest>,
    pub created: Option<String>,
    pub created_by: String,
    pub size: u64,
    pub comment: String,
}

/// `history IMAGE`: the image config's history, each layer-making step with its layer's size.
pub fn history(engine: &Engine, name: &str) -> Result<Vec<HistoryRow>> {
    let image = engine.images.resolve(name)?;
    let sizes = engine.images.layer_sizes(&image);
    let mut layer = 0;
    let mut rows: Vec<HistoryRow> = Vec::new();
    for h in image.config.history().clone().unwrap_or_default() {
        let empty = h.empty_layer().unwrap_or(false);
        let size = if empty {
            0
        } else {
            layer += 1;
            sizes.get(layer - 1).copied().unwrap_or(0)
        };
        rows.push(HistoryRow {
            id: None,
            created: h.created().clone(),
            created_by: h.created_by().clone().unwrap_or_default(),
            size,
            comment: h.comment().clone().unwrap_or_default(),
        });
    }
    rows.reverse();
    if let Some(first) = rows.first_mut() {
        first.id = Some(image.id.clone());
    }
    Ok(rows)
}
