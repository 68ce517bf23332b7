//! The route netlink socket: messages of `netlink-packet-route` serialized and sent, the
//! kernel's acknowledgement or dump read back, a refusal turned into an error naming the
//! request.

use netlink_packet_core::{
    NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage, NetlinkPayload,
};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::constants::NETLINK_ROUTE;

use crate::error::{Error, Result};
use crate::netlink::{Channel, Failure};
use crate::netns::NetNs;

/// A route netlink socket in one network namespace: the calling thread's (`open`) or another
/// (`open_in`, e.g. a container's).
pub struct Netlink {
    pub(super) channel: Channel,
}

impl Netlink {
    pub fn open() -> Result<Netlink> {
        let channel = Channel::open(NETLINK_ROUTE)
            .map_err(|e| Error::kernel("opening a route netlink socket", e))?;
        Ok(Netlink { channel })
    }

    /// A socket in `ns`, made by a thread that entered it (the socket stays there).
    pub fn open_in(ns: &NetNs) -> Result<Netlink> {
        ns.run_in(Netlink::open)
    }

    fn encode(&mut self, message: RouteNetlinkMessage, flags: u16) -> (u32, Vec<u8>) {
        let seq = self.channel.next_seq();
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | flags;
        header.sequence_number = seq;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(message));
        packet.finalize();
        let mut bytes = vec![0; packet.buffer_len()];
        packet.serialize(&mut bytes);
        (seq, bytes)
    }

    /// Sends a change (`flags` such as NLM_F_CREATE | NLM_F_EXCL) and waits for its
    /// acknowledgement; `context` says what it was, for the error.
    pub(crate) fn request(
        &mut self,
        message: RouteNetlinkMessage,
        flags: u16,
        context: impl Fn() -> String,
    ) -> Result<()> {
        let (seq, bytes) = self.encode(message, flags | NLM_F_ACK);
        self.channel
            .send(&bytes)
            .map_err(|e| Error::kernel(context(), e))?;
        self.channel.acks(&[seq]).map_err(|f| failure(f, context))
    }

    /// Sends changes in one datagram (the kernel runs them in order) and waits for every
    /// acknowledgement: one system call and one wake-up instead of one each. Each request
    /// comes with what it does, which names the first the kernel refuses in the error (the
    /// kernel goes on with the ones after it: a batch is for changes that fail together).
    pub(crate) fn request_all(
        &mut self,
        requests: Vec<(RouteNetlinkMessage, u16, String)>,
    ) -> Result<()> {
        let mut bytes = Vec::new();
        let mut seqs = Vec::with_capacity(requests.len());
        let mut what = Vec::with_capacity(requests.len());
        for (message, flags, context) in requests {
            let (seq, encoded) = self.encode(message, flags | NLM_F_ACK);
            bytes.extend_from_slice(&encoded);
            seqs.push(seq);
            what.push((seq, context));
        }
        let all = || {
            what.iter()
                .map(|(_, c)| c.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        self.channel
            .send(&bytes)
            .map_err(|e| Error::kernel(all(), e))?;
        self.channel.acks(&seqs).map_err(|f| {
            let refused = match &f {
                Failure::Nack(n) => what
                    .iter()
                    .find(|(s, _)| *s == n.seq)
                    .map(|(_, c)| c.clone()),
                Failure::Io(_) => None,
            };
            failure(f, || refused.unwrap_or_else(all))
        })
    }

    /// The messages answering a get (`dump` false: one object, ended by the acknowledgement)
    /// or a dump request.
    pub(crate) fn query(
        &mut self,
        message: RouteNetlinkMessage,
        dump: bool,
        context: impl Fn() -> String,
    ) -> Result<Vec<RouteNetlinkMessage>> {
        let flags = if dump { NLM_F_DUMP } else { NLM_F_ACK };
        let (seq, bytes) = self.encode(message, flags);
        self.channel
            .send(&bytes)
            .map_err(|e| Error::kernel(context(), e))?;
        let mut found = Vec::new();
        let mut malformed = None;
        let done =
            self.channel.dump(
                seq,
                |reply| match NetlinkMessage::<RouteNetlinkMessage>::deserialize(reply.message) {
                    Ok(m) => {
                        if let NetlinkPayload::InnerMessage(inner) = m.payload {
                            found.push(inner);
                        }
                    }
                    Err(e) => malformed = Some(e.to_string()),
                },
            );
        done.map_err(|f| failure(f, context))?;
        match malformed {
            Some(e) => Err(Error::kernel(
                "reading a route netlink reply",
                std::io::Error::other(e),
            )),
            None => Ok(found),
        }
    }
}

/// A netlink failure as an error, the kernel's extended-ack text added to the context.
pub(crate) fn failure(f: Failure, context: impl FnOnce() -> String) -> Error {
    match f {
        Failure::Io(e) => Error::kernel(context(), e),
        Failure::Nack(nack) => {
            let (source, text) = nack.into_parts();
            Error::kernel(format!("{}{text}", context()), source)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::LOOPBACK_INDEX;

    #[test]
    #[ignore = "needs root"]
    fn a_batch_runs_in_order_and_names_the_request_refused() {
        // A namespace of its own (only lo), kept by the socket made in it.
        let mut inside = std::thread::spawn(|| {
            // SAFETY: NEWNET changes this thread's network namespace alone.
            unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWNET) }
                .expect("unshare(CLONE_NEWNET) needs root");
            Netlink::open().unwrap()
        })
        .join()
        .unwrap();
        let ok = vec![
            Netlink::add_address_request(LOOPBACK_INDEX, Ipv4Addr::new(127, 0, 0, 2), 8),
            Netlink::set_up_request(LOOPBACK_INDEX),
        ];
        inside.request_all(ok).expect("address, then lo up");
        assert!(inside.link("lo").unwrap().unwrap().up);
        // No route reaches this gateway: the second request is refused, and named.
        let refused = vec![
            Netlink::set_up_request(LOOPBACK_INDEX),
            Netlink::add_default_route_request(Ipv4Addr::new(192, 0, 2, 1), LOOPBACK_INDEX),
        ];
        let e = inside.request_all(refused).unwrap_err().to_string();
        assert!(e.contains("adding the default route via 192.0.2.1"), "{e}");
        assert!(!e.contains("bringing link"), "{e}");
    }
}
