//! `kist network create, ls, inspect, rm, prune`: user networks in the store, their subnets
//! checked against the other networks and the routes of the namespace kist runs in.

use kist_net::ipam::InUse;

use crate::Engine;
use crate::error::Result;

/// The subnets a new network must not overlap: every network's, and every route's of the
/// namespace kist runs in (but the routes of kist's own bridges, which are its networks).
pub(crate) fn subnets_in_use(engine: &Engine) -> Result<Vec<InUse>> {
    let networks = engine.store.networks()?;
    let mut in_use: Vec<InUse> = networks
        .iter()
        .map(|n| InUse::network(n.subnet, &n.name))
        .collect();
    let mut netlink = kist_net::Netlink::open()?;
    for route in netlink.ipv4_routes()? {
        if !networks.iter().any(|n| n.subnet == route) {
            in_use.push(InUse::host_route(route));
        }
    }
    Ok(in_use)
}
