//! The image commands: images, tag, rmi, history, image prune, commit, export.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::SystemTime;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use kist_engine::Engine;
use kist_image::Reference;
use serde_json::{Value, json};

use crate::format;

#[derive(Args)]
pub struct ImagesArgs {
    /// Show all images (kist keeps no intermediate images, so the same as without)
    #[arg(short, long)]
    pub all: bool,
    #[arg(short, long)]
    pub quiet: bool,
    /// Show the manifest digests
    #[arg(long)]
    pub digests: bool,
    #[arg(long)]
    pub no_trunc: bool,
    /// dangling=true|false, reference=PATTERN (busybox, bus*, busybox:1*)
    #[arg(short, long = "filter")]
    pub filter: Vec<String>,
    /// A template per image, such as '{{.Repository}}:{{.Tag}}'
    #[arg(long)]
    pub format: Option<String>,
    /// Only images of this repository (REPOSITORY[:TAG])
    pub reference: Option<String>,
}

#[derive(Subcommand)]
pub enum ImageCommand {
    /// List images
    #[command(alias = "list")]
    Ls(ImagesArgs),
    /// Remove images
    Rm(RmiArgs),
    /// Remove unused images: nameless ones, or all unused with -a
    Prune {
        #[arg(short, long)]
        all: bool,
        #[arg(short, long)]
        force: bool,
    },
    /// Show the history of an image
    History(HistoryArgs),
    /// Give an image another name
    Tag { source: String, target: String },
    /// Show images as JSON
    Inspect {
        #[arg(short, long)]
        format: Option<String>,
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Download an image from a registry
    Pull(crate::commands::registry::PullArgs),
    /// Upload an image to a registry
    Push(crate::commands::registry::PushArgs),
    /// Write images to a tar archive (docker-archive or oci-archive)
    Save(SaveArgs),
    /// Load images from a tar archive
    Load(LoadArgs),
}

#[derive(Args)]
pub struct SaveArgs {
    /// Write to this file instead of stdout
    #[arg(short, long)]
    pub output: Option<std::path::PathBuf>,
    /// docker-archive or oci-archive
    #[arg(long, default_value = "docker-archive")]
    pub format: String,
    #[arg(required = true)]
    pub images: Vec<String>,
}

#[derive(Args)]
pub struct LoadArgs {
    /// Read from this file instead of stdin
    #[arg(short, long)]
    pub input: Option<std::path::PathBuf>,
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Args)]
pub struct RmiArgs {
    /// Remove the names even when a container uses the image
    #[arg(short, long)]
    pub force: bool,
    #[arg(required = true)]
    pub images: Vec<String>,
}

#[derive(Args)]
pub struct HistoryArgs {
    #[arg(long)]
    pub no_trunc: bool,
    #[arg(short, long)]
    pub quiet: bool,
    /// Sizes and dates in a human form (the default); -H=false for numbers
    #[arg(short = 'H', long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub human: bool,
    pub image: String,
}

#[derive(Args)]
pub struct CommitArgs {
    /// The commit message
    #[arg(short, long)]
    pub message: Option<String>,
    /// Author ("Name <email>")
    #[arg(short, long)]
    pub author: Option<String>,
    /// A Dockerfile instruction for the new image: 'CMD ["sh"]', 'ENV A=1', ...
    #[arg(short, long = "change")]
    pub change: Vec<String>,
    /// Freeze the container while its layer is read (--pause=false to not)
    #[arg(short, long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub pause: bool,
    pub container: String,
    /// NAME[:TAG] for the new image
    pub reference: Option<String>,
}

