//! The names a container resolves without leaving kist: what the engine knows of the
//! containers on its networks (names, aliases, hostnames), as a lookup the DNS responder asks,
//! and a plain table implementing it, with the networks' domains stripped.

use std::collections::HashMap;
use std::net::Ipv4Addr;

/// Where the responder looks names up. `name` is lower-case, without the trailing dot.
/// `None`: not a name of ours (it is forwarded); `Some` with no address: ours, without IPv4.
pub trait Lookup {
    fn ipv4(&self, name: &str) -> Option<Vec<Ipv4Addr>>;
}

/// A table of names, each with its addresses, and the domains under which they are also
/// known (`web` and `web.mynet` with domain `mynet`).
#[derive(Debug, Default, Clone)]
pub struct Names {
    entries: HashMap<String, Vec<Ipv4Addr>>,
    domains: Vec<String>,
}

impl Names {
    pub fn new() -> Names {
        Names::default()
    }

    /// Adds `ip` to `name` (a container name, alias or hostname; case does not matter).
    pub fn insert(&mut self, name: &str, ip: Ipv4Addr) {
        let ips = self.entries.entry(normalize(name)).or_default();
        if !ips.contains(&ip) {
            ips.push(ip);
        }
    }

    /// A domain the names are also found under.
    pub fn add_domain(&mut self, domain: &str) {
        self.domains.push(normalize(domain));
    }

    fn find(&self, name: &str) -> Option<&Vec<Ipv4Addr>> {
        self.entries.get(name).or_else(|| {
            self.domains.iter().find_map(|domain| {
                let short = name.strip_suffix(domain.as_str())?.strip_suffix('.')?;
                self.entries.get(short)
            })
        })
    }
}

impl Lookup for Names {
    fn ipv4(&self, name: &str) -> Option<Vec<Ipv4Addr>> {
        self.find(name).cloned()
    }
}

/// Lower case, no trailing dot: how names are compared.
pub(crate) fn normalize(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_and_without_the_domain_any_case() {
        let mut names = Names::new();
        let ip = Ipv4Addr::new(172, 18, 0, 2);
        names.insert("Web", ip);
        names.insert("web", ip);
        names.insert("db", Ipv4Addr::new(172, 18, 0, 3));
        names.add_domain("mynet.");
        assert_eq!(
            names.ipv4("web"),
            Some(vec![ip]),
            "one address, case ignored"
        );
        assert_eq!(names.ipv4("web.mynet"), Some(vec![ip]));
        assert_eq!(names.ipv4("web.other"), None);
        assert_eq!(names.ipv4("mynet"), None);
        assert_eq!(names.ipv4("xweb.mynet"), None);
    }
}
