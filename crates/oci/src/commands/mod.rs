//! The commands, one module per concern; each returns the exit status.

pub mod create;
pub mod events;
pub mod exec;
pub mod features;
pub mod lifecycle;
pub mod list;
pub mod spec;
pub mod update;

#[derive(clap::Args)]
pub struct IdArg {
    /// The container's id
    pub id: String,
}
