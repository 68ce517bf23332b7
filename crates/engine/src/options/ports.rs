//! `-p`, `-P` and `--expose`, parsed as Docker reads them: `-p [IP:][HOSTPORT:]CTRPORT[/PROTO]`,
//! each port a number or a range (`8000-8010:8000-8010`), no host port meaning a random one;
//! `--expose PORT[-END][/PROTO]`.

use std::net::Ipv4Addr;

use crate::error::{Error, Result};

/// One `-p` value, a range expanded to one entry per port.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PortSpec {
    /// None: every address of the host.
    pub host_ip: Option<Ipv4Addr>,
    /// The host ports it may take: empty for a random one; one; or a range (`8000-8010:80`
    /// takes the first free one).
    pub host_ports: Vec<u16>,
    pub container_port: u16,
    /// `tcp` or `udp`.
    pub protocol: String,
}

impl PortSpec {
    /// `HostConfig.PortBindings`' key.
    pub fn key(&self) -> String {
        format!("{}/{}", self.container_port, self.protocol)
    }
}

/// Parses one `-p` value into one spec per container port.
pub fn parse_publish(value: &str) -> Result<Vec<PortSpec>> {
    let bad = |why: &str| Error::invalid_value("port specification", value, why);
    let (rest, protocol) = split_protocol(value).map_err(|e| bad(&e))?;
    let parts: Vec<&str> = rest.rsplitn(3, ':').collect();
    let (host_ip, host, container) = match parts.as_slice() {
        [c] => (None, None, *c),
        [c, h] => (None, Some(*h), *c),
        [c, h, ip] => {
            let ip = ip.trim_start_matches('[').trim_end_matches(']');
            let ip = if ip.is_empty() {
                None
            } else {
                Some(
                    ip.parse::<Ipv4Addr>()
                        .map_err(|_| bad("the host address is not an IPv4 address"))?,
                )
            };
            (ip, Some(*h).filter(|h| !h.is_empty()), *c)
        }
        _ => return Err(bad("use [IP:]HOSTPORT:CONTAINERPORT[/tcp|/udp]")),
    };
    let container = range(container).map_err(|e| bad(&e))?;
    let host = match host {
        Some(h) => range(h).map_err(|e| bad(&e))?,
        None => Vec::new(),
    };
    if host.len() > 1 && container.len() > 1 && host.len() != container.len() {
        return Err(bad("the host and container port ranges differ in length"));
    }
    Ok(container
        .iter()
        .enumerate()
        .map(|(i, &container_port)| PortSpec {
            host_ip,
            host_ports: if container.len() > 1 && host.len() > 1 {
                vec![host[i]]
            } else {
                host.clone()
            },
            container_port,
            protocol: protocol.clone(),
        })
        .collect())
}

/// `--expose PORT[-END][/PROTO]` (and the image's `ExposedPorts` keys): `80/tcp` keys.
pub fn parse_expose(value: &str) -> Result<Vec<String>> {
    let bad = |why: &str| Error::invalid_value("port to expose", value, why);
    let (rest, protocol) = split_protocol(value).map_err(|e| bad(&e))?;
    Ok(range(rest)
        .map_err(|e| bad(&e))?
        .into_iter()
        .map(|p| format!("{p}/{protocol}"))
        .collect())
}

fn split_protocol(value: &str) -> std::result::Result<(&str, String), String> {
    match value.rsplit_once('/') {
        Some((rest, p)) if p.eq_ignore_ascii_case("tcp") || p.eq_ignore_ascii_case("udp") => {
            Ok((rest, p.to_ascii_lowercase()))
        }
        Some((_, p)) => Err(format!("protocol {p:?} is not tcp or udp")),
        None => Ok((value, "tcp".into())),
    }
}

/// `N` or `N-M`, each 1..=65535.
fn range(s: &str) -> std::result::Result<Vec<u16>, String> {
    let port = |p: &str| -> std::result::Result<u16, String> {
        p.parse::<u16>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("{p:?} is not a port (1-65535)"))
    };
    match s.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (port(a)?, port(b)?);
            if a > b {
                return Err(format!("the range {a}-{b} ends before it starts"));
            }
            Ok((a..=b).collect())
        }
        None => Ok(vec![port(s)?]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_s_forms() {
        let p = parse_publish("127.0.0.1:8080:80/udp").unwrap();
        assert_eq!(
            p,
            [PortSpec {
                host_ip: Some(Ipv4Addr::LOCALHOST),
                host_ports: vec![8080],
                container_port: 80,
                protocol: "udp".into()
            }]
        );
        let random = parse_publish("80").unwrap();
        assert!(random[0].host_ports.is_empty());
        assert_eq!(random[0].key(), "80/tcp");
        let ranges = parse_publish("8000-8002:9000-9002").unwrap();
        assert_eq!(ranges.len(), 3);
        assert_eq!(
            (ranges[2].host_ports.clone(), ranges[2].container_port),
            (vec![8002], 9002)
        );
        let any_of = parse_publish("8000-8002:80").unwrap();
        assert_eq!(any_of[0].host_ports, vec![8000, 8001, 8002]);
        assert!(parse_publish("::80").unwrap()[0].host_ip.is_none());
        for bad in [
            "",
            "x:80",
            "70000:80",
            "80/sctp",
            "1-2:1-3",
            "a.b.c.d:1:2",
            "9-8:1",
        ] {
            assert!(parse_publish(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_expose("7000-7001/udp").unwrap(),
            ["7000/udp", "7001/udp"]
        );
    }
}
