//! One nf_tables transaction: a batch-begin message, the commands (each asking for an
//! acknowledgement and remembered with what it does, for the error), a batch-end message. The
//! kernel applies all of it or none.

use netlink_packet_core::{NLM_F_ACK, NLM_F_APPEND, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REQUEST};

use super::message::Message;
use super::rules::{Chain, Rule, TABLE};

const NFNL_SUBSYS_NFTABLES: u16 = 10;
const NFNL_MSG_BATCH_BEGIN: u16 = 16;
const NFNL_MSG_BATCH_END: u16 = 17;
pub(crate) const NFPROTO_INET: u8 = 1;

pub(crate) const NFT_MSG_NEWTABLE: u8 = 0;
pub(crate) const NFT_MSG_NEWCHAIN: u8 = 3;
pub(crate) const NFT_MSG_GETCHAIN: u8 = 4;
pub(crate) const NFT_MSG_DELCHAIN: u8 = 5;
pub(crate) const NFT_MSG_NEWRULE: u8 = 6;
pub(crate) const NFT_MSG_GETRULE: u8 = 7;
pub(crate) const NFT_MSG_DELRULE: u8 = 8;

const NFTA_TABLE_NAME: u16 = 1;
pub(crate) const NFTA_CHAIN_TABLE: u16 = 1;
pub(crate) const NFTA_CHAIN_NAME: u16 = 3;
const NFTA_CHAIN_HOOK: u16 = 4;
const NFTA_CHAIN_POLICY: u16 = 5;
const NFTA_CHAIN_TYPE: u16 = 7;
const NFTA_HOOK_HOOKNUM: u16 = 1;
const NFTA_HOOK_PRIORITY: u16 = 2;
pub(crate) const NFTA_RULE_TABLE: u16 = 1;
pub(crate) const NFTA_RULE_CHAIN: u16 = 2;
pub(crate) const NFTA_RULE_HANDLE: u16 = 3;
const NFTA_RULE_EXPRESSIONS: u16 = 4;
pub(crate) const NFTA_RULE_USERDATA: u16 = 7;
/// libnftnl's user-data type of a rule comment, so that `nft list` shows it.
pub(crate) const NFTNL_UDATA_RULE_COMMENT: u8 = 0;
const NF_ACCEPT: u32 = 1;

/// The message type of an nf_tables command.
pub(crate) fn nft_type(command: u8) -> u16 {
    (NFNL_SUBSYS_NFTABLES << 8) | u16::from(command)
}

pub(crate) struct Batch {
    bytes: Vec<u8>,
    seq: u32,
    commands: Vec<(u32, String)>,
}

