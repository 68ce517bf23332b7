//! A container's files: `kist cp` in and out, `kist diff` of its write layer, `kist export`
//! of the whole tree.

use anyhow::{Context, Result};
use clap::Args;
use kist_engine::Engine;
use kist_engine::cp::{Location, copy};

use crate::{archive, flags};

#[derive(Args)]
pub struct ExportArgs {
    #[command(flatten)]
    output: flags::Output,
    #[command(flatten)]
    container: flags::Container,
}

#[derive(Args)]
pub struct CpArgs {
    /// CONTAINER:PATH or a host path
    #[arg(value_name = "SRC")]
    source: String,
    /// A host path or CONTAINER:PATH
    #[arg(value_name = "DEST")]
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
        outln!("{kind} {path}");
    }
    Ok(0)
}

/// The image's layers and the container's own, merged as the container sees them.
pub fn export(engine: &Engine, args: &ExportArgs) -> Result<i32> {
    let c = engine.store.find_container(&args.container.name)?;
    archive::write(args.output.value.as_deref(), |out| {
        kist_engine::export::export(engine, &c, out)
            .with_context(|| format!("exporting container {}", c.name))
    })
}
