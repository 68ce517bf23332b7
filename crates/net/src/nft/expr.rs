//! The nf_tables expressions kist's rules are made of (meta, payload, bitwise, cmp, ct, fib,
//! immediate, nat, masq), each written as one element of a rule's expression list. Loads go
//! to register 1; a DNAT's address and port go to registers 1 and 2.

use super::message::Message;

const NFTA_LIST_ELEM: u16 = 1;
const NFTA_EXPR_NAME: u16 = 1;
const NFTA_EXPR_DATA: u16 = 2;
const NFTA_DATA_VALUE: u16 = 1;
const NFTA_DATA_VERDICT: u16 = 2;
const NFTA_VERDICT_CODE: u16 = 1;
const NFTA_VERDICT_CHAIN: u16 = 2;

const NFT_REG_VERDICT: u32 = 0;
pub(crate) const REG_1: u32 = 1;
pub(crate) const REG_2: u32 = 2;

/// Verdicts (NF_DROP, NF_ACCEPT, NFT_JUMP).
pub(crate) const DROP: i32 = 0;
pub(crate) const ACCEPT: i32 = 1;
pub(crate) const JUMP: i32 = -3;

/// Comparison operators.
pub(crate) const CMP_EQ: u32 = 0;
pub(crate) const CMP_NEQ: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Expr {
    /// A packet's meta datum (NFT_META_*) into register 1.
    Meta {
        key: u32,
    },
    /// `len` bytes at `offset` of a header (NFT_PAYLOAD_*_HEADER) into register 1.
    Payload {
        base: u32,
        offset: u32,
        len: u32,
    },
    /// Register 1 = register 1 & mask (xor 0).
    Bitwise {
        mask: Vec<u8>,
    },
    /// Register 1 compared with `data`; the rule stops here unless it holds.
    Cmp {
        op: u32,
        data: Vec<u8>,
    },
    /// A conntrack datum (NFT_CT_*) into register 1.
    Ct {
        key: u32,
    },
    /// A FIB lookup's result (NFT_FIB_RESULT_*) into register 1.
    Fib {
        result: u32,
        flags: u32,
    },
    /// Data into a register.
    Immediate {
        reg: u32,
        data: Vec<u8>,
    },
    /// A verdict, with the chain of a jump.
    Verdict {
        code: i32,
        chain: Option<String>,
    },
    /// IPv4 DNAT to the address in register 1 and the port in register 2.
    Dnat,
    Masquerade,
}

impl Expr {
    fn name(&self) -> &'static str {
        match self {
            Expr::Meta { .. } => "meta",
            Expr::Payload { .. } => "payload",
            Expr::Bitwise { .. } => "bitwise",
            Expr::Cmp { .. } => "cmp",
            Expr::Ct { .. } => "ct",
            Expr::Fib { .. } => "fib",
            Expr::Immediate { .. } | Expr::Verdict { .. } => "immediate",
            Expr::Dnat => "nat",
            Expr::Masquerade => "masq",
        }
    }

    /// Appends this expression as an element of an NFTA_RULE_EXPRESSIONS list.
    pub fn emit(&self, m: &mut Message) {
        m.nested(NFTA_LIST_ELEM, |elem| {
            elem.str(NFTA_EXPR_NAME, self.name());
            elem.nested(NFTA_EXPR_DATA, |data| self.emit_data(data));
        });
    }

    fn emit_data(&self, m: &mut Message) {
        match self {
            Expr::Meta { key } => {
                m.u32(2, *key).u32(1, REG_1);
            }
            Expr::Payload { base, offset, len } => {
                m.u32(1, REG_1).u32(2, *base).u32(3, *offset).u32(4, *len);
            }
            Expr::Bitwise { mask } => {
                let len = u32::try_from(mask.len()).unwrap_or(u32::MAX);
                m.u32(1, REG_1).u32(2, REG_1).u32(3, len);
                m.nested(4, |d| value(d, mask));
                m.nested(5, |d| value(d, &vec![0; mask.len()]));
            }
            Expr::Cmp { op, data } => {
                m.u32(1, REG_1).u32(2, *op);
                m.nested(3, |d| value(d, data));
            }
            Expr::Ct { key } => {
                m.u32(1, REG_1).u32(2, *key);
            }
            Expr::Fib { result, flags } => {
                m.u32(1, REG_1).u32(2, *result).u32(3, *flags);
            }
            Expr::Immediate { reg, data } => {
                m.u32(1, *reg);
                m.nested(2, |d| value(d, data));
            }
            Expr::Verdict { code, chain } => {
                m.u32(1, NFT_REG_VERDICT);
                m.nested(2, |d| verdict(d, *code, chain.as_deref()));
            }
            Expr::Dnat => dnat(m),
            Expr::Masquerade => {}
        }
    }
}

fn value(m: &mut Message, data: &[u8]) {
    m.bytes(NFTA_DATA_VALUE, data);
}

fn verdict(m: &mut Message, code: i32, chain: Option<&str>) {
    m.nested(NFTA_DATA_VERDICT, |v| {
        v.bytes(NFTA_VERDICT_CODE, &code.to_be_bytes());
        if let Some(chain) = chain {
            v.str(NFTA_VERDICT_CHAIN, chain);
        }
    });
}

/// NFTA_NAT_*: type DNAT, family IPv4, address and port ranges of one register each, flags
/// NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED.
fn dnat(m: &mut Message) {
    const NFT_NAT_DNAT: u32 = 1;
    const NFPROTO_IPV4: u32 = 2;
    m.u32(1, NFT_NAT_DNAT).u32(2, NFPROTO_IPV4);
    m.u32(3, REG_1).u32(4, REG_1).u32(5, REG_2).u32(6, REG_2);
    m.u32(7, 0x1 | 0x2);
}
