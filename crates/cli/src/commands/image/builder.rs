//! `kist builder prune`: the build cache's entries removed, and the layers only they held.

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use kist_engine::Engine;

use crate::flags;

#[derive(Subcommand)]
pub enum BuilderCommand {
    /// Remove the build cache
    Prune(BuilderPruneArgs),
}

#[derive(Args)]
pub struct BuilderPruneArgs {
    #[command(flatten)]
    force: flags::Force,
    /// Remove all of the build cache (kist keeps no other kind: the same as without)
    #[arg(short, long)]
    all: bool,
}

pub fn dispatch_builder(engine: &Engine, command: BuilderCommand) -> Result<i32> {
    match command {
        BuilderCommand::Prune(args) => {
            let _ = args.all;
            let warning = "WARNING! This will remove all dangling build cache. Are you sure you want to continue?";
            if !args.force.on && !crate::confirm::confirmed(&format!("{warning}\n")) {
                return Ok(0);
            }
            let (_, reclaimed) = prune_build_cache(engine)?;
            outln!(
                "Total reclaimed space: {}",
                crate::format::human_size(reclaimed)
            );
            Ok(0)
        }
    }
}

/// Clears the build cache and collects what it alone held; the entries removed and the
/// bytes freed.
pub fn prune_build_cache(engine: &Engine) -> Result<(usize, u64)> {
    let lock = engine.images.lock_for_removal()?;
    let entries = engine.images.clear_build_cache()?;
    // RUN --mount=type=cache's directories go too, as Docker's do.
    let mounts = kist_build::executor::cache_mounts_root(&engine.layout.root);
    match std::fs::remove_dir_all(&mounts) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(e).with_context(|| format!("removing {}", mounts.display()));
        }
        _ => {}
    }
    Ok((entries, engine.images.collect_garbage_locked(&lock)?.bytes))
}
