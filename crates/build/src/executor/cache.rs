//! The build cache: each step's key is the key of the step before it (so the parent's layers
//! and config, back to the FROM image's id), the instruction as written, the variables in
//! scope (ARG and ENV values, so the build args it can use) and, for COPY and ADD, the digest
//! of the sources' content and metadata after `.dockerignore`. A hit gives back the config,
//! the layers and the ARGs the step left, without running it. Entries live in the image store
//! (`build-cache/`), which keeps their layers until `builder prune`.

use kist_image::{Descriptor, Digest, ImageStore};
use serde_json::{Value, json};

use super::stage::StageState;

/// The key of a step after `parent`, made of `parts`.
pub(super) fn key(parent: &Digest, parts: Value) -> Digest {
    let text = json!([parent.to_string(), parts]).to_string();
    Digest::of_bytes(text.as_bytes())
}

/// The state the step with `key` left, when it is cached and its layers are all still there.
pub(super) fn lookup(store: &ImageStore, key: &Digest) -> Option<StageState> {
    let entry = store.cached_step(key)?;
    let config = entry.get("config")?.clone();
    let layers: Vec<Descriptor> = serde_json::from_value(entry.get("layers")?.clone()).ok()?;
    let args: Vec<(String, String)> = serde_json::from_value(entry.get("args")?.clone()).ok()?;
    let dirs = super::stage::layer_chain(&config);
    let present = layers
        .iter()
        .all(|l| Digest::parse(&l.digest).is_ok_and(|d| store.blob_path(&d).exists()))
        && dirs
            .iter()
            .all(|c| store.layers_root().join(c.hex()).is_dir());
    if !present || dirs.len() != layers.len() {
        return None;
    }
    Some(StageState {
        chain: dirs.last().cloned(),
        config,
        layers,
        args,
        key: key.clone(),
    })
}

/// Remembers what the step with `key` left.
pub(super) fn save(store: &ImageStore, state: &StageState) -> kist_image::Result<()> {
    let entry = json!({
        "config": state.config,
        "layers": state.layers,
        "args": state.args,
    });
    store.cache_step(&state.key, &entry)
}
