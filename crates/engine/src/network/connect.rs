//! `kist network connect` and `disconnect`: a container's place on one more network, or one
//! fewer, recorded in the store and, while it runs, made or taken away in its namespace (an
//! interface `ethN` with its address; the first network keeps the default route). The
//! container's DNS responder reads its networks from the store, so it answers the new
//! network's names at once.

use std::net::Ipv4Addr;

use kist_net::{NetNs, Netlink};

use crate::Engine;
use crate::error::{Error, Result};
use crate::state::networks::Endpoint;
use crate::state::store::ContainerState;

/// Connects container `container` to network `network`, with `--ip` and `--alias`.
pub fn connect(
    engine: &Engine,
    network: &str,
    container: &str,
    ip: Option<Ipv4Addr>,
    aliases: Vec<String>,
) -> Result<()> {
    let c = engine.store.find_container(container)?;
    let n = super::find(engine, network)?;
    let config: serde_json::Value = serde_json::from_str(&c.config).unwrap_or_default();
    if config["NetworkMode"].as_str() != Some("Bridge") {
        return Err(Error::invalid_option(
            "network connect",
            format!(
                "container {} cannot join network {}: it has no network namespace of its own for bridge networks (--network host or none)",
                c.name, n.name
            ),
        ));
    }
    let existing = engine.store.endpoints_of(&c.id)?;
    if existing.iter().any(|e| e.network_id == n.id) {
        return Err(Error::AlreadyConnected {
            container: c.name,
            network: n.name,
        });
    }
    if let Some(ip) = ip {
        n.pool()?.request(ip, &Default::default())?;
    }
    let endpoint = Endpoint {
        container_id: c.id.clone(),
        network_id: n.id.clone(),
        ip: None,
        last_ip: None,
        requested_ip: ip,
        mac: None,
        aliases,
    };
    engine.store.insert_endpoint(&endpoint)?;
    let running = c.state == ContainerState::Running;
    if let (true, Some(process)) = (running, c.process) {
        let joined = (|| {
            let address = engine.store.allocate_address(&c.id, &n)?;
            let ns = NetNs::of_pid(process.pid)?;
            let mut host = Netlink::open()?;
            let slot = free_slot(&ns)?;
            super::attach::join_one(
                &mut host,
                &ns,
                &c.id,
                process.pid,
                slot,
                &n,
                &endpoint,
                address,
            )
        })();
        if let Err(e) = joined {
            let _ = engine.store.delete_endpoint(&c.id, &n.id);
            return Err(e);
        }
    }
    Ok(())
}

/// The first `ethN` name free inside the namespace.
fn free_slot(ns: &NetNs) -> Result<usize> {
    let inside = Netlink::open_in(ns)?;
    for n in 0..64 {
        if inside.link_index(&format!("eth{n}"))?.is_none() {
            return Ok(n);
        }
    }
    Err(Error::Net(kist_net::Error::Config(
        "the container has 64 network interfaces already".into(),
    )))
}

/// Disconnects container `container` from network `network`: its interface there goes.
pub fn disconnect(engine: &Engine, network: &str, container: &str) -> Result<()> {
    let c = engine.store.find_container(container)?;
    let n = super::find(engine, network)?;
    let Some(endpoint) = engine
        .store
        .endpoints_of(&c.id)?
        .into_iter()
        .find(|e| e.network_id == n.id)
    else {
        return Err(Error::NotConnected {
            container: c.name,
            network: n.name,
        });
    };
    if let (Some(ip), Some(process)) = (endpoint.ip, c.process) {
        let mac = super::mac_of(&endpoint, ip)?.to_string();
        if let Some(ifname) = interface_with_mac(process.pid, &mac) {
            let ns = NetNs::of_pid(process.pid)?;
            Netlink::open_in(&ns)?.delete_link(&ifname)?;
        }
    }
    engine.store.delete_endpoint(&c.id, &n.id)
}

/// The container's interface with this MAC, read from its own /sys (made in its namespace).
fn interface_with_mac(pid: i32, mac: &str) -> Option<String> {
    let dir = format!("/proc/{pid}/root/sys/class/net");
    std::fs::read_dir(dir).ok()?.flatten().find_map(|entry| {
        let address = std::fs::read_to_string(entry.path().join("address")).ok()?;
        (address.trim() == mac).then(|| entry.file_name().to_string_lossy().into_owned())
    })
}
