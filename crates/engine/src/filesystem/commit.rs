//! `kist commit`: a container's write layer becomes a new image on top of its image. The layer is
//! the overlayfs upper directory only (not a flattened copy), its whiteouts turned into OCI ones;
//! a running container is frozen while it is read, so the layer is one moment of it.

use std::io::Read;

use kist_image::{Digest, LayerCommit, Reference, TreeKind};

use crate::Engine;
use crate::container::freeze::Freeze;
use crate::error::{Error, Result};
pub use crate::filesystem::image_changes::apply_change;
use crate::filesystem::image_changes::apply_container_settings;
use crate::state::container_dirs::ContainerDirs;
use crate::state::store::{ContainerRecord, ContainerState};

#[derive(Debug, Default, Clone)]
pub struct CommitOptions {
    pub message: Option<String>,
    pub author: Option<String>,
    /// Dockerfile instructions applied to the new image's config (`-c 'CMD ["sh"]'`).
    pub changes: Vec<String>,
    /// Freeze a running container while its layer is read (Docker's default).
    pub pause: bool,
}

/// Commits `c` as a new image, named `reference` if given; returns the image id.
pub fn commit(
    engine: &Engine,
    c: &ContainerRecord,
    reference: Option<&str>,
    opts: &CommitOptions,
) -> Result<Digest> {
    let reference = reference.map(Reference::parse).transpose()?;
    let base = engine
        .images
        .resolve(&c.image_id)
        .map_err(|source| Error::ImageGone {
            container: c.name.clone(),
            image: c.image.clone(),
            source,
        })?;
    let mut config = base.config.config().clone().unwrap_or_default();
    apply_container_settings(&mut config, c, &base);
    for change in &opts.changes {
        apply_change(&mut config, change)?;
    }
    let commit = LayerCommit {
        created_by: format!("kist commit {}", c.name),
        comment: opts.message.clone(),
        author: opts.author.clone(),
        config: Some(config),
    };
    let _frozen: Option<Freeze> = match (opts.pause, c.state == ContainerState::Running) {
        (true, true) => Freeze::of(engine, c, "commit:frozen")?,
        _ => None,
    };
    let outcome = with_write_layer(engine, c, |reader| {
        kist_image::extend_image(&engine.images, &base, reader, &commit, reference.as_ref())
    })?;
    Ok(outcome.image_id)
}

/// Hands `c`'s write layer, as a layer tar stream (OCI whiteouts), to `store`, which reads it
/// to its end: `commit`'s layer, and a build's RUN step's. The tree is written on another
/// thread into a pipe, so no file is copied twice.
pub fn with_write_layer<T>(
    engine: &Engine,
    c: &ContainerRecord,
    store: impl FnOnce(&mut dyn Read) -> kist_image::Result<T>,
) -> Result<T> {
    let upper = ContainerDirs::of(&engine.layout, &c.id).upper;
    let (reader, writer) = std::io::pipe().map_err(|e| Error::Io {
        context: "making a pipe for",
        path: upper.clone(),
        source: e,
    })?;
    std::thread::scope(|s| {
        // The writer is dropped when the tree is written: the reader's end of file.
        let tar =
            s.spawn(|| kist_image::write_tree(&upper, TreeKind::OverlayUpper, writer).map(drop));
        let stored = store(&mut DrainOnDrop(reader));
        let written = tar.join().map_err(|_| Error::Panicked {
            what: "layer writer",
        })?;
        // The writer's error says more than the reader's "truncated archive".
        written?;
        stored.map_err(Error::from)
    })
}

/// A pipe's read end that, dropped early (the store refused the layer), still lets the writer
/// finish instead of blocking on a full pipe.
struct DrainOnDrop(std::io::PipeReader);

impl Read for DrainOnDrop {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

impl Drop for DrainOnDrop {
    fn drop(&mut self) {
        let _ = std::io::copy(&mut self.0, &mut std::io::sink());
    }
}
