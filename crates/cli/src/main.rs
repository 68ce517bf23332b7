//! `kist`: the command line. Parses, calls the engine, prints. Docker's exit codes: the
//! container's own status, 125 when kist fails, 126/127 when the program cannot run.

mod commands;
mod format;
mod template;

use commands::container::{logs, ps, stats};
use commands::{image as images, registry};

use std::io::Read;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};
use clap::{ArgAction, Args, Parser, Subcommand};
use kist_engine::{Engine, NetworkMode, RemoveMode, RunOptions, lifecycle};
use kist_image::{Reference, import_rootfs_tarball};

#[derive(Parser)]
#[command(
    name = "kist",
    version,
    about = "A container engine",
    disable_help_subcommand = true
)]
struct Cli {
    /// Where kist keeps images, containers and volumes
    #[arg(long, global = true, env = "KIST_ROOT", default_value = kist_engine::Layout::DEFAULT_ROOT)]
    root: PathBuf,
    /// Where kist keeps runtime state [default: /run/kist for the default root, ROOT/run otherwise]
    #[arg(long, global = true, env = "KIST_RUNROOT")]
    runroot: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create an image from a root filesystem tarball (plain, gzip or zstd; '-' reads stdin)
    Import { file: String, name: String },
    /// Download an image from a registry
    Pull(registry::PullArgs),
    /// Upload an image to a registry
    Push(registry::PushArgs),
    /// Log in to a registry
    Login(registry::LoginArgs),
    /// Log out from a registry
    Logout(registry::LogoutArgs),
    /// List images
    Images(images::ImagesArgs),
    /// Give an image another name: kist tag SOURCE TARGET
    Tag { source: String, target: String },
    /// Remove images (a name at a time; never one a container uses, unless forced)
    Rmi(images::RmiArgs),
    /// Show the history of an image
    History(images::HistoryArgs),
    /// Manage images
    #[command(subcommand)]
    Image(images::ImageCommand),
    /// Make an image of a container's changes
    Commit(images::CommitArgs),
    /// Write images to a tar archive (docker-archive or oci-archive)
    Save(images::SaveArgs),
    /// Load images from a tar archive that save (or docker save, skopeo) wrote
    Load(images::LoadArgs),
    /// Write a container's filesystem as a tar archive
    Export {
        /// Write to this file instead of stdout
        #[arg(short, long)]
        output: Option<PathBuf>,
        container: String,
    },
    /// Run a command in a new container
    Run(Box<RunArgs>),
    /// List containers
    Ps {
        #[arg(short, long)]
        all: bool,
        #[arg(short, long)]
        quiet: bool,
        #[arg(long)]
        no_trunc: bool,
        /// Show the N most recently created containers (any state)
        #[arg(short = 'n', long = "last")]
        last: Option<usize>,
        /// Show the most recently created container
        #[arg(short, long)]
        latest: bool,
        /// status=, name=, id=, ancestor=, label=
        #[arg(short, long = "filter")]
        filter: Vec<String>,
        /// A template per container, such as '{{.ID}} {{.Names}}'
        #[arg(long)]
        format: Option<String>,
    },
    /// Remove containers
    Rm {
        #[arg(short, long)]
        force: bool,
        /// Remove the anonymous volumes of the container too
        #[arg(short, long)]
        volumes: bool,
        #[arg(required = true)]
        containers: Vec<String>,
    },
    /// Run a command in a running container
    Exec(ExecArgs),
    /// Follow a running container's output until it exits, and exit with its status
    Attach { container: String },
    /// Show containers or images as JSON
    Inspect {
        /// A template such as '{{.State.Pid}}'
        #[arg(short, long)]
        format: Option<String>,
        /// container or image (default: whichever the name finds)
        #[arg(long = "type")]
        kind: Option<String>,
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Fetch the logs of a container
    Logs {
        #[arg(short, long)]
        follow: bool,
        /// Number of lines from the end (or "all")
        #[arg(short = 'n', long, default_value = "all")]
        tail: String,
        /// Show logs since a timestamp (RFC 3339 or Unix) or a relative time (42m)
        #[arg(long)]
        since: Option<String>,
        #[arg(long)]
        until: Option<String>,
        #[arg(short, long)]
        timestamps: bool,
        container: String,
    },
    /// Stop running containers (the stop signal, then SIGKILL after a grace period)
    Stop {
        /// Seconds to wait before killing
        #[arg(short = 't', long = "time", default_value_t = 10)]
        time: u64,
        #[arg(required = true)]
        containers: Vec<String>,
    },
    /// Send a signal to running containers
    Kill {
        #[arg(short, long, default_value = "KILL")]
        signal: String,
        #[arg(required = true)]
        containers: Vec<String>,
    },
    /// Block until containers stop, then print their exit codes
    Wait {
        #[arg(required = true)]
        containers: Vec<String>,
    },
    /// Start stopped containers
    Start {
        /// Attach: print the container's output and exit with its status
        #[arg(short, long)]
        attach: bool,
        #[arg(short, long)]
        interactive: bool,
        #[arg(required = true)]
        containers: Vec<String>,
    },
    /// Restart containers
    Restart {
        #[arg(short = 't', long = "time", default_value_t = 10)]
        time: u64,
        #[arg(required = true)]
        containers: Vec<String>,
    },
    /// Rename a container
    Rename { container: String, new_name: String },
    /// Freeze every process of running containers
    Pause {
        #[arg(required = true)]
        containers: Vec<String>,
    },
    /// Thaw paused containers
    Unpause {
        #[arg(required = true)]
        containers: Vec<String>,
    },
    /// Copy files between a container and the host: CONTAINER:PATH HOSTPATH, or HOSTPATH CONTAINER:PATH
    Cp { source: String, destination: String },
    /// List the changes of a container's filesystem: A added, C changed, D deleted
    Diff { container: String },
    /// List the processes of a running container
    Top { container: String },
    /// Show what running containers use: CPU, memory, network, block I/O, processes
    Stats {
        /// All containers, not only running ones
        #[arg(short, long)]
        all: bool,
        /// Print one table and exit
        #[arg(long)]
        no_stream: bool,
        #[arg(long)]
        no_trunc: bool,
        /// A template per container, such as '{{.Name}} {{.CPUPerc}}'
        #[arg(long)]
        format: Option<String>,
        containers: Vec<String>,
    },
    /// Change the limits (or restart policy) of containers
    Update(UpdateArgs),
    /// Manage containers
    #[command(subcommand)]
    Container(ContainerCommand),
    /// Manage volumes
    #[command(subcommand)]
    Volume(VolumeCommand),
    /// The supervisor of a detached container (internal)
    #[command(name = "__supervise", hide = true)]
    Supervise { id: String },
    /// Manage kist itself
    #[command(subcommand)]
    System(SystemCommand),
}

#[derive(Args)]
#[command(disable_help_flag = true)]
struct RunArgs {
    /// Remove the container when it exits
    #[arg(long)]
    rm: bool,
    /// Keep stdin open and pass it to the container
    #[arg(short, long)]
    interactive: bool,
    /// Give the container a terminal
    #[arg(short, long)]
    tty: bool,
    /// Run in the background and print the container's id
    #[arg(short, long)]
    detach: bool,
    /// no, on-failure[:N], always or unless-stopped
    #[arg(long, default_value = "no")]
    restart: String,
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
    #[arg(long)]
    name: Option<String>,
    /// Set an environment variable (KEY=VALUE, or KEY to pass kist's own)
    #[arg(short, long = "env", value_name = "KEY=VALUE")]
    env: Vec<String>,
    #[arg(long = "env-file")]
    env_file: Vec<PathBuf>,
    #[arg(short, long)]
    workdir: Option<String>,
    /// UID[:GID] or NAME[:GROUP]
    #[arg(short, long)]
    user: Option<String>,
    #[arg(short = 'h', long)]
    hostname: Option<String>,
    /// Bind mount (/host:/ctr[:ro]) or named volume (NAME:/ctr[:ro])
    #[arg(short, long = "volume")]
    volume: Vec<String>,
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
    #[arg(long, action = ArgAction::Help)]
    help: Option<bool>,
    /// IMAGE [COMMAND [ARG...]]
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "IMAGE [COMMAND [ARG...]]"
    )]
    image_and_command: Vec<String>,
}

