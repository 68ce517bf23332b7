//! Looking at containers without changing them: `inspect`, `diff`, `top`, `stats`, `logs` and
//! the sizes `system df` reports.

mod changes;
pub mod inspect;
pub mod logs;
pub mod stats;

pub use changes::{Change, diff, top, tree_size};
