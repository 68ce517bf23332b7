//! What kist puts in its own table `inet kist`, as data (tested without a kernel): the four
//! base chains, a network's chains (masquerading, isolation) and a container's chain of
//! published ports (DNAT). The base chains only hold jumps and accepts tagged with a comment
//! naming their owner (`kist network BRIDGE`, `kist container ID`), so that an owner's rules
//! are found again and go together with its chains.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use super::expr::Expr;
use super::matches::{self as m, Protocol};

pub(crate) const TABLE: &str = "kist";
pub(crate) const PREROUTING: &str = "prerouting";
pub(crate) const OUTPUT: &str = "output";
pub(crate) const POSTROUTING: &str = "postrouting";
pub(crate) const FORWARD: &str = "forward";

/// A base chain's hook: number (NF_INET_*), priority and chain type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hook {
    pub number: u32,
    pub priority: i32,
    pub kind: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Chain {
    pub name: String,
    pub hook: Option<Hook>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rule {
    pub chain: String,
    pub exprs: Vec<Expr>,
    /// Tags the rules kist puts in base chains with their owner.
    pub comment: Option<String>,
    /// Inserted before the chain's other rules (isolation drops) instead of appended.
    pub at_head: bool,
}

/// A bridge network's rules: masquerading of its subnet (unless internal) and isolation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkRules {
    pub bridge: String,
    pub subnet: Ipv4Net,
    pub internal: bool,
}

/// A published port: `-p [HOST_IP:]HOST_PORT:CONTAINER_PORT[/PROTO]` once resolved (a range
/// is one mapping per port).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortMapping {
    pub protocol: Protocol,
    /// None: every address of the host (127.0.0.1 included).
    pub host_ip: Option<Ipv4Addr>,
    pub host_port: u16,
    pub container_ip: Ipv4Addr,
    pub container_port: u16,
}

fn base(name: &str, number: u32, priority: i32, kind: &'static str) -> Chain {
    Chain {
        name: name.to_string(),
        hook: Some(Hook {
            number,
            priority,
            kind,
        }),
    }
}

fn regular(name: String) -> Chain {
    Chain { name, hook: None }
}

fn rule(chain: &str, parts: &[Vec<Expr>]) -> Rule {
    Rule {
        chain: chain.to_string(),
        exprs: parts.concat(),
        comment: None,
        at_head: false,
    }
}

fn tagged(mut rule: Rule, owner: &str, at_head: bool) -> Rule {
    rule.comment = Some(owner.to_string());
    rule.at_head = at_head;
    rule
}

/// prerouting and output DNAT (priority dstnat), postrouting masquerades (srcnat), forward
/// filters; every policy accept: kist's table never drops what is not its own.
pub(crate) fn base_chains() -> Vec<Chain> {
    vec![
        base(PREROUTING, 0, -100, "nat"),
        base(OUTPUT, 3, -100, "nat"),
        base(POSTROUTING, 4, 100, "nat"),
        base(FORWARD, 2, 0, "filter"),
    ]
}

pub(crate) fn network_owner(bridge: &str) -> String {
    format!("kist network {bridge}")
}

pub(crate) fn container_owner(id: &str) -> String {
    format!("kist container {id}")
}

pub(crate) fn network_chain_names(bridge: &str) -> [String; 2] {
    [format!("nat-{bridge}"), format!("fwd-{bridge}")]
}

pub(crate) fn container_chain_name(id: &str) -> String {
    format!("ctr-{id}")
}

/// The network's chains and rules, base-chain rules tagged with its owner.
pub(crate) fn network(net: &NetworkRules) -> (Vec<Chain>, Vec<Rule>) {
    let br = net.bridge.as_str();
    let owner = network_owner(br);
    let [nat, fwd] = network_chain_names(br);
    let mut rules = Vec::new();
    let mut chains = vec![regular(fwd.clone())];
    if !net.internal {
        chains.insert(0, regular(nat.clone()));
        rules.extend(masquerading(&nat, net));
        rules.push(tagged(rule(POSTROUTING, &[m::jump(&nat)]), &owner, false));
    }
    rules.extend(isolation(&fwd, net));
    rules.push(tagged(rule(FORWARD, &[m::jump(&fwd)]), &owner, true));
    rules.extend(accepts(net).into_iter().map(|r| tagged(r, &owner, false)));
    (chains, rules)
}

/// Outbound traffic of the subnet, connections from 127.0.0.1 DNATed into the network, and
/// hairpin connections (a container to a port published by its own network) leave with the
/// bridge's address, so that replies come back through the host's conntrack.
fn masquerading(chain: &str, net: &NetworkRules) -> Vec<Rule> {
    let br = net.bridge.as_str();
    let loopback = Ipv4Net::new_assert(Ipv4Addr::LOCALHOST, 8);
    vec![
        rule(
            chain,
            &[
                m::saddr_in(net.subnet),
                m::oifname(false, br),
                m::masquerade(),
            ],
        ),
        rule(
            chain,
            &[m::saddr_in(loopback), m::oifname(true, br), m::masquerade()],
        ),
        rule(
            chain,
            &[
                m::iifname(true, br),
                m::oifname(true, br),
                m::ct_dnat(true),
                m::masquerade(),
            ],
        ),
    ]
}

