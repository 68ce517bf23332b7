//! `kist run` and `kist create`: their flags, turned into the engine's `RunOptions`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{ArgAction, Args};
use kist_engine::{Engine, Limits, RunOptions, RunOutcome};

use super::limits::ResourceArgs;
use super::network::NetworkArgs;
use super::security::SecurityArgs;
use super::storage::{NamespaceArgs, StorageArgs};
use super::streams::StreamArgs;
use crate::commands::registry::{PullPolicy, ensure_image};
use crate::{flags, terminal};

/// The restart policy when `--restart` is not given.
const NO_RESTART: &str = "no";

// `-h` is --hostname, as in Docker, so clap's help flag is replaced by a long-only one.
#[derive(Args)]
#[command(disable_help_flag = true)]
#[command(mut_arg("restart", |a| a.default_value(NO_RESTART)))]
#[command(mut_arg("quiet", |a| a.help("Print nothing of the pull of a missing image")))]
pub struct RunArgs {
    /// Remove the container when it exits
    #[arg(long)]
    rm: bool,
    #[command(flatten)]
    interactive: flags::Interactive,
    #[command(flatten)]
    tty: flags::Tty,
    #[command(flatten)]
    detach: flags::Detach,
    #[command(flatten)]
    detach_keys: flags::DetachKeys,
    #[command(flatten)]
    streams: StreamArgs,
    #[command(flatten)]
    restart: flags::Restart,
    /// Set metadata (KEY=VALUE)
    #[arg(short, long = "label")]
    label: Vec<String>,
    #[command(flatten)]
    resources: ResourceArgs,
    /// A process limit: NAME=SOFT[:HARD], like nofile=1024:2048
    #[arg(long)]
    ulimit: Vec<String>,
    /// Tune the OOM killer's preference (-1000 to 1000)
    #[arg(long = "oom-score-adj", allow_hyphen_values = true)]
    oom_score_adj: Option<i32>,
    /// The cgroup to put the container's cgroup under: absolute, or relative to kist's own
    #[arg(
        long = "cgroup-parent",
        env = "KIST_CGROUP_PARENT",
        default_value = "/kist"
    )]
    cgroup_parent: String,
    /// The container's cgroup namespace: host or private (its cgroup is the root it sees)
    #[arg(long, default_value = "host")]
    cgroupns: String,
    /// max-size=SIZE, max-file=N
    #[arg(long = "log-opt")]
    log_opt: Vec<String>,
    /// Assign a name to the container
    #[arg(long)]
    name: Option<String>,
    #[command(flatten)]
    env: flags::Env,
    /// Read in a file of environment variables
    #[arg(long = "env-file")]
    env_file: Vec<PathBuf>,
    #[command(flatten)]
    workdir: flags::Workdir,
    #[command(flatten)]
    user: flags::User,
    /// The container's host name
    #[arg(short = 'h', long)]
    hostname: Option<String>,
    /// Bind mount (/host:/ctr[:ro], ./dir:/ctr) or named volume (NAME:/ctr[:ro])
    #[arg(short, long = "volume")]
    volume: Vec<String>,
    #[command(flatten)]
    storage: StorageArgs,
    #[command(flatten)]
    namespaces: NamespaceArgs,
    /// Overwrite the default ENTRYPOINT of the image
    #[arg(long)]
    entrypoint: Option<String>,
    /// Mount the container's root read-only
    #[arg(long)]
    read_only: bool,
    /// Run an init as PID 1 that forwards signals and reaps zombies
    #[arg(long)]
    init: bool,
    #[command(flatten)]
    network: NetworkArgs,
    #[command(flatten)]
    security: SecurityArgs,
    #[command(flatten)]
    health: super::health::HealthArgs,
    /// The signal that stops the container (name or number) [default: the image's, or TERM]
    #[arg(long = "stop-signal", value_name = "SIGNAL")]
    stop_signal: Option<String>,
    /// Seconds stop waits before SIGKILL (-1: for ever) [default: 10]
    #[arg(
        long = "stop-timeout",
        value_name = "SECONDS",
        allow_hyphen_values = true
    )]
    stop_timeout: Option<i64>,
    /// Write the container's id into this file (which must not exist)
    #[arg(long)]
    cidfile: Option<PathBuf>,
    /// When to pull the image: missing (not in the store), always, or never
    #[arg(long, value_enum, default_value = "missing")]
    pull: PullPolicy,
    #[command(flatten)]
    quiet: flags::Quiet,
    /// Print help
    #[arg(long, action = ArgAction::Help)]
    help: Option<bool>,
    /// The image, then the program and its arguments [default: the image's]
    #[arg(
        required = true,
        trailing_var_arg = true,
        value_name = "IMAGE [COMMAND [ARG...]]"
    )]
    image_and_command: Vec<String>,
}

