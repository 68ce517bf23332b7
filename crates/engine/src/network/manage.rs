//! `kist network create, ls, inspect, rm, prune`: user networks in the store, their subnets
//! checked against the other networks and the routes of the namespace kist runs in.

use kist_net::ipam::InUse;
use serde_json::{Value, json};

use crate::Engine;
use crate::error::{Error, Result};
use crate::state::networks::{NetworkRecord, new_network};

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

/// `kist network create`'s settings.
#[derive(Debug, Clone, Default)]
pub struct CreateNetwork {
    pub name: String,
    pub subnet: Option<ipnet::Ipv4Net>,
    pub gateway: Option<std::net::Ipv4Addr>,
    pub ip_range: Option<ipnet::Ipv4Net>,
    pub internal: bool,
    /// `--label K=V`.
    pub labels: Vec<String>,
    /// `-o com.docker.network.driver.mtu=N` and other options, as given.
    pub options: Vec<(String, String)>,
}

/// The networks every kist has and no one makes or removes.
pub const PREDEFINED: [&str; 3] = ["bridge", "host", "none"];

/// Records a user network; its bridge is made at its first container's start.
pub fn create(engine: &Engine, req: &CreateNetwork) -> Result<NetworkRecord> {
    if !crate::options::names::is_valid(&req.name) {
        return Err(Error::invalid_value(
            "network name",
            &req.name,
            "use [a-zA-Z0-9][a-zA-Z0-9_.-]+",
        ));
    }
    if PREDEFINED.contains(&req.name.as_str()) || engine.store.find_network(&req.name)?.is_some() {
        return Err(Error::NetworkExists {
            name: req.name.clone(),
        });
    }
    let mtu = mtu_option(&req.options)?;
    // The default network takes its subnet first, as Docker's does.
    super::find(engine, super::DEFAULT_NETWORK_NAME)?;
    let in_use = subnets_in_use(engine)?;
    let subnet = match req.subnet {
        Some(s) => {
            kist_net::ipam::check_free(s.trunc(), &in_use)?;
            s
        }
        None => {
            if req.gateway.is_some() || req.ip_range.is_some() {
                return Err(Error::invalid_option(
                    "--gateway",
                    "--gateway and --ip-range need --subnet",
                ));
            }
            let settings = super::config::Settings::load(&engine.layout.root)?;
            kist_net::ipam::choose_subnet(&settings.pools, &in_use)?
        }
    };
    let pool = kist_net::ipam::Pool::new(subnet, req.gateway, req.ip_range)?;
    let id = crate::state::ids::new_container_id();
    let mut record = new_network(&req.name, format!("br-{}", &id[..12]), &pool, req.ip_range);
    record.id = id;
    record.internal = req.internal;
    record.mtu = mtu;
    record.labels = labels_json(&req.labels).to_string();
    record.options = Value::Object(
        req.options
            .iter()
            .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
            .collect(),
    )
    .to_string();
    engine.store.insert_network(&record)?;
    Ok(record)
}

fn mtu_option(options: &[(String, String)]) -> Result<Option<u32>> {
    let mut mtu = None;
    for (k, v) in options {
        match k.as_str() {
            "com.docker.network.driver.mtu" => {
                let n: u32 = v
                    .parse()
                    .ok()
                    .filter(|n| (68..=65535).contains(n))
                    .ok_or_else(|| {
                        Error::invalid_value("MTU", v, "use a number from 68 to 65535")
                    })?;
                mtu = Some(n);
            }
            other => {
                return Err(Error::invalid_option(
                    "--opt",
                    format!(
                        "unknown network option {other}: kist takes com.docker.network.driver.mtu"
                    ),
                ));
            }
        }
    }
    Ok(mtu)
}

fn labels_json(labels: &[String]) -> Value {
    Value::Object(
        labels
            .iter()
            .map(|l| match l.split_once('=') {
                Some((k, v)) => (k.to_string(), Value::from(v)),
                None => (l.clone(), Value::from("")),
            })
            .collect(),
    )
}

/// Every network: the default `bridge` (recorded if new), `host`, `none`, then the user's.
pub fn list(engine: &Engine) -> Result<Vec<Value>> {
    super::find(engine, super::DEFAULT_NETWORK_NAME)?;
    let mut out = Vec::new();
    for n in engine.store.networks()? {
        out.push(summary(&n));
    }
    for name in ["host", "none"] {
        out.push(json!({
            "ID": predefined_id(name), "Name": name, "Driver": if name == "host" { "host" } else { "null" },
            "Scope": "local", "IPv6": "false", "Internal": "false", "Labels": "",
            "CreatedAt": "", "Builtin": true,
        }));
    }
    out.sort_by_key(|n| n["Name"].as_str().unwrap_or_default().to_string());
    Ok(out)
}

