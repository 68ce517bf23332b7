//! `state`, `list` and `ps`: looking at containers without changing them.

use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::state::Container;

#[derive(clap::Args)]
pub struct ListArgs {
    /// table or json
    #[arg(short, long, default_value = "table")]
    pub format: String,
    /// Print only the ids
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(clap::Args)]
pub struct PsArgs {
    /// table or json (the pids)
    #[arg(short, long, default_value = "table")]
    pub format: String,
    /// The container's id
    pub id: String,
    /// Arguments for ps(1) (default -ef)
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub ps_args: Vec<String>,
}

pub fn state(root: &Path, id: &str) -> Result<i32> {
    let container = Container::load(root, id)?;
    println!("{}", serde_json::to_string_pretty(&container.state_json())?);
    Ok(0)
}

/// Every container under the root, by id.
fn all(root: &Path) -> Result<Vec<Container>> {
    let entries = match std::fs::read_dir(root) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", root.display())),
    };
    let mut out: Vec<Container> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| Container::load(root, &e.file_name().to_string_lossy()).ok())
        .collect();
    out.sort_by(|a, b| a.saved.id.cmp(&b.saved.id));
    Ok(out)
}

pub fn list(root: &Path, args: &ListArgs) -> Result<i32> {
    let containers = all(root)?;
    if args.quiet {
        for c in &containers {
            println!("{}", c.saved.id);
        }
        return Ok(0);
    }
    match args.format.as_str() {
        "json" => {
            let states: Vec<_> = containers.iter().map(Container::state_json).collect();
            println!("{}", serde_json::to_string(&states)?);
        }
        "table" => {
            let mut rows = vec![[
                "ID".to_string(),
                "PID".into(),
                "STATUS".into(),
                "BUNDLE".into(),
                "CREATED".into(),
                "OWNER".into(),
            ]];
            for c in &containers {
                let s = c.state_json();
                rows.push([
                    c.saved.id.clone(),
                    s["pid"].to_string(),
                    s["status"].as_str().unwrap_or_default().to_string(),
                    c.saved.bundle.display().to_string(),
                    c.saved.created.clone(),
                    "root".into(),
                ]);
            }
            print_table(&rows);
        }
        other => bail!("invalid format {other:?}: use table or json"),
    }
    Ok(0)
}

fn print_table<const N: usize>(rows: &[[String; N]]) {
    let mut widths = [0; N];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == N {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}   ", w = widths[i]));
            }
        }
        println!("{}", line.trim_end());
    }
}

pub fn ps(root: &Path, args: &PsArgs) -> Result<i32> {
    let container = Container::load(root, &args.id)?;
    let mut pids: Vec<i32> = match container.cgroup()? {
        Some(cgroup) => cgroup
            .dirs()
            .flat_map(|d| {
                std::fs::read_to_string(d.join("cgroup.procs"))
                    .unwrap_or_default()
                    .lines()
                    .filter_map(|l| l.trim().parse().ok())
                    .collect::<Vec<i32>>()
            })
            .collect(),
        None if container.stamp().is_alive() => vec![container.saved.pid],
        None => Vec::new(),
    };
    pids.sort_unstable();
    pids.dedup();
    match args.format.as_str() {
        "json" => println!("{}", serde_json::to_string(&pids)?),
        "table" => ps_table(&pids, &args.ps_args)?,
        other => bail!("invalid format {other:?}: use table or json"),
    }
    Ok(0)
}

/// ps(1)'s own output, its header and the lines of the container's processes, as runc does.
fn ps_table(pids: &[i32], ps_args: &[String]) -> Result<()> {
    let args: Vec<String> = if ps_args.is_empty() {
        vec!["-ef".into()]
    } else {
        ps_args.to_vec()
    };
    let out = std::process::Command::new("ps")
        .args(&args)
        .output()
        .context("cannot run ps")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let Some(header) = lines.next() else {
        bail!("ps printed nothing");
    };
    let column = header
        .split_whitespace()
        .position(|h| h == "PID")
        .context("ps's output has no PID column")?;
    println!("{header}");
    for line in lines {
        let pid = line
            .split_whitespace()
            .nth(column)
            .and_then(|p| p.parse::<i32>().ok());
        if pid.is_some_and(|p| pids.contains(&p)) {
            println!("{line}");
        }
    }
    Ok(())
}
