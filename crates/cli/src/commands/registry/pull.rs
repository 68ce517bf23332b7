//! `kist pull` (`image pull`): an image from a registry, with Docker's lines about it; and the
//! same pull when `run` or `create` finds its image missing (`--pull`).

use anyhow::Result;
use clap::{Args, ValueEnum};
use kist_engine::Engine;
use kist_image::Reference;
use kist_image::registry::{self, Platform, PullRequest};

use super::progress::{Display, Screen, Verb};
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

/// `run --pull`, `create --pull`: when the image is pulled.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PullPolicy {
    /// Only when it is not in the store (Docker's default)
    Missing,
    /// Every time, for the registry's latest
    Always,
    /// Never: a missing image is an error
    Never,
}

/// One pull and what it says, wherever it is asked for.
struct Fetch<'a> {
    /// As the user typed it.
    name: &'a str,
    reference: &'a Reference,
    platform: Option<&'a Platform>,
    quiet: bool,
    registry: &'a RegistryFlags,
    screen: Screen,
}

pub fn pull(engine: &Engine, args: &PullArgs) -> Result<i32> {
    let reference = Reference::parse(&args.name)?;
    let platform = args.platform.as_deref().map(Platform::parse).transpose()?;
    fetch(
        engine,
        &Fetch {
            name: &args.name,
            reference: &reference,
            platform: platform.as_ref(),
            quiet: args.quiet.on,
            registry: &args.registry,
            screen: Screen::Stdout,
        },
    )?;
    outln!("{reference}");
    Ok(0)
}

/// Makes sure `image` is in the store as `policy` says, pulling it with Docker's lines on
/// stderr (stdout belongs to the container), as `docker run` does; `quiet` says none.
pub fn ensure_image(engine: &Engine, image: &str, policy: PullPolicy, quiet: bool) -> Result<()> {
    let missing = matches!(
        engine.images.resolve(image),
        Err(kist_image::Error::ImageNotFound(_))
    );
    if policy != PullPolicy::Always && !missing {
        return Ok(());
    }
    // Found nowhere and not a reference either: that is what to say.
    let reference = Reference::parse(image)?;
    let name = reference.familiar();
    match policy {
        PullPolicy::Never => {
            anyhow::bail!("No such image: {name} ('kist pull {name}' fetches it)")
        }
        PullPolicy::Missing if !quiet => {
            Screen::Stderr.line(format_args!("Unable to find image '{name}' locally"))
        }
        PullPolicy::Missing | PullPolicy::Always => {}
    }
    fetch(
        engine,
        &Fetch {
            // With its tag: `run` says nothing of a default one, as Docker's does not.
            name: &name,
            reference: &reference,
            platform: None,
            quiet,
            registry: &RegistryFlags::from_env(),
            screen: Screen::Stderr,
        },
    )
}

/// Pulls, saying what it does as `docker pull` does.
fn fetch(engine: &Engine, f: &Fetch) -> Result<()> {
    let reference = f.reference;
    let credential = credentials(engine).get(&reference.registry)?;
    if !f.quiet {
        if !f.name.contains(['@']) && !has_tag(f.name) {
            f.screen.line(format_args!("Using default tag: latest"));
        }
        let what = reference.digest.clone().or(reference.tag.clone());
        f.screen.line(format_args!(
            "{}: Pulling from {}",
            what.unwrap_or_default(),
            reference.repository
        ));
    }
    let display = Display::on(f.quiet, Verb::Pull, f.screen);
    let outcome = registry::pull(
        &engine.images,
        &PullRequest {
            reference,
            platform: f.platform,
            credential,
            options: &f.registry.options(engine)?,
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
    if !f.quiet {
        f.screen.line(format_args!("Digest: {}", outcome.digest));
        let status = if outcome.up_to_date {
            "Image is up to date for"
        } else {
            "Downloaded newer image for"
        };
        f.screen
            .line(format_args!("Status: {status} {}", reference.familiar()));
    }
    Ok(())
}

/// Whether the user wrote a tag: a colon after the last slash.
fn has_tag(name: &str) -> bool {
    let last = name.rsplit('/').next().unwrap_or(name);
    last.contains(':')
}
