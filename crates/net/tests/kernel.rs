//! Tests against the kernel: links, addresses, routes and nftables rules, each test in a
//! network namespace of its own (`kernel/sandbox.rs`), never the machine's.

#[path = "kernel/sandbox.rs"]
mod sandbox;

#[path = "kernel/traffic.rs"]
mod traffic;

#[path = "kernel/links.rs"]
mod links;

#[path = "kernel/nft.rs"]
mod nft;

#[path = "kernel/dns.rs"]
mod dns;
