//! IP address management: a network's subnet (chosen from address pools or given) and each
//! container's address on it, as pure logic; the engine stores the results.

mod allocator;
mod pools;

pub use allocator::Pool;
pub use pools::{AddressPool, InUse, check_free, choose_subnet, default_pools, overlaps};
