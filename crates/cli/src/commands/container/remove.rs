//! Removing containers: `kist rm` by name, `kist container prune` all stopped ones.

use anyhow::Result;
use clap::Args;
use kist_engine::{ContainerState, Engine, RemoveMode};

use super::each;
use crate::flags;

#[derive(Args)]
#[command(mut_arg("force", |a| a.help("Force the removal of a running container (uses SIGKILL)")))]
pub struct RmArgs {
    #[command(flatten)]
    force: flags::Force,
    /// Remove the anonymous volumes of the container too
    #[arg(short, long)]
    volumes: bool,
    #[command(flatten)]
    containers: flags::Containers,
}

#[derive(Args)]
pub struct PruneArgs {
    #[command(flatten)]
    force: flags::Force,
}

pub fn rm(engine: &Engine, args: &RmArgs) -> Result<i32> {
    let mode = if args.force.on {
        RemoveMode::Force
    } else {
        RemoveMode::IfStopped
    };
    each(engine, &args.containers.names, |c| {
        kist_engine::remove_container(engine, c, mode, args.volumes).map(|_| None)
    })
}

/// Removes the containers that are not running, once the user says yes (or with `-f`); one
/// that cannot be removed is left alone.
pub fn prune(engine: &Engine, args: &PruneArgs) -> Result<i32> {
    if !args.force.on && !crate::confirm::confirmed("This will remove all stopped containers.") {
        return Ok(0);
    }
    let mut removed = Vec::new();
    for c in engine.store.containers()? {
        if matches!(c.state, ContainerState::Exited | ContainerState::Created)
            && !c.process.is_some_and(|p| p.is_alive())
            && kist_engine::remove_container(engine, &c, RemoveMode::IfStopped, false).is_ok()
        {
            removed.push(c.id);
        }
    }
    if !removed.is_empty() {
        outln!("Deleted Containers:");
        removed.iter().for_each(|id| outln!("{id}"));
    }
    Ok(0)
}
