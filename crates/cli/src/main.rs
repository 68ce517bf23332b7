//! `kist`: the command line. Parses, calls the engine, prints. Docker's exit codes: the
//! container's own status, 125 when kist fails, 126/127 when the program cannot run.
//!
//! This file is the top of the tree: the global flags, every command by name with the type of
//! its arguments, the dispatch (a line per command, to the handler beside those arguments in
//! `commands/`), and the one place where failures become exit codes. Flags that several
//! commands take are defined once, in `flags`.

// Every write to stdout goes through `output` (its `outln!`, `out!`), never `println!`.
#![warn(clippy::print_stdout)]

#[macro_use]
mod output;

mod archive;
mod commands;
mod confirm;
mod flags;
mod format;
mod lean;
mod status;
mod template;
mod terminal;
mod usage;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use kist_engine::Engine;

use commands::{completion, container, image, inspect, network, registry, system, volume};

#[derive(Parser)]
#[command(name = "kist", version, about = "A container engine")]
struct Cli {
    #[command(flatten)]
    globals: Globals,
    #[command(subcommand)]
    command: Command,
}

/// The flags every command takes, before or after its name.
#[derive(clap::Args)]
struct Globals {
    /// Where kist keeps images, containers and volumes
    #[arg(long, global = true, env = "KIST_ROOT", default_value = kist_engine::Layout::DEFAULT_ROOT)]
    root: PathBuf,
    /// Where kist keeps runtime state [default: /run/kist for the default root, ROOT/run otherwise]
    #[arg(long, global = true, env = "KIST_RUNROOT")]
    runroot: Option<PathBuf>,
}

// The commands that are also in the `container` and `image` groups are defined once, in
// those groups' `Commands`, and flattened here.
#[derive(Subcommand)]
enum Command {
    #[command(flatten)]
    ContainerCommands(container::Commands),
    /// List containers
    Ps(container::PsArgs),
    /// Show containers or images as JSON
    Inspect(inspect::InspectArgs),
    /// Manage containers
    #[command(subcommand)]
    Container(container::Group),
    #[command(flatten)]
    ImageCommands(image::Commands),
    /// Log in to a registry
    Login(registry::LoginArgs),
    /// Log out from a registry
    Logout(registry::LogoutArgs),
    /// List images
    Images(image::ImagesArgs),
    /// Remove images (a name at a time; never one a container uses, unless forced)
    Rmi(image::RmiArgs),
    /// Manage images
    #[command(subcommand)]
    Image(image::Group),
    /// Manage volumes
    #[command(subcommand)]
    Volume(volume::VolumeCommand),
    /// Manage the build cache
    #[command(subcommand)]
    Builder(image::BuilderCommand),
    /// Manage networks
    #[command(subcommand)]
    Network(network::NetworkCommand),
    /// The supervisor of a detached container (internal)
    #[command(name = "__supervise", hide = true)]
    Supervise(system::SuperviseArgs),
    /// Manage kist itself
    #[command(subcommand)]
    System(system::SystemCommand),
    /// Show the host and the store: containers, images, storage, cgroups, kernel, OS
    Info(system::InfoArgs),
    /// Show what happens to containers, images and volumes, as it happens
    Events(system::EventsArgs),
    /// Show kist's version, commit and OCI runtime spec version
    Version(system::VersionArgs),
    /// Print a shell completion script (bash, zsh, fish): source <(kist completion bash)
    Completion(completion::CompletionArgs),
    /// Write kist's man pages into a directory (internal, for scripts/setup)
    #[command(name = "__man", hide = true)]
    Man(completion::ManArgs),
}

fn main() {
    if kist_runtime::sealed::is_init_invocation() {
        kist_runtime::init::main();
    }
    let code = match parse() {
        Ok(cli) => {
            let runs_a_program = cli.command.runs_a_program();
            dispatch(cli).unwrap_or_else(|e| failure(&e, runs_a_program))
        }
        Err(e) => usage::report(&e, &command(), &std::env::args().collect::<Vec<_>>()),
    };
    output::flush();
    std::process::exit(code)
}

/// kist's command tree as clap builds it, with Docker's flag syntax (`flags::docker_syntax`).
fn command() -> clap::Command {
    flags::docker_syntax(<Cli as clap::CommandFactory>::command())
}

/// The command line, through the one command's lean tree when it has one (`lean`).
fn parse() -> Result<Cli, clap::Error> {
    use clap::FromArgMatches;
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(mut matches) = lean::command(&args).and_then(|c| c.try_get_matches_from(&args).ok())
        && let Ok(cli) = Cli::from_arg_matches_mut(&mut matches)
    {
        return Ok(cli);
    }
    let mut matches = command().try_get_matches_from(&args)?;
    Cli::from_arg_matches_mut(&mut matches)
}

impl Command {
    /// Whether the command runs a program for the user and exits as it does, as Docker's
    /// `run`, `create`, `start -a` and `exec` do: their own failures are then 125, the
    /// program's 126 or 127 (see `failure`). Every command is listed, so a new one decides.
    fn runs_a_program(&self) -> bool {
        use Command::*;
        match self {
            ContainerCommands(command) => command.runs_a_program(),
            Container(command) => command.runs_a_program(),
            ImageCommands(_) | Login(_) | Logout(_) | Images(_) | Rmi(_) | Image(_) | Ps(_)
            | Inspect(_) | Volume(_) | Builder(_) | Network(_) | Supervise(_) | System(_)
            | Info(_) | Events(_) | Version(_) | Completion(_) | Man(_) => false,
        }
    }
}

