//! `kist import`: an image made of a root filesystem tarball.

use std::io::Read;

use anyhow::{Context, Result};
use clap::Args;
use kist_engine::Engine;
use kist_image::{Reference, import_rootfs_tarball};

#[derive(Args)]
pub struct ImportArgs {
    /// The tarball ('-' reads stdin)
    file: String,
    /// NAME[:TAG] for the new image
    #[arg(value_name = "REPOSITORY[:TAG]")]
    name: String,
}

/// The file is read once, whatever its compression; '-' is stdin.
pub fn import(engine: &Engine, args: &ImportArgs) -> Result<i32> {
    let (file, name) = (&args.file, &args.name);
    let reference = Reference::parse(name)?;
    let input: Box<dyn Read> = if file == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::fs::File::open(file).with_context(|| format!("opening {file}"))?)
    };
    let outcome = import_rootfs_tarball(&engine.images, input, &reference, file)
        .with_context(|| format!("importing {file}"))?;
    let id = outcome.image_id.to_string();
    kist_engine::events::image(&engine.layout.root, "import", &id, &reference.familiar());
    outln!("{id}");
    Ok(0)
}
