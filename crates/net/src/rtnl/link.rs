//! Links by name: the index of one, a bridge made (with its MTU), a link brought up, a link
//! deleted (bridges, on `network rm`; veths go with their container's namespace).

use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::{InfoKind, LinkAttribute, LinkFlags, LinkInfo, LinkMessage};

use super::Netlink;
use crate::error::Result;

/// What a lookup by name tells of a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    pub index: u32,
    /// Administratively up (IFF_UP).
    pub up: bool,
}

impl Netlink {
    /// The index of link `name`, or None when there is none.
    pub fn link_index(&mut self, name: &str) -> Result<Option<u32>> {
        Ok(self.link(name)?.map(|l| l.index))
    }

    /// Link `name`'s index and whether it is up, or None when there is none.
    pub fn link(&mut self, name: &str) -> Result<Option<Link>> {
        let mut message = LinkMessage::default();
        message
            .attributes
            .push(LinkAttribute::IfName(name.to_string()));
        let found = self.query(RouteNetlinkMessage::GetLink(message), false, || {
            format!("looking up link {name}")
        });
        match found {
            Ok(replies) => Ok(replies.into_iter().find_map(|r| match r {
                RouteNetlinkMessage::NewLink(link) => Some(Link {
                    index: link.header.index,
                    up: link.header.flags.contains(LinkFlags::Up),
                }),
                _ => None,
            })),
            Err(e) if e.errno() == Some(libc::ENODEV) => Ok(None),
            Err(e) => Err(e),
        }
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
