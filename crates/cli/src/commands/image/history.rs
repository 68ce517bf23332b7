//! `kist history`: an image's layers and the steps that made them, newest first.

use anyhow::Result;
use clap::Args;
use kist_engine::Engine;
use kist_engine::images::HistoryRow;
use serde_json::{Value, json};

use super::list::id_text;
use crate::{flags, format};

#[derive(Args)]
pub struct HistoryArgs {
    #[command(flatten)]
    no_trunc: flags::NoTrunc,
    #[command(flatten)]
    quiet: flags::Quiet,
    #[command(flatten)]
    format: flags::Format,
    /// Sizes and dates in a human form (the default); -H=false for numbers
    #[arg(short = 'H', long, default_value_t = true)]
    human: bool,
    /// The image, by name or ID
    image: String,
}

pub fn history(engine: &Engine, args: &HistoryArgs) -> Result<i32> {
    let rows = kist_engine::images::history(engine, &args.image)?;
    if args.quiet.on {
        for r in &rows {
            outln!(
                "{}",
                r.id.as_ref()
                    .map_or("<missing>".into(), |id| id_text(id, args.no_trunc.on))
            );
        }
        return Ok(0);
    }
    let rows: Vec<Value> = rows.iter().map(|r| row(r, args)).collect();
    format::print_rows(args.format.value.as_deref(), TABLE, &rows, &HEADERS)?;
    Ok(0)
}

/// Docker's default table.
const TABLE: &str = "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}";

/// Docker's column name for each field.
const HEADERS: [(&str, &str); 6] = [
    ("ID", "IMAGE"),
    ("CreatedSince", "CREATED"),
    ("CreatedAt", "CREATED AT"),
    ("CreatedBy", "CREATED BY"),
    ("Size", "SIZE"),
    ("Comment", "COMMENT"),
];

/// One layer as `--format` sees it (Docker's field names).
fn row(r: &HistoryRow, args: &HistoryArgs) -> Value {
    let mut by = r.created_by.clone();
    if !args.no_trunc.on && by.chars().count() > 45 {
        by = format!("{}…", by.chars().take(44).collect::<String>());
    }
    let created = match (&r.created, args.human) {
        (Some(c), true) => format::ago(c),
        (Some(c), false) => c.clone(),
        (None, _) => String::new(),
    };
    json!({
        "ID": r.id.as_ref().map_or("<missing>".into(), |id| id_text(id, args.no_trunc.on)),
        "CreatedSince": created,
        "CreatedAt": r.created.as_deref().map(format::go_time_of).unwrap_or_default(),
        "CreatedBy": by,
        "Size": if args.human { format::human_size(r.size) } else { r.size.to_string() },
        "Comment": r.comment,
    })
}
