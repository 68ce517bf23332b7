//! The flags (and positional arguments) more than one command takes, each defined once, so that
//! help, man pages and completions generated from the clap definitions agree everywhere.
//!
//! Each is a one-field struct that a command flattens where the flag goes in its help. The
//! field is `on` for a switch, `value` for an option, `values` for a repeatable one, `names`
//! for positional names. A command whose help words a flag its own way says so with
//! `#[command(mut_arg("ID", |a| a.help(...)))]` on its own arguments: the definition (name,
//! short, type, default) stays here.
//!
//! The structs' comments are `//`, not `///`: clap takes a flattened struct's doc comment as
//! the about text of whatever command flattens it.
//!
//! Sets of flags that belong to one group live with it: the resource limits (`run`, `update`)
//! and the security flags in `commands/container/`, `--insecure-registry` in
//! `commands/registry/`.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

// -a, --all: every object, not only those a command shows or takes by default.
#[derive(Args)]
#[group(skip)]
pub struct All {
    /// Show all, not only those shown by default
    #[arg(id = "all", short = 'a', long = "all")]
    pub on: bool,
}

// -q, --quiet: only ids or names, or nothing but the result.
#[derive(Args)]
#[group(skip)]
pub struct Quiet {
    /// Only show IDs
    #[arg(id = "quiet", short = 'q', long = "quiet")]
    pub on: bool,
}

// --no-trunc: full ids and commands in tables.
#[derive(Args)]
#[group(skip)]
pub struct NoTrunc {
    /// Don't truncate output
    #[arg(id = "no_trunc", long = "no-trunc")]
    pub on: bool,
}

// -f, --force: no question asked, and on objects in use where the command allows it.
#[derive(Args)]
#[group(skip)]
pub struct Force {
    /// Do not ask for confirmation
    #[arg(id = "force", short = 'f', long = "force")]
    pub on: bool,
}

// -f, --filter KEY=VALUE, repeatable: the keys are each listing's own.
#[derive(Args)]
#[group(skip)]
pub struct Filters {
    /// Filter output (KEY=VALUE)
    #[arg(id = "filter", short = 'f', long = "filter", value_name = "FILTER")]
    pub values: Vec<String>,
}

// --format TEMPLATE: a Go template per object (see `template`). `inspect` adds `-f`, which the
// listings leave to --filter, as Docker does. `save`'s --format is another flag (an archive
// format), defined with it.
#[derive(Args)]
#[group(skip)]
pub struct Format {
    /// Format output with a Go template ('table {{.ID}}', 'json')
    #[arg(id = "format", long = "format", value_name = "FORMAT")]
    pub value: Option<String>,
}

// -o, --output FILE: where an archive goes.
#[derive(Args)]
#[group(skip)]
pub struct Output {
    /// Write to this file instead of stdout
    #[arg(id = "output", short = 'o', long = "output", value_name = "OUTPUT")]
    pub value: Option<PathBuf>,
}

// -i, --interactive: the process's stdin is kist's.
#[derive(Args)]
#[group(skip)]
pub struct Interactive {
    /// Keep stdin open and pass it to the container
    #[arg(id = "interactive", short = 'i', long = "interactive")]
    pub on: bool,
}

// -t, --tty: the process gets a terminal.
#[derive(Args)]
#[group(skip)]
pub struct Tty {
    /// Give the container a terminal
    #[arg(id = "tty", short = 't', long = "tty")]
    pub on: bool,
}

// -d, --detach: kist returns once the process runs.
#[derive(Args)]
#[group(skip)]
pub struct Detach {
    /// Run in the background and print the container's id
    #[arg(id = "detach", short = 'd', long = "detach")]
    pub on: bool,
}

// -e, --env KEY=VALUE, repeatable: the process's environment.
#[derive(Args)]
#[group(skip)]
pub struct Env {
    /// Set an environment variable (KEY=VALUE, or KEY to pass kist's own)
    #[arg(id = "env", short = 'e', long = "env", value_name = "KEY=VALUE")]
    pub values: Vec<String>,
}

