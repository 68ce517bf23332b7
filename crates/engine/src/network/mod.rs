//! Bridge networks as the engine sees them: which network a container joins (the default
//! `bridge`, made on first use from ROOT/config.json's `bip` / `default-address-pools`, or a
//! user network), its place on it recorded with the container, and the attach that runs
//! between the container's namespaces existing and its program starting (`attach.rs`).

pub(crate) mod attach;
pub(crate) mod config;
pub mod connect;
pub mod dns;
pub mod inspect;
pub mod manage;
pub mod ports;

use std::net::Ipv4Addr;

use crate::Engine;
use crate::error::{Error, Result};
use crate::options::namespaces::JoinedNamespace;
use crate::options::{DEFAULT_NETWORK, NetworkMode, RunOptions};
use crate::state::networks::{Endpoint, NetworkRecord, new_network};

/// The bridge device of the default network (Docker's is `docker0`).
pub const DEFAULT_BRIDGE: &str = "kist0";

pub(crate) const DEFAULT_NETWORK_NAME: &str = DEFAULT_NETWORK;

/// The network a new container joins, checked (it exists; `--ip` is in its subnet) before
/// anything is made; None without a bridge network.
pub(crate) fn resolve(engine: &Engine, opts: &RunOptions) -> Result<Option<NetworkRecord>> {
    if opts.network != NetworkMode::Bridge {
        opts.networking.check(opts.network)?;
        return Ok(None);
    }
    opts.networking.check(opts.network)?;
    let name = if opts.networking.network.is_empty() {
        DEFAULT_NETWORK
    } else {
        opts.networking.network.as_str()
    };
    let network = find(engine, name)?;
    if let Some(ip) = opts.networking.ip {
        let pool = network.pool()?;
        pool.request(ip, &Default::default())?;
        if name == DEFAULT_NETWORK {
            return Err(Error::invalid_option(
                "--ip",
                "user specified IP address is supported on user defined networks only",
            ));
        }
    }
    Ok(Some(network))
}

/// The network by name or id; the default `bridge` is made on first use.
pub fn find(engine: &Engine, name: &str) -> Result<NetworkRecord> {
    if let Some(n) = engine.store.find_network(name)? {
        return Ok(n);
    }
    if name == DEFAULT_NETWORK {
        return default_network(engine);
    }
    Err(Error::NoSuchNetwork {
        name: name.to_string(),
    })
}

/// Records the default network: `bip`'s subnet, else the first pool subnet that no network
/// and no route of the host overlaps. A concurrent first command may win: its record is used.
fn default_network(engine: &Engine) -> Result<NetworkRecord> {
    let settings = config::Settings::load(&engine.layout.root)?;
    let pool = match settings.bip {
        Some(bip) => kist_net::ipam::Pool::new(bip.trunc(), Some(bip.addr()), None)?,
        None => {
            let in_use = manage::subnets_in_use(engine)?;
            let subnet = kist_net::ipam::choose_subnet(&settings.pools, &in_use)?;
            kist_net::ipam::Pool::new(subnet, None, None)?
        }
    };
    let record = new_network(DEFAULT_NETWORK, DEFAULT_BRIDGE.into(), &pool, None);
    match engine.store.insert_network(&record) {
        Ok(()) => Ok(record),
        Err(Error::NetworkExists { .. }) => {
            engine
                .store
                .find_network(DEFAULT_NETWORK)?
                .ok_or_else(|| Error::NoSuchNetwork {
                    name: DEFAULT_NETWORK.into(),
                })
        }
        Err(e) => Err(e),
    }
}

/// Records the container's place on its network, with the container.
pub(crate) fn record_endpoint(
    engine: &Engine,
    container_id: &str,
    network: &NetworkRecord,
    opts: &RunOptions,
) -> Result<()> {
    engine
        .store
        .insert_endpoint(&endpoint_of(container_id, network, opts))
}

/// The container's place on its network as `run`'s options ask for it (no address yet).
pub(crate) fn endpoint_of(
    container_id: &str,
    network: &NetworkRecord,
    opts: &RunOptions,
) -> Endpoint {
    Endpoint {
        container_id: container_id.to_string(),
        network_id: network.id.clone(),
        ip: None,
        last_ip: None,
        requested_ip: opts.networking.ip,
        mac: opts.networking.mac.clone(),
        aliases: opts.networking.aliases.clone(),
    }
}

