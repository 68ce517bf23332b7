//! `kist`: the command line. Parses, calls the engine, prints. Docker's exit codes: the
//! container's own status, 125 when kist fails, 126/127 when the program cannot run.

mod archive;
mod commands;
mod flags;
mod format;
mod template;

use commands::{container, image, inspect, registry};

use std::io::Read;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use kist_engine::{Engine, RemoveMode, lifecycle};

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
    Import(image::ImportArgs),
    /// Download an image from a registry
    Pull(registry::PullArgs),
    /// Upload an image to a registry
    Push(registry::PushArgs),
    /// Log in to a registry
    Login(registry::LoginArgs),
    /// Log out from a registry
    Logout(registry::LogoutArgs),
    /// List images
    Images(image::ImagesArgs),
    /// Give an image another name: kist tag SOURCE TARGET
    Tag(image::TagArgs),
    /// Remove images (a name at a time; never one a container uses, unless forced)
    Rmi(image::RmiArgs),
    /// Show the history of an image
    History(image::HistoryArgs),
    /// Manage images
    #[command(subcommand)]
    Image(image::ImageCommand),
    /// Make an image of a container's changes
    Commit(image::CommitArgs),
    /// Write images to a tar archive (docker-archive or oci-archive)
    Save(image::SaveArgs),
    /// Load images from a tar archive that save (or docker save, skopeo) wrote
    Load(image::LoadArgs),
    /// Write a container's filesystem as a tar archive
    Export(container::ExportArgs),
    /// Run a command in a new container
    Run(Box<container::RunArgs>),
    /// List containers
    Ps(container::PsArgs),
    /// Remove containers
    Rm(container::RmArgs),
    /// Run a command in a running container
    Exec(container::ExecArgs),
    /// Follow a running container's output until it exits, and exit with its status
    Attach(flags::Container),
    /// Show containers or images as JSON
    Inspect(inspect::InspectArgs),
    /// Fetch the logs of a container
    Logs(container::LogsArgs),
    /// Stop running containers (the stop signal, then SIGKILL after a grace period)
    Stop(container::StopArgs),
    /// Send a signal to running containers
    Kill(container::KillArgs),
    /// Block until containers stop, then print their exit codes
    Wait(flags::Containers),
    /// Start stopped containers
    Start(container::StartArgs),
    /// Restart containers
    Restart(container::RestartArgs),
    /// Rename a container
    Rename(container::RenameArgs),
    /// Freeze every process of running containers
    Pause(flags::Containers),
    /// Thaw paused containers
    Unpause(flags::Containers),
    /// Copy files between a container and the host: CONTAINER:PATH HOSTPATH, or HOSTPATH CONTAINER:PATH
    Cp(container::CpArgs),
    /// List the changes of a container's filesystem: A added, C changed, D deleted
    Diff(flags::Container),
    /// List the processes of a running container
    Top(flags::Container),
    /// Show what running containers use: CPU, memory, network, block I/O, processes
    Stats(container::StatsArgs),
    /// Change the limits (or restart policy) of containers
    Update(container::UpdateArgs),
    /// Manage containers
    #[command(subcommand)]
    Container(container::ContainerCommand),
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
        Command::Import(args) => image::import(&engine, &args),
        Command::Pull(args) => registry::pull(&engine, &args),
        Command::Push(args) => registry::push(&engine, &args),
        Command::Login(args) => registry::login(&engine, &args),
        Command::Logout(args) => registry::logout(&engine, &args),
        Command::Images(args) => image::images(&engine, &args),
        Command::Tag(args) => image::tag(&engine, &args),
        Command::Rmi(args) => image::rmi(&engine, &args),
        Command::History(args) => image::history(&engine, &args),
        Command::Image(command) => image::dispatch(&engine, command),
        Command::Commit(args) => image::commit(&engine, &args),
        Command::Save(args) => image::save(&engine, &args),
        Command::Load(args) => image::load(&engine, &args),
        Command::Export(args) => container::export(&engine, &args),
        Command::Run(args) => container::run(&engine, *args),
        Command::Ps(args) => container::ps(&engine, &args),
        Command::Rm(args) => container::rm(&engine, &args),
        Command::Exec(args) => container::exec(engine, args),
        Command::Inspect(args) => inspect::inspect(&engine, &args),
        Command::Logs(args) => container::logs(&engine, &args),
        Command::Stop(args) => container::stop(&engine, &args),
        Command::Kill(args) => container::kill(&engine, &args),
        Command::Wait(args) => container::wait(&engine, &args),
        Command::Start(args) => container::start(&engine, &args),
        Command::Restart(args) => container::restart(&engine, &args),
        Command::Stats(args) => container::stats(&engine, &args),
        Command::Update(args) => container::update(&engine, &args),
        Command::Pause(args) => container::pause(&engine, &args),
        Command::Unpause(args) => container::unpause(&engine, &args),
        Command::Rename(args) => container::rename(&engine, &args),
        Command::Attach(args) => container::attach(&engine, &args),
        Command::Cp(args) => container::cp(&engine, &args),
        Command::Diff(args) => container::diff(&engine, &args),
        Command::Top(args) => container::top(&engine, &args),
        Command::Container(command) => container::dispatch(&engine, command),
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
