//! IPv4 addresses on links: the gateway on a bridge, a container's address on its `eth0`.

use std::net::{IpAddr, Ipv4Addr};

use ipnet::Ipv4Net;
use netlink_packet_core::{NLM_F_CREATE, NLM_F_REPLACE};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use super::Netlink;
use crate::error::Result;

impl Netlink {
    /// Puts `ip/prefix` (with its broadcast address) on link `index`; an address already there
    /// is replaced, so that this can be repeated.
    pub fn add_address(&mut self, index: u32, ip: Ipv4Addr, prefix_len: u8) -> Result<()> {
        let (message, flags, context) = Netlink::add_address_request(index, ip, prefix_len);
        self.request(message, flags, || context.clone())
    }

    /// The request [`Netlink::add_address`] sends, for a batch.
    pub(crate) fn add_address_request(
        index: u32,
        ip: Ipv4Addr,
        prefix_len: u8,
    ) -> (RouteNetlinkMessage, u16, String) {
        let mut message = AddressMessage::default();
        message.header.family = AddressFamily::Inet;
        message.header.prefix_len = prefix_len;
        message.header.index = index;
        message
            .attributes
            .push(AddressAttribute::Local(IpAddr::V4(ip)));
        message
            .attributes
            .push(AddressAttribute::Address(IpAddr::V4(ip)));
        if let Ok(net) = Ipv4Net::new(ip, prefix_len)
            && prefix_len < 31
        {
            let broadcast = AddressAttribute::Broadcast(net.broadcast());
            message.attributes.push(broadcast);
        }
        (
            RouteNetlinkMessage::NewAddress(message),
            NLM_F_CREATE | NLM_F_REPLACE,
            format!("adding address {ip}/{prefix_len} to link {index}"),
        )
    }
}
