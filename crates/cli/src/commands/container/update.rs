//! `kist update`: new limits (or restart policy) for existing containers.

use anyhow::Result;
use clap::Args;
use kist_engine::{Engine, Limits, RestartPolicy};

use super::each;
use super::limits::ResourceArgs;
use crate::flags;

#[derive(Args)]
pub struct UpdateArgs {
    #[command(flatten)]
    resources: ResourceArgs,
    #[command(flatten)]
    restart: flags::Restart,
    #[command(flatten)]
    containers: flags::Containers,
}

pub fn update(engine: &Engine, args: &UpdateArgs) -> Result<i32> {
    let limits = args.resources.limits()?;
    let restart = args
        .restart
        .value
        .as_deref()
        .map(RestartPolicy::parse)
        .transpose()?;
    if limits == Limits::default() && restart.is_none() {
        anyhow::bail!("nothing to update: give a limit such as -m 64m or --cpus 1");
    }
    each(engine, &args.containers.names, |c| {
        kist_engine::update(engine, c, &limits, restart).map(|_| None)
    })
}
