//! `kist push` (`image push`): an image to a registry.

use anyhow::Result;
use clap::Args;
use kist_engine::Engine;
use kist_image::Reference;
use kist_image::registry::{self, PushRequest};

use super::progress::{Display, Verb};
use super::{RegistryFlags, credentials};
use crate::flags;

#[derive(Args)]
#[command(mut_arg("quiet", |a| a.help("Print only the digest line")))]
pub struct PushArgs {
    #[command(flatten)]
    quiet: flags::Quiet,
    #[command(flatten)]
    registry: RegistryFlags,
    /// NAME[:TAG]
    name: String,
}

pub fn push(engine: &Engine, args: &PushArgs) -> Result<i32> {
    let reference = Reference::parse(&args.name)?;
    let image = engine.images.resolve(&args.name)?;
    let credential = credentials(engine).get(&reference.registry)?;
    if !args.quiet.on {
        outln!(
            "The push refers to repository [{}]",
            reference.familiar_repository()
        );
    }
    let display = Display::new(args.quiet.on, Verb::Push);
    let outcome = registry::push(
        &engine.images,
        &PushRequest {
            image: &image,
            reference: &reference,
            credential,
            options: &args.registry.options(engine)?,
        },
        &display,
    );
    display.finish();
    let outcome = outcome?;
    outln!(
        "{}: digest: {} size: {}",
        outcome.tag,
        outcome.digest,
        outcome.size
    );
    Ok(0)
}
