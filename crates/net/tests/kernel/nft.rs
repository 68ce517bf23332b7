//! kist's nftables table made over netlink, checked with `nft list` and with traffic: the
//! masquerade rules, a published port reached from 127.0.0.1, from the host's address and from
//! another network, networks isolated from each other, rules gone with their chain.

use std::io::ErrorKind;
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use ipnet::Ipv4Net;
use kist_net::{
    Attachment, Bridge, NetNs, Netlink, NetworkRules, Nftables, PortMapping, Protocol, attach,
    ensure_bridge,
};

use crate::sandbox::{Sandbox, in_sandbox};
use crate::traffic::{echo_once, exchange};

/// Network N: bridge `kistN`, subnet 10.(88+N).0.0/16, gateway .1.
struct Net {
    bridge: String,
    second: u8,
    index: u32,
}

fn network(sb: &Sandbox, host: &mut Netlink, nft: &mut Nftables, n: u8, internal: bool) -> Net {
    let second = 88 + n;
    let bridge = format!("kist{n}");
    let spec = Bridge {
        name: bridge.clone(),
        gateway: Ipv4Addr::new(10, second, 0, 1),
        prefix_len: 16,
        mtu: None,
    };
    let index = ensure_bridge(host, &spec).expect("bridge").index;
    let rules = NetworkRules {
        bridge: bridge.clone(),
        subnet: Ipv4Net::new_assert(Ipv4Addr::new(10, second, 0, 0), 16),
        internal,
    };
    nft.add_network(&rules).expect("network rules");
    let _ = sb;
    Net {
        bridge,
        second,
        index,
    }
}

impl Net {
    fn ip(&self, host: u8) -> Ipv4Addr {
        Ipv4Addr::new(10, self.second, 0, host)
    }

    fn container(&self, sb: &Sandbox, host: &mut Netlink, n: u8) -> NetNs {
        let ns = sb.container();
        let a = Attachment {
            host_veth: format!("v{}-{n}", self.bridge),
            ifname: "eth0".to_string(),
            ip: self.ip(n),
            prefix_len: 16,
            gateway: self.ip(1),
            mac: None,
            mtu: None,
            default_route: true,
        };
        attach(host, self.index, &ns, &a).expect("attach");
        ns
    }
}

fn tcp(host_port: u16, container_ip: Ipv4Addr, container_port: u16) -> PortMapping {
    PortMapping {
        protocol: Protocol::Tcp,
        host_ip: None,
        host_port,
        container_ip,
        container_port,
    }
}

fn table(sb: &Sandbox) -> String {
    sb.check("nft", &["list", "table", "inet", "kist"])
}

/// Whether a connection to `to` is refused or dropped (short timeout).
fn unreachable(to: SocketAddrV4) -> bool {
    match TcpStream::connect_timeout(&to.into(), Duration::from_millis(300)) {
        Ok(_) => false,
        Err(e) => matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::ConnectionRefused),
    }
}

#[test]
#[ignore = "needs root"]
fn a_network_masquerades_and_its_rules_go_with_it() {
    in_sandbox(|sb| {
        let mut host = sb.netlink();
        let mut nft = Nftables::open().expect("nftables");
        let _net = network(sb, &mut host, &mut nft, 0, false);
        let listed = table(sb);
        assert!(
            listed.contains("ip saddr 10.88.0.0/16 oifname != \"kist0\" masquerade"),
            "{listed}"
        );
        assert!(
            listed.contains("ip saddr 127.0.0.0/8 oifname \"kist0\" masquerade"),
            "{listed}"
        );
        assert!(listed.contains("type nat hook postrouting priority srcnat; policy accept;"));
        assert!(
            listed.contains("jump nat-kist0 comment \"kist network kist0\""),
            "{listed}"
        );
        assert!(
            listed.contains("jump fwd-kist0 comment \"kist network kist0\""),
            "{listed}"
        );

        // Again: replaced, not doubled.
        network(sb, &mut host, &mut nft, 0, false);
        assert_eq!(table(sb).matches("jump nat-kist0").count(), 1);

        assert!(nft.remove_network("kist0").expect("remove"));
        let listed = table(sb);
        assert!(!listed.contains("kist0"), "{listed}");
        assert!(!nft.remove_network("kist0").expect("remove again"));
    });
}

#[test]
#[ignore = "needs root"]
fn an_internal_network_is_not_masqueraded() {
    in_sandbox(|sb| {
        let mut host = sb.netlink();
        let mut nft = Nftables::open().expect("nftables");
        network(sb, &mut host, &mut nft, 0, true);
        let listed = table(sb);
        assert!(!listed.contains("masquerade"), "{listed}");
        assert!(
            listed.contains("iifname \"kist0\" oifname != \"kist0\" drop"),
            "{listed}"
        );
    });
}