/// Drops only: an accept in a jumped-to chain would end the base chain for other networks'
/// checks too. A normal network takes no new connection from outside it unless DNATed (a
/// published port); an internal one exchanges nothing with anything outside it.
fn isolation(chain: &str, net: &NetworkRules) -> Vec<Rule> {
    let br = net.bridge.as_str();
    if net.internal {
        return vec![
            rule(
                chain,
                &[m::iifname(true, br), m::oifname(false, br), m::drop()],
            ),
            rule(
                chain,
                &[m::oifname(true, br), m::iifname(false, br), m::drop()],
            ),
        ];
    }
    vec![rule(
        chain,
        &[
            m::oifname(true, br),
            m::iifname(false, br),
            m::ct_new(),
            m::ct_dnat(false),
            m::drop(),
        ],
    )]
}

/// What passes once every network's drops are behind (appended to forward).
fn accepts(net: &NetworkRules) -> Vec<Rule> {
    let br = net.bridge.as_str();
    if net.internal {
        return vec![rule(
            FORWARD,
            &[m::iifname(true, br), m::oifname(true, br), m::accept()],
        )];
    }
    vec![
        rule(FORWARD, &[m::iifname(true, br), m::accept()]),
        rule(FORWARD, &[m::oifname(true, br), m::accept()]),
    ]
}

/// A container's chain of DNAT rules, one per published port, and its tagged jumps from
/// prerouting and output for packets addressed to the host.
pub(crate) fn container(id: &str, ports: &[PortMapping]) -> (Chain, Vec<Rule>) {
    let name = container_chain_name(id);
    let owner = container_owner(id);
    let mut rules: Vec<Rule> = ports.iter().map(|p| dnat(&name, p)).collect();
    for base in [PREROUTING, OUTPUT] {
        let jump = rule(base, &[m::to_local_address(), m::jump(&name)]);
        rules.push(tagged(jump, &owner, false));
    }
    (regular(name), rules)
}

fn dnat(chain: &str, p: &PortMapping) -> Rule {
    let mut parts = Vec::new();
    if let Some(ip) = p.host_ip.filter(|ip| !ip.is_unspecified()) {
        parts.push(m::daddr_is(ip));
    } else {
        parts.push(m::ipv4());
    }
    parts.push(m::dport(p.protocol, p.host_port));
    parts.push(m::dnat_to(p.container_ip, p.container_port));
    rule(chain, &parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(internal: bool) -> NetworkRules {
        NetworkRules {
            bridge: "kist0".to_string(),
            subnet: "172.17.0.0/16".parse().expect("net"),
            internal,
        }
    }

    fn in_chain<'a>(rules: &'a [Rule], chain: &str) -> Vec<&'a Rule> {
        rules.iter().filter(|r| r.chain == chain).collect()
    }

    #[test]
    fn a_network_masquerades_and_isolates() {
        let (chains, rules) = network(&net(false));
        let names: Vec<&str> = chains.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["nat-kist0", "fwd-kist0"]);
        assert_eq!(in_chain(&rules, "nat-kist0").len(), 3);
        assert_eq!(in_chain(&rules, "fwd-kist0").len(), 1);
        let jumps = in_chain(&rules, POSTROUTING);
        assert_eq!(jumps.len(), 1);
        assert_eq!(jumps[0].comment.as_deref(), Some("kist network kist0"));
        let forward = in_chain(&rules, FORWARD);
        assert_eq!(forward.len(), 3, "the jump and two accepts");
        assert!(forward[0].at_head && !forward[1].at_head && !forward[2].at_head);
        assert!(
            forward
                .iter()
                .all(|r| r.comment.as_deref() == Some("kist network kist0"))
        );
    }

    #[test]
    fn an_internal_network_has_no_masquerading() {
        let (chains, rules) = network(&net(true));
        assert_eq!(chains.len(), 1);
        assert!(in_chain(&rules, POSTROUTING).is_empty());
        assert_eq!(in_chain(&rules, "fwd-kist0").len(), 2);
        assert!(!rules.iter().any(|r| r.exprs.contains(&Expr::Masquerade)));
    }

    #[test]
    fn a_container_has_a_dnat_per_port_and_two_jumps() {
        let port = |host_port, host_ip| PortMapping {
            protocol: Protocol::Tcp,
            host_ip,
            host_port,
            container_ip: Ipv4Addr::new(172, 17, 0, 2),
            container_port: 80,
        };
        let ports = [port(8080, None), port(8081, Some(Ipv4Addr::LOCALHOST))];
        let (chain, rules) = container("abc", &ports);
        assert_eq!(chain.name, "ctr-abc");
        let dnats = in_chain(&rules, "ctr-abc");
        assert_eq!(dnats.len(), 2);
        assert!(dnats.iter().all(|r| r.exprs.last() == Some(&Expr::Dnat)));
        assert!(
            dnats[1].exprs.len() > dnats[0].exprs.len(),
            "the host address is matched"
        );
        for base in [PREROUTING, OUTPUT] {
            let jump = in_chain(&rules, base);
            assert_eq!(jump.len(), 1);
            assert_eq!(jump[0].comment.as_deref(), Some("kist container abc"));
        }
    }
}
