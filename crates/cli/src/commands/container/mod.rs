//! The container commands: run one, act on existing ones (start, stop, kill, rm...), look into
//! them (ps, logs, stats, top, diff), copy files in and out, and the `container` group.
//!
//! Each handler takes the engine and its command's parsed arguments and returns kist's exit
//! status. As in Docker, most commands are both top-level (`kist run`) and in the group
//! (`kist container run`): they are defined once, in `Commands`, which both flatten.

mod attach;
mod exec;
mod files;
mod health;
mod lifecycle;
mod limits;
mod logs;
mod network;
mod ps;
mod remove;
mod run;
mod security;
mod stats;
mod storage;
mod streams;
mod top;
mod update;

use anyhow::Result;
use clap::Subcommand;
use kist_engine::{ContainerRecord, Engine};

use super::{image, inspect};
use crate::flags;

pub use attach::{AttachArgs, attach};
pub use exec::{ExecArgs, exec};
pub use files::{CpArgs, ExportArgs, cp, diff, export};
pub use lifecycle::{
    KillArgs, RenameArgs, RestartArgs, StartArgs, StopArgs, kill, pause, rename, restart, start,
    stop, unpause, wait,
};
pub use logs::{LogsArgs, logs};
pub use network::{PortArgs, port};
pub use ps::{PsArgs, ps};
pub use remove::{PruneArgs, RmArgs, rm};
pub use run::{RunArgs, create, default_options, run};
pub use stats::{StatsArgs, stats};
pub use top::top;
pub use update::{UpdateArgs, update};

/// The container commands that are both `kist NAME` and `kist container NAME`.
#[derive(Subcommand)]
pub enum Commands {
    /// Run a command in a new container
    Run(Box<RunArgs>),
    /// Create a new container (run's flags) without starting it; prints its id
    Create(Box<RunArgs>),
    /// Start stopped containers
    Start(StartArgs),
    /// Stop running containers (the stop signal, then SIGKILL after a grace period)
    Stop(StopArgs),
    /// Restart containers
    Restart(RestartArgs),
    /// Send a signal to running containers
    Kill(KillArgs),
    /// Remove containers
    Rm(RmArgs),
    /// Run a command in a running container
    Exec(ExecArgs),
    /// Follow a running container's output until it exits, and exit with its status
    Attach(AttachArgs),
    /// Fetch the logs of a container
    Logs(LogsArgs),
    /// Block until containers stop, then print their exit codes
    Wait(flags::Containers),
    /// Rename a container
    Rename(RenameArgs),
    /// Freeze every process of running containers
    Pause(flags::Containers),
    /// Thaw paused containers
    Unpause(flags::Containers),
    /// Copy files between a container and the host: CONTAINER:PATH HOSTPATH, or HOSTPATH CONTAINER:PATH
    Cp(CpArgs),
    /// List the changes of a container's filesystem: A added, C changed, D deleted
    Diff(flags::Container),
    /// List the processes of a running container
    Top(flags::Container),
    /// List a container's published ports, or the host address of one
    Port(PortArgs),
    /// Show what running containers use: CPU, memory, network, block I/O, processes
    Stats(StatsArgs),
    /// Change the limits (or restart policy) of containers
    Update(UpdateArgs),
    /// Write a container's filesystem as a tar archive
    Export(ExportArgs),
    /// Make an image of a container's changes
    Commit(image::CommitArgs),
}

/// `kist container ...`: the shared commands, and those Docker has only here (or by another
/// name at the top: `ls` is `kist ps`).
#[derive(Subcommand)]
pub enum Group {
    /// List containers
    #[command(visible_aliases = ["ps", "list"])]
    Ls(PsArgs),
    /// Show containers as JSON
    Inspect(inspect::ContainerInspectArgs),
    /// Remove all stopped containers
    Prune(PruneArgs),
    #[command(flatten)]
    Shared(Commands),
}

impl Commands {
    /// Whether the command runs a program for the user and exits as it does, as Docker's
    /// `run`, `create`, `start -a` and `exec` do (see main's `failure`).
    pub fn runs_a_program(&self) -> bool {
        use Commands::*;
        match self {
            Run(_) | Create(_) | Exec(_) => true,
            Start(args) => args.attaches(),
            Stop(_) | Restart(_) | Kill(_) | Rm(_) | Attach(_) | Logs(_) | Wait(_) | Rename(_)
            | Pause(_) | Unpause(_) | Cp(_) | Diff(_) | Top(_) | Port(_) | Stats(_) | Update(_)
            | Export(_) | Commit(_) => false,
        }
    }
}

impl Group {
    /// Whether the command runs a program and exits as it does (see main's `failure`).
    pub fn runs_a_program(&self) -> bool {
        match self {
            Group::Shared(command) => command.runs_a_program(),
            Group::Ls(_) | Group::Inspect(_) | Group::Prune(_) => false,
        }
    }
}

/// `kist run`, `kist container run`...: each command's handler.
pub fn dispatch(engine: Engine, command: Commands) -> Result<i32> {
    let engine_ref = &engine;
    match command {
        Commands::Run(args) => run(engine_ref, *args),
        Commands::Create(args) => create(engine_ref, *args),
        Commands::Start(args) => start(engine_ref, &args),
        Commands::Stop(args) => stop(engine_ref, &args),
        Commands::Restart(args) => restart(engine_ref, &args),
        Commands::Kill(args) => kill(engine_ref, &args),
        Commands::Rm(args) => rm(engine_ref, &args),
        Commands::Exec(args) => exec(engine, args),
        Commands::Attach(args) => attach(engine_ref, &args),
        Commands::Logs(args) => logs(engine_ref, &args),
        Commands::Wait(args) => wait(engine_ref, &args),
        Commands::Rename(args) => rename(engine_ref, &args),
        Commands::Pause(args) => pause(engine_ref, &args),
        Commands::Unpause(args) => unpause(engine_ref, &args),
        Commands::Cp(args) => cp(engine_ref, &args),
        Commands::Diff(args) => diff(engine_ref, &args),
        Commands::Top(args) => top(engine_ref, &args),
        Commands::Port(args) => port(engine_ref, &args),
        Commands::Stats(args) => stats(engine_ref, &args),
        Commands::Update(args) => update(engine_ref, &args),
        Commands::Export(args) => export(engine_ref, &args),
        Commands::Commit(args) => image::commit(engine_ref, &args),
    }
}

/// `kist container ...`.
pub fn dispatch_group(engine: Engine, command: Group) -> Result<i32> {
    match command {
        Group::Ls(args) => ps(&engine, &args),
        Group::Inspect(args) => inspect::container_inspect(&engine, &args),
        Group::Prune(args) => remove::prune(&engine, &args),
        Group::Shared(command) => dispatch(engine, command),
    }
}

/// Runs `action` on each named container, printing the name (or what `action` returns);
/// failures are reported one line each and make the exit status 1, as Docker does.
fn each(
    engine: &Engine,
    names: &[String],
    action: impl Fn(&ContainerRecord) -> kist_engine::Result<Option<String>>,
) -> Result<i32> {
    let mut code = 0;
    for name in names {
        match engine.store.find_container(name).and_then(|c| action(&c)) {
            Ok(out) => outln!("{}", out.unwrap_or_else(|| name.clone())),
            Err(e) => {
                eprintln!("kist: {e}");
                code = 1;
            }
        }
    }
    Ok(code)
}
