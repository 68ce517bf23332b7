//! `kist exec`: a command in a running container.

use anyhow::{Context, Result};
use clap::Args;
use kist_engine::Engine;
use kist_engine::exec::ExecOptions;

use crate::{flags, status};

// The process flags are `run`'s, worded for a command in a running container.
#[derive(Args)]
#[command(mut_arg("detach", |a| a.help("Run the command in the background")))]
#[command(mut_arg("interactive", |a| a.help("Pass stdin to the command")))]
#[command(mut_arg("tty", |a| a.help("Give the command a terminal")))]
pub struct ExecArgs {
    #[command(flatten)]
    detach: flags::Detach,
    #[command(flatten)]
    interactive: flags::Interactive,
    #[command(flatten)]
    tty: flags::Tty,
    #[command(flatten)]
    env: flags::Env,
    #[command(flatten)]
    workdir: flags::Workdir,
    #[command(flatten)]
    user: flags::User,
    /// The container, then the program and its arguments
    #[arg(
        required = true,
        trailing_var_arg = true,
        value_name = "CONTAINER COMMAND [ARG...]"
    )]
    container_and_command: Vec<String>,
}

/// Takes the engine whole: exec closes the state store before it joins the container.
pub fn exec(engine: Engine, args: ExecArgs) -> Result<i32> {
    let mut rest = args.container_and_command.into_iter();
    let name = rest
        .next()
        .context("a container is required: kist exec CONTAINER COMMAND")?;
    let c = engine
        .store
        .find_container(&name)
        .map_err(status::daemon_refusal)?;
    if args.interactive.on && args.tty.on && !args.detach.on {
        status::require_terminal_stdin()?;
    }
    let opts = ExecOptions {
        command: rest.collect(),
        interactive: args.interactive.on,
        tty: args.tty.on,
        env: args.env.values,
        workdir: args.workdir.value,
        user: args.user.value,
        detach: args.detach.on,
    };
    kist_engine::exec::exec(engine, &c, &opts).map_err(status::daemon_refusal)
}
