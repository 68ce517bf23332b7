//! `kist stats`: Docker's table of what containers use, refreshed every second.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::time::Duration;

use anyhow::Result;
use clap::Args;
use kist_engine::stats::{Figures, Sample, figures, host_memory, sample};
use kist_engine::{ContainerRecord, ContainerState, Engine};
use serde_json::{Value, json};

use crate::{flags, format};

#[derive(Args)]
#[command(mut_arg("all", |a| a.help("All containers, not only running ones")))]
#[command(mut_arg("format", |a| a.help("A template per container, such as '{{.Name}} {{.CPUPerc}}'")))]
pub struct StatsArgs {
    #[command(flatten)]
    all: flags::All,
    /// Print one table and exit
    #[arg(long)]
    no_stream: bool,
    #[command(flatten)]
    no_trunc: flags::NoTrunc,
    #[command(flatten)]
    format: flags::Format,
    /// Containers, by name or ID [default: every running one]
    #[arg(value_name = "CONTAINER")]
    containers: Vec<String>,
}

/// Docker samples once a second; CPU % is the use over that second.
const INTERVAL: Duration = Duration::from_secs(1);

pub fn stats(engine: &Engine, args: &StatsArgs) -> Result<i32> {
    let names = &args.containers;
    let host = host_memory();
    let mut previous: HashMap<String, Sample> = HashMap::new();
    let clear = !args.no_stream && std::io::stdout().is_terminal();
    let mut first = true;
    loop {
        let containers = chosen(engine, names, args.all.on)?;
        for c in &containers {
            if let Some(s) = sample(c) {
                previous.entry(c.id.clone()).or_insert(s);
            }
        }
        if first {
            // A first reading, so that the first table already has a CPU figure.
            std::thread::sleep(INTERVAL);
            first = false;
        }
        let mut rows = Vec::new();
        for c in chosen(engine, names, args.all.on)? {
            let now = sample(&c);
            let f = now.as_ref().map(|n| figures(previous.get(&c.id), n, host));
            rows.push(row(&c, f.as_ref(), args.no_trunc.on));
            match now {
                Some(n) => {
                    previous.insert(c.id.clone(), n);
                }
                None => {
                    previous.remove(&c.id);
                }
            }
        }
        if clear {
            out!("\x1b[2J\x1b[H");
        }
        print_rows(&rows, args.format.value.as_deref())?;
        if args.no_stream {
            return Ok(0);
        }
        std::thread::sleep(INTERVAL);
    }
}

/// The containers named (each must exist), or the running ones (all with -a).
fn chosen(engine: &Engine, names: &[String], all: bool) -> Result<Vec<ContainerRecord>> {
    if !names.is_empty() {
        return names
            .iter()
            .map(|n| Ok(engine.store.find_container(n)?))
            .collect();
    }
    let mut list = engine.store.containers()?;
    if !all {
        list.retain(|c| c.state == ContainerState::Running);
    }
    Ok(list)
}

/// One container as the table and `--format` see it (Docker's field names).
fn row(c: &ContainerRecord, f: Option<&Figures>, no_trunc: bool) -> Value {
    let id = if no_trunc { &c.id[..] } else { &c.id[..12] };
    let Some(f) = f else {
        return json!({
            "Container": id, "ID": id, "Name": c.name,
            "CPUPerc": "--", "MemUsage": "-- / --", "MemPerc": "--",
            "NetIO": "--", "BlockIO": "--", "PIDs": "--",
        });
    };
    json!({
        "Container": id,
        "ID": id,
        "Name": c.name,
        "CPUPerc": format!("{:.2}%", f.cpu_percent),
        "MemUsage": format!("{} / {}", format::bytes_size(f.memory), format::bytes_size(f.memory_limit)),
        "MemPerc": format!("{:.2}%", f.memory_percent),
        "NetIO": format!("{} / {}", format::human_size(f.net_rx), format::human_size(f.net_tx)),
        "BlockIO": format!("{} / {}", format::human_size(f.block_read), format::human_size(f.block_write)),
        "PIDs": f.pids.to_string(),
    })
}

fn print_rows(rows: &[Value], template: Option<&str>) -> Result<()> {
    format::print_rows(template, TABLE, rows, &HEADERS)
}

/// Docker's default table.
const TABLE: &str = "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}";

/// Docker's column name for each field.
const HEADERS: [(&str, &str); 9] = [
    ("ID", "CONTAINER ID"),
    ("Container", "CONTAINER"),
    ("Name", "NAME"),
    ("CPUPerc", "CPU %"),
    ("MemUsage", "MEM USAGE / LIMIT"),
    ("MemPerc", "MEM %"),
    ("NetIO", "NET I/O"),
    ("BlockIO", "BLOCK I/O"),
    ("PIDs", "PIDS"),
];
