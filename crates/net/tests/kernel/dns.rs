//! The responder as the engine will run it: its socket bound at 127.0.0.11:53 inside a
//! container's namespace, served by a thread of the host's namespace, which is also where it
//! forwards from (so a resolver on the host's loopback is reachable, as 127.0.0.53 is).

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::thread;
use std::time::Duration;

use hickory_proto::op::{Message, Query, ResponseCode};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use kist_net::dns::{Names, Upstreams, serve_one};

use crate::sandbox::in_sandbox;

fn query(name: &str) -> Vec<u8> {
    let mut m = Message::query();
    m.metadata.recursion_desired = true;
    m.add_query(Query::query(
        Name::from_ascii(name).expect("name"),
        RecordType::A,
    ));
    m.to_vec().expect("encoded")
}

fn addresses(reply: &[u8]) -> (ResponseCode, Vec<Ipv4Addr>) {
    let m = Message::from_vec(reply).expect("a reply");
    let ips = m
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::A(a) => Some(a.0),
            _ => None,
        })
        .collect();
    (m.metadata.response_code, ips)
}

/// A resolver on the host side's 127.0.0.1 that answers one query with 192.0.2.9.
fn host_resolver() -> (SocketAddr, thread::JoinHandle<()>) {
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let addr = socket.local_addr().expect("addr");
    let handle = thread::spawn(move || {
        let mut buf = [0u8; 512];
        let (n, from) = socket.recv_from(&mut buf).expect("a forwarded query");
        let request = Message::from_vec(&buf[..n]).expect("query");
        let mut reply = Message::response(request.metadata.id, request.metadata.op_code);
        reply.add_queries(request.queries.iter().cloned());
        let name = request.queries[0].name().clone();
        let ip = Ipv4Addr::new(192, 0, 2, 9);
        reply.add_answer(Record::from_rdata(name, 30, RData::A(A(ip))));
        socket
            .send_to(&reply.to_vec().expect("encoded"), from)
            .expect("reply");
    });
    (addr, handle)
}

#[test]
#[ignore = "needs root"]
fn a_container_resolves_at_127_0_0_11_names_and_the_hosts_resolver() {
    in_sandbox(|sb| {
        let container = sb.container();
        let (server, client) = sb.run_in(&container, || {
            let mut netlink = kist_net::Netlink::open().expect("netlink");
            netlink.set_up(kist_net::LOOPBACK_INDEX).expect("lo up");
            let server = UdpSocket::bind((Ipv4Addr::new(127, 0, 0, 11), 53)).expect("bind .11");
            let client = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("client");
            client
                .set_read_timeout(Some(Duration::from_secs(5)))
                .expect("timeout");
            client
                .connect((Ipv4Addr::new(127, 0, 0, 11), 53))
                .expect("connect");
            (server, client)
        });
        let mut names = Names::new();
        names.insert("web", Ipv4Addr::new(10, 88, 0, 2));
        let (resolver, fake) = host_resolver();
        let upstreams = Upstreams::new(vec![resolver], Duration::from_secs(2));
        let mut buf = [0u8; 4096];
        for (name, want) in [
            ("web.", Ipv4Addr::new(10, 88, 0, 2)),
            ("example.com.", Ipv4Addr::new(192, 0, 2, 9)),
        ] {
            client.send(&query(name)).expect("send");
            serve_one(&server, &names, &upstreams).expect("serve");
            let n = client.recv(&mut buf).expect("reply");
            assert_eq!(
                addresses(&buf[..n]),
                (ResponseCode::NoError, vec![want]),
                "{name}"
            );
        }
        fake.join().expect("resolver");
    });
}
