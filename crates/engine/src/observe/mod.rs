//! Looking at containers without changing them: `inspect`, `diff`, `top`, `stats`, `logs` and
//! the sizes `system df` reports.

mod changes;
mod disk_usage;
pub mod inspect;
pub mod logs;
mod processes;
pub mod stats;

pub use changes::{Change, diff};
pub use disk_usage::tree_size;
pub use processes::top;
