//! nftables over netlink, written by hand (no `nft` process, no libnftnl): kist's own table
//! `inet kist` with masquerading and isolation per network and DNAT per published port, each
//! change one batch. No crate fits: rustables is GPL-3 (kist is Apache-2.0), the `nftables`
//! crate runs `nft`, and netlink-packet-netfilter 0.4 knows tables, chains and seven
//! expression types but not nat, masq, ct or fib, which would be raw attributes anyway.

mod batch;
mod expr;
mod matches;
mod message;
mod nftables;
mod parse;
mod rules;

pub use matches::Protocol;
pub use nftables::Nftables;
pub use rules::{NetworkRules, PortMapping};
