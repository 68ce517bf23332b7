//! Commands that move existing containers between states: start, stop, restart, kill, wait,
//! pause, unpause, and rename.

use anyhow::Result;
use clap::Args;
use kist_engine::{Engine, lifecycle};

use super::{attach, each};
use crate::flags;

#[derive(Args)]
#[command(mut_arg("interactive", |a| a.help("Attach the container's stdin")))]
pub struct StartArgs {
    /// Attach: print the container's output and exit with its status
    #[arg(short, long)]
    attach: bool,
    #[command(flatten)]
    interactive: flags::Interactive,
    #[command(flatten)]
    detach_keys: flags::DetachKeys,
    #[command(flatten)]
    containers: flags::Containers,
}

#[derive(Args)]
pub struct StopArgs {
    #[command(flatten)]
    time: flags::StopTime,
    #[command(flatten)]
    containers: flags::Containers,
}

#[derive(Args)]
pub struct RestartArgs {
    #[command(flatten)]
    time: flags::StopTime,
    #[command(flatten)]
    containers: flags::Containers,
}

#[derive(Args)]
pub struct KillArgs {
    /// The signal to send (name or number)
    #[arg(short, long, default_value = "KILL")]
    signal: String,
    #[command(flatten)]
    containers: flags::Containers,
}

#[derive(Args)]
pub struct RenameArgs {
    #[command(flatten)]
    container: flags::Container,
    /// The container's new name
    new_name: String,
}

impl StartArgs {
    /// `start -a` or `-i`: kist follows the container and exits as it does.
    pub fn attaches(&self) -> bool {
        self.attach || self.interactive.on
    }
}

pub fn start(engine: &Engine, args: &StartArgs) -> Result<i32> {
    let names = &args.containers.names;
    // -i attaches too, as Docker's start -i does.
    if args.attach || args.interactive.on {
        return attach::start_attached(
            engine,
            names,
            args.interactive.on,
            args.detach_keys.value.as_deref(),
        );
    }
    each(engine, names, |c| lifecycle::start(engine, c).map(|_| None))
}

/// Stops the containers at once, each in a thread of its own with its own handle on the store
/// (as Docker does: three that ignore SIGTERM take one grace period, not three); prints each
/// name, in the order given, once that one has stopped.
pub fn stop(engine: &Engine, args: &StopArgs) -> Result<i32> {
    let names = &args.containers.names;
    if names.len() < 2 {
        return each(engine, names, |c| {
            lifecycle::stop(engine, c, args.time.grace()).map(|_| None)
        });
    }
    let (root, run) = (&engine.layout.root, &engine.layout.run);
    let grace = args.time.grace();
    let mut code = 0;
    std::thread::scope(|scope| {
        let stopping: Vec<_> = names
            .iter()
            .map(|name| {
                scope.spawn(move || {
                    let engine = Engine::open_quietly(root, Some(run))?;
                    let c = engine.store.find_container(name)?;
                    lifecycle::stop(&engine, &c, grace)
                })
            })
            .collect();
        for (name, thread) in names.iter().zip(stopping) {
            match thread.join() {
                Ok(Ok(())) => outln!("{name}"),
                Ok(Err(e)) => {
                    eprintln!("kist: {e}");
                    code = 1;
                }
                Err(_) => {
                    eprintln!("kist: stopping {name}: the thread panicked");
                    code = 1;
                }
            }
        }
    });
    Ok(code)
}

pub fn restart(engine: &Engine, args: &RestartArgs) -> Result<i32> {
    each(engine, &args.containers.names, |c| {
        lifecycle::restart(engine, c, args.time.grace()).map(|_| None)
    })
}

pub fn kill(engine: &Engine, args: &KillArgs) -> Result<i32> {
    let signal = lifecycle::parse_signal(&args.signal)?;
    each(engine, &args.containers.names, |c| {
        lifecycle::kill(engine, c, signal).map(|_| None)
    })
}

/// Prints each container's exit code, once it has one.
pub fn wait(engine: &Engine, args: &flags::Containers) -> Result<i32> {
    each(engine, &args.names, |c| {
        lifecycle::wait(engine, c).map(|code| Some(code.to_string()))
    })
}

pub fn pause(engine: &Engine, args: &flags::Containers) -> Result<i32> {
    each(engine, &args.names, |c| {
        lifecycle::pause(c, true).map(|()| paused(engine, c, "pause"))
    })
}

pub fn unpause(engine: &Engine, args: &flags::Containers) -> Result<i32> {
    each(engine, &args.names, |c| {
        lifecycle::pause(c, false).map(|()| paused(engine, c, "unpause"))
    })
}

/// Records a pause or unpause; nothing to print.
fn paused(engine: &Engine, c: &kist_engine::ContainerRecord, action: &str) -> Option<String> {
    kist_engine::events::container(&engine.layout.root, c, action, &[]);
    None
}

pub fn rename(engine: &Engine, args: &RenameArgs) -> Result<i32> {
    let c = engine.store.find_container(&args.container.name)?;
    lifecycle::rename(engine, &c, &args.new_name)?;
    Ok(0)
}
