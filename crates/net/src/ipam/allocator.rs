//! Which IPv4 address a container gets on a network: pure logic over the network's subnet,
//! gateway and ip-range and the addresses already taken (which the engine keeps in its state
//! store), so that it is tested without a kernel or a database.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use crate::error::{Error, Result};

/// A network's addresses: `kist network create --subnet --gateway --ip-range`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool {
    subnet: Ipv4Net,
    gateway: Ipv4Addr,
    range: Ipv4Net,
}

impl Pool {
    /// Checks the three together as Docker does. The gateway defaults to the subnet's first
    /// address, the range to the whole subnet. A host address given as subnet
    /// (`172.20.0.5/16`) is taken as its network.
    pub fn new(subnet: Ipv4Net, gateway: Option<Ipv4Addr>, range: Option<Ipv4Net>) -> Result<Pool> {
        let subnet = subnet.trunc();
        if subnet.prefix_len() > 30 {
            return Err(Error::Config(format!(
                "subnet {subnet} is too small for a bridge network (at most /30)"
            )));
        }
        let gateway = gateway.unwrap_or_else(|| first_host(subnet));
        let pool = Pool {
            subnet,
            gateway,
            range: range.map_or(subnet, |r| r.trunc()),
        };
        pool.check_gateway()?;
        pool.check_range()?;
        Ok(pool)
    }

    pub fn subnet(&self) -> Ipv4Net {
        self.subnet
    }

    pub fn gateway(&self) -> Ipv4Addr {
        self.gateway
    }

    pub fn range(&self) -> Ipv4Net {
        self.range
    }

    fn check_gateway(&self) -> Result<()> {
        if !self.subnet.contains(&self.gateway) {
            return Err(Error::Config(format!(
                "gateway {} is not in subnet {}",
                self.gateway, self.subnet
            )));
        }
        if let Some(what) = self.edge(self.gateway) {
            return Err(Error::Config(format!(
                "gateway {} is the {what} of subnet {}",
                self.gateway, self.subnet
            )));
        }
        Ok(())
    }

    fn check_range(&self) -> Result<()> {
        if self.subnet.contains(&self.range) {
            Ok(())
        } else {
            Err(Error::Config(format!(
                "ip-range {} is not in subnet {}",
                self.range, self.subnet
            )))
        }
    }

    /// The subnet's network or broadcast address, which no one gets.
    fn edge(&self, ip: Ipv4Addr) -> Option<&'static str> {
        if ip == self.subnet.network() {
            Some("network address")
        } else if ip == self.subnet.broadcast() {
            Some("broadcast address")
        } else {
            None
        }
    }

    fn reserved(&self, ip: Ipv4Addr) -> Option<&'static str> {
        if ip == self.gateway {
            Some("the gateway")
        } else {
            self.edge(ip)
        }
    }

    /// The next free address of the range after `after` (or from the range's start), wrapping
    /// around once: like Docker, a freed address is not handed out again at once while others
    /// are free (ARP caches and connections may still name it).
    pub fn next_free(
        &self,
        taken: &BTreeSet<Ipv4Addr>,
        after: Option<Ipv4Addr>,
    ) -> Result<Ipv4Addr> {
        let start = u32::from(self.range.network());
        let end = u32::from(self.range.broadcast());
        let from = after
            .map(u32::from)
            .filter(|a| (start..end).contains(a))
            .map_or(start, |a| a + 1);
        (from..=end)
            .chain(start..from)
            .map(Ipv4Addr::from)
            .find(|ip| self.reserved(*ip).is_none() && !taken.contains(ip))
            .ok_or(Error::NoFreeAddress { range: self.range })
    }

    /// A requested address (`--ip`): anywhere in the subnet, inside the range or not (static
    /// addresses outside the dynamic range are the usual way), but free and not reserved.
    pub fn request(&self, ip: Ipv4Addr, taken: &BTreeSet<Ipv4Addr>) -> Result<Ipv4Addr> {
        let subnet = self.subnet;
        if !subnet.contains(&ip) {
            return Err(Error::OutsideSubnet { ip, subnet });
        }
        if let Some(what) = self.reserved(ip) {
            return Err(Error::AddressReserved { ip, subnet, what });
        }
        if taken.contains(&ip) {
            return Err(Error::AddressInUse { ip, subnet });
        }
        Ok(ip)
    }
}