impl Batch {
    /// A batch whose messages are numbered after `last_seq`.
    pub fn new(last_seq: u32) -> Batch {
        let mut batch = Batch {
            bytes: Vec::with_capacity(4096),
            seq: last_seq,
            commands: Vec::new(),
        };
        batch.control(NFNL_MSG_BATCH_BEGIN);
        batch
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    fn control(&mut self, kind: u16) {
        let seq = self.next_seq();
        let message = Message::new(kind, NLM_F_REQUEST, seq, 0, NFNL_SUBSYS_NFTABLES);
        self.bytes.extend(message.finish());
    }

    fn command(&mut self, cmd: u8, flags: u16, what: String, fill: impl FnOnce(&mut Message)) {
        let seq = self.next_seq();
        let mut message = Message::new(
            nft_type(cmd),
            NLM_F_REQUEST | NLM_F_ACK | flags,
            seq,
            NFPROTO_INET,
            0,
        );
        fill(&mut message);
        self.bytes.extend(message.finish());
        self.commands.push((seq, what));
    }

    /// `add table inet kist` (no error if it exists).
    pub fn add_table(&mut self) {
        self.command(
            NFT_MSG_NEWTABLE,
            NLM_F_CREATE,
            format!("creating table inet {TABLE}"),
            |m| {
                m.str(NFTA_TABLE_NAME, TABLE);
            },
        );
    }

    /// `add chain` (no error if it exists with the same hook).
    pub fn add_chain(&mut self, chain: &Chain) {
        self.new_chain(chain, NLM_F_CREATE);
    }

    /// `create chain`: EEXIST if it exists.
    pub fn add_new_chain(&mut self, chain: &Chain) {
        self.new_chain(chain, NLM_F_CREATE | NLM_F_EXCL);
    }

    fn new_chain(&mut self, chain: &Chain, flags: u16) {
        let what = format!("creating chain {}", chain.name);
        self.command(NFT_MSG_NEWCHAIN, flags, what, |m| {
            m.str(NFTA_CHAIN_TABLE, TABLE)
                .str(NFTA_CHAIN_NAME, &chain.name);
            if let Some(hook) = chain.hook {
                m.nested(NFTA_CHAIN_HOOK, |h| {
                    h.u32(NFTA_HOOK_HOOKNUM, hook.number);
                    h.bytes(NFTA_HOOK_PRIORITY, &hook.priority.to_be_bytes());
                });
                m.u32(NFTA_CHAIN_POLICY, NF_ACCEPT)
                    .str(NFTA_CHAIN_TYPE, hook.kind);
            }
        });
    }

    pub fn add_rule(&mut self, rule: &Rule) {
        let flags = if rule.at_head {
            NLM_F_CREATE
        } else {
            NLM_F_CREATE | NLM_F_APPEND
        };
        let what = format!("adding a rule to chain {}", rule.chain);
        self.command(NFT_MSG_NEWRULE, flags, what, |m| {
            m.str(NFTA_RULE_TABLE, TABLE)
                .str(NFTA_RULE_CHAIN, &rule.chain);
            m.nested(NFTA_RULE_EXPRESSIONS, |list| {
                for expr in &rule.exprs {
                    expr.emit(list);
                }
            });
            if let Some(comment) = &rule.comment {
                m.bytes(NFTA_RULE_USERDATA, &comment_udata(comment));
            }
        });
    }

    pub fn delete_rule(&mut self, chain: &str, handle: u64) {
        let what = format!("deleting rule {handle} of chain {chain}");
        self.command(NFT_MSG_DELRULE, 0, what, |m| {
            m.str(NFTA_RULE_TABLE, TABLE).str(NFTA_RULE_CHAIN, chain);
            m.u64(NFTA_RULE_HANDLE, handle);
        });
    }

    pub fn delete_chain(&mut self, name: &str) {
        self.command(NFT_MSG_DELCHAIN, 0, format!("deleting chain {name}"), |m| {
            m.str(NFTA_CHAIN_TABLE, TABLE).str(NFTA_CHAIN_NAME, name);
        });
    }

    /// The whole batch (end message added), the commands' sequence numbers with what each
    /// does, and the last sequence number used.
    pub fn finish(mut self) -> (Vec<u8>, Vec<(u32, String)>, u32) {
        self.control(NFNL_MSG_BATCH_END);
        (self.bytes, self.commands, self.seq)
    }
}

/// A rule comment as libnftnl stores it: type, length, NUL-terminated text (at most 255).
fn comment_udata(comment: &str) -> Vec<u8> {
    let text = &comment.as_bytes()[..comment.len().min(254)];
    let len = u8::try_from(text.len() + 1).unwrap_or(u8::MAX);
    let mut udata = vec![NFTNL_UDATA_RULE_COMMENT, len];
    udata.extend_from_slice(text);
    udata.push(0);
    udata
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_is_framed_and_numbered() {
        let mut batch = Batch::new(100);
        batch.add_table();
        batch.delete_chain("ctr-x");
        let (bytes, commands, last) = batch.finish();
        assert_eq!(last, 104);
        let seqs: Vec<u32> = commands.iter().map(|(s, _)| *s).collect();
        assert_eq!(seqs, [102, 103], "begin is 101, end 104");
        assert_eq!(commands[1].1, "deleting chain ctr-x");
        assert_eq!(
            u16::from_ne_bytes([bytes[4], bytes[5]]),
            NFNL_MSG_BATCH_BEGIN
        );
        assert_eq!(
            &bytes[16..20],
            &[0, 0, 0, 10],
            "begin names the nf_tables subsystem"
        );
    }

    #[test]
    fn comments_are_libnftnl_user_data() {
        assert_eq!(comment_udata("kist x"), b"\x00\x07kist x\x00");
    }
}
