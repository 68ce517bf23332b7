//! The generated /etc/hostname, /etc/hosts and /etc/resolv.conf of a container.

use crate::options::NetworkMode;

pub fn hostname_file(hostname: &str) -> String {
    format!("{hostname}\n")
}

pub fn hosts_file(hostname: &str, network: NetworkMode) -> String {
    if network == NetworkMode::Host
        && let Ok(host) = std::fs::read_to_string("/etc/hosts")
    {
        return host;
    }
    let mut s = String::from(
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n",
    );
    // With no network of its own the container still finds itself by name.
    s.push_str(&format!("127.0.1.1\t{hostname}\n"));
    s
}

/// /etc/hosts on a bridge network: the container's name at its address, as Docker writes it.
pub fn bridge_hosts_file(hostname: &str, ip: std::net::Ipv4Addr) -> String {
    let local = hosts_file(hostname, NetworkMode::None);
    local.replace(
        &format!("127.0.1.1\t{hostname}\n"),
        &format!("{ip}\t{hostname}\n"),
    )
}

/// The host's resolv.conf; in a network namespace of its own, without the host's loopback
/// resolvers (unreachable from there), falling back to public ones as Docker does.
pub fn resolv_conf(network: NetworkMode) -> String {
    let host = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    match network {
        NetworkMode::Host => host,
        NetworkMode::None => filter_resolv_conf(&host),
        NetworkMode::Bridge => bridge_resolv_conf(&host),
    }
}

/// On a bridge network, kist's responder (`network/dns.rs`) with the host's search domains
/// and options, as Docker writes it for a user network.
fn bridge_resolv_conf(host: &str) -> String {
    let mut out = String::new();
    for line in host.lines() {
        if line.starts_with("search") || line.starts_with("domain") {
            out.push_str(line);
            out.push('\n');
        }
    }
    out.push_str("nameserver 127.0.0.11\noptions ndots:0\n");
    out
}

fn filter_resolv_conf(host: &str) -> String {
    let mut out = String::new();
    let mut nameservers = 0;
    for line in host.lines() {
        let mut words = line.split_whitespace();
        if words.next() == Some("nameserver") {
            let addr = words.next().unwrap_or("");
            if addr.starts_with("127.") || addr == "::1" {
                continue;
            }
            nameservers += 1;
        }
        out.push_str(line);
        out.push('\n');
    }
    if nameservers == 0 {
        out.push_str("nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_resolvers_are_dropped() {
        let out = filter_resolv_conf("search lan\nnameserver 127.0.0.53\n");
        assert_eq!(out, "search lan\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n");
        let out = filter_resolv_conf("nameserver 10.0.0.1\nnameserver ::1\n");
        assert_eq!(out, "nameserver 10.0.0.1\n");
    }

    #[test]
    fn hosts_names_the_container() {
        assert!(hosts_file("abc", NetworkMode::None).contains("127.0.1.1\tabc\n"));
        let conf = bridge_resolv_conf("search lan\nnameserver 10.0.0.1\noptions rotate\n");
        assert_eq!(conf, "search lan\nnameserver 127.0.0.11\noptions ndots:0\n");
        let bridged = bridge_hosts_file("abc", std::net::Ipv4Addr::new(172, 17, 0, 2));
        assert!(
            bridged.ends_with("ff02::2\tip6-allrouters\n172.17.0.2\tabc\n"),
            "{bridged}"
        );
    }
}
