//! `kist stats`: Docker's table of what containers use, refreshed every second.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::time::Duration;

use anyhow::Result;
use kist_engine::stats::{Figures, Sample, figures, host_memory, sample};
use kist_engine::{ContainerRecord, ContainerState, Engine};
use serde_json::{Value, json};

use crate::format;

pub struct StatsOptions {
    pub all: bool,
    pub no_stream: bool,
    pub no_trunc: bool,
    pub format: Option<String>,
}

/// Docker samples once a second; CPU % is the use over that second.
const INTERVAL: Duration = Duration::from_secs(1);

pub fn stats(engine: &Engine, names: &[String], opts: &StatsOptions) -> Result<i32> {
    let host = host_memory();
    let mut previous: HashMap<String, Sample> = HashMap::new();
    let clear = !opts.no_stream && std::io::stdout().is_terminal();
    let mut first = true;
    loop {
        let containers = chosen(engine, names, opts.all)?;
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
        for c in chosen(engine, names, opts.all)? {
            let now = sample(&c);
            let f = now.as_ref().map(|n| figures(previous.get(&c.id), n, host));
            rows.push(row(&c, f.as_ref(), opts.no_trunc));
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
            print!("\x1b[2J\x1b[H");
        }
        print_rows(&rows, opts.format.as_deref())?;
        if opts.no_stream {
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
    if let Some(t) = template {
        for r in rows {
            println!("{}", crate::template::render(t, r)?);
        }
        return Ok(());
    }
    const COLUMNS: [(&str, &str); 8] = [
        ("CONTAINER ID", "ID"),
        ("NAME", "Name"),
        ("CPU %", "CPUPerc"),
        ("MEM USAGE / LIMIT", "MemUsage"),
        ("MEM %", "MemPerc"),
        ("NET I/O", "NetIO"),
        ("BLOCK I/O", "BlockIO"),
        ("PIDS", "PIDs"),
    ];
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            COLUMNS
                .iter()
                .map(|(_, k)| r[k].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .collect();
    let header: Vec<&str> = COLUMNS.iter().map(|(h, _)| *h).collect();
    format::print_table(&header, &table);
    Ok(())
}