/// What confines the container: capabilities, seccomp, devices, sysctls.
#[derive(Args)]
struct SecurityArgs {
    /// Add a Linux capability (NET_ADMIN, CAP_SYS_PTRACE, ALL)
    #[arg(long = "cap-add", value_name = "CAP")]
    cap_add: Vec<String>,
    /// Drop a Linux capability (CHOWN, ALL)
    #[arg(long = "cap-drop", value_name = "CAP")]
    cap_drop: Vec<String>,
    /// Give the container every capability, every host device, no seccomp, no masked paths
    #[arg(long)]
    privileged: bool,
    /// seccomp=unconfined|PROFILE.json, no-new-privileges[=true], systempaths=unconfined
    #[arg(long = "security-opt", value_name = "OPTION")]
    security_opt: Vec<String>,
    /// Add a host device: HOST[:CONTAINER][:rwm]
    #[arg(long, value_name = "DEVICE")]
    device: Vec<String>,
    /// Add the process to another group (name or id)
    #[arg(long = "group-add", value_name = "GROUP")]
    group_add: Vec<String>,
    /// Set a namespaced kernel parameter (net.*, kernel.shm*, kernel.msg*, fs.mqueue.*)
    #[arg(long, value_name = "KEY=VALUE")]
    sysctl: Vec<String>,
}

