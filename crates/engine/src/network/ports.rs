//! Published ports: `-p` and `-P` resolved to host ports, taken in the store (a port another
//! container holds fails the start, naming it), checked free on the host by binding it, and
//! made DNAT rules of the container's own chain in kist's nftables table.

use serde_json::{Value, json};

use crate::Engine;
use crate::error::Result;
use crate::state::store::ContainerRecord;

/// `NetworkSettings.Ports`: each published port with its host addresses.
pub fn inspect_ports(engine: &Engine, c: &ContainerRecord) -> Result<Value> {
    let mut ports = serde_json::Map::new();
    for p in engine.store.ports_of(&c.id)? {
        let key = format!("{}/{}", p.container_port, p.protocol);
        let host_ip = if p.host_ip.is_empty() {
            "0.0.0.0".to_string()
        } else {
            p.host_ip.clone()
        };
        let binding = json!({"HostIp": host_ip, "HostPort": p.host_port.to_string()});
        match ports.get_mut(&key) {
            Some(Value::Array(list)) => list.push(binding),
            _ => {
                ports.insert(key, json!([binding]));
            }
        }
    }
    Ok(Value::Object(ports))
}
