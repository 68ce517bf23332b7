//! `kist build` (and `kist image build`): a Dockerfile and its context to an image, with
//! Docker's flags; the work is kist-build's executor.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use kist_build::executor::{BuildOptions, build as run_build};
use kist_engine::Engine;

use crate::commands::container::default_options;
use crate::status::ExitWith;

#[derive(Args)]
pub struct BuildArgs {
    /// Name and optionally a tag (NAME[:TAG]) for the image; may be repeated
    #[arg(short, long = "tag")]
    tag: Vec<String>,
    /// The Dockerfile (default: CONTEXT/Dockerfile; '-' reads stdin)
    #[arg(short, long = "file")]
    file: Option<String>,
    /// A build-time variable: KEY=VALUE, or KEY to take its value from the environment
    #[arg(long = "build-arg")]
    build_arg: Vec<String>,
    /// The stage to build (default: the last)
    #[arg(long)]
    target: Option<String>,
    /// Do not use the build cache
    #[arg(long = "no-cache")]
    no_cache: bool,
    /// Print only the image id
    #[arg(short, long)]
    quiet: bool,
    /// Write the image id to this file
    #[arg(long)]
    iidfile: Option<PathBuf>,
    /// A secret for RUN --mount=type=secret: id=ID,src=FILE
    #[arg(long)]
    secret: Vec<String>,
    /// Set metadata on the image (KEY=VALUE)
    #[arg(short, long = "label")]
    label: Vec<String>,
    /// The build context: a directory, or '-' for a Dockerfile on stdin and no context
    context: String,
}

pub fn build(engine: &Engine, args: &BuildArgs) -> Result<i32> {
    // A bad name is a bad flag (Docker's 125), found before anything is built.
    for tag in &args.tag {
        if let Err(e) = kist_image::Reference::parse(tag) {
            return Err(ExitWith {
                code: 125,
                message: format!("invalid argument {tag:?} for \"-t, --tag\" flag: {e}"),
            }
            .into());
        }
    }
    let (context, dockerfile, dockerfile_name) = inputs(args)?;
    let opts = BuildOptions {
        context,
        dockerfile,
        dockerfile_name,
        tags: args.tag.clone(),
        build_args: args.build_arg.iter().map(|a| split(a)).collect(),
        target: args.target.clone(),
        no_cache: args.no_cache,
        labels: args
            .label
            .iter()
            .map(|l| {
                let (k, v) = split(l);
                (k, v.unwrap_or_default())
            })
            .collect(),
        secrets: args
            .secret
            .iter()
            .map(|s| secret(s))
            .collect::<Result<_>>()?,
        quiet: args.quiet,
        run_template: default_options()?,
    };
    let quiet = args.quiet;
    let progress = |line: &str| {
        if !quiet {
            outln!("{line}");
            crate::output::flush();
        }
    };
    let built = run_build(engine, &opts, &progress).map_err(|e| ExitWith {
        code: 1,
        message: format!("build failed: {e}"),
    })?;
    if quiet {
        outln!("{}", built.image_id);
    }
    if let Some(path) = &args.iidfile {
        std::fs::write(path, built.image_id.to_string())
            .with_context(|| format!("writing the image id to {}", path.display()))?;
    }
    Ok(0)
}

/// `--secret id=ID,src=FILE` (or `source=`), the file made absolute.
fn secret(value: &str) -> Result<(String, PathBuf)> {
    let (mut id, mut src) = (None, None);
    for field in value.split(',') {
        match field.split_once('=') {
            Some(("id", v)) => id = Some(v.to_string()),
            Some(("src" | "source", v)) => src = Some(PathBuf::from(v)),
            Some(("type", "file")) => {}
            _ => anyhow::bail!("--secret {value}: expected id=ID,src=FILE"),
        }
    }
    let (Some(id), Some(src)) = (id, src) else {
        anyhow::bail!("--secret {value}: expected id=ID,src=FILE");
    };
    let src = std::path::absolute(&src).with_context(|| format!("--secret {value}"))?;
    if !src.is_file() {
        anyhow::bail!("--secret {value}: {} is not a file", src.display());
    }
    Ok((id, src))
}

/// `K=V` as (K, Some(V)); `K` as (K, None).
fn split(arg: &str) -> (String, Option<String>) {
    match arg.split_once('=') {
        Some((k, v)) => (k.to_string(), Some(v.to_string())),
        None => (arg.to_string(), None),
    }
}

/// The context directory, the Dockerfile's text and its name.
fn inputs(args: &BuildArgs) -> Result<(Option<PathBuf>, String, String)> {
    let stdin = || -> Result<String> {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading the Dockerfile from stdin")?;
        Ok(text)
    };
    if args.context == "-" {
        return Ok((None, stdin()?, "Dockerfile".into()));
    }
    let context = PathBuf::from(&args.context);
    if !context.is_dir() {
        anyhow::bail!(
            "unable to prepare context: path {:?} not found (the context is a directory)",
            args.context
        );
    }
    let (text, name) = match args.file.as_deref() {
        Some("-") => (stdin()?, "Dockerfile".to_string()),
        Some(file) => (read(&PathBuf::from(file))?, file.to_string()),
        None => {
            let path = context.join("Dockerfile");
            (read(&path)?, path.display().to_string())
        }
    };
    Ok((Some(context), text, name))
}

fn read(path: &PathBuf) -> Result<String> {
    std::fs::read_to_string(path)
        .with_context(|| format!("reading the Dockerfile {}", path.display()))
}
