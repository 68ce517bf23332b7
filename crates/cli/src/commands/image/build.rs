//! `kist build` (and `kist image build`): a Dockerfile and its context to an image, with
//! Docker's flags; the work is kist-build's executor.

use std::io::Read;
use std::path::PathBuf;

use std::io::IsTerminal;
use std::sync::Mutex;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use kist_build::executor::{
    BuildOptions, Entitlements, Event, Frontend, PullPolicy, build as run_build,
};
use kist_engine::{Engine, NetworkMode};

use super::build_progress::Live;
use crate::commands::container::default_options;
use crate::commands::registry::{self, ensure_image};
use crate::status::ExitWith;

/// `--progress`: how the steps are shown.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Progress {
    /// tty on a terminal, plain otherwise
    Auto,
    /// A line per step start and end, and the RUN steps' output
    Plain,
    /// Live lines of the running steps with their times (stdout must be a terminal)
    Tty,
}

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
    /// When to pull the images FROM names: missing, always (--pull alone), never
    #[arg(
        long,
        value_name = "POLICY",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "always",
        default_value = "missing"
    )]
    pull: String,
    /// The network of the RUN steps: default (kist's), none or host
    #[arg(long, default_value = "default")]
    network: String,
    /// Allow an entitlement: network.host (RUN --network=host), security.insecure
    /// (RUN --security=insecure, privileged); may be repeated or comma-separated
    #[arg(long, value_name = "ENTITLEMENT", value_delimiter = ',')]
    allow: Vec<String>,
    /// How to show the steps: auto, plain or tty
    #[arg(long, value_enum, default_value = "auto")]
    progress: Progress,
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
    let pull = pull_policy(&args.pull)?;
    let network = network(&args.network)?;
    let allow = entitlements(&args.allow)?;
    let live = match args.progress {
        _ if args.quiet => false,
        Progress::Plain => false,
        Progress::Auto => std::io::stdout().is_terminal(),
        Progress::Tty if std::io::stdout().is_terminal() => true,
        Progress::Tty => {
            return Err(ExitWith {
                code: 125,
                message: "--progress tty: the standard output is not a terminal (--progress plain is for logs)".into(),
            }
            .into());
        }
    };
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
        network,
        pull,
        allow,
    };
    let frontend = Cli {
        quiet: args.quiet,
        live: live.then(Live::start).transpose()?,
        pulled: Mutex::new(Vec::new()),
    };
    let built = run_build(engine, &opts, &frontend);
    if let Some(live) = frontend.live {
        live.finish();
    }
    let built = built.map_err(|e| ExitWith {
        code: 1,
        message: format!("build failed: {e}"),
    })?;
    if args.quiet {
        outln!("{}", built.image_id);
    }
    if let Some(path) = &args.iidfile {
        std::fs::write(path, built.image_id.to_string())
            .with_context(|| format!("writing the image id to {}", path.display()))?;
    }
    Ok(0)
}

/// What the build shows, and its pulls.
struct Cli {
    quiet: bool,
    live: Option<Live>,
    /// The images pulled in this build: each once, even with --pull=always.
    pulled: Mutex<Vec<String>>,
}

impl Frontend for Cli {
    fn event(&self, event: Event<'_>) {
        match (&self.live, self.quiet) {
            (_, true) => {}
            (Some(live), _) => live.event(event),
            (None, _) => {
                outln!("{}", event.plain());
                crate::output::flush();
            }
        }
    }

    fn pull(&self, engine: &Engine, image: &str) -> Result<(), String> {
        let mut pulled = self.pulled.lock().unwrap_or_else(|p| p.into_inner());
        if pulled.iter().any(|p| p == image) {
            return Ok(());
        }
        // The executor decided that it is to be pulled; the lines go to stderr.
        ensure_image(engine, image, registry::PullPolicy::Always, self.quiet)
            .map_err(|e| format!("{e:#}"))?;
        pulled.push(image.to_string());
        Ok(())
    }
}

/// `--pull`'s value: Podman's words, and Docker's boolean (`--pull` alone is `always`).
fn pull_policy(value: &str) -> Result<PullPolicy> {
    match value {
        "missing" | "false" => Ok(PullPolicy::Missing),
        "always" | "true" => Ok(PullPolicy::Always),
        "never" => Ok(PullPolicy::Never),
        other => Err(ExitWith {
            code: 125,
            message: format!(
                "invalid argument {other:?} for \"--pull\" flag: expected always, missing or never"
            ),
        }
        .into()),
    }
}

/// `--network`'s value: `None` for kist's default network.
fn network(value: &str) -> Result<Option<NetworkMode>> {
    match value {
        "default" => Ok(None),
        "none" => Ok(Some(NetworkMode::None)),
        "host" => Ok(Some(NetworkMode::Host)),
        other => Err(ExitWith {
            code: 125,
            message: format!("invalid argument {other:?} for \"--network\" flag: kist build takes default, none or host"),
        }
        .into()),
    }
}

/// `--allow`'s values; one kist does not know is a bad flag.
fn entitlements(values: &[String]) -> Result<Entitlements> {
    let mut allow = Entitlements::default();
    for value in values {
        allow.allow(value).map_err(|why| ExitWith {
            code: 125,
            message: format!("invalid argument {value:?} for \"--allow\" flag: {why}"),
        })?;
    }
    Ok(allow)
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
