//! The `network` group: bridge networks made, listed, inspected and removed.

use std::net::Ipv4Addr;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use kist_engine::Engine;
use kist_engine::network::manage::{self, CreateNetwork};
use serde_json::Value;

use crate::{flags, format};

// The argument structs carry `//` comments: clap would take a doc comment as the about text.
#[derive(Subcommand)]
pub enum NetworkCommand {
    /// Create a bridge network
    Create(CreateArgs),
    /// List networks
    #[command(alias = "list")]
    Ls(LsArgs),
    /// Show networks as JSON
    Inspect(InspectArgs),
    /// Remove networks (never one a container is on)
    #[command(alias = "remove")]
    Rm(NamesArgs),
    /// Remove the user networks no container is on
    Prune(PruneArgs),
    /// Connect a container to a network
    Connect(ConnectArgs),
    /// Disconnect a container from a network
    Disconnect(DisconnectArgs),
}

// NETWORK CONTAINER, with the address and aliases there.
#[derive(Args)]
pub struct ConnectArgs {
    /// IPv4 address on the network
    #[arg(long, value_name = "IP")]
    ip: Option<Ipv4Addr>,
    /// A network-scoped alias for the container
    #[arg(long, value_name = "ALIAS")]
    alias: Vec<String>,
    /// The network, by name or id
    network: String,
    /// The container, by name or id
    container: String,
}

// NETWORK CONTAINER.
#[derive(Args)]
pub struct DisconnectArgs {
    /// Also when the container is not running (kist always can)
    #[arg(short = 'f', long)]
    force: bool,
    /// The network, by name or id
    network: String,
    /// The container, by name or id
    container: String,
}

// NAME and its settings.
#[derive(Args)]
pub struct CreateArgs {
    /// Driver (only bridge)
    #[arg(short = 'd', long, default_value = "bridge")]
    driver: String,
    /// Subnet in CIDR form (172.20.0.0/16) [default: the next free one of the address pools]
    #[arg(long, value_name = "CIDR")]
    subnet: Option<ipnet::Ipv4Net>,
    /// Gateway address of the subnet [default: its first address]
    #[arg(long, value_name = "IP")]
    gateway: Option<Ipv4Addr>,
    /// Allocate container addresses from this part of the subnet
    #[arg(long = "ip-range", value_name = "CIDR")]
    ip_range: Option<ipnet::Ipv4Net>,
    /// No outbound connectivity: no masquerading, nothing in or out of the network
    #[arg(long)]
    internal: bool,
    /// Set metadata on the network (KEY=VALUE)
    #[arg(short, long)]
    label: Vec<String>,
    /// Driver options (com.docker.network.driver.mtu=N)
    #[arg(short = 'o', long = "opt", value_name = "KEY=VALUE")]
    opt: Vec<String>,
    /// The network's name
    name: String,
}

#[derive(Args)]
#[command(mut_arg("quiet", |a| a.help("Only show network IDs")))]
#[command(mut_arg("filter", |a| a.help("name=, id=, driver=, label=, type=custom|builtin")))]
pub struct LsArgs {
    #[command(flatten)]
    quiet: flags::Quiet,
    #[command(flatten)]
    filter: flags::Filters,
    #[command(flatten)]
    format: flags::Format,
    #[command(flatten)]
    no_trunc: flags::NoTrunc,
}

#[derive(Args)]
#[command(mut_arg("format", |a| a.short('f').help("A template such as '{{.IPAM.Config}}'")))]
pub struct InspectArgs {
    #[command(flatten)]
    format: flags::Format,
    #[command(flatten)]
    names: NamesArgs,
}

// NETWORK...: inspect's and rm's.
#[derive(Args)]
pub struct NamesArgs {
    /// Networks, by name or id
    #[arg(required = true, value_name = "NETWORK")]
    names: Vec<String>,
}

#[derive(Args)]
pub struct PruneArgs {
    #[command(flatten)]
    force: flags::Force,
}

/// `kist network ...`.
pub fn dispatch(engine: &Engine, command: NetworkCommand) -> Result<i32> {
    match command {
        NetworkCommand::Create(args) => create(engine, args),
        NetworkCommand::Ls(args) => ls(engine, &args),
        NetworkCommand::Inspect(args) => inspect(engine, &args),
        NetworkCommand::Rm(args) => rm(engine, &args),
        NetworkCommand::Prune(args) => prune(engine, &args),
        NetworkCommand::Connect(args) => {
            kist_engine::network::connect::connect(
                engine,
                &args.network,
                &args.container,
                args.ip,
                args.alias,
            )?;
            Ok(0)
        }
        NetworkCommand::Disconnect(args) => {
            let _ = args.force;
            kist_engine::network::connect::disconnect(engine, &args.network, &args.container)?;
            Ok(0)
        }
    }
}

