//! The executor: a parsed Dockerfile becomes an image in kist's store, one instruction at a
//! time. RUN steps are containers of the engine (the hardened defaults of `kist run`), their
//! write layers committed as `kist commit` does; COPY and ADD write their layer straight from
//! the context; every other instruction changes only the image config.

mod cache;
mod cancel;
mod config;
mod context;
mod dest;
mod error;
mod ignore;
mod matching;
mod mounts;
mod owner;
mod run;
mod stage;
mod tree;

use std::path::PathBuf;

use kist_engine::{Engine, NetworkMode, RunOptions};
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
    /// `--network none|host` for every RUN step without a `--network` of its own; `None`
    /// (`--network default`) leaves the template's, kist's default network.
    pub network: Option<NetworkMode>,
    /// `--pull`: when the images FROM (and `--from`) name are pulled.
    pub pull: PullPolicy,
    /// `--allow`: what RUN steps may do beyond the sandbox.
    pub allow: Entitlements,
}

/// `--allow`: Docker's entitlements, which a RUN step needs to leave the sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Entitlements {
    /// `network.host`: `RUN --network=host` (given too by the build's `--network host`).
    pub network_host: bool,
    /// `security.insecure`: `RUN --security=insecure`, privileged.
    pub security_insecure: bool,
}

impl Entitlements {
    /// Adds the entitlement `name`; `Err` names the ones there are.
    pub fn allow(&mut self, name: &str) -> Result<(), String> {
        match name {
            "network.host" => self.network_host = true,
            "security.insecure" => self.security_insecure = true,
            other => {
                return Err(format!(
                    "{other:?} is not an entitlement: kist build takes network.host or security.insecure"
                ));
            }
        }
        Ok(())
    }
}

/// `--pull`: when an image a build starts from is pulled, as `kist run --pull` decides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PullPolicy {
    /// Only when it is not in the store.
    #[default]
    Missing,
    /// Every time, for the registry's latest.
    Always,
    /// Never: a missing image fails the build.
    Never,
}

/// What the build says as it goes, for the caller to show as it likes (plain lines, or live
/// bars on a terminal).
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// Step `n` starts: its stage label and instruction (`[base 2/6] COPY . .`).
    Step { n: usize, title: &'a str },
    /// Step `n` was taken from the cache.
    Cached { n: usize },
    /// Step `n` was carried out in `seconds`.
    Done { n: usize, seconds: f64 },
    /// Any other line: the image written, its names.
    Line(&'a str),
}

impl Event<'_> {
    /// The event as a plain line, BuildKit's plain progress.
    pub fn plain(&self) -> String {
        match self {
            Event::Step { n, title } => format!("#{n} {title}"),
            Event::Cached { n } => format!("#{n} CACHED"),
            Event::Done { n, seconds } => format!("#{n} DONE {seconds:.1}s"),
            Event::Line(text) => text.to_string(),
        }
    }
}

/// The caller's side of a build: where its events go, and how a missing image is pulled
/// (the CLI pulls as `kist run` does). Stages build on threads of their own, each with its
/// own engine, which `pull` is given.
pub trait Frontend: Sync {
    fn event(&self, event: Event<'_>);
    /// Pulls `image` into `engine`'s store; the error is the line to show.
    fn pull(&self, engine: &Engine, image: &str) -> Result<(), String>;
}

/// A finished build.
#[derive(Debug, Clone)]
pub struct Built {
    pub image_id: Digest,
    pub tags: Vec<Reference>,
}

/// Builds `opts`'s Dockerfile; `frontend` is told each step (RUN output is the container's
/// own, on kist's standard streams).
pub fn build(
    engine: &Engine,
    opts: &BuildOptions,
    frontend: &dyn Frontend,
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
    let cancel = cancel::Cancel::default();
    let shared = stage::Shared {
        steps: &steps,
        cancel: &cancel,
    };
    let mut builder = stage::Builder::new(engine, opts, &file, frontend, shared)?;
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
