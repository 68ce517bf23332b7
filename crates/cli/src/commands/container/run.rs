//! `kist run`: its flags, turned into the engine's `RunOptions`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{ArgAction, Args};
use kist_engine::{Engine, Limits, NetworkMode, RunOptions, RunOutcome};

use super::limits::ResourceArgs;
use super::security::SecurityArgs;
use crate::flags;

/// The restart policy when `--restart` is not given.
const NO_RESTART: &str = "no";

// `-h` is --hostname, as in Docker, so clap's help flag is replaced by a long-only one.
#[derive(Args)]
#[command(disable_help_flag = true)]
#[command(mut_arg("restart", |a| a.default_value(NO_RESTART)))]
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
    /// Bind mount (/host:/ctr[:ro]) or named volume (NAME:/ctr[:ro])
    #[arg(short, long = "volume")]
    volume: Vec<String>,
    /// Overwrite the default ENTRYPOINT of the image
    #[arg(long)]
    entrypoint: Option<String>,
    /// Mount the container's root read-only
    #[arg(long)]
    read_only: bool,
    /// Run an init as PID 1 that forwards signals and reaps zombies
    #[arg(long)]
    init: bool,
    /// none (the default: only lo) or host
    #[arg(long, alias = "net", default_value = "none")]
    network: String,
    #[command(flatten)]
    security: SecurityArgs,
    #[command(flatten)]
    health: super::health::HealthArgs,
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
    match kist_engine::run(engine, args.into_options()?)? {
        RunOutcome::Exited(code) => Ok(code),
        RunOutcome::Detached(id) => {
            outln!("{id}");
            Ok(0)
        }
    }
}

impl RunArgs {
    /// Every flag checked and parsed, in the order that decides which mistake is reported
    /// first.
    fn into_options(self) -> Result<RunOptions> {
        let restart = self.restart.value.as_deref().unwrap_or(NO_RESTART);
        if self.detach.on && self.rm && restart != NO_RESTART {
            anyhow::bail!("--rm and --restart cannot be used together");
        }
        let mut rest = self.image_and_command.into_iter();
        let image = rest
            .next()
            .context("an image is required: kist run IMAGE [COMMAND]")?;
        let volumes = self
            .volume
            .iter()
            .map(|v| kist_engine::parse_volume(v))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let network = NetworkMode::parse(&self.network)?;
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
            entrypoint: self.entrypoint,
            read_only: self.read_only,
            init: self.init,
            network,
            detach: self.detach.on,
            labels: self.label,
            cgroup_parent: self.cgroup_parent,
            cgroup_version: cgroup_version()?,
            cgroupns_private: cgroupns_private(&self.cgroupns)?,
            limits: limits(&self.ulimit, self.oom_score_adj, &self.resources)?,
            restart: kist_engine::RestartPolicy::parse(restart)?,
            log: kist_engine::LogOptions::parse(&self.log_opt)?,
            security,
            healthcheck: self.health.healthcheck()?,
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
