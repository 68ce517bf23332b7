//! What `inspect` shows of a container's networks: Docker's `NetworkSettings`, the first
//! network's address at the top level (as Docker shows the default bridge's) and each
//! network by name under `Networks`.

use serde_json::{Value, json};

use crate::Engine;
use crate::error::Result;
use crate::state::store::ContainerRecord;

pub fn network_settings(engine: &Engine, c: &ContainerRecord) -> Result<Value> {
    let endpoints = engine.store.endpoints_of(&c.id)?;
    let networks = engine.store.networks()?;
    let mut by_name = serde_json::Map::new();
    let mut first: Option<Value> = None;
    for e in &endpoints {
        let Some(n) = networks.iter().find(|n| n.id == e.network_id) else {
            continue;
        };
        let (ip, prefix, gateway, mac) = match e.ip {
            Some(ip) => (
                ip.to_string(),
                n.subnet.prefix_len(),
                n.gateway.to_string(),
                super::mac_of(e, ip)?.to_string(),
            ),
            None => (String::new(), 0, String::new(), String::new()),
        };
        let entry = json!({
            "IPAMConfig": e.requested_ip.map(|ip| json!({"IPv4Address": ip.to_string()})),
            "Links": null,
            "Aliases": if e.aliases.is_empty() { Value::Null } else { json!(e.aliases) },
            "MacAddress": mac,
            "NetworkID": n.id,
            "EndpointID": if e.ip.is_some() { format!("{}{}", &c.id[..32.min(c.id.len())], &n.id[..32.min(n.id.len())]) } else { String::new() },
            "Gateway": gateway,
            "IPAddress": ip,
            "IPPrefixLen": prefix,
            "IPv6Gateway": "",
            "GlobalIPv6Address": "",
            "GlobalIPv6PrefixLen": 0,
            "DriverOpts": null,
            "DNSNames": null,
        });
        first.get_or_insert_with(|| entry.clone());
        by_name.insert(n.name.clone(), entry);
    }
    let top = |key: &str| first.as_ref().map_or(json!(""), |f| f[key].clone());
    Ok(json!({
        "Bridge": "",
        "SandboxID": "",
        "SandboxKey": c.process.map(|p| format!("/proc/{}/ns/net", p.pid)).unwrap_or_default(),
        "Ports": super::ports::inspect_ports(engine, c)?,
        "HairpinMode": false,
        "LinkLocalIPv6Address": "",
        "LinkLocalIPv6PrefixLen": 0,
        "SecondaryIPAddresses": null,
        "SecondaryIPv6Addresses": null,
        "EndpointID": top("EndpointID"),
        "Gateway": top("Gateway"),
        "GlobalIPv6Address": "",
        "GlobalIPv6PrefixLen": 0,
        "IPAddress": top("IPAddress"),
        "IPPrefixLen": first.as_ref().map_or(json!(0), |f| f["IPPrefixLen"].clone()),
        "IPv6Gateway": "",
        "MacAddress": top("MacAddress"),
        "Networks": by_name,
    }))
}
