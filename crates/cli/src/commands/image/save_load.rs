//! `kist save` and `kist load`: images to and from tar archives (docker-archive, oci-archive).

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use kist_engine::Engine;
use kist_image::Reference;

use crate::{archive, flags};

#[derive(Args)]
pub struct SaveArgs {
    #[command(flatten)]
    output: flags::Output,
    // Not the listings' --format (a template): an archive format.
    /// docker-archive or oci-archive
    #[arg(long, default_value = "docker-archive")]
    format: String,
    /// Images, by name or ID
    #[arg(required = true, value_name = "IMAGE")]
    images: Vec<String>,
}

#[derive(Args)]
pub struct LoadArgs {
    /// Read from this file instead of stdin
    #[arg(short, long)]
    input: Option<PathBuf>,
    #[command(flatten)]
    quiet: flags::Quiet,
}

pub fn save(engine: &Engine, args: &SaveArgs) -> Result<i32> {
    let (names, output) = (&args.images, args.output.value.as_deref());
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
    archive::write(output, |out| {
        Ok(kist_image::save(&engine.images, &images, format, out)?)
    })
}

pub fn load(engine: &Engine, args: &LoadArgs) -> Result<i32> {
    let (input, quiet) = (args.input.as_deref(), args.quiet.on);
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
    for image in &loaded {
        let id = image.id.to_string();
        let name = image.names.first().map_or(id.clone(), |n| n.familiar());
        kist_engine::events::image(&engine.layout.root, "load", &id, &name);
    }
    if !quiet {
        for image in loaded {
            if image.names.is_empty() {
                outln!("Loaded image ID: {}", image.id);
            }
            for name in image.names {
                outln!("Loaded image: {}", name.familiar());
            }
        }
    }
    Ok(0)
}
