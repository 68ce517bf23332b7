//! A network's bridge made ready, idempotently: created if missing, with the gateway address
//! and MTU, `route_localnet` on, IP forwarding on in the namespace, and up last. Called on
//! `network create` and before each attach, where a bridge that is up was made ready before
//! and costs one netlink round trip (a run's network set-up is on the way to its program).

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

/// The bridge's index, and whether this call made it (and so its rules are this caller's to
/// install).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadyBridge {
    pub index: u32,
    pub made: bool,
}

/// Makes `bridge` exist and be up in `netlink`'s namespace (which must be the calling
/// thread's: the sysctls are written through its `/proc/sys`). Up is the last step, so a
/// bridge found up has the rest.
pub fn ensure_bridge(netlink: &mut Netlink, bridge: &Bridge) -> Result<ReadyBridge> {
    let name = bridge.name.as_str();
    let (index, made) = match netlink.link(name)? {
        Some(link) if link.up => {
            return Ok(ReadyBridge {
                index: link.index,
                made: false,
            });
        }
        Some(link) => (link.index, false),
        None => create(netlink, bridge)?,
    };
    netlink.add_address(index, bridge.gateway, bridge.prefix_len)?;
    sysctl::enable_route_localnet(name)?;
    sysctl::enable_ip_forward()?;
    netlink.set_up(index)?;
    Ok(ReadyBridge { index, made })
}

/// Creates the bridge; (index, whether this call made it: another kist may have just now).
fn create(netlink: &mut Netlink, bridge: &Bridge) -> Result<(u32, bool)> {
    let name = bridge.name.as_str();
    let made = match netlink.create_bridge(name, bridge.mtu) {
        Err(e) if e.errno() == Some(libc::EEXIST) => false,
        other => other.map(|()| true)?,
    };
    let index = netlink.link_index(name)?.ok_or_else(|| {
        crate::Error::kernel(
            format!("bridge {name} vanished after its creation"),
            std::io::Error::from_raw_os_error(libc::ENODEV),
        )
    })?;
    Ok((index, made))
}