fn create(engine: &Engine, args: CreateArgs) -> Result<i32> {
    if args.driver != "bridge" {
        anyhow::bail!(
            "network driver {:?} is not available: kist has bridge networks",
            args.driver
        );
    }
    let options = args
        .opt
        .iter()
        .map(|o| {
            o.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .with_context(|| format!("invalid option {o:?}: use KEY=VALUE"))
        })
        .collect::<Result<Vec<_>>>()?;
    let record = manage::create(
        engine,
        &CreateNetwork {
            name: args.name,
            subnet: args.subnet,
            gateway: args.gateway,
            ip_range: args.ip_range,
            internal: args.internal,
            labels: args.label,
            options,
        },
    )?;
    outln!("{}", record.id);
    Ok(0)
}

fn ls(engine: &Engine, args: &LsArgs) -> Result<i32> {
    let filters = args
        .filter
        .values
        .iter()
        .map(|f| {
            f.split_once('=')
                .filter(|(k, _)| ["name", "id", "driver", "label", "type"].contains(k))
                .with_context(|| {
                    format!("invalid filter {f:?}: use name=, id=, driver=, label= or type=")
                })
        })
        .collect::<Result<Vec<_>>>()?;
    let mut rows: Vec<Value> = manage::list(engine)?
        .into_iter()
        .filter(|n| keep(n, &filters))
        .collect();
    if !args.no_trunc.on {
        for n in &mut rows {
            let short: String = n["ID"]
                .as_str()
                .unwrap_or_default()
                .chars()
                .take(12)
                .collect();
            n["ID"] = Value::from(short);
        }
    }
    if args.quiet.on {
        rows.iter()
            .for_each(|n| outln!("{}", n["ID"].as_str().unwrap_or_default()));
        return Ok(0);
    }
    format::print_rows(args.format.value.as_deref(), LS_TABLE, &rows, &LS_HEADERS)?;
    Ok(0)
}

/// Filters of one key are alternatives; of different keys, all must hold (Docker's rule).
fn keep(n: &Value, filters: &[(&str, &str)]) -> bool {
    let field = |k: &str| n[k].as_str().unwrap_or_default().to_string();
    let holds = |(key, value): &(&str, &str)| match *key {
        "name" => field("Name").contains(value),
        "id" => field("ID").starts_with(value),
        "driver" => field("Driver") == *value,
        "type" => (n["Builtin"] == Value::Bool(true)) == (*value == "builtin"),
        _ => match value.split_once('=') {
            Some((k, v)) => n["LabelMap"][k].as_str() == Some(v),
            None => n["LabelMap"].get(value).is_some(),
        },
    };
    filters
        .iter()
        .all(|(k, _)| filters.iter().filter(|(other, _)| other == k).any(&holds))
}

/// Docker's default table, and the column name of each field.
const LS_TABLE: &str = "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}";
const LS_HEADERS: [(&str, &str); 8] = [
    ("ID", "NETWORK ID"),
    ("Name", "NAME"),
    ("Driver", "DRIVER"),
    ("Scope", "SCOPE"),
    ("IPv6", "IPV6"),
    ("Internal", "INTERNAL"),
    ("Labels", "LABELS"),
    ("CreatedAt", "CREATED AT"),
];

/// All or nothing: one name found nowhere prints no document.
fn inspect(engine: &Engine, args: &InspectArgs) -> Result<i32> {
    let docs = args
        .names
        .names
        .iter()
        .map(|n| manage::inspect(engine, n))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    super::inspect::print_documents(args.format.value.as_deref(), &docs)
}

/// A name at a time; each failure is one line and makes the status 1, as Docker does.
fn rm(engine: &Engine, args: &NamesArgs) -> Result<i32> {
    Ok(super::remove_each(&args.names, |n| {
        manage::remove(engine, n)
    }))
}

fn prune(engine: &Engine, args: &PruneArgs) -> Result<i32> {
    let warning = "This will remove all custom networks not used by at least one container.";
    if !args.force.on && !crate::confirm::confirmed(warning) {
        return Ok(0);
    }
    let removed = manage::prune(engine)?;
    if !removed.is_empty() {
        outln!("Deleted Networks:");
        removed.iter().for_each(|n| outln!("{n}"));
    }
    Ok(0)
}