impl SecurityArgs {
    fn security(&self, network: NetworkMode) -> Result<kist_engine::security::Security> {
        Ok(kist_engine::security::Security::parse(
            &kist_engine::security::SecurityFlags {
                cap_add: self.cap_add.clone(),
                cap_drop: self.cap_drop.clone(),
                privileged: self.privileged,
                security_opt: self.security_opt.clone(),
                devices: self.device.clone(),
                group_add: self.group_add.clone(),
                sysctls: self.sysctl.clone(),
            },
            network,
        )?)
    }
}

#[derive(Args)]
struct UpdateArgs {
    #[command(flatten)]
    resources: ResourceArgs,
    /// no, on-failure[:N], always or unless-stopped
    #[arg(long)]
    restart: Option<String>,
    #[arg(required = true)]
    containers: Vec<String>,
}

/// The cgroup limits of `run` and `update`, in Docker's names and units.
#[derive(Args)]
struct ResourceArgs {
    /// Memory limit (64m, 1g)
    #[arg(short, long)]
    memory: Option<String>,
    /// Memory plus swap limit (-1: unlimited swap)
    #[arg(long = "memory-swap", allow_hyphen_values = true)]
    memory_swap: Option<String>,
    /// Memory soft limit (32m)
    #[arg(long = "memory-reservation")]
    memory_reservation: Option<String>,
    /// Number of CPUs (1.5)
    #[arg(long)]
    cpus: Option<f64>,
    /// CPU shares (relative weight)
    #[arg(short = 'c', long = "cpu-shares")]
    cpu_shares: Option<u64>,
    /// CPU CFS period in microseconds
    #[arg(long = "cpu-period")]
    cpu_period: Option<u64>,
    /// CPU CFS quota in microseconds (-1: none)
    #[arg(long = "cpu-quota", allow_hyphen_values = true)]
    cpu_quota: Option<i64>,
    /// CPUs to run on (0-2,4)
    #[arg(long = "cpuset-cpus")]
    cpuset_cpus: Option<String>,
    /// Memory nodes to use (0-1)
    #[arg(long = "cpuset-mems")]
    cpuset_mems: Option<String>,
    /// Most processes at once (-1: unlimited)
    #[arg(long = "pids-limit", allow_hyphen_values = true)]
    pids_limit: Option<i64>,
    /// Relative block I/O weight (10 to 1000)
    #[arg(long = "blkio-weight")]
    blkio_weight: Option<u16>,
}

impl ResourceArgs {
    fn limits(&self) -> Result<kist_engine::Limits> {
        Ok(kist_engine::Limits {
            memory: self.memory.as_deref().map(size).transpose()?,
            memory_swap: self
                .memory_swap
                .as_deref()
                .map(|s| if s == "-1" { Ok(-1) } else { size(s) })
                .transpose()?,
            memory_reservation: self.memory_reservation.as_deref().map(size).transpose()?,
            pids: self.pids_limit,
            cpus: self.cpus,
            cpu_shares: self.cpu_shares,
            cpu_period: self.cpu_period,
            cpu_quota: self.cpu_quota,
            cpuset_cpus: self.cpuset_cpus.clone(),
            cpuset_mems: self.cpuset_mems.clone(),
            blkio_weight: self.blkio_weight,
            ..Default::default()
        })
    }
}

#[derive(Args)]
struct ExecArgs {
    /// Run the command in the background
    #[arg(short, long)]
    detach: bool,
    #[arg(short, long)]
    interactive: bool,
    #[arg(short, long)]
    tty: bool,
    #[arg(short, long = "env", value_name = "KEY=VALUE")]
    env: Vec<String>,
    #[arg(short, long)]
    workdir: Option<String>,
    #[arg(short, long)]
    user: Option<String>,
    /// CONTAINER COMMAND [ARG...]
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CONTAINER COMMAND [ARG...]"
    )]
    container_and_command: Vec<String>,
}

