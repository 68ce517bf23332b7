//! `kist history`: an image's layers and the steps that made them, newest first.

use anyhow::Result;
use clap::Args;
use kist_engine::Engine;

use super::list::id_text;
use crate::{flags, format};

#[derive(Args)]
pub struct HistoryArgs {
    #[command(flatten)]
    no_trunc: flags::NoTrunc,
    #[command(flatten)]
    quiet: flags::Quiet,
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
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let mut by = r.created_by.clone();
            if !args.no_trunc.on && by.chars().count() > 45 {
                by = format!("{}…", by.chars().take(44).collect::<String>());
            }
            let created = match (&r.created, args.human) {
                (Some(c), true) => format::ago(c),
                (Some(c), false) => c.clone(),
                (None, _) => String::new(),
            };
            vec![
                r.id.as_ref()
                    .map_or("<missing>".into(), |id| id_text(id, args.no_trunc.on)),
                created,
                by,
                if args.human {
                    format::human_size(r.size)
                } else {
                    r.size.to_string()
                },
                r.comment.clone(),
            ]
        })
        .collect();
    format::print_table(
        &["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"],
        &table,
    );
    Ok(0)
}
