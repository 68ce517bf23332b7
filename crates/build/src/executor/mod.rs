//! The executor: a parsed Dockerfile becomes an image in kist's store, one instruction at a
//! time. RUN steps are containers of the engine (the hardened defaults of `kist run`), their
//! write layers committed as `kist commit` does; COPY and ADD write their layer straight from
//! the context; every other instruction changes only the image config.

mod cache;
mod config;
mod context;
mod error;
mod ignore;
mod matching;
mod mounts;
mod owner;
mod run;
mod stage;
mod tree;

use std::path::PathBuf;

use kist_engine::{Engine, RunOptions};
use kist_image::{Digest, Reference};

pub use error::BuildError;
pub use mounts::cache_mounts_root;

use crate::Dockerfile;

/// What `kist build` was asked.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// The context directory; `None` for a build with no context (`kist build -`).
    pub context: Option<PathBuf>,
    /// The Dockerfile's text and the name errors give it.
    pub dockerfile: String,
    pub dockerfile_name: String,
    pub tags: Vec<String>,
    /// `--build-arg K=V` (or `K`, the value taken from kist's environment).
    pub build_args: Vec<(String, Option<String>)>,
    pub target: Option<String>,
    /// `--no-cache`: every step runs (and its result is cached anew).
    pub no_cache: bool,
    pub labels: Vec<(String, String)>,
    /// `--secret id=ID,src=FILE`: what `RUN --mount=type=secret,id=ID` mounts.
    pub secrets: Vec<(String, PathBuf)>,
    /// `-q`: RUN steps' output is not shown.
    pub quiet: bool,
    /// What a RUN step's container is made from: `kist run`'s defaults (cgroup parent,
    /// security, network); the image and command are the step's.
    pub run_template: RunOptions,
}

/// A finished build.
#[derive(Debug, Clone)]
pub struct Built {
    pub image_id: Digest,
    pub tags: Vec<Reference>,
}

/// Builds `opts`'s Dockerfile; `progress` is given each line to show (steps, RUN output is
/// the container's own).
pub fn build(
    engine: &Engine,
    opts: &BuildOptions,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Built, BuildError> {
    let tags = opts
        .tags
        .iter()
        .map(|t| {
            Reference::parse(t).map_err(|e| BuildError::Invalid(format!("invalid tag {t:?}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let file = crate::parse(&opts.dockerfile_name, &opts.dockerfile)?;
    let target = target_index(&file, opts.target.as_deref())?;
    // Held until the image is in the index: nothing collects the new layers meanwhile.
    let _writing = engine.images.lock_for_writing()?;
    let steps = std::sync::atomic::AtomicUsize::new(0);
    let mut builder = stage::Builder::new(engine, opts, &file, progress, &steps)?;
    let built = builder.stage(target)?;
    let image_id = builder.finish(built, &tags)?;
    Ok(Built { image_id, tags })
}

/// The stage `--target` names (the last one without it).
fn target_index(file: &Dockerfile, target: Option<&str>) -> Result<usize, BuildError> {
    if file.stages.is_empty() {
        return Err(BuildError::Invalid(
            "the Dockerfile has no FROM instruction".into(),
        ));
    }
    match target {
        None => Ok(file.stages.len() - 1),
        Some(name) => file.stage(name).map(|(i, _)| i).ok_or_else(|| {
            BuildError::Invalid(format!("target stage {name:?} could not be found"))
        }),
    }
}
