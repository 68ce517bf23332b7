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
use crate::state::networks::{Endpoint, NetworkRecord};

/// What joining a container to its networks needs: its recorded settings and, for each
/// network it has an endpoint on, the network and the address it holds there, if it holds one
/// yet. A foreground `run` hands over what it has just recorded ([`Joining::recorded`]), so
/// that the store is not read again on the way to the program; a supervisor or `start` reads
/// it ([`Joining::load`]).
pub(crate) struct Joining {
    id: String,
    config: serde_json::Value,
    members: Vec<Member>,
}

/// The container's place on one network.
struct Member {
    network: NetworkRecord,
    endpoint: Endpoint,
    address: Option<Ipv4Addr>,
}

impl Joining {
    /// The container's endpoints, their networks and its settings, from the store.
    pub(crate) fn load(engine: &Engine, id: &str) -> Result<Joining> {
        let mut members = Vec::new();
        for endpoint in engine.store.endpoints_of(id)? {
            let Some(network) = engine.store.network_by_id(&endpoint.network_id)? else {
                continue;
            };
            members.push(Member {
                network,
                address: endpoint.ip,
                endpoint,
            });
        }
        let config = match members.is_empty() {
            true => serde_json::Value::Null,
            false => {
                let record = engine.store.find_container(id)?;
                serde_json::from_str(&record.config).unwrap_or_default()
            }
        };
        Ok(Joining {
            id: id.to_string(),
            config,
            members,
        })
    }

    /// A container just recorded with its `config`, on `network` at `address`.
    pub(crate) fn recorded(
        config: serde_json::Value,
        network: NetworkRecord,
        endpoint: Endpoint,
        address: Ipv4Addr,
    ) -> Joining {
        Joining {
            id: endpoint.container_id.clone(),
            config,
            members: vec![Member {
                network,
                endpoint,
                address: Some(address),
            }],
        }
    }
}

/// What a connected container needs kept while it runs: its DNS responder's socket, served
/// once the program has started ([`Connected::serve`]: its thread and reading the host's
/// resolvers need not delay the start).
#[must_use = "the container's DNS responder stops when this is dropped"]
pub(crate) struct Connected {
    dns: Option<super::dns::Bound>,
    published: bool,
}

/// A connected container whose DNS responder serves.
#[must_use = "the container's DNS responder stops when this is dropped"]
pub(crate) struct Serving {
    _dns: Option<super::dns::Responder>,
    published: bool,
}

impl Connected {
    /// Starts serving the container's DNS responder.
    pub(crate) fn serve(self) -> Result<Serving> {
        Ok(Serving {
            _dns: self.dns.map(super::dns::Bound::serve).transpose()?,
            published: self.published,
        })
    }
}

impl Serving {
    /// Takes the container's published ports' rules away, when it published any: it stopped.
    pub(crate) fn disconnect(self, engine: &Engine, id: &str) -> Result<()> {
        match self.published {
            true => disconnect(engine, id),
            false => Ok(()),
        }
    }
}

/// Joins the container to its networks while its process sets itself up (its namespaces
/// exist from the clone on; its set-up brings `lo` up, on another CPU), then waits for that
/// set-up: the network lengthens a start only by what it takes beyond it. A failed set-up is
/// the error reported (a network failure may be no more than its consequence) and takes the
/// published ports' rules away again.
pub(crate) fn connect_during_setup(
    engine: &Engine,
    joining: Joining,
    created: &mut kist_runtime::Created,
) -> Result<Connected> {
    let id = joining.id.clone();
    let connected = connect(engine, joining, created.pid());
    if let Err(setup) = created.wait_ready() {
        if connected.is_ok() {
            let _ = disconnect(engine, &id);
        }
        return Err(setup.into());
    }
    connected
}

/// Joins the container (whose first process is `pid`) to every network it has an endpoint on;
/// on failure, what it took in the store is let go.
pub(crate) fn connect(engine: &Engine, joining: Joining, pid: i32) -> Result<Connected> {
    let id = joining.id.clone();
    join_all(engine, joining, pid).inspect_err(|_| {
        let _ = disconnect(engine, &id);
        let _ = engine.store.release_network(&id);
    })
}

fn join_all(engine: &Engine, joining: Joining, pid: i32) -> Result<Connected> {
    let Joining {
        id,
        config,
        members,
    } = joining;
    if members.is_empty() {
        return Ok(Connected {
            dns: None,
            published: false,
        });
    }
    let mut joined = Vec::new();
    let ns = NetNs::of_pid(pid)?;
    let mut host = Netlink::open()?;
    let mut first: Option<Ipv4Addr> = None;
    for (n, member) in members.into_iter().enumerate() {
        let ip = match member.address {
            Some(ip) => ip,
            None => engine.store.allocate_address(&id, &member.network)?,
        };
        join_one(
            &mut host,
            &ns,
            &id,
            pid,
            n,
            &member.network,
            &member.endpoint,
            ip,
        )?;
        first.get_or_insert(ip);
        joined.push(member.network);
        crate::state::crash::point("network:attached");
    }
    let extras = hostfiles::Extras::from_config(&config);
    let mut published = false;
    if let Some(ip) = first {
        write_hosts(engine, &id, &config, &extras, ip)?;
        published = super::ports::publish(engine, &id, &config, ip)?;
        crate::state::crash::point("network:published");
    }
    let dns = super::dns::bind(&engine.layout.db_path(), &ns, id, joined, &extras.dns)?;
    Ok(Connected {
        dns: Some(dns),
        published,
    })
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
    endpoint: &Endpoint,
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
    id: &str,
    config: &serde_json::Value,
    extras: &hostfiles::Extras,
    ip: Ipv4Addr,
) -> Result<()> {
    let hostname = config["Hostname"]
        .as_str()
        .unwrap_or(crate::state::ids::short(id));
    let dirs = ContainerDirs::of(&engine.layout, id);
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
