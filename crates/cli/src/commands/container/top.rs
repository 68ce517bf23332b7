//! `kist top`: the processes of a running container, as a table.

use anyhow::Result;
use kist_engine::Engine;

use crate::{flags, format};

pub fn top(engine: &Engine, args: &flags::Container) -> Result<i32> {
    let c = engine.store.find_container(&args.name)?;
    let rows: Vec<Vec<String>> = kist_engine::observe::top(&c)?
        .into_iter()
        .map(|r| r.to_vec())
        .collect();
    format::print_table(&["UID", "PID", "PPID", "CMD"], &rows);
    Ok(0)
}
