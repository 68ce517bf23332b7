//! The host's resolvers, where names kist does not know are forwarded: the `nameserver`
//! lines of the host's /etc/resolv.conf (read by the process that forwards, in the host's
//! namespace, so that a loopback resolver such as 127.0.0.53 stays reachable).

use std::net::{IpAddr, SocketAddr};

/// The nameservers of a resolv.conf text, port 53, in order (at most three, as libc).
pub fn nameservers(text: &str) -> Vec<SocketAddr> {
    text.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            (words.next()? == "nameserver").then_some(())?;
            let address = words.next()?;
            // A scoped IPv6 address (fe80::1%eth0) names an interface of the host: skipped.
            address.parse::<IpAddr>().ok()
        })
        .take(3)
        .map(|ip| SocketAddr::new(ip, 53))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nameserver_lines_in_order() {
        let text = "# comment\nsearch example.com\nnameserver 127.0.0.53\nnameserver\tfd00::1\n\
                    nameserver fe80::1%eth0\noptions edns0\nnameserver bogus\nnameserver 10.0.0.1\n\
                    nameserver 10.0.0.2\n";
        let got: Vec<String> = nameservers(text).iter().map(ToString::to_string).collect();
        assert_eq!(got, ["127.0.0.53:53", "[fd00::1]:53", "10.0.0.1:53"]);
        assert!(nameservers("").is_empty());
    }
}
