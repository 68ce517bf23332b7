//! Reading back what kist's base chains hold: a dump's rules (chain, handle, comment), from
//! their netlink attributes.

use super::batch::{
    NFTA_RULE_CHAIN, NFTA_RULE_HANDLE, NFTA_RULE_USERDATA, NFTNL_UDATA_RULE_COMMENT,
};
use crate::netlink::{align4, u16_at};

const NFGENMSG_LEN: usize = 4;
const NLA_TYPE_MASK: u16 = 0x3fff;

/// A rule as a dump shows it, enough to delete it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RuleInfo {
    pub chain: String,
    pub handle: u64,
    pub comment: Option<String>,
}

/// The (type, value) attributes of `buf`; stops at the first malformed one.
fn attributes(mut buf: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        if buf.len() < 4 {
            return None;
        }
        let len = usize::from(u16_at(buf, 0));
        if len < 4 || len > buf.len() {
            return None;
        }
        let item = (u16_at(buf, 2) & NLA_TYPE_MASK, &buf[4..len]);
        buf = &buf[align4(len).min(buf.len())..];
        Some(item)
    })
}

fn string(value: &[u8]) -> String {
    let text = value.split(|b| *b == 0).next().unwrap_or_default();
    String::from_utf8_lossy(text).into_owned()
}

/// A NEWRULE message's payload (after the netlink header).
pub(crate) fn rule(payload: &[u8]) -> Option<RuleInfo> {
    let mut chain = None;
    let mut handle = None;
    let mut comment = None;
    for (kind, value) in attributes(payload.get(NFGENMSG_LEN..)?) {
        match kind {
            NFTA_RULE_CHAIN => chain = Some(string(value)),
            NFTA_RULE_HANDLE => handle = value.try_into().ok().map(u64::from_be_bytes),
            NFTA_RULE_USERDATA => comment = udata_comment(value),
            _ => {}
        }
    }
    Some(RuleInfo {
        chain: chain?,
        handle: handle?,
        comment,
    })
}

/// The comment among libnftnl's user-data TLVs (type u8, length u8, value).
fn udata_comment(mut udata: &[u8]) -> Option<String> {
    while udata.len() >= 2 {
        let (kind, len) = (udata[0], usize::from(udata[1]));
        let value = udata.get(2..2 + len)?;
        if kind == NFTNL_UDATA_RULE_COMMENT {
            return Some(string(value));
        }
        udata = &udata[2 + len..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nft::message::Message;

    #[test]
    fn a_dumped_rule_gives_its_chain_handle_and_comment() {
        let mut m = Message::new(0x0a06, 0, 1, 1, 0);
        m.str(1, "kist")
            .str(NFTA_RULE_CHAIN, "prerouting")
            .u64(NFTA_RULE_HANDLE, 42);
        m.bytes(NFTA_RULE_USERDATA, b"\x01\x02ab\x00\x07kist x\x00");
        let bytes = m.finish();
        let info = rule(&bytes[16..]).expect("a rule");
        assert_eq!(
            info,
            RuleInfo {
                chain: "prerouting".to_string(),
                handle: 42,
                comment: Some("kist x".to_string()),
            }
        );
    }
}