fn summary(n: &NetworkRecord) -> Value {
    let labels: serde_json::Map<String, Value> =
        serde_json::from_str(&n.labels).unwrap_or_default();
    json!({
        "ID": n.id, "Name": n.name, "Driver": "bridge", "Scope": "local", "IPv6": "false",
        "Internal": n.internal.to_string(),
        "Labels": labels.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default())).collect::<Vec<_>>().join(","),
        "CreatedAt": n.created, "Builtin": n.name == super::DEFAULT_NETWORK_NAME,
        "LabelMap": labels,
    })
}

/// A stable id for `host` and `none`, which have no record.
fn predefined_id(name: &str) -> String {
    let hex: String = name.bytes().map(|b| format!("{b:02x}")).collect();
    hex.repeat(64 / hex.len() + 1)[..64].to_string()
}

/// Docker's `network inspect` document.
pub fn inspect(engine: &Engine, reference: &str) -> Result<Value> {
    if let Some(name) = PREDEFINED
        .iter()
        .find(|p| **p == reference && **p != "bridge")
    {
        return Ok(json!({
            "Name": name, "Id": predefined_id(name), "Created": "", "Scope": "local",
            "Driver": if *name == "host" { "host" } else { "null" }, "EnableIPv6": false,
            "IPAM": {"Driver": "default", "Options": null, "Config": []},
            "Internal": false, "Attachable": false, "Ingress": false,
            "ConfigFrom": {"Network": ""}, "ConfigOnly": false,
            "Containers": {}, "Options": {}, "Labels": {},
        }));
    }
    let n = super::find(engine, reference)?;
    let mut containers = serde_json::Map::new();
    for e in engine.store.endpoints_on(&n.id)? {
        let Some(ip) = e.ip else { continue };
        let name = engine
            .store
            .find_container(&e.container_id)
            .map(|c| c.name)
            .unwrap_or_default();
        containers.insert(
            e.container_id.clone(),
            json!({
                "Name": name,
                "EndpointID": format!("{}{}", &e.container_id[..32.min(e.container_id.len())], &n.id[..32.min(n.id.len())]),
                "MacAddress": super::mac_of(&e, ip)?.to_string(),
                "IPv4Address": format!("{ip}/{}", n.subnet.prefix_len()),
                "IPv6Address": "",
            }),
        );
    }
    let mut ipam = json!({"Subnet": n.subnet.to_string(), "Gateway": n.gateway.to_string()});
    if let Some(r) = n.ip_range {
        ipam["IPRange"] = json!(r.to_string());
    }
    let mut options: serde_json::Map<String, Value> =
        serde_json::from_str(&n.options).unwrap_or_default();
    options.insert(
        "com.docker.network.bridge.name".into(),
        json!(n.bridge.clone()),
    );
    Ok(json!({
        "Name": n.name, "Id": n.id, "Created": n.created, "Scope": "local", "Driver": "bridge",
        "EnableIPv6": false,
        "IPAM": {"Driver": "default", "Options": null, "Config": [ipam]},
        "Internal": n.internal, "Attachable": false, "Ingress": false,
        "ConfigFrom": {"Network": ""}, "ConfigOnly": false,
        "Containers": containers,
        "Options": options,
        "Labels": serde_json::from_str::<Value>(&n.labels).unwrap_or(json!({})),
    }))
}

/// Removes a user network no container is on, with its bridge and rules in kist's namespace.
pub fn remove(engine: &Engine, reference: &str) -> Result<String> {
    if PREDEFINED.contains(&reference) {
        return Err(Error::PredefinedNetwork {
            name: reference.to_string(),
            what: "removed",
        });
    }
    let n = super::find(engine, reference)?;
    engine.store.delete_network(&n)?;
    forget_devices(&n);
    Ok(n.name)
}

/// The bridge and rules of a removed network: best effort (another namespace may hold them,
/// or none).
fn forget_devices(n: &NetworkRecord) {
    if let Ok(mut netlink) = kist_net::Netlink::open() {
        let _ = netlink.delete_link(&n.bridge);
    }
    if let Ok(mut nft) = kist_net::Nftables::open() {
        let _ = nft.remove_network(&n.bridge);
    }
}

/// Removes every user network no container is on; returns their names.
pub fn prune(engine: &Engine) -> Result<Vec<String>> {
    let mut removed = Vec::new();
    for n in engine.store.networks()? {
        if n.name == super::DEFAULT_NETWORK_NAME || !engine.store.endpoints_on(&n.id)?.is_empty() {
            continue;
        }
        match engine.store.delete_network(&n) {
            Ok(()) => {
                forget_devices(&n);
                removed.push(n.name);
            }
            Err(Error::NetworkInUse { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(removed)
}
