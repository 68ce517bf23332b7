//! `kist tag` (`image tag`): another name for an image.

use anyhow::Result;
use clap::Args;
use kist_engine::Engine;
use kist_image::Reference;

#[derive(Args)]
pub struct TagArgs {
    /// The image, by name or ID
    #[arg(value_name = "SOURCE_IMAGE")]
    source: String,
    /// The new name, NAME[:TAG]
    #[arg(value_name = "TARGET_IMAGE")]
    target: String,
}

pub fn tag(engine: &Engine, args: &TagArgs) -> Result<i32> {
    let image = engine.images.resolve(&args.source)?;
    let reference = Reference::parse(&args.target)?;
    engine.images.tag_image(&image, &reference)?;
    kist_engine::events::image(
        &engine.layout.root,
        "tag",
        &image.id.to_string(),
        &reference.familiar(),
    );
    Ok(0)
}
