//! `kist commit`: a container's changes as a new image.

use anyhow::{Context, Result};
use clap::Args;
use kist_engine::Engine;

use crate::flags;

#[derive(Args)]
pub struct CommitArgs {
    /// The commit message
    #[arg(short, long)]
    message: Option<String>,
    /// Author ("Name <email>")
    #[arg(short, long)]
    author: Option<String>,
    /// A Dockerfile instruction for the new image: 'CMD ["sh"]', 'ENV A=1', ...
    #[arg(short, long = "change")]
    change: Vec<String>,
    /// Freeze the container while its layer is read (--pause=false to not)
    #[arg(short, long, default_value_t = true)]
    pause: bool,
    #[command(flatten)]
    container: flags::Container,
    /// NAME[:TAG] for the new image
    reference: Option<String>,
}

pub fn commit(engine: &Engine, args: &CommitArgs) -> Result<i32> {
    let c = engine.store.find_container(&args.container.name)?;
    let opts = kist_engine::commit::CommitOptions {
        message: args.message.clone(),
        author: args.author.clone(),
        changes: args.change.clone(),
        pause: args.pause,
    };
    let id = kist_engine::commit::commit(engine, &c, args.reference.as_deref(), &opts)
        .with_context(|| format!("committing container {}", c.name))?;
    outln!("{id}");
    Ok(0)
}