#[test]
#[ignore = "needs root"]
fn a_published_port_is_reached_from_loopback_the_host_and_other_networks() {
    in_sandbox(|sb| {
        let mut host = sb.netlink();
        let mut nft = Nftables::open().expect("nftables");
        let web_net = network(sb, &mut host, &mut nft, 0, false);
        let other_net = network(sb, &mut host, &mut nft, 1, false);
        let web = web_net.container(sb, &mut host, 2);
        let peer = web_net.container(sb, &mut host, 3);
        let stranger = other_net.container(sb, &mut host, 2);
        let web_ip = web_net.ip(2);
        nft.add_ports("webid", &[tcp(18080, web_ip, 80)])
            .expect("ports");
        let listed = table(sb);
        assert!(
            listed.contains("tcp dport 18080 dnat ip to 10.88.0.2:80"),
            "{listed}"
        );
        assert!(
            listed.contains("fib daddr type local jump ctr-webid"),
            "{listed}"
        );

        let listener = sb.run_in(&web, || {
            TcpListener::bind((Ipv4Addr::UNSPECIFIED, 80)).expect("bind")
        });
        listener.set_nonblocking(false).expect("blocking");
        let published = |ip: Ipv4Addr| SocketAddrV4::new(ip, 18080);
        for from_host in [Ipv4Addr::LOCALHOST, web_net.ip(1), other_net.ip(1)] {
            let server = echo_once(listener.try_clone().expect("clone"));
            assert_eq!(
                exchange(published(from_host)),
                "HELLO",
                "from the host to {from_host}"
            );
            server.join().expect("server");
        }
        // A container of the same network through its gateway (hairpin), and one of another
        // network through its own gateway.
        for (ns, via) in [(&peer, web_net.ip(1)), (&stranger, other_net.ip(1))] {
            let server = echo_once(listener.try_clone().expect("clone"));
            assert_eq!(
                sb.run_in(ns, || exchange(published(via))),
                "HELLO",
                "via {via}"
            );
            server.join().expect("server");
        }
        // Not published: another network cannot connect to the container directly.
        let direct = SocketAddrV4::new(web_ip, 80);
        assert!(
            sb.run_in(&stranger, || unreachable(direct)),
            "networks are isolated"
        );
        // Its own network can.
        let server = echo_once(listener.try_clone().expect("clone"));
        assert_eq!(sb.run_in(&peer, || exchange(direct)), "HELLO");
        server.join().expect("server");

        assert!(nft.remove_ports("webid").expect("remove"));
        let listed = table(sb);
        assert!(
            !listed.contains("ctr-webid") && !listed.contains("18080"),
            "{listed}"
        );
        assert!(
            unreachable(published(Ipv4Addr::LOCALHOST)),
            "the DNAT is gone"
        );
        assert!(!nft.remove_ports("webid").expect("remove again"));

        // The isolation was kist's: without the network's rules the other network gets in.
        assert!(nft.remove_network("kist0").expect("remove network"));
        let server = echo_once(listener.try_clone().expect("clone"));
        assert_eq!(sb.run_in(&stranger, || exchange(direct)), "HELLO");
        server.join().expect("server");
    });
}

#[test]
#[ignore = "needs root"]
fn a_batch_costs_tens_of_microseconds_per_rule() {
    in_sandbox(|sb| {
        let mut host = sb.netlink();
        let mut nft = Nftables::open().expect("nftables");
        let net = network(sb, &mut host, &mut nft, 0, false);
        let ports = |n: u16| -> Vec<PortMapping> {
            (0..n).map(|i| tcp(20000 + i, net.ip(2), 80)).collect()
        };
        let time = |nft: &mut Nftables, id: &str, n: u16| {
            let list = ports(n);
            let start = Instant::now();
            nft.add_ports(id, &list).expect("ports");
            start.elapsed()
        };
        let mut one = Vec::new();
        let mut hundred = Vec::new();
        for round in 0..5 {
            one.push(time(&mut nft, &format!("one{round}"), 1));
            hundred.push(time(&mut nft, &format!("hundred{round}"), 100));
        }
        one.sort();
        hundred.sort();
        let (one, hundred) = (one[2], hundred[2]);
        let per_rule = (hundred.saturating_sub(one)) / 99;
        let start = Instant::now();
        assert!(nft.remove_ports("one0").expect("remove"));
        let remove = start.elapsed();
        let start = Instant::now();
        nft.add_ports("hundred0", &ports(1)).expect("replace");
        let replace = start.elapsed();
        println!(
            "nftables: add_ports with 1 port {one:?}, with 100 ports {hundred:?} ({per_rule:?} per DNAT rule), remove_ports {remove:?}, add_ports replacing 100 by 1 {replace:?} (medians of 5, 1,000 rules in the table)"
        );
        assert!(one < Duration::from_millis(50), "one port took {one:?}");
    });
}