#[derive(Subcommand)]
enum VolumeCommand {
    Create {
        name: Option<String>,
    },
    Ls {
        #[arg(short, long)]
        quiet: bool,
    },
    Inspect {
        #[arg(required = true)]
        names: Vec<String>,
    },
    Rm {
        #[arg(required = true)]
        names: Vec<String>,
    },
    Prune {
        #[arg(short, long)]
        force: bool,
    },
}

#[derive(Subcommand)]
enum ContainerCommand {
    /// Remove all stopped containers
    Prune {
        #[arg(short, long)]
        force: bool,
    },
}

#[derive(Subcommand)]
enum SystemCommand {
    /// Disk usage of images, containers and volumes
    Df,
    /// Clean up after killed commands, and remove stopped containers and unused volumes
    Prune {
        #[arg(short, long)]
        force: bool,
        #[arg(long)]
        volumes: bool,
    },
    /// Start the containers whose restart policy wants them running (for a unit at boot)
    Boot,
}

fn main() {
    if kist_runtime::sealed::is_init_invocation() {
        kist_runtime::init::main();
    }
    let code = match Cli::try_parse() {
        Ok(cli) => match dispatch(cli) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("kist: {}", one_line(&e));
                e.downcast_ref::<kist_engine::Error>()
                    .map_or(125, |e| e.exit_code())
            }
        },
        Err(e) => usage_error(e),
    };
    std::process::exit(code)
}

/// The error and its causes on one line.
fn one_line(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let s = cause.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
    }
    // One line, whatever the causes hold.
    parts.join(": ").replace(['\n', '\r'], " ")
}

/// clap's errors as one line and exit 125, as Docker does for bad flags.
fn usage_error(e: clap::Error) -> i32 {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return 0;
    }
    let rendered = e.render().to_string();
    let first = rendered.lines().next().unwrap_or("invalid arguments");
    let first = first.strip_prefix("error: ").unwrap_or(first);
    eprintln!("kist: {first}; see 'kist --help'");
    125
}

