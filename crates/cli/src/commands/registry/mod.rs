//! `kist pull`, `push`, `login`, `logout`: flags, progress display and Docker's output.

use std::io::{IsTerminal, Read};
use std::sync::Mutex;

use anyhow::{Context, Result, bail};
use clap::Args;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use kist_engine::Engine;
use kist_image::registry::{
    self, Credential, CredentialStore, LayerEvent, Platform, Progress, PullRequest, PushRequest,
    RegistryOptions,
};
use kist_image::{Descriptor, Digest, Reference};

#[derive(Args)]
pub struct RegistryFlags {
    /// A registry (HOST[:PORT]) that may be reached over plain HTTP (loopback ones may);
    /// repeatable
    #[arg(
        long = "insecure-registry",
        env = "KIST_INSECURE_REGISTRIES",
        value_delimiter = ',',
        value_name = "HOST[:PORT]"
    )]
    insecure: Vec<String>,
}

impl RegistryFlags {
    /// The flags' registries and those of the store's config file, ROOT/config.json
    /// (`{"insecure-registries": ["HOST[:PORT]"]}`, as in Docker's daemon.json).
    fn options(&self, engine: &Engine) -> Result<RegistryOptions> {
        let mut insecure = self.insecure.clone();
        let path = engine.layout.root.join("config.json");
        match std::fs::read(&path) {
            Ok(bytes) => {
                let config: serde_json::Value = serde_json::from_slice(&bytes)
                    .with_context(|| format!("reading {}", path.display()))?;
                if let Some(list) = config["insecure-registries"].as_array() {
                    insecure.extend(list.iter().filter_map(|v| v.as_str().map(String::from)));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        }
        Ok(RegistryOptions { insecure })
    }
}

#[derive(Args)]
pub struct PullArgs {
    /// OS/ARCH[/VARIANT] to pull from a multi-platform image [default: this machine's]
    #[arg(long)]
    platform: Option<String>,
    /// Print only the image's full name
    #[arg(short, long)]
    quiet: bool,
    #[command(flatten)]
    registry: RegistryFlags,
    /// NAME[:TAG|@DIGEST]
    name: String,
}

#[derive(Args)]
pub struct PushArgs {
    /// Print only the digest line
    #[arg(short, long)]
    quiet: bool,
    #[command(flatten)]
    registry: RegistryFlags,
    /// NAME[:TAG]
    name: String,
}

#[derive(Args)]
pub struct LoginArgs {
    #[arg(short, long)]
    username: Option<String>,
    /// The password (prefer --password-stdin: arguments are visible to other users)
    #[arg(short, long)]
    password: Option<String>,
    /// Read the password from stdin
    #[arg(long)]
    password_stdin: bool,
    #[command(flatten)]
    registry: RegistryFlags,
    /// The registry, HOST[:PORT] [default: docker.io]
    server: Option<String>,
}

#[derive(Args)]
pub struct LogoutArgs {
    /// The registry, HOST[:PORT] [default: docker.io]
    server: Option<String>,
}

fn credentials(engine: &Engine) -> CredentialStore {
    CredentialStore::new(engine.layout.root.join("auth.json"))
}

pub fn pull(engine: &Engine, args: &PullArgs) -> Result<i32> {
    let reference = Reference::parse(&args.name)?;
    let platform = args.platform.as_deref().map(Platform::parse).transpose()?;
    let credential = credentials(engine).get(&reference.registry)?;
    let quiet = args.quiet;
    if !quiet {
        if !args.name.contains(['@']) && !has_tag(&args.name) {
            println!("Using default tag: latest");
        }
        let what = reference.digest.clone().or(reference.tag.clone());
        println!(
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
    if !quiet {
        println!("Digest: {}", outcome.digest);
        if outcome.up_to_date {
            println!("Status: Image is up to date for {}", reference.familiar());
        } else {
            println!(
                "Status: Downloaded newer image for {}",
                reference.familiar()
            );
        }
    }
    println!("{reference}");
    Ok(0)
}

/// Whether the user wrote a tag: a colon after the last slash.
fn has_tag(name: &str) -> bool {
    let last = name.rsplit('/').next().unwrap_or(name);
    last.contains(':')
}

pub fn push(engine: &Engine, args: &PushArgs) -> Result<i32> {
    let reference = Reference::parse(&args.name)?;
    let image = engine.images.resolve(&args.name)?;
    let credential = credentials(engine).get(&reference.registry)?;
    if !args.quiet {
        println!(
            "The push refers to repository [{}]",
            reference.familiar_repository()
        );
    }
    let display = Display::new(args.quiet, Verb::Push);
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
    println!(
        "{}: digest: {} size: {}",
        outcome.tag, outcome.digest, outcome.size
    );
    Ok(0)
}

pub fn login(engine: &Engine, args: &LoginArgs) -> Result<i32> {
    let server = registry::normalize_registry(args.server.as_deref().unwrap_or(""));
    let Some(username) = args.username.clone() else {
        bail!("a username is required: kist login -u USER --password-stdin {server}");
    };
    let password = match (&args.password, args.password_stdin) {
        (Some(_), true) => bail!("--password and --password-stdin are mutually exclusive"),
        (Some(p), false) => {
            eprintln!("WARNING! Using --password via the CLI is insecure. Use --password-stdin.");
            p.clone()
        }
        (None, true) => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .context("reading the password from stdin")?;
            s.trim_end_matches(['\n', '\r']).to_string()
        }
        (None, false) => bail!("a password is required: use --password-stdin"),
    };
    if password.is_empty() {
        bail!("the password is empty");
    }
    let credential = Credential { username, password };
    registry::check_login(&server, &credential, &args.registry.options(engine)?)
        .with_context(|| format!("logging in to {server}"))?;
    credentials(engine).store(&server, &credential)?;
    println!("Login Succeeded");
    Ok(0)
}

pub fn logout(engine: &Engine, args: &LogoutArgs) -> Result<i32> {
    let server = registry::normalize_registry(args.server.as_deref().unwrap_or(""));
    if credentials(engine).remove(&server)? {
        println!("Removing login credentials for {server}");
    } else {
        println!("Not logged in to {server}");
    }
    Ok(0)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Verb {
    Pull,
    Push,
}

/// Progress: a bar per layer on a terminal, a line per finished layer otherwise.
struct Display {
    quiet: bool,
    verb: Verb,
    bars: Option<Bars>,
}

struct Bars {
    multi: MultiProgress,
    /// Bottom layer first.
    by_digest: Mutex<Vec<(Digest, ProgressBar)>>,
}

impl Display {
    fn new(quiet: bool, verb: Verb) -> Display {
        let bars = (!quiet && std::io::stdout().is_terminal()).then(|| Bars {
            multi: MultiProgress::new(),
            by_digest: Mutex::new(Vec::new()),
        });
        Display { quiet, verb, bars }
    }

    /// Replaces the bars with one plain line per layer, as Docker's screen ends.
    fn finish(&self) {
        let Some(b) = &self.bars else { return };
        let _ = b.multi.clear();
        let map = b.by_digest.lock().unwrap_or_else(|p| p.into_inner());
        for (_, bar) in map.iter() {
            println!("{}: {}", bar.prefix(), bar.message());
        }
    }

    fn message(&self, event: LayerEvent) -> Option<&'static str> {
        Some(match (event, self.verb) {
            (LayerEvent::AlreadyExists, Verb::Pull) => "Already exists",
            (LayerEvent::AlreadyExists, Verb::Push) => "Layer already exists",
            (LayerEvent::PullComplete, _) => "Pull complete",
            (LayerEvent::Pushed, _) => "Pushed",
            (LayerEvent::Transferring { .. }, _) => return None,
        })
    }
}

impl Progress for Display {
    fn layers(&self, layers: &[Descriptor]) {
        let Some(b) = &self.bars else { return };
        let style =
            ProgressStyle::with_template("{prefix}: {msg:<12} [{bar:30}] {bytes}/{total_bytes}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
        let mut map = b.by_digest.lock().unwrap_or_else(|p| p.into_inner());
        for l in layers {
            let Ok(d) = Digest::parse(&l.digest) else {
                continue;
            };
            let bar = b.multi.add(ProgressBar::new(l.size));
            bar.set_style(style.clone());
            bar.set_prefix(d.short().to_string());
            bar.set_message("Waiting");
            map.push((d, bar));
        }
    }

    fn layer(&self, digest: &Digest, event: LayerEvent) {
        if self.quiet {
            return;
        }
        let Some(b) = &self.bars else {
            if let Some(m) = self.message(event) {
                println!("{}: {m}", digest.short());
            }
            return;
        };
        let map = b.by_digest.lock().unwrap_or_else(|p| p.into_inner());
        let Some((_, bar)) = map.iter().find(|(d, _)| d == digest) else {
            return;
        };
        match (event, self.message(event)) {
            (LayerEvent::Transferring { done, .. }, _) => {
                bar.set_message("Downloading");
                bar.set_position(done);
            }
            (_, Some(m)) => {
                bar.finish_with_message(m);
            }
            _ => {}
        }
    }
}
