//! A container's files: `kist cp` in and out, `kist diff` of its write layer, `kist export`
//! of the whole tree.

use anyhow::{Context, Result};
use clap::Args;
use kist_engine::Engine;
use kist_engine::cp::{Location, copy};

use crate::output::Stdout;
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
    /// CONTAINER:PATH, a host path, or - (a tar archive on stdin)
    #[arg(value_name = "SRC")]
    source: String,
    /// A host path, CONTAINER:PATH, or - (a tar archive on stdout)
    #[arg(value_name = "DEST")]
    destination: String,
}

/// Either side may be CONTAINER:PATH; the engine tells them apart. `-` on one side is a tar
/// stream, as Docker's: written to stdout, or read from stdin into a directory.
pub fn cp(engine: &Engine, args: &CpArgs) -> Result<i32> {
    let (source, destination) = (args.source.as_str(), args.destination.as_str());
    if destination == "-" {
        let out = std::io::BufWriter::new(Stdout);
        let mut out = kist_engine::cp::archive_out(engine, Location::parse(source), out)?;
        std::io::Write::flush(&mut out)?;
    } else if source == "-" {
        kist_engine::cp::extract_in(
            engine,
            Location::parse(destination),
            std::io::stdin().lock(),
        )?;
    } else {
        copy(
            engine,
            Location::parse(source),
            Location::parse(destination),
        )?;
    }
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
