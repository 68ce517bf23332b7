//! Published ports: `-p` and `-P` resolved to host ports when the container starts, taken in
//! the store (a port another container holds fails the start, naming it), checked free on the
//! host by binding it (a program listening there fails it too), and made DNAT rules of the
//! container's own chain in kist's nftables table: in the kernel, no proxy process.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, TcpListener, UdpSocket};

use kist_net::{Nftables, PortMapping, Protocol};
use serde_json::{Value, json};

use crate::Engine;
use crate::error::{Error, Result};
use crate::options::RunOptions;
use crate::options::ports::PortSpec;
use crate::state::networks::PublishedPort;
use crate::state::store::ContainerRecord;

/// Where random host ports come from (Linux's default ephemeral range, as Docker's).
const RANDOM_PORTS: std::ops::RangeInclusive<u16> = 32768..=60999;

/// What the container's record keeps of its ports: `HostConfig.PortBindings`,
/// `PublishAllPorts`, `Config.ExposedPorts` (the image's and `--expose`), and the specs.
pub(crate) fn record_config(config: &mut Value, opts: &RunOptions, image_exposed: &[String]) {
    let net = &opts.networking;
    let mut bindings = serde_json::Map::new();
    for p in &net.publish {
        let host_port = match p.host_ports.as_slice() {
            [] => String::new(),
            [one] => one.to_string(),
            [first, .., last] => format!("{first}-{last}"),
        };
        let entry = json!({"HostIp": p.host_ip.map(|i| i.to_string()).unwrap_or_default(), "HostPort": host_port});
        match bindings.get_mut(&p.key()) {
            Some(Value::Array(list)) => list.push(entry),
            _ => {
                bindings.insert(p.key(), json!([entry]));
            }
        }
    }
    let mut exposed: BTreeSet<String> = image_exposed.iter().cloned().collect();
    exposed.extend(net.expose.iter().cloned());
    exposed.extend(net.publish.iter().map(PortSpec::key));
    config["PortBindings"] = Value::Object(bindings);
    config["PublishAllPorts"] = json!(net.publish_all);
    config["ExposedPorts"] = Value::Object(exposed.into_iter().map(|k| (k, json!({}))).collect());
    config["PortSpecs"] = json!(net.publish);
}

/// The ports of container `id` (its recorded `config`) published to `ip`, its address: host
/// ports chosen and taken, rules installed; whether it has any. Nothing is left taken when it
/// fails.
pub(crate) fn publish(engine: &Engine, id: &str, config: &Value, ip: Ipv4Addr) -> Result<bool> {
    let mut specs: Vec<PortSpec> =
        serde_json::from_value(config["PortSpecs"].clone()).unwrap_or_default();
    if config["PublishAllPorts"].as_bool() == Some(true) {
        for key in config["ExposedPorts"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k)
        {
            if specs.iter().any(|s| &s.key() == key) {
                continue;
            }
            if let Ok(mut more) = crate::options::ports::parse_publish(key) {
                specs.append(&mut more);
            }
        }
    }
    if specs.is_empty() {
        return Ok(false);
    }
    let mut held = engine.store.host_ports_taken()?;
    let mut ports = Vec::new();
    for spec in &specs {
        let port = choose(spec, &held)?;
        held.insert((spec.protocol.clone(), port.host_port));
        ports.push(port);
    }
    engine.store.take_ports(id, &ports)?;
    let mappings: Vec<PortMapping> = ports
        .iter()
        .map(|p| PortMapping {
            protocol: if p.protocol == "udp" {
                Protocol::Udp
            } else {
                Protocol::Tcp
            },
            host_ip: p.host_ip.parse().ok(),
            host_port: p.host_port,
            container_ip: ip,
            container_port: p.container_port,
        })
        .collect();
    Nftables::open()?.add_ports(id, &mappings)?;
    Ok(true)
}

