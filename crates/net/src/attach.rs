//! A container joined to a bridge network: the veth pair (peer created inside the container's
//! namespace as `eth0`), IPv6 off at both ends, then, over a socket opened in that namespace,
//! its address, `eth0` up and the default route via the gateway (`lo` is the runtime's: up
//! before the container is ready). This is what runs between creating the container's
//! namespaces and starting its program.

use std::net::Ipv4Addr;

use crate::error::{Error, Result};
use crate::mac::Mac;
use crate::netns::NetNs;
use crate::rtnl::{Netlink, Veth};

/// One container's place on one network.
#[derive(Debug, Clone)]
pub struct Attachment {
    /// The host end's name (`veth` and 11 characters of the container id, say).
    pub host_veth: String,
    /// The name inside the container (`eth0`).
    pub ifname: String,
    pub ip: Ipv4Addr,
    pub prefix_len: u8,
    pub gateway: Ipv4Addr,
    /// `--mac-address`, or Docker's 02:42 + IP when None.
    pub mac: Option<Mac>,
    pub mtu: Option<u32>,
    /// Whether its gateway is the container's default route (its first network's is).
    pub default_route: bool,
}

/// Connects the container whose network namespace is `ns` to the bridge `bridge_index`
/// (`host` is a socket in the bridge's namespace); returns the MAC it got.
pub fn attach(host: &mut Netlink, bridge_index: u32, ns: &NetNs, a: &Attachment) -> Result<Mac> {
    let mac = a.mac.unwrap_or_else(|| Mac::from_ip(a.ip));
    host.create_veth(&Veth {
        host_name: &a.host_veth,
        bridge_index,
        peer_name: &a.ifname,
        peer_mac: mac,
        peer_ns: ns,
        mtu: a.mtu,
    })?;
    // Both before the peer is up, when the pair gets its carrier and IPv6 would start.
    crate::sysctl::disable_ipv6(&a.host_veth)?;
    let mut inside = ns.run_in(|| {
        crate::sysctl::disable_ipv6(&a.ifname)?;
        Netlink::open()
    })?;
    configure_inside(&mut inside, a)?;
    Ok(mac)
}

/// Address, link up and default route, inside the container's namespace. Each request waits
/// for the kernel's rtnl lock, which the teardown of a previous container's namespace holds
/// for long stretches: as few requests as the work needs.
fn configure_inside(inside: &mut Netlink, a: &Attachment) -> Result<()> {
    let index = inside.link_index(&a.ifname)?.ok_or_else(|| {
        Error::kernel(
            format!(
                "{} is missing in the container after its creation",
                a.ifname
            ),
            std::io::Error::from_raw_os_error(libc::ENODEV),
        )
    })?;
    let mut requests = vec![
        Netlink::add_address_request(index, a.ip, a.prefix_len),
        Netlink::set_up_request(index),
    ];
    if a.default_route {
        requests.push(Netlink::add_default_route_request(a.gateway, index));
    }
    inside.request_all(requests)
}

/// The host end's name for a container: `veth` and the id's first 11 characters (a link name
/// has at most 15).
pub fn host_veth_name(container_id: &str) -> String {
    let short: String = container_id.chars().take(11).collect();
    format!("veth{short}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_end_names_fit_a_link_name() {
        let name = host_veth_name("0123456789abcdef0123456789abcdef");
        assert_eq!(name, "veth0123456789a");
        assert_eq!(name.len(), 15);
    }
}