fn dispatch(cli: Cli) -> Result<i32> {
    if let Command::Supervise { id } = &cli.command {
        return Ok(kist_engine::supervisor::supervise(
            &cli.root,
            cli.runroot.as_deref(),
            id,
        ));
    }
    let engine = Engine::open(&cli.root, cli.runroot.as_deref())
        .with_context(|| format!("opening kist's store at {}", cli.root.display()))?;
    match cli.command {
        Command::Import { file, name } => import(&engine, &file, &name),
        Command::Pull(args) => registry::pull(&engine, &args),
        Command::Push(args) => registry::push(&engine, &args),
        Command::Login(args) => registry::login(&engine, &args),
        Command::Logout(args) => registry::logout(&engine, &args),
        Command::Images(args) => images::images(&engine, &args),
        Command::Tag { source, target } => images::tag(&engine, &source, &target),
        Command::Rmi(args) => images::rmi(&engine, &args),
        Command::History(args) => images::history(&engine, &args),
        Command::Image(command) => match command {
            images::ImageCommand::Ls(args) => images::images(&engine, &args),
            images::ImageCommand::Rm(args) => images::rmi(&engine, &args),
            images::ImageCommand::Prune { all, force } => images::prune(&engine, all, force),
            images::ImageCommand::History(args) => images::history(&engine, &args),
            images::ImageCommand::Tag { source, target } => images::tag(&engine, &source, &target),
            images::ImageCommand::Inspect { format, names } => {
                inspect(&engine, format.as_deref(), Some("image"), &names)
            }
            images::ImageCommand::Pull(args) => registry::pull(&engine, &args),
            images::ImageCommand::Push(args) => registry::push(&engine, &args),
            images::ImageCommand::Save(args) => images::save(&engine, &args),
            images::ImageCommand::Load(args) => images::load(&engine, &args),
        },
        Command::Commit(args) => images::commit(&engine, &args),
        Command::Save(args) => images::save(&engine, &args),
        Command::Load(args) => images::load(&engine, &args),
        Command::Export { output, container } => {
            images::export(&engine, &container, output.as_deref())
        }
        Command::Run(args) => run(&engine, *args),
        Command::Ps {
            all,
            quiet,
            no_trunc,
            last,
            latest,
            filter,
            format,
        } => ps::ps(
            &engine,
            &ps::PsOptions {
                all,
                quiet,
                no_trunc,
                last,
                latest,
                filters: filter,
                format,
            },
        ),
        Command::Rm {
            force,
            volumes,
            containers,
        } => rm(&engine, force, volumes, &containers),
        Command::Exec(args) => {
            let mut rest = args.container_and_command.into_iter();
            let name = rest
                .next()
                .context("a container is required: kist exec CONTAINER COMMAND")?;
            let c = engine.store.find_container(&name)?;
            let opts = kist_engine::exec::ExecOptions {
                command: rest.collect(),
                interactive: args.interactive,
                tty: args.tty,
                env: args.env,
                workdir: args.workdir,
                user: args.user,
                detach: args.detach,
            };
            Ok(kist_engine::exec::exec(engine, &c, &opts)?)
        }
        Command::Inspect {
            format,
            kind,
            names,
        } => inspect(&engine, format.as_deref(), kind.as_deref(), &names),
        Command::Logs {
            follow,
            tail,
            since,
            until,
            timestamps,
            container,
        } => logs::logs(
            &engine,
            &container,
            &logs::LogsOptions {
                follow,
                tail,
                since,
                until,
                timestamps,
            },
        ),
        Command::Stop { time, containers } => each(&engine, &containers, |c| {
            lifecycle::stop(&engine, c, Duration::from_secs(time)).map(|_| None)
        }),
        Command::Kill { signal, containers } => {
            let sig = lifecycle::parse_signal(&signal)?;
            each(&engine, &containers, |c| {
                lifecycle::kill(&engine, c, sig).map(|_| None)
            })
        }
        Command::Wait { containers } => each(&engine, &containers, |c| {
            lifecycle::wait(&engine, c).map(|code| Some(code.to_string()))
        }),
        Command::Start {
            attach,
            interactive,
            containers,
        } => start(&engine, attach, interactive, &containers),
        Command::Restart { time, containers } => each(&engine, &containers, |c| {
            lifecycle::restart(&engine, c, Duration::from_secs(time)).map(|_| None)
        }),
        Command::Stats {
            all,
            no_stream,
            no_trunc,
            format,
            containers,
        } => stats::stats(
            &engine,
            &containers,
            &stats::StatsOptions {
                all,
                no_stream,
                no_trunc,
                format,
            },
        ),
        Command::Update(args) => {
            let limits = args.resources.limits()?;
            let restart = args
                .restart
                .as_deref()
                .map(kist_engine::RestartPolicy::parse)
                .transpose()?;
            if limits == kist_engine::Limits::default() && restart.is_none() {
                anyhow::bail!("nothing to update: give a limit such as -m 64m or --cpus 1");
            }
            each(&engine, &args.containers, |c| {
                kist_engine::update(&engine, c, &limits, restart).map(|_| None)
            })
        }
        Command::Pause { containers } => each(&engine, &containers, |c| {
            lifecycle::pause(c, true).map(|_| None)
        }),
        Command::Unpause { containers } => each(&engine, &containers, |c| {
            lifecycle::pause(c, false).map(|_| None)
        }),
        Command::Rename {
            container,
            new_name,
        } => {
            let c = engine.store.find_container(&container)?;
            lifecycle::rename(&engine, &c, &new_name)?;
            Ok(0)
        }
        Command::Attach { container } => {
            let c = engine.store.find_container(&container)?;
            if c.state != kist_engine::ContainerState::Running {
                anyhow::bail!(
                    "container {} is not running: start it with 'kist start -a'",
                    c.name
                );
            }
            let now = humantime::format_rfc3339_nanos(SystemTime::now()).to_string();
            send_stdin(&engine, &c);
            logs::logs(
                &engine,
                &c.id,
                &logs::LogsOptions {
                    follow: true,
                    tail: "all".into(),
                    since: Some(now),
                    until: None,
                    timestamps: false,
                },
            )?;
            Ok(lifecycle::wait(&engine, &c)?)
        }
        Command::Cp {
            source,
            destination,
        } => {
            use kist_engine::cp::{Location, copy};
            copy(
                &engine,
                Location::parse(&source),
                Location::parse(&destination),
            )?;
            Ok(0)
        }
        Command::Diff { container } => {
            let c = engine.store.find_container(&container)?;
            for (kind, path) in kist_engine::observe::diff(&engine, &c)? {
                println!("{kind} {path}");
            }
            Ok(0)
        }
        Command::Top { container } => {
            let c = engine.store.find_container(&container)?;
            let rows: Vec<Vec<String>> = kist_engine::observe::top(&c)?
                .into_iter()
                .map(|r| r.to_vec())
                .collect();
            format::print_table(&["UID", "PID", "PPID", "CMD"], &rows);
            Ok(0)
        }
        Command::Container(ContainerCommand::Prune { force: _ }) => {
            let mut removed = Vec::new();
            for c in engine.store.containers()? {
                if matches!(
                    c.state,
                    kist_engine::ContainerState::Exited | kist_engine::ContainerState::Created
                ) && !c.process.is_some_and(|p| p.is_alive())
                    && kist_engine::remove_container(&engine, &c, RemoveMode::IfStopped, false)
                        .is_ok()
                {
                    removed.push(c.id);
                }
            }
            if !removed.is_empty() {
                println!("Deleted Containers:");
                removed.iter().for_each(|id| println!("{id}"));
            }
            Ok(0)
        }
        Command::System(SystemCommand::Df) => system_df(&engine),
        Command::Supervise { .. } => unreachable!("handled above"),
        Command::Volume(cmd) => volume(&engine, cmd),
        Command::System(SystemCommand::Prune { force: _, volumes }) => {
            system_prune(&engine, volumes)
        }
        Command::System(SystemCommand::Boot) => {
            let report = lifecycle::boot(&engine)?;
            report.started.iter().for_each(|n| println!("{n}"));
            for (name, e) in &report.failed {
                eprintln!("kist: starting {name}: {e}");
            }
            Ok(if report.failed.is_empty() { 0 } else { 1 })
        }
    }
}

