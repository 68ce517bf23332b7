//! `kist-runtime`: runc's command line over kist's runtime core, so that containerd's runc shim,
//! Podman (and through containerd, Kubernetes) drive the same core that `kist run` uses.

mod bundle;
mod commands;
mod hooks;
mod log;
mod signal;
mod socket_addr;
mod state;
mod time;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::log::{LogFormat, Logger};

/// What the runtime-spec version of the state and features documents is.
pub const OCI_VERSION: &str = "1.0.2";

#[derive(Parser)]
#[command(
    name = "kist-runtime",
    about = "An OCI runtime with runc's command line, over kist's runtime core",
    disable_version_flag = true
)]
struct Cli {
    /// Where the containers' state lives
    #[arg(long, global = true, default_value = "/run/kist-runtime")]
    root: PathBuf,
    /// Where errors (and with --debug, progress) are written, besides stderr
    #[arg(long, global = true)]
    log: Option<PathBuf>,
    /// The format of --log: text or json
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Log what is done, not only failures
    #[arg(long, global = true)]
    debug: bool,
    /// Accepted; a slice:prefix:name cgroupsPath is mapped to systemd's cgroupfs layout
    #[arg(long, global = true)]
    systemd_cgroup: bool,
    /// Accepted for crun's callers (cgroupfs, systemd or disabled)
    #[arg(long, global = true)]
    cgroup_manager: Option<String>,
    /// Accepted for runc's callers (true, false or auto)
    #[arg(long, global = true, num_args = 0..=1, default_missing_value = "true")]
    rootless: Option<String>,
    /// Print the version
    #[arg(short = 'v', long)]
    version: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Create a container from a bundle; its program waits for `start`
    Create(commands::create::CreateArgs),
    /// Start the program of a created container
    Start(commands::IdArg),
    /// Create and start a container; without -d wait for it and remove it
    Run(commands::create::RunArgs),
    /// Run another process in a running container
    Exec(commands::exec::ExecArgs),
    /// Print a container's state (runtime-spec JSON)
    State(commands::IdArg),
    /// Send a signal to a container's first process (or all its processes)
    Kill(commands::lifecycle::KillArgs),
    /// Remove a stopped (or with --force, any) container
    Delete(commands::lifecycle::DeleteArgs),
    /// List the containers
    List(commands::list::ListArgs),
    /// List a container's processes
    Ps(commands::list::PsArgs),
    /// Freeze all the processes of a container
    Pause(commands::IdArg),
    /// Thaw a paused container
    Resume(commands::IdArg),
    /// Print a container's resource usage (once with --stats)
    Events(commands::events::EventsArgs),
    /// Change a running container's cgroup limits
    Update(commands::update::UpdateArgs),
    /// Write a default config.json into the bundle directory
    Spec(commands::spec::SpecArgs),
    /// Print what this runtime supports (the runtime-spec features document)
    Features,
}

/// What `--version` prints, in runc's three lines.
fn version() -> String {
    format!(
        "kist-runtime version {}\ncommit: {}\nspec: {OCI_VERSION}\n",
        env!("CARGO_PKG_VERSION"),
        env!("KIST_GIT_COMMIT"),
    )
}

fn main() {
    let cli = Cli::parse();
    let logger = Logger::open(cli.log.as_deref(), cli.log_format, cli.debug);
    let _ = (cli.systemd_cgroup, &cli.rootless, &cli.cgroup_manager);
    let root = cli.root;
    let command = match (cli.version, cli.command) {
        (true, _) => {
            print!("{}", version());
            return;
        }
        (false, Some(c)) => c,
        (false, None) => {
            logger.error("no command given: see kist-runtime --help");
            std::process::exit(1);
        }
    };
    let result = match command {
        Command::Create(a) => commands::create::create(&root, &a, &logger),
        Command::Start(a) => commands::create::start(&root, &a.id, &logger),
        Command::Run(a) => commands::create::run(&root, &a, &logger),
        Command::Exec(a) => commands::exec::exec(&root, &a),
        Command::State(a) => commands::list::state(&root, &a.id),
        Command::Kill(a) => commands::lifecycle::kill(&root, &a),
        Command::Delete(a) => commands::lifecycle::delete(&root, &a, &logger),
        Command::List(a) => commands::list::list(&root, &a),
        Command::Ps(a) => commands::list::ps(&root, &a),
        Command::Pause(a) => commands::lifecycle::pause(&root, &a.id, true),
        Command::Resume(a) => commands::lifecycle::pause(&root, &a.id, false),
        Command::Events(a) => commands::events::events(&root, &a),
        Command::Update(a) => commands::update::update(&root, &a),
        Command::Spec(a) => commands::spec::spec(&a),
        Command::Features => commands::features::features(),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            logger.error(&crate::log::one_line(&e));
            std::process::exit(1);
        }
    }
}
