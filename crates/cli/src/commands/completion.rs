//! What shells and `man` know of kist: completion scripts (`kist completion bash|zsh|fish`)
//! and a man page per command (`kist __man DIR`: kist(1), kist-run(1), kist-image-ls(1)...),
//! generated from the same clap definitions as the parser and its help, so they always agree.
//! `scripts/setup` installs both.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use clap_complete::Shell;

#[derive(Args)]
pub struct CompletionArgs {
    /// The shell to complete kist's commands and flags in
    #[arg(value_enum)]
    shell: Shell,
}

// The directory to write the pages into.
#[derive(Args)]
pub struct ManArgs {
    dir: PathBuf,
}

/// Prints the completion script for a shell.
pub fn completion(args: &CompletionArgs) -> Result<i32> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut crate::command(), "kist", &mut script);
    crate::output::write_out(&script);
    Ok(0)
}

/// Writes kist.1 and a page for every command that is not hidden.
pub fn man(args: &ManArgs) -> Result<i32> {
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("creating {}", args.dir.display()))?;
    clap_mangen::generate_to(crate::command(), &args.dir)
        .with_context(|| format!("writing man pages to {}", args.dir.display()))?;
    Ok(0)
}
