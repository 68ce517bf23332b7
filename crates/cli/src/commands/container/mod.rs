//! The container commands: run one, act on existing ones (start, stop, kill, rm...), look into
//! them (ps, logs, stats, top, diff), copy files in and out, and the `container` group.
//!
//! Each handler takes the engine and its command's parsed arguments and returns kist's exit
//! status.

mod attach;
mod exec;
mod files;
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
pub use run::{RunArgs, create, run};
pub use stats::{StatsArgs, stats};
pub use top::top;
pub use update::{UpdateArgs, update};

#[derive(Subcommand)]
pub enum ContainerCommand {
    /// Remove all stopped containers
    Prune(PruneArgs),
}

impl ContainerCommand {
    /// Whether the command runs a program and exits as it does (see main's `failure`).
    pub fn runs_a_program(&self) -> bool {
        match self {
            ContainerCommand::Prune(_) => false,
        }
    }
}

/// `kist container ...`.
pub fn dispatch(engine: &Engine, command: ContainerCommand) -> Result<i32> {
    match command {
        ContainerCommand::Prune(args) => remove::prune(engine, &args),
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