fn import(engine: &Engine, file: &str, name: &str) -> Result<i32> {
    let reference = Reference::parse(name)?;
    let input: Box<dyn Read> = if file == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::fs::File::open(file).with_context(|| format!("opening {file}"))?)
    };
    let outcome = import_rootfs_tarball(&engine.images, input, &reference, file)
        .with_context(|| format!("importing {file}"))?;
    println!("{}", outcome.image_id);
    Ok(0)
}

/// `KIST_CGROUP_VERSION`: 1 or 2 to use only those hierarchies; detected when unset.
fn cgroup_version() -> Result<kist_runtime::CgroupVersion> {
    let value = std::env::var("KIST_CGROUP_VERSION").unwrap_or_default();
    kist_runtime::CgroupVersion::parse(&value).context("reading KIST_CGROUP_VERSION")
}

fn run(engine: &Engine, args: RunArgs) -> Result<i32> {
    if args.detach && args.rm && args.restart != "no" {
        anyhow::bail!("--rm and --restart cannot be used together");
    }
    let mut rest = args.image_and_command.into_iter();
    let image = rest
        .next()
        .context("an image is required: kist run IMAGE [COMMAND]")?;
    let volumes = args
        .volume
        .iter()
        .map(|v| kist_engine::parse_volume(v))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let network = NetworkMode::parse(&args.network)?;
    let security = args.security.security(network)?;
    let opts = RunOptions {
        image,
        command: rest.collect(),
        remove: args.rm,
        interactive: args.interactive,
        tty: args.tty,
        name: args.name,
        env: args.env,
        env_files: args.env_file,
        workdir: args.workdir,
        user: args.user,
        hostname: args.hostname,
        volumes,
        entrypoint: args.entrypoint,
        read_only: args.read_only,
        init: args.init,
        network,
        detach: args.detach,
        labels: args.label,
        cgroup_parent: args.cgroup_parent,
        cgroup_version: cgroup_version()?,
        cgroupns_private: match args.cgroupns.as_str() {
            "host" => false,
            "private" => true,
            other => anyhow::bail!("invalid --cgroupns {other:?}: use host or private"),
        },
        limits: kist_engine::Limits {
            ulimits: args
                .ulimit
                .iter()
                .map(|u| kist_engine::parse_ulimit(u))
                .collect::<std::result::Result<_, _>>()?,
            oom_score_adj: args.oom_score_adj,
            ..args.resources.limits()?
        },
        restart: kist_engine::RestartPolicy::parse(&args.restart)?,
        log: kist_engine::LogOptions::parse(&args.log_opt)?,
        security,
    };
    match kist_engine::run(engine, opts)? {
        kist_engine::RunOutcome::Exited(code) => Ok(code),
        kist_engine::RunOutcome::Detached(id) => {
            println!("{id}");
            Ok(0)
        }
    }
}

