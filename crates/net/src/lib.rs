//! kist's networking: what a container on a bridge network needs from the kernel (a bridge, a
//! veth pair into the container's network namespace, addresses, routes, nftables rules for
//! masquerading and published ports), the addresses it gets, and the DNS answers it is given.
//! The engine calls it between creating a container's namespaces and starting its program; the
//! runtime knows nothing of it.

mod attach;
mod bridge;
pub mod dns;
mod error;
pub mod ipam;
mod mac;
mod netlink;
mod netns;
mod nft;
mod rtnl;
mod sysctl;

pub use attach::{Attachment, attach, host_veth_name};
pub use bridge::{Bridge, ReadyBridge, ensure_bridge};
pub use error::{Error, Result};
pub use mac::Mac;
pub use netns::NetNs;
pub use nft::{NetworkRules, Nftables, PortMapping, Protocol};
pub use rtnl::{LOOPBACK_INDEX, Link, Netlink, Veth};
pub use sysctl::{disable_ipv6, enable_ip_forward, enable_route_localnet};
