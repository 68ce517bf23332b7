//! The container commands.

pub mod logs;
pub mod ps;
pub mod stats;
