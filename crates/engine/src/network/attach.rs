//! A container joined to its bridge networks, between its namespaces existing and its program
//! starting (the foreground `run` and the supervisor both call `connect` there): its address
//! taken in the store, the bridge made ready (and, when kist made it just now, the network's
//! nftables rules installed), the veth pair made into the container's namespace, its
//! /etc/hosts written with the address. Veths are never deleted: the kernel removes a pair
//! with the container's namespace. `disconnect` takes its published ports' rules away when it
//! stops (or, after a killed kist, when the next command reconciles).

use std::net::Ipv4Addr;

use kist_net::{Attachment, Bridge, NetNs, Netlink, NetworkRules, Nftables};

use crate::Engine;
use crate::container::hostfiles;
use crate::error::Result;
use crate::state::container_dirs::ContainerDirs;
use crate::state::networks::NetworkRecord;
use crate::state::store::ContainerRecord;

/// What a connected container needs kept while it runs: its DNS responder's socket, served
/// once the program has started ([`Connected::serve`]: its thread and reading the host's
/// resolvers need not delay the start).
#[must_use = "the container's DNS responder stops when this is dropped"]
pub(crate) struct Connected {
    dns: Option<super::dns::Bound>,
}

/// A connected container whose DNS responder serves.
#[must_use = "the container's DNS responder stops when this is dropped"]
pub(crate) struct Serving {
    _dns: Option<super::dns::Responder>,
}

impl Connected {
    /// Starts serving the container's DNS responder.
    pub(crate) fn serve(self) -> Result<Serving> {
        Ok(Serving {
            _dns: self.dns.map(super::dns::Bound::serve).transpose()?,
        })
    }
}

/// Joins the container to its networks while its process sets itself up (its namespaces
/// exist from the clone on; its set-up brings `lo` up, on another CPU), then waits for that
/// set-up: the network lengthens a start only by what it takes beyond it. A failed set-up is
/// the error reported (a network failure may be no more than its consequence) and takes the
/// published ports' rules away again.
pub(crate) fn connect_during_setup(
    engine: &Engine,
    id: &str,
    created: &mut kist_runtime::Created,
) -> Result<Connected> {
    let connected = connect(engine, id, created.pid());
    if let Err(setup) = created.wait_ready() {
        if connected.is_ok() {
            let _ = disconnect(engine, id);
        }
        return Err(setup.into());
    }
    connected
}

/// Joins the container (whose first process is `pid`) to every network it has an endpoint on;
/// on failure, what it took in the store is let go.
pub(crate) fn connect(engine: &Engine, id: &str, pid: i32) -> Result<Connected> {
    join_all(engine, id, pid).inspect_err(|_| {
        let _ = disconnect(engine, id);
        let _ = engine.store.release_network(id);
    })
}

fn join_all(engine: &Engine, id: &str, pid: i32) -> Result<Connected> {
    let endpoints = engine.store.endpoints_of(id)?;
    if endpoints.is_empty() {
        return Ok(Connected { dns: None });
    }
    let mut joined = Vec::new();
    let ns = NetNs::of_pid(pid)?;
    let mut host = Netlink::open()?;
    let mut first: Option<Ipv4Addr> = None;
    for (n, endpoint) in endpoints.iter().enumerate() {
        let Some(network) = engine.store.network_by_id(&endpoint.network_id)? else {
            continue;
        };
        let ip = engine.store.allocate_address(id, &network)?;
        join_one(&mut host, &ns, id, pid, n, &network, endpoint, ip)?;
        first.get_or_insert(ip);
        joined.push(network);
        crate::state::crash::point("network:attached");
    }
    // One read of the record and its settings for the hosts file, the ports and the DNS.
    let record = engine.store.find_container(id)?;
    let config: serde_json::Value = serde_json::from_str(&record.config).unwrap_or_default();
    let extras = hostfiles::Extras::from_config(&config);
    if let Some(ip) = first {
        write_hosts(engine, &record, &config, &extras, ip)?;
        super::ports::publish(engine, &record, ip)?;
        crate::state::crash::point("network:published");
    }
    let dns = super::dns::bind(
        &engine.layout.db_path(),
        &ns,
        id.to_string(),
        joined,
        &extras.dns,
    )?;
    Ok(Connected { dns: Some(dns) })
}

/// One network's veth pair as `eth{n}`: the first with the default route via its gateway,
/// the others (`network connect`) only with their address.
#[allow(clippy::too_many_arguments)]
pub(crate) fn join_one(
    host: &mut Netlink,
    ns: &NetNs,
    id: &str,
    pid: i32,
    n: usize,
    network: &NetworkRecord,
    endpoint: &crate::state::networks::Endpoint,
    ip: Ipv4Addr,
) -> Result<()> {
    let bridge_index = bridge_ready(host, network)?;
    let a = Attachment {
        host_veth: host_veth_name(id, pid, n),
        ifname: format!("eth{n}"),
        ip,
        prefix_len: network.subnet.prefix_len(),
        gateway: network.gateway,
        mac: Some(super::mac_of(endpoint, ip)?),
        mtu: network.mtu,
        default_route: n == 0,
    };
    kist_net::attach(host, bridge_index, ns, &a)?;
    Ok(())
}

/// The network's bridge, made if missing with its rules (a bridge made by kist in this
/// namespace before has them); returns its index. When the rules cannot be installed (no
/// nftables), the bridge just made is taken away again, so that the next try fails the same.
fn bridge_ready(host: &mut Netlink, network: &NetworkRecord) -> Result<u32> {
    let bridge = kist_net::ensure_bridge(
        host,
        &Bridge {
            name: network.bridge.clone(),
            gateway: network.gateway,
            prefix_len: network.subnet.prefix_len(),
            mtu: network.mtu,
        },
    )?;
    if bridge.made {
        let rules = NetworkRules {
            bridge: network.bridge.clone(),
            subnet: network.subnet,
            internal: network.internal,
        };
        if let Err(e) = Nftables::open().and_then(|mut nft| nft.add_network(&rules)) {
            let _ = host.delete_link(&network.bridge);
            return Err(e.into());
        }
    }
    Ok(bridge.index)
}

/// The host end's name: unique among live containers (the pid is), and not the name of a
/// pair whose namespace the kernel is still tearing down after the container's last run.
fn host_veth_name(id: &str, pid: i32, n: usize) -> String {
    let short = id.get(..3).unwrap_or(id);
    format!("veth{short}{n:x}{pid:x}")
}

/// /etc/hosts with the container's address for its hostname (written in place: the file is,
/// or is about to be, bound into the container).
fn write_hosts(
    engine: &Engine,
    record: &ContainerRecord,
    config: &serde_json::Value,
    extras: &hostfiles::Extras,
    ip: Ipv4Addr,
) -> Result<()> {
    let hostname = config["Hostname"].as_str().unwrap_or(record.short_id());
    let dirs = ContainerDirs::of(&engine.layout, &record.id);
    dirs.rewrite_file("hosts", &hostfiles::bridge_hosts_file(hostname, ip, extras))?;
    Ok(())
}

/// Takes the container's published ports' rules away: it stopped, or its kist was killed.
pub(crate) fn disconnect(engine: &Engine, id: &str) -> Result<()> {
    if engine.store.ports_of(id)?.is_empty() {
        return Ok(());
    }
    let mut nft = Nftables::open()?;
    nft.remove_ports(id)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_end_names_fit_a_link_name() {
        let name = host_veth_name("0123456789abcdef", 4_194_304, 0);
        assert_eq!(name, "veth0120400000");
        assert!(name.len() <= 15);
    }
}
