//! Routes: a container's default route via its network's gateway, and the host's IPv4 routes
//! read back, which a new network's subnet must not overlap.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use super::Netlink;
use crate::error::Result;

impl Netlink {
    /// `default via GATEWAY dev INDEX` in the main table.
    pub fn add_default_route(&mut self, gateway: Ipv4Addr, index: u32) -> Result<()> {
        let (message, flags, context) = Netlink::add_default_route_request(gateway, index);
        self.request(message, flags, || context.clone())
    }

    /// The request [`Netlink::add_default_route`] sends, for a batch.
    pub(crate) fn add_default_route_request(
        gateway: Ipv4Addr,
        index: u32,
    ) -> (RouteNetlinkMessage, u16, String) {
        let mut message = main_table_route();
        message.header.protocol = RouteProtocol::Boot;
        message.header.scope = RouteScope::Universe;
        message.header.kind = RouteType::Unicast;
        message
            .attributes
            .push(RouteAttribute::Gateway(RouteAddress::Inet(gateway)));
        message.attributes.push(RouteAttribute::Oif(index));
        (
            RouteNetlinkMessage::NewRoute(message),
            NLM_F_CREATE | NLM_F_EXCL,
            format!("adding the default route via {gateway}"),
        )
    }

    /// The destinations of the main table's IPv4 routes, default routes left out (as Docker's
    /// overlap check does).
    pub fn ipv4_routes(&mut self) -> Result<Vec<Ipv4Net>> {
        let replies = self.query(
            RouteNetlinkMessage::GetRoute(main_table_route()),
            true,
            || "reading the IPv4 routes".to_string(),
        )?;
        Ok(replies.iter().filter_map(destination).collect())
    }
}

fn main_table_route() -> RouteMessage {
    let mut message = RouteMessage::default();
    message.header.address_family = AddressFamily::Inet;
    message.header.table = RouteHeader::RT_TABLE_MAIN;
    message
}

fn destination(reply: &RouteNetlinkMessage) -> Option<Ipv4Net> {
    let RouteNetlinkMessage::NewRoute(route) = reply else {
        return None;
    };
    let prefix = route.header.destination_prefix_length;
    if route.header.table != RouteHeader::RT_TABLE_MAIN || prefix == 0 {
        return None;
    }
    route.attributes.iter().find_map(|a| match a {
        RouteAttribute::Destination(RouteAddress::Inet(ip)) => Ipv4Net::new(*ip, prefix).ok(),
        _ => None,
    })
}