fn first_host(subnet: Ipv4Net) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(subnet.network()) + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Ipv4Net {
        s.parse().expect("test subnet")
    }

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().expect("test address")
    }

    fn taken(list: &[&str]) -> BTreeSet<Ipv4Addr> {
        list.iter().map(|s| ip(s)).collect()
    }

    #[test]
    fn gateway_defaults_to_the_first_address() {
        let pool = Pool::new(net("172.17.0.0/16"), None, None).expect("pool");
        assert_eq!(pool.gateway(), ip("172.17.0.1"));
        assert_eq!(pool.range(), net("172.17.0.0/16"));
    }

    #[test]
    fn a_host_address_as_subnet_means_its_network() {
        let pool = Pool::new(net("172.20.3.4/16"), None, None).expect("pool");
        assert_eq!(pool.subnet(), net("172.20.0.0/16"));
    }

    #[test]
    fn gateway_and_range_must_be_inside_the_subnet() {
        let subnet = net("10.1.0.0/24");
        let outside = Pool::new(subnet, Some(ip("10.2.0.1")), None).expect_err("outside");
        assert_eq!(
            outside.to_string(),
            "invalid network configuration: gateway 10.2.0.1 is not in subnet 10.1.0.0/24"
        );
        Pool::new(subnet, Some(ip("10.1.0.0")), None).expect_err("network address");
        Pool::new(subnet, Some(ip("10.1.0.255")), None).expect_err("broadcast");
        Pool::new(subnet, None, Some(net("10.1.1.0/28"))).expect_err("range outside");
        Pool::new(net("10.1.0.0/31"), None, None).expect_err("too small");
    }

    #[test]
    fn first_free_skips_network_gateway_and_taken() {
        let pool = Pool::new(net("172.18.0.0/16"), None, None).expect("pool");
        let none = BTreeSet::new();
        assert_eq!(
            pool.next_free(&none, None).expect("first"),
            ip("172.18.0.2")
        );
        let some = taken(&["172.18.0.2", "172.18.0.3"]);
        assert_eq!(pool.next_free(&some, None).expect("next"), ip("172.18.0.4"));
    }

    #[test]
    fn next_free_goes_on_after_the_last_one_and_wraps() {
        let pool = Pool::new(net("10.0.0.0/29"), None, None).expect("pool");
        let none = BTreeSet::new();
        // .0 network, .1 gateway, .7 broadcast: .2 to .6 are given out.
        assert_eq!(
            pool.next_free(&none, Some(ip("10.0.0.4"))).expect("after"),
            ip("10.0.0.5")
        );
        assert_eq!(
            pool.next_free(&none, Some(ip("10.0.0.6"))).expect("wraps"),
            ip("10.0.0.2")
        );
        let all_but_3 = taken(&["10.0.0.2", "10.0.0.4", "10.0.0.5", "10.0.0.6"]);
        assert_eq!(
            pool.next_free(&all_but_3, Some(ip("10.0.0.5")))
                .expect("only"),
            ip("10.0.0.3")
        );
        let full = taken(&["10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"]);
        let err = pool.next_free(&full, None).expect_err("full");
        assert_eq!(err.to_string(), "no free address left in 10.0.0.0/29");
    }

    #[test]
    fn next_free_stays_in_the_range() {
        let pool = Pool::new(net("172.20.0.0/16"), None, Some(net("172.20.5.0/30"))).expect("pool");
        let got = pool.next_free(&BTreeSet::new(), None).expect("first");
        assert_eq!(
            got,
            ip("172.20.5.0"),
            "a range's own edges are ordinary subnet addresses"
        );
        let full = taken(&["172.20.5.0", "172.20.5.1", "172.20.5.2", "172.20.5.3"]);
        pool.next_free(&full, None).expect_err("range full");
    }

    #[test]
    fn requested_addresses_are_checked() {
        let pool = Pool::new(net("172.20.0.0/16"), None, Some(net("172.20.5.0/24"))).expect("pool");
        let used = taken(&["172.20.0.9"]);
        assert_eq!(
            pool.request(ip("172.20.9.9"), &used)
                .expect("outside range, inside subnet"),
            ip("172.20.9.9")
        );
        let outside = pool.request(ip("172.21.0.2"), &used).expect_err("outside");
        assert_eq!(
            outside.to_string(),
            "address 172.21.0.2 is not in subnet 172.20.0.0/16"
        );
        let in_use = pool.request(ip("172.20.0.9"), &used).expect_err("taken");
        assert_eq!(
            in_use.to_string(),
            "address 172.20.0.9 is already in use on subnet 172.20.0.0/16"
        );
        let gw = pool.request(ip("172.20.0.1"), &used).expect_err("gateway");
        assert_eq!(
            gw.to_string(),
            "address 172.20.0.1 is reserved on subnet 172.20.0.0/16 (the gateway)"
        );
        pool.request(ip("172.20.255.255"), &used)
            .expect_err("broadcast");
    }
}
