//! Links by name: the index of one, a bridge made (with its MTU), a link brought up, a link
//! deleted (bridges, on `network rm`; veths go with their container's namespace).

use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::{InfoKind, LinkAttribute, LinkFlags, LinkInfo, LinkMessage};

use std::os::fd::AsRawFd;

use super::Netlink;
use crate::error::{Error, Result};

/// What a lookup by name tells of a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    pub index: u32,
    /// Administratively up (IFF_UP).
    pub up: bool,
}

/// An ifreq naming `name`; None for a name no link can have (empty, too long, a NUL inside).
fn interface_request(name: &str) -> Option<libc::ifreq> {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes.len() >= libc::IFNAMSIZ || bytes.contains(&0) {
        return None;
    }
    // SAFETY: ifreq is plain old data (a name array and a union of integers and structs of
    // integers): all zeroes is a valid value of it.
    let mut request: libc::ifreq = unsafe { std::mem::zeroed() };
    for (slot, byte) in request.ifr_name.iter_mut().zip(bytes) {
        *slot = libc::c_char::from_ne_bytes([*byte]);
    }
    Some(request)
}

impl Netlink {
    /// The index of link `name`, or None when there is none.
    pub fn link_index(&self, name: &str) -> Result<Option<u32>> {
        Ok(self.link(name)?.map(|l| l.index))
    }

    /// Link `name`'s index and whether it is up, or None when there is none: two ioctls on
    /// this socket (SIOCGIFINDEX, SIOCGIFFLAGS), answered for the socket's namespace under
    /// RCU. An RTM_GETLINK would take the kernel's rtnl lock, which the teardown of an earlier
    /// container's namespace holds for long stretches, and fill a reply with every attribute
    /// and statistic of the link (0.2 ms of each start on a bridge here).
    pub fn link(&self, name: &str) -> Result<Option<Link>> {
        let Some(mut request) = interface_request(name) else {
            return Ok(None);
        };
        let fd = self.channel.fd().as_raw_fd();
        let ask = |request: &mut libc::ifreq, what: libc::Ioctl| {
            // SAFETY: `request` is a valid ifreq whose name is NUL-terminated; the kernel
            // reads the name and writes the union only, within the struct.
            match unsafe { libc::ioctl(fd, what, request as *mut libc::ifreq) } {
                0 => Ok(true),
                _ => match std::io::Error::last_os_error() {
                    e if e.raw_os_error() == Some(libc::ENODEV) => Ok(false),
                    e => Err(Error::kernel(format!("looking up link {name}"), e)),
                },
            }
        };
        if !ask(&mut request, libc::SIOCGIFINDEX)? {
            return Ok(None);
        }
        // SAFETY: SIOCGIFINDEX succeeded, so the kernel wrote the union's index member.
        let index = unsafe { request.ifr_ifru.ifru_ifindex };
        if !ask(&mut request, libc::SIOCGIFFLAGS)? {
            return Ok(None);
        }
        // SAFETY: SIOCGIFFLAGS succeeded, so the kernel wrote the union's flags member.
        let flags = unsafe { request.ifr_ifru.ifru_flags };
        Ok(Some(Link {
            index: u32::try_from(index).unwrap_or_default(),
            up: i32::from(flags) & libc::IFF_UP != 0,
        }))
    }

    /// Creates bridge `name` (down, without address); fails with EEXIST if it exists.
    pub fn create_bridge(&mut self, name: &str, mtu: Option<u32>) -> Result<()> {
        let mut message = LinkMessage::default();
        message
            .attributes
            .push(LinkAttribute::IfName(name.to_string()));
        if let Some(mtu) = mtu {
            message.attributes.push(LinkAttribute::Mtu(mtu));
        }
        message
            .attributes
            .push(LinkAttribute::LinkInfo(vec![LinkInfo::Kind(
                InfoKind::Bridge,
            )]));
        self.request(
            RouteNetlinkMessage::NewLink(message),
            NLM_F_CREATE | NLM_F_EXCL,
            || format!("creating bridge {name}"),
        )
    }

    /// Brings link `index` up (IFF_UP).
    pub fn set_up(&mut self, index: u32) -> Result<()> {
        let (message, flags, context) = Netlink::set_up_request(index);
        self.request(message, flags, || context.clone())
    }

    /// The request [`Netlink::set_up`] sends, for a batch.
    pub(crate) fn set_up_request(index: u32) -> (RouteNetlinkMessage, u16, String) {
        let mut message = LinkMessage::default();
        message.header.index = index;
        message.header.flags = LinkFlags::Up;
        message.header.change_mask = LinkFlags::Up;
        (
            RouteNetlinkMessage::SetLink(message),
            0,
            format!("bringing link {index} up"),
        )
    }

    /// Sets link `index`'s MTU.
    pub fn set_mtu(&mut self, index: u32, mtu: u32) -> Result<()> {
        let mut message = LinkMessage::default();
        message.header.index = index;
        message.attributes.push(LinkAttribute::Mtu(mtu));
        self.request(RouteNetlinkMessage::SetLink(message), 0, || {
            format!("setting the MTU of link {index} to {mtu}")
        })
    }

    /// Deletes link `name` (a bridge on `network rm`); Ok(false) when there was none.
    pub fn delete_link(&mut self, name: &str) -> Result<bool> {
        let mut message = LinkMessage::default();
        message
            .attributes
            .push(LinkAttribute::IfName(name.to_string()));
        let done = self.request(RouteNetlinkMessage::DelLink(message), 0, || {
            format!("deleting link {name}")
        });
        match done {
            Ok(()) => Ok(true),
            Err(e) if e.errno() == Some(libc::ENODEV) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LOOPBACK_INDEX;

    #[test]
    #[ignore = "needs root"]
    fn a_link_is_found_by_name_in_the_sockets_namespace_with_its_state() {
        // A namespace of its own (only lo, down), kept by the socket made in it; this
        // thread stays where it is, so the lookups below are the socket's namespace's.
        let inside = std::thread::spawn(|| {
            // SAFETY: NEWNET changes this thread's network namespace alone.
            unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWNET) }
                .expect("unshare(CLONE_NEWNET) needs root");
            Netlink::open().unwrap()
        })
        .join()
        .unwrap();
        let lo = Link {
            index: LOOPBACK_INDEX,
            up: false,
        };
        assert_eq!(inside.link("lo").unwrap(), Some(lo));
        let mut inside = inside;
        inside.set_up(LOOPBACK_INDEX).unwrap();
        assert_eq!(inside.link("lo").unwrap(), Some(Link { up: true, ..lo }));
        inside.create_bridge("br-test", None).unwrap();
        let bridge = inside
            .link("br-test")
            .unwrap()
            .expect("the bridge just made");
        assert!(bridge.index > LOOPBACK_INDEX && !bridge.up, "{bridge:?}");
        assert_eq!(inside.link_index("eth0").unwrap(), None);
        for impossible in ["", "a-name-too-long-for-a-link", "lo\0"] {
            assert_eq!(inside.link(impossible).unwrap(), None, "{impossible:?}");
        }
    }
}
