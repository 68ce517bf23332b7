//! The image commands: list, name, remove, inspect, make (import, commit), and move them
//! (save, load; pull and push are the registry's), and the `image` group.

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

pub use commit::{CommitArgs, commit};
pub use history::{HistoryArgs, history};
pub use import::{ImportArgs, import};
pub use list::{ImagesArgs, images};
pub use remove::{RmiArgs, rmi};
pub use save_load::{LoadArgs, SaveArgs, load, save};
pub use tag::{TagArgs, tag};

#[derive(Subcommand)]
pub enum ImageCommand {
    /// List images
    #[command(alias = "list")]
    Ls(ImagesArgs),
    /// Remove images
    Rm(RmiArgs),
    /// Remove unused images: nameless ones, or all unused with -a
    Prune(remove::PruneArgs),
    /// Show the history of an image
    History(HistoryArgs),
    /// Give an image another name
    Tag(TagArgs),
    /// Show images as JSON
    Inspect(inspect::ImageInspectArgs),
    /// Download an image from a registry
    Pull(registry::PullArgs),
    /// Upload an image to a registry
    Push(registry::PushArgs),
    /// Write images to a tar archive (docker-archive or oci-archive)
    Save(SaveArgs),
    /// Load images from a tar archive
    Load(LoadArgs),
}

/// `kist image ...`: most are the top-level commands under another name, as in Docker.
pub fn dispatch(engine: &Engine, command: ImageCommand) -> Result<i32> {
    match command {
        ImageCommand::Ls(args) => images(engine, &args),
        ImageCommand::Rm(args) => rmi(engine, &args),
        ImageCommand::Prune(args) => remove::prune(engine, &args),
        ImageCommand::History(args) => history(engine, &args),
        ImageCommand::Tag(args) => tag(engine, &args),
        ImageCommand::Inspect(args) => inspect::image_inspect(engine, &args),
        ImageCommand::Pull(args) => registry::pull(engine, &args),
        ImageCommand::Push(args) => registry::push(engine, &args),
        ImageCommand::Save(args) => save(engine, &args),
        ImageCommand::Load(args) => load(engine, &args),
    }
}
