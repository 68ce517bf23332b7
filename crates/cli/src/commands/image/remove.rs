//! Removing images: `kist rmi` a name at a time, `kist image prune` the unused ones.

use anyhow::Result;
use clap::Args;
use kist_engine::Engine;

use crate::{flags, format};

// rmi's -f takes names from images in use too.
#[derive(Args)]
#[command(mut_arg("force", |a| a.help("Remove the names even when a container uses the image")))]
pub struct RmiArgs {
    #[command(flatten)]
    force: flags::Force,
    /// Images, by name or ID
    #[arg(required = true, value_name = "IMAGE")]
    images: Vec<String>,
}

#[derive(Args)]
#[command(mut_arg("all", |a| a.help("Remove all unused images, not only nameless ones")))]
pub struct PruneArgs {
    #[command(flatten)]
    all: flags::All,
    #[command(flatten)]
    force: flags::Force,
}

pub fn rmi(engine: &Engine, args: &RmiArgs) -> Result<i32> {
    let mut code = 0;
    for name in &args.images {
        match kist_engine::images::remove(engine, name, args.force.on) {
            Ok(removed) => {
                for line in removed.lines {
                    outln!("{line}");
                }
            }
            Err(e) => {
                eprintln!("kist: {e}");
                code = 1;
            }
        }
    }
    Ok(code)
}

/// Asks first, as Docker does, unless forced.
pub fn prune(engine: &Engine, args: &PruneArgs) -> Result<i32> {
    let (all, force) = (args.all.on, args.force.on);
    let what = if all {
        "all images without at least one container associated to them"
    } else {
        "all dangling images"
    };
    if !force && !crate::confirm::confirmed(&format!("This will remove {what}.")) {
        return Ok(0);
    }
    let removed = kist_engine::images::prune(engine, all)?;
    if !removed.lines.is_empty() {
        outln!("Deleted Images:");
        for line in &removed.lines {
            outln!("{line}");
        }
        outln!();
    }
    outln!(
        "Total reclaimed space: {}",
        format::human_size(removed.reclaimed)
    );
    Ok(0)
}
