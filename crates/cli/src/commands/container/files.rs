//! A container's files: `kist cp` in and out, `kist diff` of its write layer.

use anyhow::Result;
use clap::Args;
use kist_engine::Engine;
use kist_engine::cp::{Location, copy};

use crate::flags;

#[derive(Args)]
pub struct CpArgs {
    source: String,
    destination: String,
}

/// Either side may be CONTAINER:PATH; the engine tells them apart.
pub fn cp(engine: &Engine, args: &CpArgs) -> Result<i32> {
    copy(
        engine,
        Location::parse(&args.source),
        Location::parse(&args.destination),
    )?;
    Ok(0)
}

/// One line per change: A added, C changed, D deleted.
pub fn diff(engine: &Engine, args: &flags::Container) -> Result<i32> {
    let c = engine.store.find_container(&args.name)?;
    for (kind, path) in kist_engine::observe::diff(engine, &c)? {
        println!("{kind} {path}");
    }
    Ok(0)
}