/// Runs `action` on each named container, printing the name (or what `action` returns);
/// failures are reported one line each and make the exit status 1, as Docker does.
fn each(
    engine: &Engine,
    names: &[String],
    action: impl Fn(&kist_engine::ContainerRecord) -> kist_engine::Result<Option<String>>,
) -> Result<i32> {
    let mut code = 0;
    for name in names {
        match engine.store.find_container(name).and_then(|c| action(&c)) {
            Ok(out) => println!("{}", out.unwrap_or_else(|| name.clone())),
            Err(e) => {
                eprintln!("kist: {e}");
                code = 1;
            }
        }
    }
    Ok(code)
}

/// With a container started with -i: kist's stdin goes to it, through its supervisor's
/// attach socket, from a thread of its own while the output is followed.
fn send_stdin(engine: &Engine, c: &kist_engine::ContainerRecord) {
    let socket = engine.layout.container_run_dir(&c.id).join("attach.sock");
    let connected = kist_engine::supervisor::with_short_path(&socket, |p| {
        std::os::unix::net::UnixStream::connect(p)
    });
    let Ok(mut stream) = connected else {
        return; // not started with -i: output only
    };
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut stream);
    });
}

fn start(engine: &Engine, attach: bool, interactive: bool, names: &[String]) -> Result<i32> {
    // -i attaches too, as Docker's start -i does.
    if !attach && !interactive {
        return each(engine, names, |c| lifecycle::start(engine, c).map(|_| None));
    }
    let [name] = names else {
        anyhow::bail!("-a attaches to one container only");
    };
    let c = engine.store.find_container(name)?;
    lifecycle::start(engine, &c)?;
    if interactive {
        send_stdin(engine, &c);
    }
    let code = logs::logs(
        engine,
        &c.id,
        &logs::LogsOptions {
            follow: true,
            tail: "all".into(),
            since: Some(c.finished_at.clone().unwrap_or_else(|| c.created.clone())),
            until: None,
            timestamps: false,
        },
    )?;
    if code != 0 {
        return Ok(code);
    }
    Ok(lifecycle::wait(engine, &c)?)
}

fn inspect(
    engine: &Engine,
    format: Option<&str>,
    kind: Option<&str>,
    names: &[String],
) -> Result<i32> {
    let mut docs = Vec::new();
    for name in names {
        let container = || -> kist_engine::Result<serde_json::Value> {
            let c = engine.store.find_container(name)?;
            kist_engine::inspect::container(engine, &c)
        };
        let doc = match kind {
            Some("container") => container()?,
            Some("image") => kist_engine::inspect::image(engine, name)?,
            Some(other) => anyhow::bail!("--type {other:?}: use container or image"),
            None => match container() {
                Ok(d) => d,
                Err(kist_engine::Error::NotFound(_)) => {
                    kist_engine::inspect::image(engine, name)
                        .map_err(|_| anyhow::anyhow!("no such object: {name}"))?
                }
                Err(e) => return Err(e.into()),
            },
        };
        docs.push(doc);
    }
    match format {
        Some(t) => {
            for d in &docs {
                println!("{}", template::render(t, d)?);
            }
        }
        None => println!("{}", serde_json::to_string_pretty(&docs)?),
    }
    Ok(0)
}

fn rm(engine: &Engine, force: bool, volumes: bool, containers: &[String]) -> Result<i32> {
    let mode = if force {
        RemoveMode::Force
    } else {
        RemoveMode::IfStopped
    };
    let mut code = 0;
    for name in containers {
        let result = engine
            .store
            .find_container(name)
            .and_then(|c| kist_engine::remove_container(engine, &c, mode, volumes));
        match result {
            Ok(()) => println!("{name}"),
            Err(e) => {
                eprintln!("kist: {e}");
                code = 1;
            }
        }
    }
    Ok(code)
}

fn volume(engine: &Engine, cmd: VolumeCommand) -> Result<i32> {
    use kist_engine::volumes;
    match cmd {
        VolumeCommand::Create { name } => {
            let name = name.unwrap_or_else(random_volume_name);
            volumes::ensure(engine, &name, false)?;
            println!("{name}");
        }
        VolumeCommand::Ls { quiet } => {
            let list = volumes::list(engine)?;
            if quiet {
                list.iter().for_each(|v| println!("{}", v.name));
            } else {
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|v| vec!["local".into(), v.name.clone()])
                    .collect();
                format::print_table(&["DRIVER", "VOLUME NAME"], &rows);
            }
        }
        VolumeCommand::Inspect { names } => {
            let docs = names
                .iter()
                .map(|n| volumes::inspect(engine, n))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            println!("{}", serde_json::to_string_pretty(&docs)?);
        }
        VolumeCommand::Rm { names } => {
            let mut code = 0;
            for n in names {
                match volumes::remove(engine, &n) {
                    Ok(()) => println!("{n}"),
                    Err(e) => {
                        eprintln!("kist: {e}");
                        code = 1;
                    }
                }
            }
            return Ok(code);
        }
        VolumeCommand::Prune { force: _ } => {
            let removed = volumes::prune(engine)?;
            if !removed.is_empty() {
                println!("Deleted Volumes:");
                removed.iter().for_each(|n| println!("{n}"));
            }
        }
    }
    Ok(0)
}

