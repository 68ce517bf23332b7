//! Looking at containers without changing them: `inspect`, `diff`, `top`, `stats`, `logs`,
//! the sizes `system df` reports, and the host and store as `kist info` shows them.

mod changes;
mod disk_usage;
pub mod events;
pub mod inspect;
pub mod logs;
mod processes;
pub mod stats;
pub mod system_info;

pub use changes::{Change, diff};
pub use disk_usage::tree_size;
pub use processes::top;
