//! The matches kist's rules use, each as the expressions that make it: IPv4, source subnet,
//! destination address, interface names, protocol and port, local destination, conntrack
//! state and status; and the statements that end a rule.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use super::expr::{ACCEPT, CMP_EQ, CMP_NEQ, DROP, Expr, JUMP, REG_1, REG_2};

const NFT_META_IIFNAME: u32 = 6;
const NFT_META_OIFNAME: u32 = 7;
const NFT_META_NFPROTO: u32 = 15;
const NFT_META_L4PROTO: u32 = 16;
const NFT_PAYLOAD_NETWORK_HEADER: u32 = 1;
const NFT_PAYLOAD_TRANSPORT_HEADER: u32 = 2;
const NFT_CT_STATE: u32 = 0;
const NFT_CT_STATUS: u32 = 2;
const NFT_FIB_RESULT_ADDRTYPE: u32 = 3;
const NFTA_FIB_F_DADDR: u32 = 1 << 1;
const RTN_LOCAL: u32 = 2;
const NFPROTO_IPV4: u8 = 2;
const IFNAMSIZ: usize = 16;
/// `ct state new` (NF_CT_STATE_BIT(IP_CT_NEW)).
const CT_STATE_NEW: u32 = 1 << 3;
/// `ct status dnat` (IPS_DST_NAT).
const CT_STATUS_DNAT: u32 = 1 << 5;

/// The transport protocols a port can be published for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Tcp,
    Udp,
}

impl Protocol {
    fn number(self) -> u8 {
        match self {
            Protocol::Tcp => 6,
            Protocol::Udp => 17,
        }
    }
}

fn cmp(op: u32, data: impl Into<Vec<u8>>) -> Expr {
    Expr::Cmp {
        op,
        data: data.into(),
    }
}

/// `meta nfproto ipv4` (the table is `inet`: IPv4 matches first check the family).
pub(crate) fn ipv4() -> Vec<Expr> {
    vec![
        Expr::Meta {
            key: NFT_META_NFPROTO,
        },
        cmp(CMP_EQ, [NFPROTO_IPV4]),
    ]
}

/// `ip saddr SUBNET`.
pub(crate) fn saddr_in(subnet: Ipv4Net) -> Vec<Expr> {
    let mut e = ipv4();
    e.push(Expr::Payload {
        base: NFT_PAYLOAD_NETWORK_HEADER,
        offset: 12,
        len: 4,
    });
    e.push(Expr::Bitwise {
        mask: subnet.netmask().octets().to_vec(),
    });
    e.push(cmp(CMP_EQ, subnet.network().octets()));
    e
}

/// `ip daddr ADDRESS`.
pub(crate) fn daddr_is(ip: Ipv4Addr) -> Vec<Expr> {
    let mut e = ipv4();
    e.push(Expr::Payload {
        base: NFT_PAYLOAD_NETWORK_HEADER,
        offset: 16,
        len: 4,
    });
    e.push(cmp(CMP_EQ, ip.octets()));
    e
}

fn ifname(name: &str) -> Vec<u8> {
    let mut bytes = vec![0u8; IFNAMSIZ];
    let n = name.len().min(IFNAMSIZ - 1);
    bytes[..n].copy_from_slice(&name.as_bytes()[..n]);
    bytes
}

/// `iifname [!=] NAME`.
pub(crate) fn iifname(equal: bool, name: &str) -> Vec<Expr> {
    let op = if equal { CMP_EQ } else { CMP_NEQ };
    vec![
        Expr::Meta {
            key: NFT_META_IIFNAME,
        },
        cmp(op, ifname(name)),
    ]
}

/// `oifname [!=] NAME`.
pub(crate) fn oifname(equal: bool, name: &str) -> Vec<Expr> {
    let op = if equal { CMP_EQ } else { CMP_NEQ };
    vec![
        Expr::Meta {
            key: NFT_META_OIFNAME,
        },
        cmp(op, ifname(name)),
    ]
}

/// `meta l4proto PROTO th dport PORT`.
pub(crate) fn dport(protocol: Protocol, port: u16) -> Vec<Expr> {
    vec![
        Expr::Meta {
            key: NFT_META_L4PROTO,
        },
        cmp(CMP_EQ, [protocol.number()]),
        Expr::Payload {
            base: NFT_PAYLOAD_TRANSPORT_HEADER,
            offset: 2,
            len: 2,
        },
        cmp(CMP_EQ, port.to_be_bytes()),
    ]
}

/// `fib daddr type local`: addressed to this host (any of its addresses, 127.0.0.1 too).
pub(crate) fn to_local_address() -> Vec<Expr> {
    vec![
        Expr::Fib {
            result: NFT_FIB_RESULT_ADDRTYPE,
            flags: NFTA_FIB_F_DADDR,
        },
        cmp(CMP_EQ, RTN_LOCAL.to_ne_bytes()),
    ]
}

fn ct_flag(key: u32, flag: u32, set: bool) -> Vec<Expr> {
    let op = if set { CMP_NEQ } else { CMP_EQ };
    vec![
        Expr::Ct { key },
        Expr::Bitwise {
            mask: flag.to_ne_bytes().to_vec(),
        },
        cmp(op, 0u32.to_ne_bytes()),
    ]
}

/// `ct state new`.
pub(crate) fn ct_new() -> Vec<Expr> {
    ct_flag(NFT_CT_STATE, CT_STATE_NEW, true)
}

/// `ct status dnat` (or its negation).
pub(crate) fn ct_dnat(set: bool) -> Vec<Expr> {
    ct_flag(NFT_CT_STATUS, CT_STATUS_DNAT, set)
}

pub(crate) fn accept() -> Vec<Expr> {
    vec![Expr::Verdict {
        code: ACCEPT,
        chain: None,
    }]
}

pub(crate) fn drop() -> Vec<Expr> {
    vec![Expr::Verdict {
        code: DROP,
        chain: None,
    }]
}

pub(crate) fn jump(chain: &str) -> Vec<Expr> {
    vec![Expr::Verdict {
        code: JUMP,
        chain: Some(chain.to_string()),
    }]
}

pub(crate) fn masquerade() -> Vec<Expr> {
    vec![Expr::Masquerade]
}

/// `dnat ip to ADDRESS:PORT`.
pub(crate) fn dnat_to(ip: Ipv4Addr, port: u16) -> Vec<Expr> {
    vec![
        Expr::Immediate {
            reg: REG_1,
            data: ip.octets().to_vec(),
        },
        Expr::Immediate {
            reg: REG_2,
            data: port.to_be_bytes().to_vec(),
        },
        Expr::Dnat,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subnet_is_masked_and_compared_in_network_order() {
        let e = saddr_in("10.88.0.0/15".parse().expect("net"));
        assert_eq!(
            e[3],
            Expr::Bitwise {
                mask: vec![255, 254, 0, 0]
            }
        );
        assert_eq!(e[4], cmp(CMP_EQ, [10, 88, 0, 0]));
    }

    #[test]
    fn interface_names_fill_ifnamsiz() {
        let e = oifname(false, "kist0");
        let mut want = b"kist0".to_vec();
        want.resize(16, 0);
        assert_eq!(e[1], cmp(CMP_NEQ, want));
    }

    #[test]
    fn ports_are_big_endian() {
        let e = dport(Protocol::Udp, 8080);
        assert_eq!(e[1], cmp(CMP_EQ, [17]));
        assert_eq!(e[3], cmp(CMP_EQ, [0x1f, 0x90]));
    }
}
