//! A bridge, containers attached to it by veth pairs, their addresses, routes and traffic, and
//! what one attach costs.

use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};
use std::time::{Duration, Instant};

use kist_net::{Attachment, Bridge, Mac, NetNs, Netlink, Veth, attach, ensure_bridge};

use crate::sandbox::{Sandbox, in_sandbox};
use crate::traffic::{echo_once, exchange};

fn bridge(name: &str) -> Bridge {
    Bridge {
        name: name.to_string(),
        gateway: Ipv4Addr::new(10, 88, 0, 1),
        prefix_len: 16,
        mtu: Some(1500),
    }
}

fn attachment(n: u8) -> Attachment {
    Attachment {
        host_veth: format!("vethtest{n}"),
        ifname: "eth0".to_string(),
        ip: Ipv4Addr::new(10, 88, 0, n),
        prefix_len: 16,
        gateway: Ipv4Addr::new(10, 88, 0, 1),
        mac: None,
        mtu: Some(1500),
        default_route: true,
    }
}

/// A container namespace attached to the sandbox's bridge as 10.88.0.N.
fn container(sb: &Sandbox, host: &mut Netlink, bridge_index: u32, n: u8) -> NetNs {
    let ns = sb.container();
    attach(host, bridge_index, &ns, &attachment(n)).expect("attach");
    ns
}

#[test]
#[ignore = "needs root"]
fn containers_on_a_bridge_reach_each_other_and_the_gateway() {
    in_sandbox(|sb| {
        let mut host = sb.netlink();
        let index = ensure_bridge(&mut host, &bridge("kist0"))
            .expect("bridge")
            .index;
        let web = container(sb, &mut host, index, 2);
        let client = container(sb, &mut host, index, 3);

        let link = sb.check("ip", &["-d", "-o", "link", "show", "kist0"]);
        assert!(
            link.contains("bridge") && link.contains("mtu 1500"),
            "{link}"
        );
        let addr = sb.check("ip", &["-o", "-4", "addr", "show", "kist0"]);
        assert!(addr.contains("10.88.0.1/16"), "{addr}");
        let port = sb.check("ip", &["-o", "link", "show", "vethtest2"]);
        assert!(
            port.contains("master kist0") && port.contains("state UP"),
            "{port}"
        );

        let eth0 = sb.check_in(&web, "ip", &["-o", "link", "show", "eth0"]);
        assert!(
            eth0.contains(&Mac::from_ip(Ipv4Addr::new(10, 88, 0, 2)).to_string()),
            "{eth0}"
        );
        let inner = sb.check_in(&web, "ip", &["-o", "-4", "addr"]);
        assert!(
            inner.contains("10.88.0.2/16") && inner.contains("127.0.0.1/8"),
            "{inner}"
        );
        let route = sb.check_in(&web, "ip", &["route", "show", "default"]);
        assert!(route.contains("default via 10.88.0.1 dev eth0"), "{route}");
        // IPv4 networks: IPv6 off on both ends (as Docker has it on eth0), ::1 kept on lo.
        let inner6 = sb.check_in(&web, "ip", &["-o", "-6", "addr"]);
        assert!(
            !inner6.contains("eth0") && inner6.contains("::1/128"),
            "{inner6}"
        );
        let outer6 = sb.check("ip", &["-o", "-6", "addr", "show", "vethtest2"]);
        assert_eq!(outer6.trim(), "", "the host end has IPv6 addresses");

        let to_web = SocketAddrV4::new(Ipv4Addr::new(10, 88, 0, 2), 8080);
        let listener = sb.run_in(&web, || TcpListener::bind(to_web).expect("bind in web"));
        let server = echo_once(listener);
        assert_eq!(sb.run_in(&client, || exchange(to_web)), "HELLO");
        server.join().expect("server");

        // The host side (the sandbox) reaches a container through the bridge.
        let listener = sb.run_in(&client, || {
            TcpListener::bind((Ipv4Addr::new(10, 88, 0, 3), 9090)).expect("bind in client")
        });
        let server = echo_once(listener);
        assert_eq!(
            exchange(SocketAddrV4::new(Ipv4Addr::new(10, 88, 0, 3), 9090)),
            "HELLO"
        );
        server.join().expect("server");

        assert_eq!(
            sb.check("cat", &["/proc/sys/net/ipv4/ip_forward"]).trim(),
            "1"
        );
        let localnet = sb.check("cat", &["/proc/sys/net/ipv4/conf/kist0/route_localnet"]);
        assert_eq!(localnet.trim(), "1");
    });
}

