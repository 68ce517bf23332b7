//! A network's bridge made ready, idempotently: created if missing, with the gateway address
//! and MTU, `route_localnet` on, up; and IP forwarding on in the namespace. Called on `network
//! create` and before each attach (it costs two netlink round trips when all is in place).

use std::net::Ipv4Addr;

use crate::error::Result;
use crate::rtnl::Netlink;
use crate::sysctl;

#[derive(Debug, Clone)]
pub struct Bridge {
    pub name: String,
    /// The gateway address the bridge holds, and the subnet's prefix length.
    pub gateway: Ipv4Addr,
    pub prefix_len: u8,
    pub mtu: Option<u32>,
}

/// Makes `bridge` exist and be up in `netlink`'s namespace (which must be the calling
/// thread's: the sysctls are written through its `/proc/sys`); returns its index.
pub fn ensure_bridge(netlink: &mut Netlink, bridge: &Bridge) -> Result<u32> {
    let name = bridge.name.as_str();
    let index = match netlink.link_index(name)? {
        Some(index) => index,
        None => create(netlink, bridge)?,
    };
    netlink.add_address(index, bridge.gateway, bridge.prefix_len)?;
    netlink.set_up(index)?;
    sysctl::enable_route_localnet(name)?;
    sysctl::enable_ip_forward()?;
    Ok(index)
}

fn create(netlink: &mut Netlink, bridge: &Bridge) -> Result<u32> {
    let name = bridge.name.as_str();
    match netlink.create_bridge(name, bridge.mtu) {
        // Another kist made it in between: use that one.
        Err(e) if e.errno() == Some(libc::EEXIST) => {}
        other => other?,
    }
    netlink.link_index(name)?.ok_or_else(|| {
        crate::Error::kernel(
            format!("bridge {name} vanished after its creation"),
            std::io::Error::from_raw_os_error(libc::ENODEV),
        )
    })
}