/// `--add-host` and `--dns*` for the generated files: `host-gateway` becomes the network's
/// gateway (the host's address the container reaches).
pub(crate) fn extras(
    opts: &RunOptions,
    network: Option<&NetworkRecord>,
) -> Result<crate::container::hostfiles::Extras> {
    let net = &opts.networking;
    let mut hosts = Vec::new();
    for h in &net.add_hosts {
        let bad = |why: &str| Error::invalid_value("--add-host", h, why);
        let (name, ip) = h
            .split_once('=')
            .or_else(|| h.split_once(':'))
            .ok_or_else(|| bad("use NAME:IP"))?;
        if name.is_empty() {
            return Err(bad("use NAME:IP"));
        }
        let ip = match (ip, network) {
            ("host-gateway", Some(n)) => n.gateway.to_string(),
            ("host-gateway", None) => {
                return Err(bad(
                    "host-gateway needs a bridge network (its gateway is the host)",
                ));
            }
            (ip, _) => ip
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .map_err(|_| bad("the address is not an IP address"))?
                .to_string(),
        };
        hosts.push((name.to_string(), ip));
    }
    Ok(crate::container::hostfiles::Extras {
        hosts,
        dns: net.dns.iter().map(|d| d.to_string()).collect(),
        search: net.dns_search.clone(),
        options: net.dns_options.clone(),
    })
}

/// `--network container:X`: X's network namespace, joined as `--pid container:X` is (found
/// through its process at each start).
pub(crate) fn network_donor(engine: &Engine, opts: &RunOptions) -> Result<Option<JoinedNamespace>> {
    if opts.network != NetworkMode::Container {
        return Ok(None);
    }
    let reference = opts.networking.network.trim_start_matches("container:");
    let (donor, _) = crate::container::joined::donor(engine, reference, "net")?;
    Ok(Some(JoinedNamespace {
        ns: "net".into(),
        container: donor.id,
    }))
}

fn network_donor_of(joined: &[JoinedNamespace]) -> Option<&JoinedNamespace> {
    joined.iter().find(|j| j.ns == "net")
}

/// `HostConfig.NetworkMode` with another container's network: `container:ID`.
pub(crate) fn donor_mode(joined: &[JoinedNamespace]) -> Option<String> {
    network_donor_of(joined).map(|j| format!("container:{}", j.container))
}

/// A container on another's network has its hostname (Docker's rule): the first 12
/// characters of the donor's id if its record cannot say.
pub(crate) fn donor_hostname(engine: &Engine, joined: &[JoinedNamespace]) -> String {
    let Some(j) = network_donor_of(joined) else {
        return String::new();
    };
    let config: Option<serde_json::Value> = engine
        .store
        .find_container(&j.container)
        .ok()
        .and_then(|c| serde_json::from_str(&c.config).ok());
    config
        .and_then(|c| c["Hostname"].as_str().map(String::from))
        .unwrap_or_else(|| j.container.chars().take(12).collect())
}

/// The donor's /etc/hosts and resolv.conf in place of generated ones.
pub(crate) fn donor_files<const N: usize>(
    engine: &Engine,
    joined: &[JoinedNamespace],
    mut files: [(&'static str, String, &'static str); N],
) -> [(&'static str, String, &'static str); N] {
    let Some(donor) = network_donor_of(joined) else {
        return files;
    };
    let dir = engine.layout.container_run_dir(&donor.container);
    for (name, content, _) in files.iter_mut() {
        if let Ok(theirs) = std::fs::read_to_string(dir.join(*name)) {
            *content = theirs;
        }
    }
    files
}

/// The generated MAC of an address, or the one asked for.
pub(crate) fn mac_of(endpoint: &Endpoint, ip: Ipv4Addr) -> Result<kist_net::Mac> {
    match &endpoint.mac {
        Some(m) => Ok(m.parse()?),
        None => Ok(kist_net::Mac::from_ip(ip)),
    }
}