fn system_df(engine: &Engine) -> Result<i32> {
    use kist_engine::observe::tree_size;
    let images = engine.images.list()?;
    let containers = engine.store.containers()?;
    let used_images: Vec<&str> = containers.iter().map(|c| c.image_id.as_str()).collect();
    let mut image_ids: Vec<String> = images.iter().map(|i| i.id.to_string()).collect();
    image_ids.dedup();
    let image_size: u64 = images.iter().map(|i| i.size).sum();
    let active_images = image_ids
        .iter()
        .filter(|id| used_images.contains(&id.as_str()))
        .count();
    let reclaimable_images: u64 = images
        .iter()
        .filter(|i| !used_images.contains(&i.id.as_str()))
        .map(|i| i.size)
        .sum();
    let upper = |c: &kist_engine::ContainerRecord| {
        tree_size(&engine.layout.container_dir(&c.id).join("upper"))
    };
    let running: Vec<_> = containers
        .iter()
        .filter(|c| c.state == kist_engine::ContainerState::Running)
        .collect();
    let container_size: u64 = containers.iter().map(upper).sum();
    let stopped_size: u64 = containers
        .iter()
        .filter(|c| c.state != kist_engine::ContainerState::Running)
        .map(upper)
        .sum();
    let volumes = kist_engine::volumes::list(engine)?;
    let volume_size = |n: &str| tree_size(&engine.layout.volume_data(n));
    let used_volumes: Vec<String> = volumes
        .iter()
        .filter(|v| {
            !engine
                .store
                .volume_users(&v.name)
                .unwrap_or_default()
                .is_empty()
        })
        .map(|v| v.name.clone())
        .collect();
    let all_volume_size: u64 = volumes.iter().map(|v| volume_size(&v.name)).sum();
    let unused_volume_size: u64 = volumes
        .iter()
        .filter(|v| !used_volumes.contains(&v.name))
        .map(|v| volume_size(&v.name))
        .sum();
    let row = |kind: &str, total: usize, active: usize, size: u64, reclaim: u64| {
        vec![
            kind.to_string(),
            total.to_string(),
            active.to_string(),
            format::human_size(size),
            format::human_size(reclaim),
        ]
    };
    format::print_table(
        &["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"],
        &[
            row(
                "Images",
                image_ids.len(),
                active_images,
                image_size,
                reclaimable_images,
            ),
            row(
                "Containers",
                containers.len(),
                running.len(),
                container_size,
                stopped_size,
            ),
            row(
                "Local Volumes",
                volumes.len(),
                used_volumes.len(),
                all_volume_size,
                unused_volume_size,
            ),
        ],
    );
    Ok(0)
}

/// A size in Docker's units (`64m`).
fn size(s: &str) -> Result<i64> {
    kist_engine::parse_bytes(s)
        .map(|b| b as i64)
        .map_err(|e| anyhow::anyhow!("{e}: use a number with an optional unit, like 64m or 1g"))
}

fn random_volume_name() -> String {
    let mut b = [0u8; 32];
    let _ = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut b));
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Opening the engine already cleaned up after killed commands; this also removes stopped
/// containers (and unused volumes with --volumes), as `docker system prune` does.
fn system_prune(engine: &Engine, with_volumes: bool) -> Result<i32> {
    for id in kist_engine::remove_orphan_dirs(engine)? {
        println!("Deleted leftover files of container {id}");
    }
    for c in engine.store.containers()? {
        if c.state == kist_engine::ContainerState::Exited {
            kist_engine::remove_container(engine, &c, RemoveMode::IfStopped, false)?;
            println!("Deleted container {}", c.id);
        }
    }
    if with_volumes {
        for v in kist_engine::volumes::prune(engine)? {
            println!("Deleted volume {v}");
        }
    }
    Ok(0)
}
