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
    // As the issue has it: 50 at once on one network.
    const N: usize = 50;
    let k = Kist::in_netns_with_busybox();
    let children: Vec<_> = (0..N)
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
    let mut ips: Vec<String> = (0..N).map(|i| ip_of(&k, &format!("c{i}"))).collect();
    let c3 = ips[3].clone();
    ips.sort();
    ips.dedup();
    assert_eq!(ips.len(), N, "distinct: {ips:?}");
    k.ok(&["stop", "-t", "0", "c3"]);
    assert_eq!(ip_of(&k, "c3"), "", "a stopped container holds no address");
    k.ok(&["start", "c3"]);
    assert_eq!(ip_of(&k, "c3"), c3, "its address again, still free");
    let inside = k.ok(&["exec", "c3", "ip", "-4", "addr", "show", "eth0"]);
    assert!(inside.contains(&format!("inet {c3}/16")), "{inside}");
    let names: Vec<String> = (0..N).map(|i| format!("c{i}")).collect();
    let mut rm = vec!["rm", "-f"];
    rm.extend(names.iter().map(String::as_str));
    k.ok(&rm);
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

#[test]
#[ignore = "needs root"]
fn user_networks_are_made_listed_inspected_and_removed() {
    let k = Kist::in_netns_with_busybox();
    let id = k.ok(&[
        "network",
        "create",
        "--subnet",
        "10.50.0.0/24",
        "--ip-range",
        "10.50.0.128/25",
        "--label",
        "tier=db",
        "-o",
        "com.docker.network.driver.mtu=1400",
        "mynet",
    ]);
    let id = id.trim();
    assert_eq!(id.len(), 64, "{id}");
    let ls = k.ok(&["network", "ls"]);
    let lines: Vec<&str> = ls.lines().collect();
    assert!(
        lines[0].starts_with("NETWORK ID     NAME      DRIVER    SCOPE"),
        "{ls}"
    );
    let names: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    assert_eq!(names, ["bridge", "host", "mynet", "none"]);
    assert!(
        ls.contains(&format!("{}   mynet     bridge    local", &id[..12])),
        "{ls}"
    );
    assert_eq!(
        k.ok(&["network", "ls", "-q", "--filter", "label=tier=db"]),
        format!("{}\n", &id[..12])
    );
    assert_eq!(
        k.ok(&[
            "network",
            "ls",
            "--format",
            "{{.Name}}",
            "-f",
            "type=custom"
        ]),
        "mynet\n"
    );
    // Overlaps, a gateway outside the subnet, a name taken: one line, exit 1, nothing made.
    let e = k.fails(
        &["network", "create", "--subnet", "10.50.0.0/16", "other"],
        1,
    );
    assert_eq!(
        e,
        "kist: subnet 10.50.0.0/16 overlaps 10.50.0.0/24 (network mynet)\n"
    );
    k.fails(
        &[
            "network",
            "create",
            "--subnet",
            "10.60.0.0/24",
            "--gateway",
            "10.61.0.1",
            "other",
        ],
        1,
    );
    let e = k.fails(&["network", "create", "mynet"], 1);
    assert_eq!(e, "kist: network with name mynet already exists\n");
    assert_eq!(k.ok(&["network", "ls", "-q"]).lines().count(), 4);
    // A container on it: from the range, with the MTU, --ip anywhere in the subnet.
    k.ok(&[
        "run",
        "-d",
        "--name",
        "db",
        "--network",
        "mynet",
        "--network-alias",
        "database",
        "busybox",
        "sleep",
        "100",
    ]);
    // The range's first address: only the subnet's own edges are reserved, as in Docker.
    assert_eq!(ip_of(&k, "db"), "10.50.0.128");
    let link = k.ok(&["exec", "db", "ip", "link", "show", "eth0"]);
    assert!(link.contains("mtu 1400"), "{link}");
    let fixed = k.ok(&[
        "run",
        "--rm",
        "--network",
        "mynet",
        "--ip",
        "10.50.0.9",
        "--mac-address",
        "92:d0:c6:0a:29:33",
        "busybox",
        "ip",
        "addr",
        "show",
        "eth0",
    ]);
    assert!(
        fixed.contains("inet 10.50.0.9/24") && fixed.contains("92:d0:c6:0a:29:33"),
        "{fixed}"
    );
    let e = k.fails(
        &[
            "run",
            "--rm",
            "--network",
            "mynet",
            "--ip",
            "10.60.0.9",
            "busybox",
            "true",
        ],
        125,
    );
    assert_eq!(e, "kist: address 10.60.0.9 is not in subnet 10.50.0.0/24\n");
    let e = k.fails(
        &[
            "run",
            "--rm",
            "--network",
            "mynet",
            "--ip",
            "10.50.0.128",
            "busybox",
            "true",
        ],
        125,
    );
    assert_eq!(
        e,
        "kist: address 10.50.0.128 is already in use on subnet 10.50.0.0/24\n"
    );
    let doc: serde_json::Value =
        serde_json::from_str(&k.ok(&["network", "inspect", "mynet"])).unwrap();
    let net = &doc[0];
    assert_eq!(net["Id"], id);
    assert_eq!(net["Driver"], "bridge");
    assert_eq!(net["IPAM"]["Config"][0]["Subnet"], "10.50.0.0/24");
    assert_eq!(net["IPAM"]["Config"][0]["Gateway"], "10.50.0.1");
    assert_eq!(net["IPAM"]["Config"][0]["IPRange"], "10.50.0.128/25");
    assert_eq!(net["Labels"]["tier"], "db");
    let db_id = inspect(&k, "db", "{{.Id}}");
    assert_eq!(net["Containers"][&db_id]["IPv4Address"], "10.50.0.128/24");
    assert_eq!(net["Containers"][&db_id]["Name"], "db");
    let aliases = inspect(&k, "db", "{{json .NetworkSettings.Networks.mynet.Aliases}}");
    assert_eq!(aliases, r#"["database"]"#);
    // Not removed while a container is on it; then removed, its bridge with it.
    let e = k.fails(&["network", "rm", "mynet"], 1);
    assert!(e.contains("has active endpoints (db)"), "{e}");
    k.fails(&["network", "rm", "host"], 1);
    k.ok(&["rm", "-f", "db"]);
    assert_eq!(k.ok(&["network", "rm", "mynet"]), "mynet\n");
    let links = k.ns().ok("ip", &["link"]);
    assert!(!links.contains(&format!("br-{}", &id[..12])), "{links}");
    let e = k.fails(
        &["run", "--rm", "--network", "mynet", "busybox", "true"],
        125,
    );
    assert_eq!(e, "kist: network mynet not found\n");
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn prune_asks_and_keeps_networks_in_use() {
    let k = Kist::in_netns_with_busybox();
    k.ok(&["network", "create", "idle"]);
    k.ok(&["network", "create", "busy"]);
    k.ok(&[
        "create",
        "--name",
        "user",
        "--network",
        "busy",
        "busybox",
        "true",
    ]);
    let out = k.run_with_stdin(&["network", "prune"], b"n\n");
    assert!(common::stdout(&out).contains("[y/N]"), "{out:?}");
    assert_eq!(
        k.ok(&["network", "ls", "-q", "-f", "type=custom"])
            .lines()
            .count(),
        2
    );
    assert_eq!(
        k.ok(&["network", "prune", "-f"]),
        "Deleted Networks:\nidle\n"
    );
    let left = k.ok(&["network", "ls", "--format", "{{.Name}}"]);
    assert_eq!(left, "bridge\nbusy\nhost\nnone\n");
    // system prune asks too, and takes the network once its container is gone.
    let out = k.run_with_stdin(&["system", "prune"], b"n\n");
    assert!(
        common::stdout(&out).contains("all networks not used by at least one container"),
        "{out:?}"
    );
    assert_eq!(
        k.ok(&["network", "ls", "-q", "-f", "type=custom"])
            .lines()
            .count(),
        1
    );
    k.ok(&["rm", "user"]);
    let out = k.ok(&["system", "prune", "-f"]);
    assert!(out.contains("Deleted network busy\n"), "{out}");
    assert_eq!(k.ok(&["network", "ls", "-q", "-f", "type=custom"]), "");
    k.assert_clean();
}

/// Waits until `c`'s httpd answers inside it.
fn wait_for_httpd(k: &Kist, c: &str) {
    common::wait_until("httpd to listen", || {
        k.run(&["exec", c, "sh", "-c", "netstat -ltn | grep -q :80"])
            .status
            .success()
    });
}

#[test]
#[ignore = "needs root"]
fn published_ports_answer_on_loopback_and_the_host_s_addresses_in_the_kernel() {
    let k = Kist::in_netns_with_busybox();
    k.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "-p",
        "8080:80",
        "-p",
        "127.0.0.1::80",
        "-p",
        "9000-9001:7000-7001/udp",
        "--expose",
        "443",
        "busybox",
        "httpd",
        "-f",
        "-p",
        "80",
        "-h",
        "/etc",
    ]);
    wait_for_httpd(&k, "web");
    let id = inspect(&k, "web", "{{.Id}}");
    let hostname = format!("{}\n", &id[..12]);
    assert_eq!(
        k.ns().ok("curl", &["-s", "http://127.0.0.1:8080/hostname"]),
        hostname
    );
    // The gateway is an address of the host (of the test's namespace) too.
    assert_eq!(
        k.ns()
            .ok("curl", &["-s", "http://172.17.0.1:8080/hostname"]),
        hostname
    );
    // From another container, through the host's address.
    let page = k.ok(&[
        "run",
        "--rm",
        "busybox",
        "wget",
        "-qO-",
        "http://172.17.0.1:8080/hostname",
    ]);
    assert_eq!(page, hostname);
    let ps = k.ok(&["ps", "--format", "{{.Ports}} {{.Networks}}"]);
    assert!(ps.starts_with("0.0.0.0:8080->80/tcp, 127.0.0.1:"), "{ps}");
    assert!(ps.ends_with(" bridge\n"), "{ps}");
    let ports = k.ok(&["port", "web"]);
    let random: Vec<&str> = ports
        .lines()
        .filter(|l| l.starts_with("80/tcp -> 127.0.0.1:"))
        .collect();
    assert_eq!(random.len(), 1, "{ports}");
    let random_port = random[0].rsplit(':').next().unwrap().to_string();
    assert!(ports.contains("80/tcp -> 0.0.0.0:8080\n"), "{ports}");
    assert!(ports.contains("7001/udp -> 0.0.0.0:9001\n"), "{ports}");
    assert_eq!(k.ok(&["port", "web", "7000/udp"]), "0.0.0.0:9000\n");
    assert_eq!(
        k.ns().ok(
            "curl",
            &["-s", &format!("http://127.0.0.1:{random_port}/hostname")]
        ),
        hostname
    );
    assert!(!ports.contains("443"), "exposed, not published: {ports}");
    let settings: serde_json::Value =
        serde_json::from_str(&inspect(&k, "web", "{{json .NetworkSettings.Ports}}")).unwrap();
    assert_eq!(settings["443/tcp"], serde_json::Value::Null);
    assert_eq!(settings["7000/udp"][0]["HostPort"], "9000");
    let bindings: serde_json::Value =
        serde_json::from_str(&inspect(&k, "web", "{{json .HostConfig.PortBindings}}")).unwrap();
    assert_eq!(
        bindings["80/tcp"][0],
        serde_json::json!({"HostIp": "", "HostPort": "8080"})
    );
    assert_eq!(
        bindings["80/tcp"][1],
        serde_json::json!({"HostIp": "127.0.0.1", "HostPort": ""})
    );
    // No process but the container's own holds the port: it is kernel DNAT.
    let table = k.ns().ok(
        "nft",
        &["list", "chain", "inet", "kist", &format!("ctr-{id}")],
    );
    assert!(
        table.contains("tcp dport 8080 dnat ip to 172.17.0.2:80"),
        "{table}"
    );
    // Stopped: its rules go.
    k.ok(&["stop", "-t", "0", "web"]);
    let table = k.ns().ok("nft", &["list", "table", "inet", "kist"]);
    assert!(!table.contains("ctr-"), "{table}");
    assert_eq!(k.ok(&["port", "web"]), "");
    k.ok(&["rm", "web"]);
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn a_taken_host_port_fails_the_start_and_leaves_the_holder_serving() {
    let k = Kist::in_netns_with_busybox();
    k.ok(&[
        "run", "-d", "--name", "first", "-p", "8080:80", "busybox", "httpd", "-f", "-p", "80",
        "-h", "/etc",
    ]);
    wait_for_httpd(&k, "first");
    let e = k.fails(
        &[
            "run", "-d", "--name", "second", "-p", "8080:80", "busybox", "sleep", "100",
        ],
        125,
    );
    assert_eq!(
        e,
        "kist: Bind for 0.0.0.0:8080 failed: port is already allocated (by container first)\n"
    );
    let e = k.fails(
        &["run", "--rm", "-p", "127.0.0.1:8080:80", "busybox", "true"],
        125,
    );
    assert!(
        e.contains("127.0.0.1:8080 failed") && e.contains("(by container first)"),
        "{e}"
    );
    assert_eq!(
        k.ok(&["ps", "-aq"]).lines().count(),
        1,
        "nothing left of the failed ones"
    );
    let first = inspect(&k, "first", "{{.Id}}");
    assert_eq!(
        k.ns().ok("curl", &["-s", "http://127.0.0.1:8080/hostname"]),
        format!("{}\n", &first[..12])
    );
    // A program of the host listening on a port.
    let mut nc = k.ns().command("python3", &["-c", "import socket,time; s=socket.socket(); s.bind(('0.0.0.0', 8181)); s.listen(); print('up', flush=True); time.sleep(100)"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(nc.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line, "up\n");
    let e = k.fails(&["run", "--rm", "-p", "8181:80", "busybox", "true"], 125);
    assert_eq!(
        e,
        "kist: Bind for 0.0.0.0:8181 failed: port is already allocated\n"
    );
    nc.kill().unwrap();
    nc.wait().unwrap();
    // Malformed: one line, 125, nothing made.
    let e = k.fails(&["run", "--rm", "-p", "70000:80", "busybox", "true"], 125);
    assert!(
        e.starts_with("kist: invalid port specification \"70000:80\""),
        "{e}"
    );
    k.ok(&["rm", "-f", "first"]);
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn publish_all_and_a_killed_supervisor_s_rules_are_reconciled() {
    let k = Kist::in_netns_with_busybox();
    k.ok(&[
        "run",
        "-d",
        "--name",
        "all",
        "-P",
        "--expose",
        "80",
        "--expose",
        "5000-5001/udp",
        "busybox",
        "sleep",
        "100",
    ]);
    let ports = k.ok(&["port", "all"]);
    assert_eq!(ports.lines().count(), 3, "{ports}");
    assert!(ports.contains("5001/udp -> 0.0.0.0:"), "{ports}");
    let id = inspect(&k, "all", "{{.Id}}");
    let supervisor = common::supervisors(&k);
    assert_eq!(supervisor.len(), 1);
    // SAFETY: kill(2) takes plain integers; the supervisor is this test's.
    unsafe { libc::kill(supervisor[0], libc::SIGKILL) };
    common::wait_until("the supervisor to die", || {
        common::supervisors(&k).is_empty()
    });
    // The next command reconciles: the container exited, its rules and ports gone.
    assert_eq!(inspect(&k, "all", "{{.State.Status}}"), "exited");
    let table = k.ns().ok("nft", &["list", "table", "inet", "kist"]);
    assert!(!table.contains(&format!("ctr-{id}")), "{table}");
    assert_eq!(k.ok(&["port", "all"]), "");
    k.ok(&["rm", "all"]);
    k.assert_clean();
}

/// A resolver for the test's namespace at 127.0.0.1:53 that answers every A query with
/// 10.1.2.3, and /etc/resolv.conf (in the test's own mount namespace) naming it.
fn fake_upstream(k: &Kist) -> std::process::Child {
    let conf = k.path().join("upstream-resolv.conf");
    std::fs::write(&conf, "nameserver 127.0.0.1\n").unwrap();
    k.ns().ok(
        "mount",
        &["--bind", conf.to_str().unwrap(), "/etc/resolv.conf"],
    );
    let script = r#"
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
print("up", flush=True)
while True:
    q, peer = s.recvfrom(512)
    end = 12
    while q[end] != 0:
        end += q[end] + 1
    question = q[12:end + 5]
    answer = b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04" + bytes([10, 1, 2, 3])
    s.sendto(q[:2] + b"\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00" + question + answer, peer)
"#;
    let mut child = k
        .ns()
        .command("python3", &["-c", script])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line, "up\n");
    child
}

#[test]
#[ignore = "needs root"]
fn containers_resolve_each_other_by_name_alias_and_hostname_and_the_rest_is_forwarded() {
    let k = Kist::in_netns_with_busybox();
    let mut upstream = fake_upstream(&k);
    k.ok(&["network", "create", "mynet"]);
    k.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "--network",
        "mynet",
        "--network-alias",
        "www",
        "-h",
        "webhost",
        "busybox",
        "sleep",
        "100",
    ]);
    let web = ip_of(&k, "web");
    let conf = k.ok(&[
        "run",
        "--rm",
        "--network",
        "mynet",
        "busybox",
        "cat",
        "/etc/resolv.conf",
    ]);
    assert!(
        conf.ends_with("nameserver 127.0.0.11\noptions ndots:0\n"),
        "{conf}"
    );
    for name in ["web", "www", "webhost", "web.mynet", "WEB"] {
        let out = k.ok(&[
            "run",
            "--rm",
            "--network",
            "mynet",
            "busybox",
            "nslookup",
            name,
        ]);
        assert!(out.contains(&format!("Address: {web}\n")), "{name}: {out}");
    }
    // getaddrinfo, through libc's resolver.
    let ping = k.ok(&[
        "run",
        "--rm",
        "--network",
        "mynet",
        "busybox",
        "ping",
        "-c",
        "1",
        "-W",
        "2",
        "www",
    ]);
    assert!(ping.contains(&format!("PING www ({web})")), "{ping}");
    // A container started later is found by one that was there first.
    k.ok(&[
        "run",
        "-d",
        "--name",
        "late",
        "--network",
        "mynet",
        "busybox",
        "sleep",
        "100",
    ]);
    let late = ip_of(&k, "late");
    let out = k.ok(&["exec", "web", "nslookup", "late"]);
    assert!(out.contains(&format!("Address: {late}\n")), "{out}");
    // Only the same network's names: on the default bridge, web is unknown (forwarded).
    let out = k.ok(&["run", "--rm", "busybox", "nslookup", "web"]);
    assert!(out.contains("Address: 10.1.2.3\n"), "forwarded: {out}");
    // Others go to the host's resolvers.
    let out = k.ok(&[
        "run",
        "--rm",
        "--network",
        "mynet",
        "busybox",
        "nslookup",
        "example.org",
    ]);
    assert!(out.contains("Address: 10.1.2.3\n"), "{out}");
    // And on the default bridge too, which Docker does not do.
    k.ok(&["run", "-d", "--name", "db", "busybox", "sleep", "100"]);
    let out = k.ok(&["run", "--rm", "busybox", "nslookup", "db"]);
    assert!(
        out.contains(&format!("Address: {}\n", ip_of(&k, "db"))),
        "{out}"
    );
    // After a restart, the container answers again from its new namespace.
    k.ok(&["restart", "-t", "0", "web"]);
    let out = k.ok(&["exec", "web", "nslookup", "late"]);
    assert!(out.contains(&format!("Address: {late}\n")), "{out}");
    k.ok(&["rm", "-f", "web", "late", "db"]);
    upstream.kill().unwrap();
    upstream.wait().unwrap();
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn add_host_and_dns_flags_shape_the_generated_files() {
    let k = Kist::in_netns_with_busybox();
    let out = k.ok(&[
        "run",
        "--rm",
        "-h",
        "box",
        "--add-host",
        "db:10.9.8.7",
        "--add-host",
        "gw:host-gateway",
        "--dns-search",
        "corp.example",
        "--dns-option",
        "ndots:2",
        "busybox",
        "sh",
        "-c",
        "cat /etc/hosts /etc/resolv.conf",
    ]);
    assert!(
        out.contains("ff02::2\tip6-allrouters\n10.9.8.7\tdb\n172.17.0.1\tgw\n172.17.0.2\tbox\n"),
        "{out}"
    );
    assert!(
        out.ends_with("search corp.example\nnameserver 127.0.0.11\noptions ndots:2\n"),
        "{out}"
    );
    // --dns: the responder forwards to it (a resolver of the test's namespace here).
    let mut upstream = fake_upstream(&k);
    std::fs::write(
        k.path().join("upstream-resolv.conf"),
        "nameserver 192.0.2.1\n",
    )
    .unwrap();
    let out = k.ok(&[
        "run",
        "--rm",
        "--dns",
        "127.0.0.1",
        "busybox",
        "nslookup",
        "example.org",
    ]);
    assert!(out.contains("Address: 10.1.2.3\n"), "{out}");
    // With --network none the servers are written as given.
    let conf = k.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "--dns",
        "10.0.0.53",
        "busybox",
        "cat",
        "/etc/resolv.conf",
    ]);
    assert!(
        conf.contains("nameserver 10.0.0.53\n") && !conf.contains("192.0.2.1"),
        "{conf}"
    );
    let created = k.ok(&[
        "create",
        "--add-host",
        "a.b:1.2.3.4",
        "--dns",
        "10.0.0.53",
        "busybox",
    ]);
    let hc = inspect(&k, created.trim(), "{{json .HostConfig}}");
    let hc: serde_json::Value = serde_json::from_str(&hc).unwrap();
    assert_eq!(hc["ExtraHosts"], serde_json::json!(["a.b:1.2.3.4"]));
    assert_eq!(hc["Dns"], serde_json::json!(["10.0.0.53"]));
    let e = k.fails(
        &[
            "run",
            "--rm",
            "--network",
            "none",
            "--add-host",
            "gw:host-gateway",
            "busybox",
            "true",
        ],
        125,
    );
    assert!(e.contains("host-gateway needs a bridge network"), "{e}");
    k.fails(
        &["run", "--rm", "--add-host", "nocolon", "busybox", "true"],
        125,
    );
    upstream.kill().unwrap();
    upstream.wait().unwrap();
    let ids = k.ok(&["ps", "-aq"]);
    k.ok(&["rm", ids.trim()]);
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn connect_and_disconnect_a_running_container() {
    let k = Kist::in_netns_with_busybox();
    k.ok(&["network", "create", "--subnet", "10.70.0.0/24", "back"]);
    k.ok(&[
        "run",
        "-d",
        "--name",
        "db",
        "--network",
        "back",
        "busybox",
        "sleep",
        "100",
    ]);
    k.ok(&["run", "-d", "--name", "app", "busybox", "sleep", "100"]);
    // Before: app cannot resolve db (it is not on back).
    k.ok(&[
        "network",
        "connect",
        "--ip",
        "10.70.0.50",
        "--alias",
        "api",
        "back",
        "app",
    ]);
    let addr = k.ok(&["exec", "app", "ip", "-4", "addr", "show", "eth1"]);
    assert!(addr.contains("inet 10.70.0.50/24"), "{addr}");
    let route = k.ok(&["exec", "app", "ip", "route"]);
    assert!(route.contains("default via 172.17.0.1 dev eth0"), "{route}");
    let out = k.ok(&["exec", "app", "nslookup", "db"]);
    assert!(out.contains("Address: 10.70.0.2\n"), "{out}");
    let out = k.ok(&["exec", "db", "nslookup", "api"]);
    assert!(out.contains("Address: 10.70.0.50\n"), "{out}");
    let ping = k.ok(&["exec", "app", "ping", "-c", "1", "-W", "2", "db"]);
    assert!(ping.contains("1 packets received"), "{ping}");
    assert_eq!(
        inspect(&k, "app", "{{.NetworkSettings.Networks.back.IPAddress}}"),
        "10.70.0.50"
    );
    let e = k.fails(&["network", "connect", "back", "app"], 1);
    assert_eq!(
        e,
        "kist: container app is already connected to network back\n"
    );
    k.fails(&["network", "connect", "nosuch", "app"], 1);
    k.ok(&["network", "disconnect", "back", "app"]);
    let links = k.ok(&["exec", "app", "ls", "/sys/class/net"]);
    assert_eq!(links, "eth0\nlo\n");
    let e = k.fails(&["network", "disconnect", "back", "app"], 1);
    assert_eq!(e, "kist: container app is not connected to network back\n");
    k.ok(&["rm", "-f", "db", "app"]);
    k.ok(&["network", "rm", "back"]);
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn network_container_shares_another_container_s_namespace() {
    let k = Kist::in_netns_with_busybox();
    k.ok(&[
        "run", "-d", "--name", "web", "-h", "webhost", "busybox", "httpd", "-f", "-p", "80", "-h",
        "/etc",
    ]);
    wait_for_httpd(&k, "web");
    // Its interfaces, its address, its files; localhost is the other's.
    let out = k.ok(&[
        "run",
        "--rm",
        "--network",
        "container:web",
        "busybox",
        "sh",
        "-c",
        "ip -4 addr show eth0; hostname; cat /etc/resolv.conf; wget -qO- http://127.0.0.1/hostname",
    ]);
    assert!(out.contains("inet 172.17.0.2/16"), "{out}");
    assert!(out.contains("\nwebhost\nnameserver 127.0.0.11\n"), "{out}");
    assert!(out.ends_with("webhost\n"), "{out}");
    let id = k.ok(&["create", "--network", "container:web", "busybox", "true"]);
    let web = inspect(&k, "web", "{{.Id}}");
    assert_eq!(
        inspect(&k, id.trim(), "{{.HostConfig.NetworkMode}}"),
        format!("container:{web}")
    );
    k.ok(&["rm", id.trim()]);
    let e = k.fails(
        &[
            "run",
            "--rm",
            "--network",
            "container:nosuch",
            "busybox",
            "true",
        ],
        125,
    );
    assert_eq!(e, "kist: no such container: nosuch\n");
    let e = k.fails(
        &[
            "run",
            "--rm",
            "--network",
            "container:web",
            "-p",
            "80:80",
            "busybox",
            "true",
        ],
        125,
    );
    assert!(e.contains("--publish needs a bridge network"), "{e}");
    k.ok(&["rm", "-f", "web"]);
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn a_kist_killed_during_network_set_up_leaves_no_address_port_or_rule() {
    let k = Kist::in_netns_with_busybox();
    for point in ["network:attached", "network:published"] {
        let out = k
            .command(&["run", "--rm", "-p", "8080:80", "busybox", "true"])
            .env("KIST_CRASH_AT", point)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), None, "{point}: killed by its signal");
        // The next command reconciles: the --rm container is gone with its port and rules.
        assert_eq!(k.ok(&["ps", "-aq"]), "", "{point}");
        let table = k.ns().ok("nft", &["list", "table", "inet", "kist"]);
        assert!(!table.contains("ctr-"), "{point}: {table}");
        let out = k.ok(&[
            "run", "--rm", "-p", "8080:80", "busybox", "ip", "-4", "addr", "show", "eth0",
        ]);
        assert!(
            out.contains("inet 172.17.0.2/16"),
            "{point}: the address is free again: {out}"
        );
    }
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn an_internal_network_is_not_masqueraded() {
    let k = Kist::in_netns_with_busybox();
    let id = k.ok(&[
        "network",
        "create",
        "--internal",
        "--subnet",
        "10.80.0.0/24",
        "inside",
    ]);
    let bridge = format!("br-{}", &id.trim()[..12]);
    k.ok(&["run", "--rm", "--network", "inside", "busybox", "true"]);
    let table = k.ns().ok("nft", &["list", "table", "inet", "kist"]);
    assert!(table.contains(&format!("chain fwd-{bridge}")), "{table}");
    assert!(
        !table.contains("ip saddr 10.80.0.0/24 oifname"),
        "no masquerade: {table}"
    );
    assert_eq!(inspect_network(&k, "inside", "{{.Internal}}"), "true");
    // The default network is masqueraded.
    k.ok(&["run", "--rm", "busybox", "true"]);
    let table = k.ns().ok("nft", &["list", "table", "inet", "kist"]);
    assert!(
        table.contains("ip saddr 172.17.0.0/16 oifname != \"kist0\" masquerade"),
        "{table}"
    );
    k.assert_clean();
}

fn inspect_network(k: &Kist, n: &str, format: &str) -> String {
    k.ok(&["network", "inspect", "-f", format, n])
        .trim()
        .to_string()
}