pub fn images(engine: &Engine, args: &ImagesArgs) -> Result<i32> {
    let mut list = engine.images.list()?;
    list.sort_by_key(|i| std::cmp::Reverse(i.created));
    let mut filters = args.filter.clone();
    if let Some(r) = &args.reference {
        filters.push(format!("reference={r}"));
    }
    for f in &filters {
        let (key, value) = f
            .split_once('=')
            .with_context(|| format!("invalid filter {f:?}: use KEY=VALUE"))?;
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
    }
    if args.quiet {
        let mut seen = Vec::new();
        for i in list {
            if !seen.contains(&i.id) {
                println!("{}", id_text(&i.id, args.no_trunc));
                seen.push(i.id);
            }
        }
        return Ok(0);
    }
    let rows: Vec<Value> = list.iter().map(|i| image_row(i, args.no_trunc)).collect();
    if let Some(t) = &args.format {
        for r in &rows {
            println!("{}", crate::template::render(t, r)?);
        }
        return Ok(0);
    }
    let mut header = vec!["REPOSITORY", "TAG"];
    let mut keys = vec!["Repository", "Tag"];
    if args.digests {
        header.push("DIGEST");
        keys.push("Digest");
    }
    header.extend(["IMAGE ID", "CREATED", "SIZE"]);
    keys.extend(["ID", "CreatedSince", "Size"]);
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            keys.iter()
                .map(|k| r[k].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .collect();
    format::print_table(&header, &table);
    Ok(0)
}

fn id_text(id: &kist_image::Digest, no_trunc: bool) -> String {
    if no_trunc {
        id.to_string()
    } else {
        id.short().to_string()
    }
}

fn image_row(i: &kist_image::ImageSummary, no_trunc: bool) -> Value {
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

pub fn tag(engine: &Engine, source: &str, target: &str) -> Result<i32> {
    let image = engine.images.resolve(source)?;
    let reference = Reference::parse(target)?;
    engine.images.tag_image(&image, &reference)?;
    Ok(0)
}

pub fn rmi(engine: &Engine, args: &RmiArgs) -> Result<i32> {
    let mut code = 0;
    for name in &args.images {
        match kist_engine::images::remove(engine, name, args.force) {
            Ok(removed) => {
                for line in removed.lines {
                    println!("{line}");
                }
            }
            Err(e) => {
                eprintln!("kist: {e}");
                code = 1;
            }
        }
    }
    Ok(code)
}

pub fn prune(engine: &Engine, all: bool, force: bool) -> Result<i32> {
    if !force && std::io::stdin().is_terminal() {
        let what = if all {
            "all images without at least one container associated to them"
        } else {
            "all dangling images"
        };
        eprint!("WARNING! This will remove {what}.\nAre you sure you want to continue? [y/N] ");
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        if !answer.trim().eq_ignore_ascii_case("y") {
            return Ok(0);
        }
    }
    let removed = kist_engine::images::prune(engine, all)?;
    if !removed.lines.is_empty() {
        println!("Deleted Images:");
        for line in &removed.lines {
            println!("{line}");
        }
        println!();
    }
    println!(
        "Total reclaimed space: {}",
        format::human_size(removed.reclaimed)
    );
    Ok(0)
}

pub fn history(engine: &Engine, args: &HistoryArgs) -> Result<i32> {
    let rows = kist_engine::images::history(engine, &args.image)?;
    if args.quiet {
        for r in &rows {
            println!(
                "{}",
                r.id.as_ref()
                    .map_or("<missing>".into(), |id| id_text(id, args.no_trunc))
            );
        }
        return Ok(0);
    }
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let mut by = r.created_by.clone();
            if !args.no_trunc && by.chars().count() > 45 {
                by = format!("{}…", by.chars().take(44).collect::<String>());
            }
            let created = match (&r.created, args.human) {
                (Some(c), true) => format::ago(c),
                (Some(c), false) => c.clone(),
                (None, _) => String::new(),
            };
            vec![
                r.id.as_ref()
                    .map_or("<missing>".into(), |id| id_text(id, args.no_trunc)),
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

pub fn commit(engine: &Engine, args: &CommitArgs) -> Result<i32> {
    let c = engine.store.find_container(&args.container)?;
    let opts = kist_engine::commit::CommitOptions {
        message: args.message.clone(),
        author: args.author.clone(),
        changes: args.change.clone(),
        pause: args.pause,
    };
    let id = kist_engine::commit::commit(engine, &c, args.reference.as_deref(), &opts)
        .with_context(|| format!("committing container {}", c.name))?;
    println!("{id}");
    Ok(0)
}

pub fn export(engine: &Engine, container: &str, output: Option<&Path>) -> Result<i32> {
    let c = engine.store.find_container(container)?;
    write_archive(output, |out| {
        kist_engine::export::export(engine, &c, out)
            .with_context(|| format!("exporting container {}", c.name))
    })
}

/// Writes an archive to `output` (whole or not at all: a temporary file renamed at the end),
/// or to stdout when it is not a terminal.
pub fn write_archive(
    output: Option<&Path>,
    write: impl FnOnce(Box<dyn Write + Send>) -> Result<Box<dyn Write + Send>>,
) -> Result<i32> {
    match output {
        Some(path) => {
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let temp = tempfile::Builder::new()
                .prefix(".kist-archive-")
                .tempfile_in(dir)
                .with_context(|| format!("creating a file in {}", dir.display()))?;
            let file = temp.reopen()?;
            let mut out = write(Box::new(std::io::BufWriter::new(file)))?;
            out.flush()?;
            drop(out);
            temp.persist(path)
                .with_context(|| format!("writing {}", path.display()))?;
        }
        None => {
            if std::io::stdout().is_terminal() {
                anyhow::bail!(
                    "refusing to write an archive to a terminal: use -o FILE or redirect the output"
                );
            }
            let mut out = write(Box::new(std::io::BufWriter::new(std::io::stdout())))?;
            out.flush()?;
        }
    }
    Ok(0)
}

pub fn save(engine: &Engine, args: &SaveArgs) -> Result<i32> {
    let (names, output) = (&args.images, args.output.as_deref());
    let format = kist_image::ArchiveFormat::parse(&args.format)?;
    let mut images: Vec<kist_image::SavedImage> = Vec::new();
    for name in names {
        let image = engine.images.resolve(name)?;
        // Named by a name, the image is saved under it; by id, under none (as Docker does).
        let reference = Reference::parse(name).ok().filter(|r| {
            engine
                .images
                .list()
                .is_ok_and(|l| l.iter().any(|s| s.reference.as_ref() == Some(r)))
        });
        match images.iter_mut().find(|s| s.image.id == image.id) {
            Some(s) => s.names.extend(reference),
            None => images.push(kist_image::SavedImage {
                image,
                names: reference.into_iter().collect(),
            }),
        }
    }
    write_archive(output, |out| {
        Ok(kist_image::save(&engine.images, &images, format, out)?)
    })
}

pub fn load(engine: &Engine, args: &LoadArgs) -> Result<i32> {
    let (input, quiet) = (args.input.as_deref(), args.quiet);
    let reader: Box<dyn std::io::Read> = match input {
        Some(p) => Box::new(std::io::BufReader::new(
            std::fs::File::open(p).with_context(|| format!("opening {}", p.display()))?,
        )),
        None => {
            if std::io::stdin().is_terminal() {
                anyhow::bail!("no archive to load: use -i FILE or pipe one in");
            }
            Box::new(std::io::stdin().lock())
        }
    };
    let what = input.map_or("standard input".into(), |p| p.display().to_string());
    let loaded =
        kist_image::load(&engine.images, reader).with_context(|| format!("loading {what}"))?;
    if !quiet {
        for image in loaded {
            if image.names.is_empty() {
                println!("Loaded image ID: {}", image.id);
            }
            for name in image.names {
                println!("Loaded image: {}", name.familiar());
            }
        }
    }
    Ok(0)
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
