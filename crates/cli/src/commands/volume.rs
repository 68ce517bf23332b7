//! The `volume` group: named volumes, made, listed, inspected and removed.

use std::io::Read;

use anyhow::Result;
use clap::{Args, Subcommand};
use kist_engine::{Engine, volumes};

use crate::{flags, format};

// The argument structs carry `//` comments: clap would take a doc comment as the about text.
#[derive(Subcommand)]
pub enum VolumeCommand {
    /// Create a volume
    Create(CreateArgs),
    /// List volumes
    #[command(alias = "list")]
    Ls(LsArgs),
    /// Show volumes as JSON
    Inspect(NamesArgs),
    /// Remove volumes (never one a container uses)
    #[command(alias = "remove")]
    Rm(NamesArgs),
    /// Remove the volumes no container uses
    Prune(PruneArgs),
}

// A name, or 64 random hex digits.
#[derive(Args)]
pub struct CreateArgs {
    /// The volume's name [default: 64 random hex digits]
    name: Option<String>,
}

#[derive(Args)]
#[command(mut_arg("quiet", |a| a.help("Only show volume names")))]
pub struct LsArgs {
    #[command(flatten)]
    quiet: flags::Quiet,
}

// VOLUME...: inspect's and rm's.
#[derive(Args)]
pub struct NamesArgs {
    /// Volumes, by name
    #[arg(required = true, value_name = "VOLUME")]
    names: Vec<String>,
}

#[derive(Args)]
pub struct PruneArgs {
    // Accepted for Docker's sake: prune never asks.
    #[command(flatten)]
    force: flags::Force,
}

/// `kist volume ...`.
pub fn dispatch(engine: &Engine, command: VolumeCommand) -> Result<i32> {
    match command {
        VolumeCommand::Create(args) => create(engine, &args),
        VolumeCommand::Ls(args) => ls(engine, &args),
        VolumeCommand::Inspect(args) => inspect(engine, &args),
        VolumeCommand::Rm(args) => rm(engine, &args),
        VolumeCommand::Prune(args) => prune(engine, &args),
    }
}

fn create(engine: &Engine, args: &CreateArgs) -> Result<i32> {
    let name = args.name.clone().unwrap_or_else(random_name);
    volumes::ensure(engine, &name, false)?;
    outln!("{name}");
    Ok(0)
}

fn ls(engine: &Engine, args: &LsArgs) -> Result<i32> {
    let list = volumes::list(engine)?;
    if args.quiet.on {
        list.iter().for_each(|v| outln!("{}", v.name));
    } else {
        let rows: Vec<Vec<String>> = list
            .iter()
            .map(|v| vec!["local".into(), v.name.clone()])
            .collect();
        format::print_table(&["DRIVER", "VOLUME NAME"], &rows);
    }
    Ok(0)
}

/// All or nothing: one name found nowhere prints no document.
fn inspect(engine: &Engine, args: &NamesArgs) -> Result<i32> {
    let docs = args
        .names
        .iter()
        .map(|n| volumes::inspect(engine, n))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    outln!("{}", serde_json::to_string_pretty(&docs)?);
    Ok(0)
}

/// A name at a time; each failure is one line and makes the status 1, as Docker does.
fn rm(engine: &Engine, args: &NamesArgs) -> Result<i32> {
    let mut code = 0;
    for n in &args.names {
        match volumes::remove(engine, n) {
            Ok(()) => outln!("{n}"),
            Err(e) => {
                eprintln!("kist: {e}");
                code = 1;
            }
        }
    }
    Ok(code)
}

/// Removes the volumes no container uses.
fn prune(engine: &Engine, _args: &PruneArgs) -> Result<i32> {
    let removed = volumes::prune(engine)?;
    if !removed.is_empty() {
        outln!("Deleted Volumes:");
        removed.iter().for_each(|n| outln!("{n}"));
    }
    Ok(0)
}

fn random_name() -> String {
    let mut b = [0u8; 32];
    let _ = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut b));
    b.iter().map(|x| format!("{x:02x}")).collect()
}
