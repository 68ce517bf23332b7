//! The `system` group (df, info, prune, boot), `version`, and the hidden `__supervise`: kist's
//! own upkeep and what it tells of itself.

mod df;
mod events;
mod info;
mod version;

use std::path::Path;

use anyhow::Result;
use clap::{Args, Subcommand};
use kist_engine::{ContainerState, Engine, RemoveMode, lifecycle};

use crate::flags;

pub use events::{EventsArgs, events};
pub use info::{InfoArgs, info};
pub use version::{VersionArgs, version};

#[derive(Subcommand)]
pub enum SystemCommand {
    /// Disk usage of images, containers and volumes
    Df(df::DfArgs),
    /// Show the host and the store: containers, images, storage, cgroups, kernel, OS
    Info(InfoArgs),
    /// Clean up after killed commands, and remove stopped containers and unused volumes
    Prune(PruneArgs),
    /// Start the containers whose restart policy wants them running (for a unit at boot)
    Boot,
    /// Show what happens to containers, images and volumes, as it happens
    Events(EventsArgs),
}

#[derive(Args)]
pub struct PruneArgs {
    #[command(flatten)]
    force: flags::Force,
    /// Remove unused anonymous volumes too
    #[arg(long)]
    volumes: bool,
}

// The container's id; `run -d` and `start` pass it.
#[derive(Args)]
pub struct SuperviseArgs {
    id: String,
    // `run -it`: start the program once a client attached to the container's terminal.
    #[arg(long = "wait-for-attach", hide = true)]
    wait_for_attach: bool,
}

/// `kist system ...`.
pub fn dispatch(engine: &Engine, command: SystemCommand) -> Result<i32> {
    match command {
        SystemCommand::Df(args) => df::df(engine, &args),
        SystemCommand::Info(args) => info(engine, &args),
        SystemCommand::Prune(args) => prune(engine, &args),
        SystemCommand::Boot => boot(engine),
        SystemCommand::Events(args) => events(engine, &args),
    }
}

/// `kist __supervise ID`: the supervisor opens the store itself (and keeps it closed while it
/// waits), so it gets the paths, not an engine.
pub fn supervise(root: &Path, runroot: Option<&Path>, args: &SuperviseArgs) -> i32 {
    kist_engine::supervisor::supervise(root, runroot, &args.id, args.wait_for_attach)
}

/// Opening the engine already cleaned up after killed commands; this also removes stopped
/// containers and the user networks no container is on (and unused volumes with --volumes),
/// as `docker system prune` does.
fn prune(engine: &Engine, args: &PruneArgs) -> Result<i32> {
    let mut warning = String::from(
        "This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n  - all build cache\n  - what killed commands left behind",
    );
    if args.volumes {
        warning.push_str("\n  - all anonymous volumes not used by at least one container");
    }
    if !args.force.on && !crate::confirm::confirmed(&format!("{warning}\n")) {
        return Ok(0);
    }
    for id in kist_engine::remove_orphan_dirs(engine)? {
        outln!("Deleted leftover files of container {id}");
    }
    for c in engine.store.containers()? {
        if c.state == ContainerState::Exited {
            kist_engine::remove_container(engine, &c, RemoveMode::IfStopped, false)?;
            outln!("Deleted container {}", c.id);
        }
    }
    for n in kist_engine::network::manage::prune(engine)? {
        outln!("Deleted network {n}");
    }
    if args.volumes {
        for v in kist_engine::volumes::prune(engine, false)? {
            outln!("Deleted volume {v}");
        }
    }
    let (entries, reclaimed) = super::image::prune_build_cache(engine)?;
    if entries > 0 {
        outln!("Deleted build cache objects: {entries}");
        outln!(
            "Total reclaimed space: {}",
            crate::format::human_size(reclaimed)
        );
    }
    Ok(0)
}

/// Prints the containers started; one that fails is a line on stderr and makes the status 1.
fn boot(engine: &Engine) -> Result<i32> {
    let report = lifecycle::boot(engine)?;
    report.started.iter().for_each(|n| outln!("{n}"));
    for (name, e) in &report.failed {
        eprintln!("kist: starting {name}: {e}");
    }
    Ok(if report.failed.is_empty() { 0 } else { 1 })
}
