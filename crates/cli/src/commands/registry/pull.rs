//! `kist pull` (`image pull`): an image from a registry, with Docker's lines about it.

use anyhow::Result;
use clap::Args;
use kist_engine::Engine;
use kist_image::Reference;
use kist_image::registry::{self, Platform, PullRequest};

use super::progress::{Display, Verb};
use super::{RegistryFlags, credentials};
use crate::flags;

#[derive(Args)]
#[command(mut_arg("quiet", |a| a.help("Print only the image's full name")))]
pub struct PullArgs {
    /// OS/ARCH[/VARIANT] to pull from a multi-platform image [default: this machine's]
    #[arg(long)]
    platform: Option<String>,
    #[command(flatten)]
    quiet: flags::Quiet,
    #[command(flatten)]
    registry: RegistryFlags,
    /// NAME[:TAG|@DIGEST]
    name: String,
}

pub fn pull(engine: &Engine, args: &PullArgs) -> Result<i32> {
    let reference = Reference::parse(&args.name)?;
    let platform = args.platform.as_deref().map(Platform::parse).transpose()?;
    let credential = credentials(engine).get(&reference.registry)?;
    let quiet = args.quiet.on;
    if !quiet {
        if !args.name.contains(['@']) && !has_tag(&args.name) {
            outln!("Using default tag: latest");
        }
        let what = reference.digest.clone().or(reference.tag.clone());
        outln!(
            "{}: Pulling from {}",
            what.unwrap_or_default(),
            reference.repository
        );
    }
    let display = Display::new(quiet, Verb::Pull);
    let outcome = registry::pull(
        &engine.images,
        &PullRequest {
            reference: &reference,
            platform: platform.as_ref(),
            credential,
            options: &args.registry.options(engine)?,
        },
        &display,
    );
    display.finish();
    let outcome = outcome?;
    kist_engine::events::image(
        &engine.layout.root,
        "pull",
        &reference.familiar(),
        &reference.familiar_repository(),
    );
    if !quiet {
        outln!("Digest: {}", outcome.digest);
        if outcome.up_to_date {
            outln!("Status: Image is up to date for {}", reference.familiar());
        } else {
            outln!(
                "Status: Downloaded newer image for {}",
                reference.familiar()
            );
        }
    }
    outln!("{reference}");
    Ok(0)
}

/// Whether the user wrote a tag: a colon after the last slash.
fn has_tag(name: &str) -> bool {
    let last = name.rsplit('/').next().unwrap_or(name);
    last.contains(':')
}