// -w, --workdir DIR: the process's working directory inside the container.
#[derive(Args)]
#[group(skip)]
pub struct Workdir {
    /// Working directory inside the container
    #[arg(id = "workdir", short = 'w', long = "workdir", value_name = "WORKDIR")]
    pub value: Option<String>,
}

// -u, --user USER: who the process runs as.
#[derive(Args)]
#[group(skip)]
pub struct User {
    /// UID[:GID] or NAME[:GROUP]
    #[arg(id = "user", short = 'u', long = "user", value_name = "USER")]
    pub value: Option<String>,
}

// -t, --time SECONDS: the grace period between the stop signal and SIGKILL.
#[derive(Args)]
#[group(skip)]
pub struct StopTime {
    /// Seconds to wait before killing [default: the container's --stop-timeout, or 10]
    #[arg(id = "time", short = 't', long = "time", value_name = "TIME")]
    pub seconds: Option<u64>,
}

impl StopTime {
    /// The wait asked for, if any (the container's own otherwise).
    pub fn grace(&self) -> Option<Duration> {
        self.seconds.map(Duration::from_secs)
    }
}

// --restart POLICY: `run` gives it a default (`mut_arg`), `update` leaves it unchanged when
// absent.
#[derive(Args)]
#[group(skip)]
pub struct Restart {
    /// no, on-failure[:N], always or unless-stopped
    #[arg(id = "restart", long = "restart", value_name = "RESTART")]
    pub value: Option<String>,
}

// --detach-keys: what leaves a container's terminal with the container running (`run -it`,
// `attach`).
#[derive(Args)]
#[group(skip)]
pub struct DetachKeys {
    /// Keys that detach from the container, leaving it running: ctrl-<x> or characters, comma-separated [default: ctrl-p,ctrl-q]
    #[arg(id = "detach_keys", long = "detach-keys", value_name = "KEYS")]
    pub value: Option<String>,
}

// CONTAINER: one container, by name or id.
#[derive(Args)]
#[group(skip)]
pub struct Container {
    /// A container's name or ID
    #[arg(id = "container", value_name = "CONTAINER")]
    pub name: String,
}

// CONTAINER...: one or more containers.
#[derive(Args)]
#[group(skip)]
pub struct Containers {
    /// Containers, by name or ID
    #[arg(id = "containers", value_name = "CONTAINERS", required = true)]
    pub names: Vec<String>,
}

/// Docker's flag syntax (Go's pflag), for every flag of every command, applied to the whole
/// tree once before parsing, so that a flag a command adds later gets it too:
///
/// - a switch takes `--rm`, `--rm=true`, `--rm=false`, `-d=false`, `-it`: a value only after
///   `=` (so `--rm busybox` leaves `busybox` to the image), read as Go's `strconv.ParseBool`;
/// - a flag that takes a value takes the next word whatever it is: `--cpus -1` is refused by
///   `--cpus`, not taken for an unknown flag `-1`.
pub fn docker_syntax(command: clap::Command) -> clap::Command {
    command.mut_args(docker_flag).mut_subcommands(docker_syntax)
}

fn docker_flag(arg: clap::Arg) -> clap::Arg {
    let takes_value = matches!(
        arg.get_action(),
        clap::ArgAction::Set | clap::ArgAction::Append
    );
    if takes_value && !arg.is_positional() {
        return arg.allow_hyphen_values(true);
    }
    if !matches!(arg.get_action(), clap::ArgAction::SetTrue) {
        return arg;
    }
    // A switch that is on by default (history's -H) stays on unless turned off.
    let on_by_default = arg
        .get_default_values()
        .first()
        .is_some_and(|d| d == "true");
    let default = if on_by_default { "true" } else { "false" };
    arg.action(clap::ArgAction::Set)
        .num_args(0..=1)
        .require_equals(true)
        .default_missing_value("true")
        .default_value(default)
        .hide_default_value(true)
        .value_name("true|false")
        .value_parser(go_bool)
}

/// Go's `strconv.ParseBool`, with Docker's message for anything else.
fn go_bool(value: &str) -> Result<bool, String> {
    match value {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(format!(
            "strconv.ParseBool: parsing {value:?}: invalid syntax"
        )),
    }
}
