//! Bridge networks: every test here runs kist inside a network namespace of its own
//! (`Kist::in_netns`), so that the bridges, veths and nftables rules it makes never touch the
//! machine's; traffic goes only to 127.0.0.1 and the containers' addresses in there.

mod common;

use common::Kist;

fn inspect(k: &Kist, c: &str, format: &str) -> String {
    k.ok(&["inspect", "-f", format, c]).trim().to_string()
}

fn ip_of(k: &Kist, c: &str) -> String {
    inspect(k, c, "{{.NetworkSettings.IPAddress}}")
}

#[test]
#[ignore = "needs root"]
fn the_default_bridge_network_gives_an_address_a_route_and_hosts() {
    let k = Kist::in_netns_with_busybox();
    let out = k.ok(&[
        "run",
        "--rm",
        "-h",
        "box",
        "busybox",
        "sh",
        "-c",
        "ip addr show eth0; ip route; cat /etc/hosts",
    ]);
    assert!(out.contains("inet 172.17.0.2/16"), "{out}");
    assert!(out.contains("link/ether 02:42:ac:11:00:02"), "{out}");
    assert!(out.contains("default via 172.17.0.1 dev eth0"), "{out}");
    assert!(out.ends_with("172.17.0.2\tbox\n"), "{out}");
    // The bridge and kist's table, with the subnet masqueraded, in the test's namespace.
    let bridge = k.ns().ok("ip", &["-4", "addr", "show", "kist0"]);
    assert!(bridge.contains("inet 172.17.0.1/16"), "{bridge}");
    let table = k.ns().ok("nft", &["list", "table", "inet", "kist"]);
    assert!(
        table.contains("ip saddr 172.17.0.0/16 oifname != \"kist0\" masquerade"),
        "{table}"
    );
    assert_eq!(
        k.ns().ok("cat", &["/proc/sys/net/ipv4/ip_forward"]).trim(),
        "1"
    );
    // --network none is still only lo.
    let none = k.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "busybox",
        "ls",
        "/sys/class/net",
    ]);
    assert_eq!(none, "lo\n");
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn containers_on_the_bridge_reach_each_other_and_inspect_shows_it() {
    let k = Kist::in_netns_with_busybox();
    k.ok(&[
        "run", "-d", "--name", "web", "busybox", "httpd", "-f", "-p", "80", "-h", "/etc",
    ]);
    let ip = ip_of(&k, "web");
    assert_eq!(ip, "172.17.0.2");
    let settings: serde_json::Value =
        serde_json::from_str(&inspect(&k, "web", "{{json .NetworkSettings}}")).unwrap();
    assert_eq!(settings["Gateway"], "172.17.0.1");
    assert_eq!(settings["MacAddress"], "02:42:ac:11:00:02");
    assert_eq!(settings["IPPrefixLen"], 16);
    assert_eq!(settings["Networks"]["bridge"]["IPAddress"], "172.17.0.2");
    assert_eq!(inspect(&k, "web", "{{.HostConfig.NetworkMode}}"), "bridge");
    let id = inspect(&k, "web", "{{.Id}}");
    common::wait_until("httpd to listen", || {
        k.run(&["exec", "web", "sh", "-c", "netstat -ltn | grep -q :80"])
            .status
            .success()
    });
    let page = k.ok(&[
        "run",
        "--rm",
        "busybox",
        "wget",
        "-qO-",
        &format!("http://{ip}/hostname"),
    ]);
    assert_eq!(page, format!("{}\n", &id[..12]));
    // And from the namespace kist runs in, through the bridge.
    let page = k.ns().ok("curl", &["-s", &format!("http://{ip}/hostname")]);
    assert_eq!(page, format!("{}\n", &id[..12]));
    k.ok(&["rm", "-f", "web"]);
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn parallel_runs_get_distinct_addresses_kept_across_stop_and_start() {
    let k = Kist::in_netns_with_busybox();
    let children: Vec<_> = (0..8)
        .map(|i| {
            k.command(&[
                "run",
                "-d",
                "--name",
                &format!("c{i}"),
                "busybox",
                "sleep",
                "100",
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", common::stderr(&out));
    }
    let mut ips: Vec<String> = (0..8).map(|i| ip_of(&k, &format!("c{i}"))).collect();
    let c3 = ips[3].clone();
    ips.sort();
    ips.dedup();
    assert_eq!(ips.len(), 8, "distinct: {ips:?}");
    k.ok(&["stop", "-t", "0", "c3"]);
    assert_eq!(ip_of(&k, "c3"), "", "a stopped container holds no address");
    k.ok(&["start", "c3"]);
    assert_eq!(ip_of(&k, "c3"), c3, "its address again, still free");
    let inside = k.ok(&["exec", "c3", "ip", "-4", "addr", "show", "eth0"]);
    assert!(inside.contains(&format!("inet {c3}/16")), "{inside}");
    for i in 0..8 {
        k.ok(&["rm", "-f", &format!("c{i}")]);
    }
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn a_killed_run_leaves_no_address_taken() {
    let k = Kist::in_netns_with_busybox();
    let mut child = k
        .command(&["run", "--name", "fg", "busybox", "sleep", "100"])
        .spawn()
        .unwrap();
    common::wait_until("the container to run", || {
        k.run(&["inspect", "-f", "{{.NetworkSettings.IPAddress}}", "fg"])
            .stdout
            .starts_with(b"172.17.")
    });
    child.kill().unwrap();
    child.wait().unwrap();
    // The next command reconciles: the container exited, its address free again.
    assert_eq!(inspect(&k, "fg", "{{.State.Status}}"), "exited");
    assert_eq!(ip_of(&k, "fg"), "");
    k.ok(&["run", "-d", "--name", "next", "busybox", "sleep", "100"]);
    assert_eq!(
        ip_of(&k, "next"),
        "172.17.0.3",
        "the next after the newest taken"
    );
    k.ok(&["rm", "-f", "fg", "next"]);
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn the_default_subnet_comes_from_config_json() {
    let k = Kist::in_netns_with_busybox();
    std::fs::write(k.path().join("config.json"), r#"{"bip": "10.123.0.1/24"}"#).unwrap();
    let out = k.ok(&["run", "--rm", "busybox", "ip", "-4", "addr", "show", "eth0"]);
    assert!(out.contains("inet 10.123.0.2/24"), "{out}");
    k.assert_clean();
}