#[test]
#[ignore = "needs root"]
fn a_bridge_is_made_once_and_deleted_on_request() {
    in_sandbox(|sb| {
        let mut host = sb.netlink();
        let first = ensure_bridge(&mut host, &bridge("kistnet1")).expect("create");
        let again = ensure_bridge(&mut host, &bridge("kistnet1")).expect("again");
        assert!(first.made && !again.made, "{first:?} {again:?}");
        assert_eq!(first.index, again.index);
        let routes = host.ipv4_routes().expect("routes");
        assert!(
            routes.contains(&"10.88.0.0/16".parse().expect("net")),
            "{routes:?}"
        );
        assert!(host.delete_link("kistnet1").expect("delete"));
        assert!(!host.delete_link("kistnet1").expect("already gone"));
        assert_eq!(host.link_index("kistnet1").expect("lookup"), None);
    });
}

#[test]
#[ignore = "needs root"]
fn a_taken_name_or_address_fails_with_what_was_done() {
    in_sandbox(|sb| {
        let mut host = sb.netlink();
        let index = ensure_bridge(&mut host, &bridge("kist0"))
            .expect("bridge")
            .index;
        let _first = container(sb, &mut host, index, 2);
        let second = sb.container();
        let err = attach(&mut host, index, &second, &attachment(2)).expect_err("same veth name");
        assert_eq!(err.errno(), Some(libc::EEXIST));
        assert!(
            err.to_string()
                .starts_with("creating veth pair vethtest2 / eth0"),
            "{err}"
        );
    });
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

#[test]
#[ignore = "needs root"]
fn one_attach_costs_about_a_millisecond() {
    in_sandbox(|sb| {
        let mut host = sb.netlink();
        let index = ensure_bridge(&mut host, &bridge("kist0"))
            .expect("bridge")
            .index;
        let mut whole = Vec::new();
        let mut keep = Vec::new();
        for n in 2..42 {
            let ns = sb.container();
            let start = Instant::now();
            attach(&mut host, index, &ns, &attachment(n)).expect("attach");
            whole.push(start.elapsed());
            keep.push(ns);
        }
        // The same steps one by one: the pair, the socket inside, the inside's settings.
        let (mut pair, mut socket, mut inside) = (Vec::new(), Vec::new(), Vec::new());
        for n in 42..82 {
            let ns = sb.container();
            let a = attachment(n);
            let veth = Veth {
                host_name: &a.host_veth,
                bridge_index: index,
                peer_name: "eth0",
                peer_mac: Mac::from_ip(a.ip),
                peer_ns: &ns,
                mtu: a.mtu,
            };
            let t = Instant::now();
            host.create_veth(&veth).expect("veth");
            pair.push(t.elapsed());
            let t = Instant::now();
            let mut nl = Netlink::open_in(&ns).expect("socket inside");
            socket.push(t.elapsed());
            let t = Instant::now();
            let eth0 = nl.link_index("eth0").expect("lookup").expect("eth0");
            nl.add_address(eth0, a.ip, 16).expect("address");
            nl.set_up(eth0).expect("eth0 up");
            nl.set_up(kist_net::LOOPBACK_INDEX).expect("lo up");
            nl.add_default_route(a.gateway, eth0).expect("route");
            inside.push(t.elapsed());
            keep.push(ns);
        }
        let median_whole = median(whole);
        println!(
            "attach: median {median_whole:?} over 40 (veth pair with peer in the namespace, on the bridge, up: {:?}; socket opened inside: {:?}; address, eth0 and lo up, route: {:?})",
            median(pair),
            median(socket),
            median(inside)
        );
        assert!(
            median_whole < Duration::from_millis(20),
            "median attach {median_whole:?}"
        );
    });
}
