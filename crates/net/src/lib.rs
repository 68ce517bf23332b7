//! kist's networking: what a container on a bridge network needs from the kernel (a bridge, a
//! veth pair into the container's network namespace, addresses, routes, nftables rules for
//! masquerading and published ports), the addresses it gets, and the DNS answers it is given.
//! The engine calls it between creating a container's namespaces and starting its program; the
//! runtime knows nothing of it.

mod error;
pub mod ipam;
mod mac;

pub use error::{Error, Result};
pub use mac::Mac;