/// A command that failed: its error on one line, and Docker's exit status. A command that
/// runs a program exits 126 or 127 when the program cannot run (the engine's
/// `Error::exit_code`) and 125 for anything else; every other command exits 1, whatever
/// failed (`inspect` of nothing, `pull` of a missing image, `rm` of a running container).
fn failure(e: &anyhow::Error, runs_a_program: bool) -> i32 {
    eprintln!("kist: {}", one_line(e));
    if let Some(status) = e.downcast_ref::<status::ExitWith>() {
        return status.code;
    }
    if !runs_a_program {
        return 1;
    }
    e.downcast_ref::<kist_engine::Error>()
        .map_or(125, |e| e.exit_code())
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

fn dispatch(cli: Cli) -> Result<i32> {
    // Every command but the supervisor's works on the store; opening it also cleans up after
    // commands that were killed (docs/architecture.md, Crashes).
    let Globals { root, runroot } = &cli.globals;
    let engine = || open(root, runroot.as_deref());
    match cli.command {
        Command::ImageCommands(command) => image::dispatch(&engine()?, command),
        Command::Login(args) => registry::login(&engine()?, &args),
        Command::Logout(args) => registry::logout(&engine()?, &args),
        Command::Images(args) => image::images(&engine()?, &args),
        Command::Rmi(args) => image::rmi(&engine()?, &args),
        Command::Image(command) => image::dispatch_group(&engine()?, command),
        Command::ContainerCommands(command) => container::dispatch(engine()?, command),
        Command::Ps(args) => container::ps(&engine()?, &args),
        Command::Inspect(args) => inspect::inspect(&engine()?, &args),
        Command::Container(command) => container::dispatch_group(engine()?, command),
        Command::Volume(command) => volume::dispatch(&engine()?, command),
        Command::Network(command) => network::dispatch(&engine()?, command),
        Command::Supervise(args) => Ok(system::supervise(root, runroot.as_deref(), &args)),
        Command::System(command) => system::dispatch(&engine()?, command),
        Command::Builder(command) => image::dispatch_builder(&engine()?, command),
        Command::Info(args) => system::info(&engine()?, &args),
        Command::Events(args) => system::events(&engine()?, &args),
        Command::Version(args) => system::version(&args),
        Command::Completion(args) => completion::completion(&args),
        Command::Man(args) => completion::man(&args),
    }
}

fn open(root: &Path, runroot: Option<&Path>) -> Result<Engine> {
    Engine::open(root, runroot)
        .with_context(|| format!("opening kist's store at {}", root.display()))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// clap's own checks of the definitions (ids, shorts, overrides), which run only in debug
    /// builds and only for the command a user types otherwise.
    #[test]
    fn the_definitions_are_consistent() {
        super::command().debug_assert();
    }

    /// `kist CMD --help` describes every flag, argument and command in a line.
    #[test]
    fn every_argument_and_command_has_help() {
        let mut missing = Vec::new();
        let mut stack = vec![("kist".to_string(), super::command())];
        while let Some((path, command)) = stack.pop() {
            if command.get_about().is_none() {
                missing.push(path.clone());
            }
            for arg in command.get_arguments().filter(|a| !a.is_hide_set()) {
                if arg.get_help().is_none() {
                    missing.push(format!("{path} {}", arg.get_id()));
                }
            }
            for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
                stack.push((format!("{path} {}", sub.get_name()), sub.clone()));
            }
        }
        assert!(missing.is_empty(), "no help: {}", missing.join(", "));
    }

    /// A flag is spelled alike wherever it appears: one short letter (or none) and one kind
    /// (switch or value) per long name. The exceptions are Docker's.
    #[test]
    fn a_long_flag_has_one_short_and_one_kind_everywhere() {
        use std::collections::BTreeMap;
        // --format is -f only where -f is not --filter (inspect); system prune's --volumes
        // (prune them too) is not rm's -v (the container's anonymous ones); start's -a is a
        // switch (attach to the container), run's takes the stream to attach.
        const EXCEPTIONS: [&str; 3] = ["attach", "format", "volumes"];
        let mut seen: BTreeMap<String, Vec<(Option<char>, bool, String)>> = BTreeMap::new();
        let mut stack = vec![("kist".to_string(), super::Cli::command())];
        while let Some((path, command)) = stack.pop() {
            for arg in command.get_arguments() {
                let Some(long) = arg.get_long() else { continue };
                let takes_value = arg.get_num_args().is_some_and(|n| n.takes_values())
                    || arg.get_action().takes_values();
                seen.entry(long.to_string()).or_default().push((
                    arg.get_short(),
                    takes_value,
                    path.clone(),
                ));
            }
            for sub in command.get_subcommands() {
                stack.push((format!("{path} {}", sub.get_name()), sub.clone()));
            }
        }
        for (long, uses) in &seen {
            if EXCEPTIONS.contains(&long.as_str()) {
                continue;
            }
            let (short, takes_value, _) = &uses[0];
            for (s, t, path) in uses {
                assert_eq!(
                    (s, t),
                    (short, takes_value),
                    "--{long} in {path} differs from {}",
                    uses[0].2
                );
            }
        }
    }
}
