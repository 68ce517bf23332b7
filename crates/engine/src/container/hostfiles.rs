//! The generated /etc/hostname, /etc/hosts and /etc/resolv.conf of a container.

use crate::options::NetworkMode;

pub fn hostname_file(hostname: &str) -> String {
    format!("{hostname}\n")
}

/// What the user adds to the generated files: `--add-host` (resolved: `host-gateway` is the
/// network's gateway), `--dns`, `--dns-search`, `--dns-option`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extras {
    /// (name, address) pairs.
    pub hosts: Vec<(String, String)>,
    pub dns: Vec<String>,
    pub search: Vec<String>,
    pub options: Vec<String>,
}

impl Extras {
    /// What a container's record keeps of them (HostConfig's fields).
    pub fn from_config(config: &serde_json::Value) -> Extras {
        let list = |key: &str| -> Vec<String> {
            serde_json::from_value(config[key].clone()).unwrap_or_default()
        };
        Extras {
            hosts: list("ExtraHosts")
                .iter()
                .filter_map(|h| h.split_once(':'))
                .map(|(n, ip)| (n.to_string(), ip.to_string()))
                .collect(),
            dns: list("Dns"),
            search: list("DnsSearch"),
            options: list("DnsOptions"),
        }
    }

    pub fn to_config(&self, config: &mut serde_json::Value) {
        let hosts: Vec<String> = self
            .hosts
            .iter()
            .map(|(n, ip)| format!("{n}:{ip}"))
            .collect();
        config["ExtraHosts"] = serde_json::json!(hosts);
        config["Dns"] = serde_json::json!(self.dns);
        config["DnsSearch"] = serde_json::json!(self.search);
        config["DnsOptions"] = serde_json::json!(self.options);
    }
}

pub fn hosts_file(hostname: &str, network: NetworkMode, extras: &Extras) -> String {
    if network == NetworkMode::Host
        && let Ok(host) = std::fs::read_to_string("/etc/hosts")
    {
        return host + &extra_hosts(extras);
    }
    // With no address yet (or no network of its own) the container still finds itself.
    local_hosts(hostname, "127.0.1.1", extras)
}

/// Docker's entries, the user's, then the container's own name.
fn local_hosts(hostname: &str, own: &str, extras: &Extras) -> String {
    let mut s = String::from(
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n",
    );
    s.push_str(&extra_hosts(extras));
    s.push_str(&format!("{own}\t{hostname}\n"));
    s
}

fn extra_hosts(extras: &Extras) -> String {
    extras
        .hosts
        .iter()
        .map(|(name, ip)| format!("{ip}\t{name}\n"))
        .collect()
}

/// /etc/hosts on a bridge network: the container's name at its address, as Docker writes it.
pub fn bridge_hosts_file(hostname: &str, ip: std::net::Ipv4Addr, extras: &Extras) -> String {
    local_hosts(hostname, &ip.to_string(), extras)
}

/// The host's resolv.conf (on the host's network, or with `--network none` without the host's
/// loopback resolvers, unreachable from there, falling back to public ones as Docker does),
/// or kist's responder on a bridge network; `--dns*` replace their parts.
pub fn resolv_conf(network: NetworkMode, extras: &Extras) -> String {
    let host = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let base = match network {
        NetworkMode::Host if extras.dns.is_empty() => host,
        NetworkMode::Host | NetworkMode::None | NetworkMode::Container
            if !extras.dns.is_empty() =>
        {
            let mut s: String = host
                .lines()
                .filter(|l| !l.starts_with("nameserver"))
                .map(|l| format!("{l}\n"))
                .collect();
            for d in &extras.dns {
                s.push_str(&format!("nameserver {d}\n"));
            }
            s
        }
        NetworkMode::Host | NetworkMode::None | NetworkMode::Container => filter_resolv_conf(&host),
        NetworkMode::Bridge => bridge_resolv_conf(&host),
    };
    with_search_and_options(&base, extras)
}

fn with_search_and_options(base: &str, extras: &Extras) -> String {
    if extras.search.is_empty() && extras.options.is_empty() {
        return base.to_string();
    }
    let mut out = String::new();
    if !extras.search.is_empty() {
        out.push_str(&format!("search {}\n", extras.search.join(" ")));
    }
    for line in base.lines() {
        let replaced = (!extras.search.is_empty()
            && (line.starts_with("search") || line.starts_with("domain")))
            || (!extras.options.is_empty() && line.starts_with("options"));
        if !replaced {
            out.push_str(line);
            out.push('\n');
        }
    }
    if !extras.options.is_empty() {
        out.push_str(&format!("options {}\n", extras.options.join(" ")));
    }
    out
}

/// On a bridge network, kist's responder (`network/dns.rs`) with the host's search domains,
/// as Docker writes it for a user network.
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
        let none = Extras::default();
        assert!(hosts_file("abc", NetworkMode::None, &none).contains("127.0.1.1\tabc\n"));
        let extras = Extras {
            hosts: vec![("db".into(), "10.0.0.5".into())],
            dns: vec!["10.0.0.53".into()],
            search: vec!["corp".into()],
            options: vec!["ndots:2".into()],
        };
        let hosts = bridge_hosts_file("abc", std::net::Ipv4Addr::new(172, 17, 0, 2), &extras);
        assert!(
            hosts.ends_with("ff02::2\tip6-allrouters\n10.0.0.5\tdb\n172.17.0.2\tabc\n"),
            "{hosts}"
        );
        let conf = with_search_and_options(
            "search lan\nnameserver 127.0.0.11\noptions ndots:0\n",
            &extras,
        );
        assert_eq!(
            conf,
            "search corp\nnameserver 127.0.0.11\noptions ndots:2\n"
        );
        let conf = bridge_resolv_conf("search lan\nnameserver 10.0.0.1\noptions rotate\n");
        assert_eq!(conf, "search lan\nnameserver 127.0.0.11\noptions ndots:0\n");
        let bridged = bridge_hosts_file("abc", std::net::Ipv4Addr::new(172, 17, 0, 2), &none);
        assert!(
            bridged.ends_with("ff02::2\tip6-allrouters\n172.17.0.2\tabc\n"),
            "{bridged}"
        );
    }
}
