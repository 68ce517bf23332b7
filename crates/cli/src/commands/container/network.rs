//! The network flags of `kist run` and `kist create`: which network a container joins and
//! what it asks of it there. Without `--network`, the default `bridge` network, unless
//! `KIST_DEFAULT_NETWORK` names another default (the test suite and bench/ set `none`, so
//! that they never make a bridge in the machine's own network namespace).

use std::net::Ipv4Addr;

use anyhow::Result;
use clap::Args;
use kist_engine::{DEFAULT_NETWORK, NetworkMode, Networking};

/// The environment variable that changes the default network.
pub const DEFAULT_NETWORK_ENV: &str = "KIST_DEFAULT_NETWORK";

#[derive(Args)]
pub struct NetworkArgs {
    /// Connect the container to a network: bridge (the default), a network's name, host or none
    #[arg(long, alias = "net", value_name = "NETWORK")]
    network: Option<String>,
    /// IPv4 address on the network (a user network's subnet)
    #[arg(long, value_name = "IP")]
    ip: Option<Ipv4Addr>,
    /// MAC address of the container's interface (02:42 and its IPv4 address by default)
    #[arg(long = "mac-address", value_name = "MAC")]
    mac_address: Option<String>,
    /// Add a network-scoped alias for the container (other containers resolve it)
    #[arg(long = "network-alias", alias = "net-alias", value_name = "ALIAS")]
    network_alias: Vec<String>,
    /// Publish a container's port to the host ([IP:][HOSTPORT:]CTRPORT[/tcp|/udp], ranges too)
    #[arg(short = 'p', long = "publish", value_name = "PORTS")]
    publish: Vec<String>,
    /// Publish every exposed port to a random host port
    #[arg(short = 'P', long = "publish-all")]
    publish_all: bool,
    /// Expose a port or a range of ports (PORT[-END][/PROTO])
    #[arg(long, value_name = "PORT")]
    expose: Vec<String>,
    /// Add a line to /etc/hosts (NAME:IP; IP host-gateway is the network's gateway)
    #[arg(long = "add-host", value_name = "NAME:IP")]
    add_host: Vec<String>,
    /// A DNS server for the container (kist's responder forwards to it on a bridge network)
    #[arg(long, value_name = "IP")]
    dns: Vec<std::net::IpAddr>,
    /// A DNS search domain
    #[arg(long = "dns-search", value_name = "DOMAIN")]
    dns_search: Vec<String>,
    /// A DNS resolver option (ndots:2)
    #[arg(long = "dns-option", alias = "dns-opt", value_name = "OPTION")]
    dns_option: Vec<String>,
}

/// `kist port CONTAINER [PORT[/PROTO]]`.
#[derive(Args)]
pub struct PortArgs {
    /// The container, by name or id
    #[arg(value_name = "CONTAINER")]
    container: String,
    /// One of its ports (80, 80/udp): only its host address is printed
    #[arg(value_name = "PORT")]
    port: Option<String>,
}

/// Lists a container's published ports (`80/tcp -> 0.0.0.0:8080`).
pub fn port(engine: &kist_engine::Engine, args: &PortArgs) -> Result<i32> {
    let c = engine.store.find_container(&args.container)?;
    for line in kist_engine::network::ports::port_lines(engine, &c, args.port.as_deref())? {
        outln!("{line}");
    }
    Ok(0)
}

impl NetworkArgs {
    /// The mode and what the container asks of its network.
    pub fn networking(&self) -> Result<(NetworkMode, Networking)> {
        let name = match &self.network {
            Some(n) => n.clone(),
            None => std::env::var(DEFAULT_NETWORK_ENV)
                .ok()
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| DEFAULT_NETWORK.to_string()),
        };
        let mode = NetworkMode::parse(&name)?;
        let networking = Networking {
            network: match mode {
                NetworkMode::Bridge => name,
                NetworkMode::Container => name.trim_start_matches("container:").to_string(),
                NetworkMode::None | NetworkMode::Host => String::new(),
            },
            ip: self.ip,
            mac: self.mac_address.clone(),
            aliases: self.network_alias.clone(),
            publish: self
                .publish
                .iter()
                .map(|p| kist_engine::ports::parse_publish(p))
                .collect::<std::result::Result<Vec<_>, _>>()?
                .into_iter()
                .flatten()
                .collect(),
            publish_all: self.publish_all,
            add_hosts: self.add_host.clone(),
            dns: self.dns.clone(),
            dns_search: self.dns_search.clone(),
            dns_options: self.dns_option.clone(),
            expose: self
                .expose
                .iter()
                .map(|e| kist_engine::ports::parse_expose(e))
                .collect::<std::result::Result<Vec<_>, _>>()?
                .into_iter()
                .flatten()
                .collect(),
        };
        Ok((mode, networking))
    }
}