pub fn run(engine: &Engine, args: RunArgs) -> Result<i32> {
    // -it: the container runs under a supervisor that shares its terminal, so that the user
    // can detach from it and leave it running, as Docker's does.
    let attach = args.interactive.on && args.tty.on && !args.detach.on;
    let keys = terminal::detach_keys(args.detach_keys.value.as_deref())?;
    if attach {
        crate::status::require_terminal_stdin()?;
    }
    let (pull, quiet) = (args.pull, args.quiet.on);
    let opts = args.into_options(attach)?;
    match with_image(engine, &opts, pull, quiet, |o| kist_engine::run(engine, o))? {
        RunOutcome::Exited(code) => Ok(code),
        RunOutcome::Detached(id) if attach => {
            let client = kist_engine::console::ConsoleClient::connect(&engine.layout, &id)?
                .context("the container's supervisor shares no terminal")?;
            Ok(match terminal::attach(engine, &id, client, &keys, true)? {
                terminal::Ended::Exited(code) => code,
                terminal::Ended::Detached => 0,
            })
        }
        RunOutcome::Detached(id) => {
            outln!("{id}");
            Ok(0)
        }
    }
}

/// `kist create`: run's flags, the container recorded but not started; prints its id.
pub fn create(engine: &Engine, args: RunArgs) -> Result<i32> {
    let (pull, quiet) = (args.pull, args.quiet.on);
    let opts = args.into_options(false)?;
    let id = with_image(engine, &opts, pull, quiet, |o| {
        kist_engine::create(engine, o)
    })?;
    outln!("{id}");
    Ok(0)
}

/// `run` (or `create`) with the image made present as `pull` says. With `missing`, the
/// default, the engine's own lookup of the image is the only one on the common path: only when
/// it finds none is the image pulled and the run tried again (nothing was made before that).
fn with_image<T>(
    engine: &Engine,
    opts: &RunOptions,
    pull: PullPolicy,
    quiet: bool,
    run: impl Fn(RunOptions) -> kist_engine::Result<T>,
) -> Result<T> {
    if pull != PullPolicy::Missing {
        ensure_image(engine, &opts.image, pull, quiet)?;
        return Ok(run(opts.clone())?);
    }
    match run(opts.clone()) {
        Err(kist_engine::Error::Image(kist_image::Error::ImageNotFound(_))) => {
            ensure_image(engine, &opts.image, pull, quiet)?;
            Ok(run(opts.clone())?)
        }
        other => Ok(other?),
    }
}

impl RunArgs {
    /// Every flag checked and parsed, in the order that decides which mistake is reported
    /// first.
    fn into_options(self, share_terminal: bool) -> Result<RunOptions> {
        let restart = self.restart.value.as_deref().unwrap_or(NO_RESTART);
        if (self.detach.on || share_terminal) && self.rm && restart != NO_RESTART {
            anyhow::bail!("--rm and --restart cannot be used together");
        }
        let mut rest = self.image_and_command.into_iter();
        let image = rest
            .next()
            .context("an image is required: kist run IMAGE [COMMAND]")?;
        let (volumes, storage) = self.storage.mounts(&self.volume)?;
        let (attach, no_sig_proxy) = self.streams.streams(self.interactive.on, self.detach.on)?;
        let (network, networking) = self.network.networking()?;
        let security = self.security.security(network)?;
        Ok(RunOptions {
            image,
            command: rest.collect(),
            remove: self.rm,
            interactive: self.interactive.on,
            tty: self.tty.on,
            name: self.name,
            env: self.env.values,
            env_files: self.env_file,
            workdir: self.workdir.value,
            user: self.user.value,
            hostname: self.hostname,
            volumes,
            storage,
            namespaces: self.namespaces.namespaces()?,
            attach,
            no_sig_proxy,
            entrypoint: self.entrypoint,
            read_only: self.read_only,
            init: self.init,
            network,
            networking,
            detach: self.detach.on,
            share_terminal,
            labels: self.label,
            cgroup_parent: self.cgroup_parent,
            cgroup_version: cgroup_version()?,
            cgroupns_private: cgroupns_private(&self.cgroupns)?,
            limits: limits(&self.ulimit, self.oom_score_adj, &self.resources)?,
            restart: kist_engine::RestartPolicy::parse(restart)?,
            log: kist_engine::LogOptions::parse(&self.log_opt)?,
            security,
            healthcheck: self.health.healthcheck()?,
            stop_signal: self.stop_signal,
            stop_timeout: self.stop_timeout,
            cidfile: self.cidfile,
        })
    }
}

/// `KIST_CGROUP_VERSION`: 1 or 2 to use only those hierarchies; detected when unset.
fn cgroup_version() -> Result<kist_runtime::CgroupVersion> {
    let value = std::env::var("KIST_CGROUP_VERSION").unwrap_or_default();
    kist_runtime::CgroupVersion::parse(&value).context("reading KIST_CGROUP_VERSION")
}

/// `--cgroupns`: whether the container gets a cgroup namespace of its own.
fn cgroupns_private(mode: &str) -> Result<bool> {
    match mode {
        "host" => Ok(false),
        "private" => Ok(true),
        other => anyhow::bail!("invalid --cgroupns {other:?}: use host or private"),
    }
}

/// The process limits `run` alone takes, with the cgroup limits it shares with `update`.
fn limits(
    ulimits: &[String],
    oom_score_adj: Option<i32>,
    resources: &ResourceArgs,
) -> Result<Limits> {
    Ok(Limits {
        ulimits: ulimits
            .iter()
            .map(|u| kist_engine::parse_ulimit(u))
            .collect::<std::result::Result<_, _>>()?,
        oom_score_adj,
        ..resources.limits()?
    })
}
