//! The responder's loop over a UDP socket it is given (the engine binds 127.0.0.11:53 inside a
//! container's namespace and serves it from the container's supervisor): one datagram at a
//! time, answered from the names, else forwarded, else SERVFAIL (NXDOMAIN without resolvers).
//! No runtime and no allocation beyond the messages: the supervisor stays small.

use std::io;
use std::net::{SocketAddrV4, UdpSocket};

use hickory_proto::op::ResponseCode;

use super::answer::{answer, failure};
use super::forward::Upstreams;
use super::names::Lookup;

/// A UDP socket bound to `addr` in the calling thread's network namespace, before that
/// address exists there (IP_FREEBIND): the responder's socket is made while the container
/// sets itself up, before its `lo` (which holds 127.0.0.11) is up.
pub fn bind_ahead(addr: SocketAddrV4) -> io::Result<UdpSocket> {
    use rustix::net::{AddressFamily, SocketFlags, SocketType, bind, socket_with, sockopt};
    let fd = socket_with(
        AddressFamily::INET,
        SocketType::DGRAM,
        SocketFlags::CLOEXEC,
        None,
    )?;
    sockopt::set_ip_freebind(&fd, true)?;
    bind(&fd, &addr)?;
    Ok(UdpSocket::from(fd))
}

/// The reply to one query, if it deserves one.
pub fn respond(query: &[u8], lookup: &dyn Lookup, upstreams: &Upstreams) -> Option<Vec<u8>> {
    if let Some(reply) = answer(query, lookup) {
        return Some(reply);
    }
    if upstreams.is_empty() {
        return failure(query, ResponseCode::NXDomain);
    }
    upstreams
        .forward(query)
        .or_else(|| failure(query, ResponseCode::ServFail))
}

/// Reads one datagram and replies to its sender; a reply that cannot be sent is dropped.
pub fn serve_one(socket: &UdpSocket, lookup: &dyn Lookup, upstreams: &Upstreams) -> io::Result<()> {
    let mut buf = [0u8; 4096];
    let (n, from) = socket.recv_from(&mut buf)?;
    if let Some(reply) = respond(&buf[..n], lookup, upstreams) {
        let _ = socket.send_to(&reply, from);
    }
    Ok(())
}

/// Serves until the socket fails (closed, or a read timeout the caller set runs out).
pub fn serve(socket: &UdpSocket, lookup: &dyn Lookup, upstreams: &Upstreams) -> io::Result<()> {
    loop {
        match serve_one(socket, lookup, upstreams) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
            Ok(()) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, SocketAddr};
    use std::thread;
    use std::time::{Duration, Instant};

    use hickory_proto::op::{Message, MessageType};
    use hickory_proto::rr::RecordType;
    use hickory_proto::rr::rdata::A;
    use hickory_proto::rr::{RData, Record};

    use super::*;
    use crate::dns::Names;
    use crate::dns::answer::tests::{a_records, decode, query};

    fn loopback_socket() -> UdpSocket {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1");
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        socket
    }

    /// A fake resolver on 127.0.0.1 answering one query with 192.0.2.7 (only data: nothing
    /// is sent anywhere but 127.0.0.1).
    fn fake_upstream() -> (SocketAddr, thread::JoinHandle<()>) {
        let socket = loopback_socket();
        let addr = socket.local_addr().expect("addr");
        let handle = thread::spawn(move || {
            let mut buf = [0u8; 512];
            let (n, from) = socket.recv_from(&mut buf).expect("a forwarded query");
            let request = Message::from_vec(&buf[..n]).expect("a query");
            let mut reply = Message::response(request.metadata.id, request.metadata.op_code);
            reply.add_queries(request.queries.iter().cloned());
            let name = request.queries[0].name().clone();
            reply.add_answer(Record::from_rdata(
                name,
                30,
                RData::A(A(Ipv4Addr::new(192, 0, 2, 7))),
            ));
            socket
                .send_to(&reply.to_vec().expect("encoded"), from)
                .expect("reply");
        });
        (addr, handle)
    }

    fn ask(server: &UdpSocket, q: &[u8], lookup: &Names, upstreams: &Upstreams) -> Message {
        let client = loopback_socket();
        client
            .send_to(q, server.local_addr().expect("addr"))
            .expect("send");
        serve_one(server, lookup, upstreams).expect("served");
        let mut buf = [0u8; 4096];
        let n = client.recv(&mut buf).expect("a reply");
        decode(&buf[..n])
    }

    fn names() -> Names {
        let mut names = Names::new();
        names.insert("db", Ipv4Addr::new(172, 18, 0, 3));
        names
    }

    #[test]
    fn known_names_are_answered_and_others_forwarded() {
        let server = loopback_socket();
        let (upstream, fake) = fake_upstream();
        let upstreams = Upstreams::new(vec![upstream], Duration::from_secs(2));
        let own = ask(&server, &query("db.", RecordType::A), &names(), &upstreams);
        assert_eq!(a_records(&own), [Ipv4Addr::new(172, 18, 0, 3)]);
        let forwarded = ask(
            &server,
            &query("example.com.", RecordType::A),
            &names(),
            &upstreams,
        );
        assert_eq!(forwarded.metadata.message_type, MessageType::Response);
        assert_eq!(a_records(&forwarded), [Ipv4Addr::new(192, 0, 2, 7)]);
        fake.join().expect("upstream");
    }

    #[test]
    fn a_silent_resolver_gives_servfail_after_the_timeout() {
        let server = loopback_socket();
        let silent = loopback_socket();
        let upstreams = Upstreams::new(
            vec![silent.local_addr().expect("addr")],
            Duration::from_millis(200),
        );
        let start = Instant::now();
        let reply = ask(
            &server,
            &query("example.com.", RecordType::A),
            &names(),
            &upstreams,
        );
        assert_eq!(reply.metadata.response_code, ResponseCode::ServFail);
        assert!(start.elapsed() >= Duration::from_millis(200));
    }

    #[test]
    fn without_resolvers_unknown_names_do_not_exist() {
        let server = loopback_socket();
        let none = Upstreams::new(Vec::new(), Duration::from_secs(1));
        let reply = ask(
            &server,
            &query("example.com.", RecordType::A),
            &names(),
            &none,
        );
        assert_eq!(reply.metadata.response_code, ResponseCode::NXDomain);
    }

    /// The responder's socket is made while the container's `lo` is still down; once `lo` is
    /// up (as the container's set-up brings it), queries to 127.0.0.11 reach it.
    #[test]
    #[ignore = "needs root"]
    fn the_responder_binds_before_lo_is_up_and_serves_after() {
        let got = thread::spawn(|| {
            // SAFETY: NEWNET changes this thread's network namespace alone (the thread ends
            // here); no descriptor table or memory is unshared.
            unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWNET) }
                .expect("unshare(CLONE_NEWNET) needs root");
            let addr = std::net::SocketAddrV4::new(Ipv4Addr::new(127, 0, 0, 11), 53);
            let responder = bind_ahead(addr).expect("bound with lo down");
            responder
                .set_read_timeout(Some(Duration::from_secs(5)))
                .expect("timeout");
            let mut netlink = crate::Netlink::open().expect("netlink");
            netlink.set_up(crate::LOOPBACK_INDEX).expect("lo up");
            let client = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("client");
            client.send_to(b"query", addr).expect("send");
            let mut buf = [0u8; 16];
            let (n, _) = responder.recv_from(&mut buf).expect("the query arrives");
            buf[..n].to_vec()
        })
        .join()
        .expect("the thread");
        assert_eq!(got, b"query");
    }
}
