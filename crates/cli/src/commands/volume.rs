//! The `volume` group: named volumes, made, listed, inspected and removed.

use std::io::Read;

use anyhow::Result;
use clap::{Args, Subcommand};
use kist_engine::{Engine, volumes};
use serde_json::{Value, json};

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
    Inspect(InspectArgs),
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
#[command(mut_arg("filter", |a| a.help("name=, dangling=true|false, label=, driver=")))]
pub struct LsArgs {
    #[command(flatten)]
    quiet: flags::Quiet,
    #[command(flatten)]
    filter: flags::Filters,
    #[command(flatten)]
    format: flags::Format,
}

#[derive(Args)]
#[command(mut_arg("format", |a| a.short('f').help("A template such as '{{.Mountpoint}}'")))]
pub struct InspectArgs {
    #[command(flatten)]
    format: flags::Format,
    #[command(flatten)]
    names: NamesArgs,
}

// VOLUME...: inspect's and rm's.
#[derive(Args)]
pub struct NamesArgs {
    /// Volumes, by name
    #[arg(required = true, value_name = "VOLUME")]
    names: Vec<String>,
}

#[derive(Args)]
#[command(mut_arg("all", |a| a.help("Remove named volumes too, not only anonymous ones")))]
pub struct PruneArgs {
    #[command(flatten)]
    force: flags::Force,
    #[command(flatten)]
    all: flags::All,
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
    let filters = parse_filters(&args.filter.values)?;
    let mut list = Vec::new();
    for v in volumes::list(engine)? {
        let used = !engine.store.volume_users(&v.name)?.is_empty();
        if keep(&v.name, used, &filters) {
            list.push(v);
        }
    }
    if args.quiet.on {
        list.iter().for_each(|v| outln!("{}", v.name));
        return Ok(0);
    }
    let rows: Vec<Value> = list
        .iter()
        .map(|v| {
            json!({
                "Name": v.name, "Driver": "local", "Scope": "local",
                "Mountpoint": engine.layout.volume_data(&v.name), "Labels": "",
                "Links": "N/A", "Size": "N/A",
            })
        })
        .collect();
    format::print_rows(args.format.value.as_deref(), LS_TABLE, &rows, &LS_HEADERS)?;
    Ok(0)
}

/// Docker's default table, and the column name of each field.
const LS_TABLE: &str = "table {{.Driver}}\t{{.Name}}";
const LS_HEADERS: [(&str, &str); 7] = [
    ("Name", "VOLUME NAME"),
    ("Driver", "DRIVER"),
    ("Scope", "SCOPE"),
    ("Mountpoint", "MOUNTPOINT"),
    ("Labels", "LABELS"),
    ("Links", "LINKS"),
    ("Size", "SIZE"),
];

/// A `volume ls --filter KEY=VALUE`.
#[derive(Debug, PartialEq)]
enum Filter {
    /// A part of the name.
    Name(String),
    /// Whether no container uses it.
    Dangling(bool),
    /// kist's volumes have no labels: a label filter lets none through.
    Label,
    /// kist's volumes are all `local`.
    Driver(String),
}

fn parse_filters(raw: &[String]) -> Result<Vec<Filter>> {
    raw.iter()
        .map(|f| match f.split_once('=') {
            Some(("name", v)) => Ok(Filter::Name(v.into())),
            Some(("dangling", "true" | "1")) => Ok(Filter::Dangling(true)),
            Some(("dangling", "false" | "0")) => Ok(Filter::Dangling(false)),
            Some(("dangling", v)) => {
                anyhow::bail!("invalid filter 'dangling={v}': use dangling=true or dangling=false")
            }
            Some(("label", _)) => Ok(Filter::Label),
            Some(("driver", v)) => Ok(Filter::Driver(v.into())),
            _ => anyhow::bail!("invalid filter {f:?}: use name=, dangling=, label= or driver="),
        })
        .collect()
}

/// Filters of one key are alternatives; of different keys, all must hold (Docker's rule).
fn keep(name: &str, used: bool, filters: &[Filter]) -> bool {
    let holds = |f: &Filter| match f {
        Filter::Name(part) => name.contains(part.as_str()),
        Filter::Dangling(dangling) => used != *dangling,
        Filter::Label => false,
        Filter::Driver(d) => d == "local",
    };
    let key = |f: &Filter| std::mem::discriminant(f);
    filters
        .iter()
        .all(|f| filters.iter().filter(|g| key(g) == key(f)).any(holds))
}

/// All or nothing: one name found nowhere prints no document.
fn inspect(engine: &Engine, args: &InspectArgs) -> Result<i32> {
    let docs = args
        .names
        .names
        .iter()
        .map(|n| volumes::inspect(engine, n))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    super::inspect::print_documents(args.format.value.as_deref(), &docs)
}

/// A name at a time; each failure is one line and makes the status 1, as Docker does.
fn rm(engine: &Engine, args: &NamesArgs) -> Result<i32> {
    Ok(super::remove_each(&args.names, |n| {
        volumes::remove(engine, n)
    }))
}

/// Removes the anonymous volumes no container uses (with `-a`, the named ones too), as Docker
/// 23 and later do, once the user says yes (or with `-f`).
fn prune(engine: &Engine, args: &PruneArgs) -> Result<i32> {
    let warning = if args.all.on {
        "This will remove all local volumes not used by at least one container."
    } else {
        "This will remove anonymous local volumes not used by at least one container."
    };
    if !args.force.on && !crate::confirm::confirmed(warning) {
        return Ok(0);
    }
    let removed = volumes::prune(engine, args.all.on)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_combine_like_docker_s() {
        let f = |s: &[&str]| {
            parse_filters(&s.iter().map(|x| x.to_string()).collect::<Vec<_>>()).unwrap()
        };
        assert!(keep("web-data", false, &f(&["name=data"])));
        assert!(!keep("web-data", false, &f(&["name=db"])));
        assert!(
            keep("web-data", false, &f(&["name=db", "name=web"])),
            "same key: either"
        );
        assert!(
            !keep("web-data", true, &f(&["name=web", "dangling=true"])),
            "keys: both"
        );
        assert!(keep(
            "web-data",
            true,
            &f(&["dangling=false", "driver=local"])
        ));
        assert!(!keep("web-data", false, &f(&["driver=nfs"])));
        assert!(!keep("web-data", false, &f(&["label=tier"])));
        assert!(parse_filters(&["dangling=maybe".into()]).is_err());
        assert!(parse_filters(&["colour=red".into()]).is_err());
    }
}
