//! `kist images` (`image ls`): Docker's listing, with its filters and formats.

use std::time::SystemTime;

use anyhow::{Context, Result};
use clap::Args;
use kist_engine::Engine;
use kist_image::{ImageSummary, Reference};
use serde_json::{Value, json};

use crate::{flags, format};

#[derive(Args)]
#[command(mut_arg("all", |a| a.help(
    "Show all images (kist keeps no intermediate images, so the same as without)"
)))]
#[command(mut_arg("filter", |a| a.help(
    "dangling=true|false, reference=PATTERN (busybox, bus*, busybox:1*)"
)))]
#[command(mut_arg("format", |a| a.help("A template per image, such as '{{.Repository}}:{{.Tag}}'")))]
pub struct ImagesArgs {
    // kist keeps no intermediate images: -a shows what the listing shows anyway.
    #[command(flatten)]
    all: flags::All,
    #[command(flatten)]
    quiet: flags::Quiet,
    /// Show the manifest digests
    #[arg(long)]
    digests: bool,
    #[command(flatten)]
    no_trunc: flags::NoTrunc,
    #[command(flatten)]
    filter: flags::Filters,
    #[command(flatten)]
    format: flags::Format,
    /// Only images of this repository (REPOSITORY[:TAG])
    reference: Option<String>,
}

pub fn images(engine: &Engine, args: &ImagesArgs) -> Result<i32> {
    let mut list = engine.images.list()?;
    list.sort_by_key(|i| std::cmp::Reverse(i.created));
    let mut filters = args.filter.values.clone();
    if let Some(r) = &args.reference {
        filters.push(format!("reference={r}"));
    }
    for f in &filters {
        apply_filter(&mut list, f)?;
    }
    if args.quiet.on {
        let mut seen = Vec::new();
        for i in list {
            if !seen.contains(&i.id) {
                outln!("{}", id_text(&i.id, args.no_trunc.on));
                seen.push(i.id);
            }
        }
        return Ok(0);
    }
    let rows: Vec<Value> = list
        .iter()
        .map(|i| image_row(i, args.no_trunc.on))
        .collect();
    let default = if args.digests {
        TABLE_WITH_DIGESTS
    } else {
        TABLE
    };
    format::print_rows(args.format.value.as_deref(), default, &rows, &HEADERS)?;
    Ok(0)
}

/// Docker's default tables.
const TABLE: &str = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
const TABLE_WITH_DIGESTS: &str =
    "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";

/// Docker's column name for each field.
const HEADERS: [(&str, &str); 7] = [
    ("Repository", "REPOSITORY"),
    ("Tag", "TAG"),
    ("Digest", "DIGEST"),
    ("ID", "IMAGE ID"),
    ("CreatedSince", "CREATED"),
    ("CreatedAt", "CREATED AT"),
    ("Size", "SIZE"),
];

/// Keeps the images a `--filter KEY=VALUE` (or the REFERENCE argument) lets through.
fn apply_filter(list: &mut Vec<ImageSummary>, filter: &str) -> Result<()> {
    let (key, value) = filter
        .split_once('=')
        .with_context(|| format!("invalid filter {filter:?}: use KEY=VALUE"))?;
    match key {
        "dangling" => {
            let want = value == "true";
            list.retain(|i| i.reference.is_none() == want);
        }
        "reference" => list.retain(|i| {
            i.reference
                .as_ref()
                .is_some_and(|r| reference_matches(value, r))
        }),
        other => anyhow::bail!(
            "invalid filter {other:?}: images can be filtered by dangling or reference"
        ),
    }
    Ok(())
}

pub(super) fn id_text(id: &kist_image::Digest, no_trunc: bool) -> String {
    if no_trunc {
        id.to_string()
    } else {
        id.short().to_string()
    }
}

fn image_row(i: &ImageSummary, no_trunc: bool) -> Value {
    let (repo, tag) = match &i.reference {
        Some(r) => (
            r.familiar_repository(),
            r.tag.clone().unwrap_or_else(|| "<none>".into()),
        ),
        None => ("<none>".into(), "<none>".into()),
    };
    let created = i
        .created
        .map(|c| {
            format!(
                "{} ago",
                format::human_duration(SystemTime::now().duration_since(c).unwrap_or_default())
            )
        })
        .unwrap_or_default();
    json!({
        "Repository": repo,
        "Tag": tag,
        "Digest": i.manifest_digest.to_string(),
        "ID": id_text(&i.id, no_trunc),
        "CreatedSince": created,
        "CreatedAt": i.created.map(format::go_time).unwrap_or_default(),
        "Size": format::human_size(i.size),
    })
}

/// Docker's reference filter: a pattern on the familiar name, with `*` wildcards, matching
/// the repository alone or repository:tag.
fn reference_matches(pattern: &str, r: &Reference) -> bool {
    let repo = r.familiar_repository();
    let full = format!("{repo}:{}", r.tag.clone().unwrap_or_default());
    glob(pattern, &repo) || glob(pattern, &full)
}

fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, tail)) => {
            text.starts_with(head)
                && (0..=text.len() - head.len()).any(|i| glob(tail, &text[head.len() + i..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_patterns() {
        let r = Reference::parse("busybox:1.36").unwrap();
        assert!(reference_matches("busybox", &r));
        assert!(reference_matches("bus*", &r));
        assert!(reference_matches("busybox:1*", &r));
        assert!(!reference_matches("alpine", &r));
        assert!(!reference_matches("busybox:2*", &r));
    }
}
