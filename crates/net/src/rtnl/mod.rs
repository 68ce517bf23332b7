//! rtnetlink: links (bridges, veth pairs), addresses and routes, over a route netlink socket
//! of one network namespace. No `ip` process: every change is one netlink request, checked by
//! its acknowledgement.

mod address;
mod link;
mod route;
mod socket;
mod veth;

pub use link::Link;
pub use socket::Netlink;
pub use veth::Veth;

/// The loopback device's index, the same in every network namespace (LOOPBACK_IFINDEX).
pub const LOOPBACK_INDEX: u32 = 1;
