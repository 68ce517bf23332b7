//! `--network` and the flags that go with it: the network a container joins (a bridge network
//! by name, its own namespace with only `lo`, or the host's) and what it asks of it there
//! (`--ip`, `--mac-address`, `--network-alias`).

use std::net::Ipv4Addr;

use crate::error::{Error, Result};

/// The network Docker gives a container that names none.
pub const DEFAULT_NETWORK: &str = "bridge";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum NetworkMode {
    /// Its own network namespace with only `lo`.
    #[default]
    None,
    /// The host's network namespace.
    Host,
    /// Its own network namespace, joined to a bridge network (named in `Networking`).
    Bridge,
    /// Another container's network namespace (`container:X`, X in `Networking`).
    Container,
}

impl NetworkMode {
    /// `none`, `host`, or the name of a bridge network (checked when the container is made).
    pub fn parse(s: &str) -> Result<NetworkMode> {
        match s {
            "none" => Ok(NetworkMode::None),
            "host" => Ok(NetworkMode::Host),
            "" => Err(Error::invalid_option(
                "--network",
                "--network needs a value: bridge, host, none or a network's name",
            )),
            "container:" => Err(Error::invalid_option(
                "--network",
                "--network container: needs a container's name or id",
            )),
            other if other.starts_with("container:") => Ok(NetworkMode::Container),
            _ => Ok(NetworkMode::Bridge),
        }
    }

    /// Docker's `HostConfig.NetworkMode` for it.
    pub fn docker_name(self, network: &str) -> String {
        match self {
            NetworkMode::None => "none".into(),
            NetworkMode::Host => "host".into(),
            NetworkMode::Bridge => network.into(),
            NetworkMode::Container => format!("container:{network}"),
        }
    }
}

/// What a container asks of its bridge network.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Networking {
    /// The network's name (`bridge` unless `--network NAME`).
    pub network: String,
    /// `--ip`.
    pub ip: Option<Ipv4Addr>,
    /// `--mac-address`, checked.
    pub mac: Option<String>,
    /// `--network-alias`.
    pub aliases: Vec<String>,
    /// `-p`, parsed.
    pub publish: Vec<crate::options::ports::PortSpec>,
    /// `-P`: every exposed port to a random host port.
    pub publish_all: bool,
    /// `--expose`, as `80/tcp` keys.
    pub expose: Vec<String>,
    /// `--add-host NAME:IP` (or `NAME=IP`; IP may be `host-gateway`), as given.
    pub add_hosts: Vec<String>,
    /// `--dns`, `--dns-search`, `--dns-option`.
    pub dns: Vec<std::net::IpAddr>,
    pub dns_search: Vec<String>,
    pub dns_options: Vec<String>,
}

impl Networking {
    /// Checks the flags against the mode: `--ip` and the others need a bridge network.
    pub fn check(&self, mode: NetworkMode) -> Result<()> {
        if let Some(mac) = &self.mac {
            mac.parse::<kist_net::Mac>().map_err(|_| {
                Error::invalid_value("MAC address", mac, "use six hex bytes, 02:42:ac:11:00:02")
            })?;
        }
        if mode == NetworkMode::Bridge {
            return Ok(());
        }
        if mode == NetworkMode::Container
            && let Some(flag) = [
                (!self.add_hosts.is_empty(), "--add-host"),
                (!self.dns.is_empty(), "--dns"),
                (!self.dns_search.is_empty(), "--dns-search"),
                (!self.dns_options.is_empty(), "--dns-option"),
                (self.publish_all || !self.expose.is_empty(), "--publish-all"),
            ]
            .iter()
            .find_map(|(given, flag)| given.then_some(*flag))
        {
            return Err(Error::invalid_option(
                "--network",
                format!("conflicting options: {flag} and the network mode container:"),
            ));
        }
        let flag = if self.ip.is_some() {
            "--ip"
        } else if self.mac.is_some() {
            "--mac-address"
        } else if !self.aliases.is_empty() {
            "--network-alias"
        } else if !self.publish.is_empty() {
            "--publish"
        } else {
            return Ok(());
        };
        Err(Error::invalid_option(
            flag,
            format!(
                "{flag} needs a bridge network: the container's network is {}",
                mode.docker_name("")
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks() {
        assert_eq!(NetworkMode::parse("host").unwrap(), NetworkMode::Host);
        assert_eq!(NetworkMode::parse("bridge").unwrap(), NetworkMode::Bridge);
        assert_eq!(NetworkMode::parse("mynet").unwrap(), NetworkMode::Bridge);
        assert!(NetworkMode::parse("").is_err());
    }

    #[test]
    fn address_flags_need_a_bridge() {
        let n = Networking {
            ip: Some(Ipv4Addr::new(172, 17, 0, 9)),
            ..Networking::default()
        };
        assert!(n.check(NetworkMode::Bridge).is_ok());
        let e = n.check(NetworkMode::None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "--ip needs a bridge network: the container's network is none"
        );
        let bad_mac = Networking {
            mac: Some("01:00:5e:00:00:01".into()),
            ..Networking::default()
        };
        assert!(bad_mac.check(NetworkMode::Bridge).is_err());
    }
}
