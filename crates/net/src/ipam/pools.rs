//! Where a new network's subnet comes from when none is given: Docker's default address
//! pools (or ROOT/config.json's `default-address-pools`), skipping every subnet that overlaps
//! an existing network or a route of the host; and the same overlap check for a given subnet.

use ipnet::Ipv4Net;

use crate::error::{Error, Result};

/// One `default-address-pools` entry: `base` cut into subnets of prefix length `size`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressPool {
    pub base: Ipv4Net,
    pub size: u8,
}

/// A subnet that is already in use, and by what (for the error message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InUse {
    pub subnet: Ipv4Net,
    pub what: String,
}

impl InUse {
    /// A route of the host (from `Netlink::ipv4_routes`).
    pub fn host_route(subnet: Ipv4Net) -> InUse {
        InUse {
            subnet,
            what: "a route of the host".to_string(),
        }
    }

    /// An existing network's subnet.
    pub fn network(subnet: Ipv4Net, name: &str) -> InUse {
        InUse {
            subnet,
            what: format!("network {name}"),
        }
    }
}

/// Docker's defaults: 172.17.0.0/16 (the default `bridge` network) to 172.31.0.0/16, then
/// 192.168.0.0/16 in /20s.
pub fn default_pools() -> Vec<AddressPool> {
    let mut pools: Vec<AddressPool> = (17..=31)
        .map(|second| AddressPool {
            base: Ipv4Net::new_assert([172, second, 0, 0].into(), 16),
            size: 16,
        })
        .collect();
    pools.push(AddressPool {
        base: Ipv4Net::new_assert([192, 168, 0, 0].into(), 16),
        size: 20,
    });
    pools
}

/// Whether two subnets share an address.
pub fn overlaps(a: Ipv4Net, b: Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// Fails, naming the first one, if `subnet` overlaps anything in `in_use`.
pub fn check_free(subnet: Ipv4Net, in_use: &[InUse]) -> Result<()> {
    match in_use.iter().find(|u| overlaps(subnet, u.subnet)) {
        Some(u) => Err(Error::Overlap {
            subnet,
            other: u.subnet,
            what: u.what.clone(),
        }),
        None => Ok(()),
    }
}

/// The first subnet of the pools, in order, that overlaps nothing in `in_use`.
pub fn choose_subnet(pools: &[AddressPool], in_use: &[InUse]) -> Result<Ipv4Net> {
    for pool in pools {
        let subnets = pool.base.subnets(pool.size).map_err(|_| {
            Error::Config(format!(
                "address pool {} cannot be cut into /{} subnets",
                pool.base, pool.size
            ))
        })?;
        if let Some(free) = subnets.into_iter().find(|s| check_free(*s, in_use).is_ok()) {
            return Ok(free);
        }
    }
    Err(Error::PoolsExhausted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Ipv4Net {
        s.parse().expect("test subnet")
    }

    fn used(s: &str, what: &str) -> InUse {
        InUse {
            subnet: net(s),
            what: what.to_string(),
        }
    }

    #[test]
    fn the_default_bridge_gets_172_17_and_user_networks_the_next() {
        let pools = default_pools();
        assert_eq!(
            choose_subnet(&pools, &[]).expect("first"),
            net("172.17.0.0/16")
        );
        let bridge = [used("172.17.0.0/16", "network bridge")];
        assert_eq!(
            choose_subnet(&pools, &bridge).expect("second"),
            net("172.18.0.0/16")
        );
    }

    #[test]
    fn host_routes_are_skipped() {
        let pools = default_pools();
        let in_use = [
            used("172.17.5.0/24", "a route of the host"),
            used("172.16.0.0/12", "vpn"),
        ];
        assert_eq!(
            choose_subnet(&pools, &in_use).expect("after 172/12"),
            net("192.168.0.0/20")
        );
        let more = [used("172.16.0.0/12", "vpn"), used("192.168.0.0/19", "lan")];
        assert_eq!(
            choose_subnet(&pools, &more).expect("third /20"),
            net("192.168.32.0/20")
        );
    }

    #[test]
    fn exhausted_pools_say_so() {
        let pools = [AddressPool {
            base: net("10.10.0.0/24"),
            size: 25,
        }];
        let full = [used("10.10.0.0/24", "network a")];
        let err = choose_subnet(&pools, &full).expect_err("exhausted");
        assert_eq!(
            err.to_string(),
            "all predefined address pools have been fully subnetted"
        );
        let bad = [AddressPool {
            base: net("10.10.0.0/24"),
            size: 16,
        }];
        choose_subnet(&bad, &[]).expect_err("size larger than base");
    }

    #[test]
    fn overlap_either_way() {
        assert!(overlaps(net("10.0.0.0/8"), net("10.1.2.0/24")));
        assert!(overlaps(net("10.1.2.0/24"), net("10.0.0.0/8")));
        assert!(!overlaps(net("10.1.2.0/24"), net("10.1.3.0/24")));
        let err = check_free(net("10.1.0.0/16"), &[used("10.1.2.0/24", "network web")])
            .expect_err("overlap");
        assert_eq!(
            err.to_string(),
            "subnet 10.1.0.0/16 overlaps 10.1.2.0/24 (network web)"
        );
    }
}
