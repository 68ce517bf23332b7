//! The image commands: list, name, remove, inspect, make (import, commit), and move them
//! (save, load; pull and push are the registry's), and the `image` group. As in Docker, most
//! are both top-level (`kist tag`) and in the group (`kist image tag`): defined once, in
//! `Commands`, which both flatten.

mod build;
mod build_progress;
mod builder;
mod commit;
mod history;
mod import;
mod list;
mod remove;
mod save_load;
mod tag;

use anyhow::Result;
use clap::Subcommand;
use kist_engine::Engine;

use super::{inspect, registry};

pub use build::{BuildArgs, build};
pub use builder::{BuilderCommand, dispatch_builder, prune_build_cache};
pub use commit::{CommitArgs, commit};
pub use history::{HistoryArgs, history};
pub use import::{ImportArgs, import};
pub use list::{ImagesArgs, images};
pub use remove::{RmiArgs, rmi};
pub use save_load::{LoadArgs, SaveArgs, load, save};
pub use tag::{TagArgs, tag};

/// The image commands that are both `kist NAME` and `kist image NAME`.
#[derive(Subcommand)]
pub enum Commands {
    /// Build an image from a Dockerfile
    Build(BuildArgs),
    /// Create an image from a root filesystem tarball (plain, gzip or zstd; '-' reads stdin)
    Import(ImportArgs),
    /// Download an image from a registry
    Pull(registry::PullArgs),
    /// Upload an image to a registry
    Push(registry::PushArgs),
    /// Give an image another name: kist tag SOURCE TARGET
    Tag(TagArgs),
    /// Show the history of an image
    History(HistoryArgs),
    /// Write images to a tar archive (docker-archive or oci-archive)
    Save(SaveArgs),
    /// Load images from a tar archive that save (or docker save, skopeo) wrote
    Load(LoadArgs),
}

/// `kist image ...`: the shared commands, and those Docker has only here (or by another name
/// at the top: `ls` is `kist images`, `rm` is `kist rmi`).
#[derive(Subcommand)]
pub enum Group {
    /// List images
    #[command(visible_alias = "list")]
    Ls(ImagesArgs),
    /// Remove images (a name at a time; never one a container uses, unless forced)
    Rm(RmiArgs),
    /// Remove unused images: nameless ones, or all unused with -a
    Prune(remove::PruneArgs),
    /// Show images as JSON
    Inspect(inspect::ImageInspectArgs),
    #[command(flatten)]
    Shared(Commands),
}

/// `kist pull`, `kist image pull`...: each command's handler.
pub fn dispatch(engine: &Engine, command: Commands) -> Result<i32> {
    match command {
        Commands::Build(args) => build(engine, &args),
        Commands::Import(args) => import(engine, &args),
        Commands::Pull(args) => registry::pull(engine, &args),
        Commands::Push(args) => registry::push(engine, &args),
        Commands::Tag(args) => tag(engine, &args),
        Commands::History(args) => history(engine, &args),
        Commands::Save(args) => save(engine, &args),
        Commands::Load(args) => load(engine, &args),
    }
}

/// `kist image ...`.
pub fn dispatch_group(engine: &Engine, command: Group) -> Result<i32> {
    match command {
        Group::Ls(args) => images(engine, &args),
        Group::Rm(args) => rmi(engine, &args),
        Group::Prune(args) => remove::prune(engine, &args),
        Group::Inspect(args) => inspect::image_inspect(engine, &args),
        Group::Shared(command) => dispatch(engine, command),
    }
}