/// The host port for a spec: the one given (free on the host), the first free one of a range,
/// or a random free one.
fn choose(spec: &PortSpec, held: &BTreeSet<(String, u16)>) -> Result<PublishedPort> {
    let host_ip = spec.host_ip.map(|i| i.to_string()).unwrap_or_default();
    let port = |host_port| PublishedPort {
        protocol: spec.protocol.clone(),
        host_ip: host_ip.clone(),
        host_port,
        container_port: spec.container_port,
    };
    let usable = |p: u16| !held.contains(&(spec.protocol.clone(), p)) && bindable(spec, p);
    match spec.host_ports.as_slice() {
        // Held by another container: the store names it when the port is taken.
        [one] if held.contains(&(spec.protocol.clone(), *one)) || bindable(spec, *one) => {
            Ok(port(*one))
        }
        [one] => Err(Error::PortAllocated {
            address: format!("{}:{one}", spec.host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED)),
            holder: None,
        }),
        [] => {
            // Start somewhere different for each container, so that parallel runs rarely meet.
            let span = RANDOM_PORTS.len();
            let offset = usize::try_from(std::process::id()).unwrap_or_default() % span;
            RANDOM_PORTS
                .cycle()
                .skip(offset)
                .take(span)
                .find(|p| usable(*p))
                .map(port)
                .ok_or_else(|| Error::PortAllocated {
                    address: format!("{}", spec.host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED)),
                    holder: None,
                })
        }
        range => range
            .iter()
            .copied()
            .find(|p| usable(*p))
            .map(port)
            .ok_or_else(|| Error::PortAllocated {
                address: format!(
                    "{}:{}-{}",
                    spec.host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED),
                    range[0],
                    range[range.len() - 1]
                ),
                holder: None,
            }),
    }
}

/// Whether no program of kist's namespace listens on the port: a bind that succeeds (and is
/// let go at once).
fn bindable(spec: &PortSpec, port: u16) -> bool {
    let ip = spec.host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED);
    if spec.protocol == "udp" {
        UdpSocket::bind((ip, port)).is_ok()
    } else {
        TcpListener::bind((ip, port)).is_ok()
    }
}

/// `NetworkSettings.Ports`: each exposed port, with its host bindings while it runs (null
/// when not published).
pub fn inspect_ports(engine: &Engine, c: &ContainerRecord) -> Result<Value> {
    let config: Value = serde_json::from_str(&c.config).unwrap_or_default();
    let mut ports = serde_json::Map::new();
    for key in config["ExposedPorts"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, _)| k)
    {
        ports.insert(key.clone(), Value::Null);
    }
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

/// `ps`'s PORTS column: `0.0.0.0:8080->80/tcp, 127.0.0.1:32768->81/tcp`.
pub fn ps_column(engine: &Engine, c: &ContainerRecord) -> String {
    let ports = engine.store.ports_of(&c.id).unwrap_or_default();
    ports
        .iter()
        .map(|p| {
            let ip = if p.host_ip.is_empty() {
                "0.0.0.0"
            } else {
                &p.host_ip
            };
            format!("{ip}:{}->{}/{}", p.host_port, p.container_port, p.protocol)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `kist port C [PORT[/PROTO]]`: `80/tcp -> 0.0.0.0:8080` lines (only the host side for one
/// port).
pub fn port_lines(
    engine: &Engine,
    c: &ContainerRecord,
    which: Option<&str>,
) -> Result<Vec<String>> {
    let wanted = match which {
        Some(w) if w.contains('/') => Some(w.to_string()),
        Some(w) => Some(format!("{w}/tcp")),
        None => None,
    };
    let mut lines = Vec::new();
    for p in engine.store.ports_of(&c.id)? {
        let key = format!("{}/{}", p.container_port, p.protocol);
        let host = format!(
            "{}:{}",
            if p.host_ip.is_empty() {
                "0.0.0.0"
            } else {
                &p.host_ip
            },
            p.host_port
        );
        match &wanted {
            Some(w) if *w == key => lines.push(host),
            Some(_) => {}
            None => lines.push(format!("{key} -> {host}")),
        }
    }
    if let (Some(w), true) = (&wanted, lines.is_empty()) {
        return Err(Error::InvalidArgument {
            argument: "PORT",
            reason: format!("no public port '{w}' published for {}", c.name),
        });
    }
    Ok(lines)
}
