//! The nf_tables socket and kist's operations on its table: a network's rules added or
//! removed, a container's published ports added or removed; each one netlink batch (one
//! transaction), preceded at most by a dump of the table to find the owner's tagged rules.

use std::io;

use netlink_packet_core::{NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST};
use netlink_sys::constants::NETLINK_NETFILTER;

use super::batch::{
    Batch, NFPROTO_INET, NFT_MSG_GETCHAIN, NFT_MSG_GETRULE, NFTA_CHAIN_NAME, NFTA_CHAIN_TABLE,
    NFTA_RULE_CHAIN, NFTA_RULE_TABLE, nft_type,
};
use super::message::Message;
use super::parse::{self, RuleInfo};
use super::rules::{self, Chain, NetworkRules, PortMapping, Rule, TABLE};
use crate::error::{Error, Result};
use crate::netlink::{Channel, Failure};
use crate::netns::NetNs;

/// A netfilter netlink socket in one network namespace.
pub struct Nftables {
    channel: Channel,
}

impl Nftables {
    /// A socket in the calling thread's network namespace.
    pub fn open() -> Result<Nftables> {
        let channel = Channel::open(NETLINK_NETFILTER).map_err(|e| {
            if e.raw_os_error() == Some(libc::EPROTONOSUPPORT) {
                Error::NftablesUnavailable { source: e }
            } else {
                Error::kernel("opening a netfilter netlink socket", e)
            }
        })?;
        Ok(Nftables { channel })
    }

    pub fn open_in(ns: &NetNs) -> Result<Nftables> {
        ns.run_in(Nftables::open)
    }

    /// Installs (or replaces) a network's chains and its tagged rules in the base chains.
    pub fn add_network(&mut self, net: &NetworkRules) -> Result<()> {
        let (chains, rules) = rules::network(net);
        self.install_or_replace(&chains, &rules, |nft| nft.remove_network(&net.bridge))
    }

    /// Removes a network's rules and chains; Ok(false) when it had none.
    pub fn remove_network(&mut self, bridge: &str) -> Result<bool> {
        let owner = rules::network_owner(bridge);
        let bases = [rules::POSTROUTING, rules::FORWARD];
        self.remove_owner(&owner, &bases, &rules::network_chain_names(bridge))
    }

    /// Installs (or replaces) a container's published ports: its chain of DNAT rules and the
    /// jumps to it from prerouting and output.
    pub fn add_ports(&mut self, container_id: &str, ports: &[PortMapping]) -> Result<()> {
        let (chain, rules) = rules::container(container_id, ports);
        self.install_or_replace(&[chain], &rules, |nft| nft.remove_ports(container_id))
    }

    /// Removes a container's published ports; Ok(false) when it had none.
    pub fn remove_ports(&mut self, container_id: &str) -> Result<bool> {
        let owner = rules::container_owner(container_id);
        let bases = [rules::PREROUTING, rules::OUTPUT];
        self.remove_owner(&owner, &bases, &[rules::container_chain_name(container_id)])
    }

    /// One batch, without reading the table first: the owner's chains are created
    /// exclusively, so that if they exist (a repeat, or what a killed kist left) the whole
    /// batch is refused with EEXIST; then the old ones are removed and it is sent again.
    fn install_or_replace(
        &mut self,
        chains: &[Chain],
        rules: &[Rule],
        remove: impl FnOnce(&mut Nftables) -> Result<bool>,
    ) -> Result<()> {
        match self.install(chains, rules) {
            Err(e) if e.errno() == Some(libc::EEXIST) => {
                remove(self)?;
                self.install(chains, rules)
            }
            other => other,
        }
    }

    /// The table and base chains (made if missing), the owner's chains (made, exclusively)
    /// and its rules.
    fn install(&mut self, chains: &[Chain], rules: &[Rule]) -> Result<()> {
        let mut batch = Batch::new(self.channel.next_seq());
        batch.add_table();
        for base in rules::base_chains() {
            batch.add_chain(&base);
        }
        for chain in chains {
            batch.add_new_chain(chain);
        }
        for rule in rules {
            batch.add_rule(rule);
        }
        self.run(batch)
    }

    /// Deletes the owner's tagged rules of the base chains `bases`, then its chains.
    fn remove_owner(&mut self, owner: &str, bases: &[&str], chains: &[String]) -> Result<bool> {
        let mut tagged = Vec::new();
        for base in bases {
            tagged.extend(self.owned_rules(base, owner)?);
        }
        let mut present = Vec::new();
        for chain in chains {
            if self.chain_exists(chain)? {
                present.push(chain);
            }
        }
        if tagged.is_empty() && present.is_empty() {
            return Ok(false);
        }
        let mut batch = Batch::new(self.channel.next_seq());
        for rule in &tagged {
            batch.delete_rule(&rule.chain, rule.handle);
        }
        for chain in present {
            batch.delete_chain(chain);
        }
        self.run(batch)?;
        Ok(true)
    }

    /// Sends the batch and checks every command's acknowledgement.
    fn run(&mut self, batch: Batch) -> Result<()> {
        let (bytes, commands, last) = batch.finish();
        self.channel.set_seq(last);
        self.channel
            .send(&bytes)
            .map_err(|e| Error::kernel("sending an nftables batch", e))?;
        let seqs: Vec<u32> = commands.iter().map(|(seq, _)| *seq).collect();
        match self.channel.acks(&seqs) {
            Ok(()) => Ok(()),
            Err(Failure::Io(e)) => Err(Error::kernel("reading nftables acknowledgements", e)),
            Err(Failure::Nack(nack)) => {
                let what = commands
                    .iter()
                    .find(|(seq, _)| *seq == nack.seq)
                    .map_or("an nftables batch", |(_, what)| what.as_str())
                    .to_string();
                let (source, text) = nack.into_parts();
                Err(refusal(&what, &text, source))
            }
        }
    }

    /// The rules of base chain `chain` tagged with `owner`'s comment.
    fn owned_rules(&mut self, chain: &str, owner: &str) -> Result<Vec<RuleInfo>> {
        let mut found = Vec::new();
        let what = format!("listing the rules of chain {chain}");
        let request = self.request(NFT_MSG_GETRULE, NLM_F_DUMP, |m| {
            m.str(NFTA_RULE_TABLE, TABLE).str(NFTA_RULE_CHAIN, chain);
        });
        self.read(request, &what, |payload| {
            if let Some(rule) = parse::rule(payload)
                && rule.comment.as_deref() == Some(owner)
            {
                found.push(rule);
            }
        })?;
        Ok(found)
    }

    /// Whether kist's table has chain `name`.
    fn chain_exists(&mut self, name: &str) -> Result<bool> {
        let mut found = false;
        let request = self.request(NFT_MSG_GETCHAIN, NLM_F_ACK, |m| {
            m.str(NFTA_CHAIN_TABLE, TABLE).str(NFTA_CHAIN_NAME, name);
        });
        self.read(request, &format!("looking up chain {name}"), |_| {
            found = true
        })?;
        Ok(found)
    }

    /// A get or dump request outside a batch: its sequence number and bytes.
    fn request(
        &mut self,
        command: u8,
        flags: u16,
        fill: impl FnOnce(&mut Message),
    ) -> (u32, Vec<u8>) {
        let seq = self.channel.next_seq();
        let mut m = Message::new(
            nft_type(command),
            NLM_F_REQUEST | flags,
            seq,
            NFPROTO_INET,
            0,
        );
        fill(&mut m);
        (seq, m.finish())
    }

    /// Sends a get or dump request and gives each answer's payload to `each`; ENOENT (no
    /// table or chain yet) is an empty answer.
    fn read(
        &mut self,
        (seq, bytes): (u32, Vec<u8>),
        what: &str,
        mut each: impl FnMut(&[u8]),
    ) -> Result<()> {
        self.channel
            .send(&bytes)
            .map_err(|e| Error::kernel(what, e))?;
        match self.channel.dump(seq, |reply| each(reply.payload)) {
            Ok(()) => Ok(()),
            Err(Failure::Nack(n)) if n.errno == libc::ENOENT => Ok(()),
            Err(Failure::Nack(n)) => {
                let (source, text) = n.into_parts();
                Err(refusal(what, &text, source))
            }
            Err(Failure::Io(e)) => Err(Error::kernel(what, e)),
        }
    }
}

/// A refused command as an error: "nftables unavailable" when the kernel lacks nf_tables,
/// the inet family or the nat chain type; otherwise what was refused and why.
fn refusal(what: &str, text: &str, source: io::Error) -> Error {
    let errno = source.raw_os_error().unwrap_or_default();
    let missing_support = matches!(
        errno,
        libc::EOPNOTSUPP | libc::EPROTONOSUPPORT | libc::EAFNOSUPPORT
    );
    let base = rules::base_chains();
    let is_setup = what.starts_with("creating table")
        || base
            .iter()
            .any(|c| what == format!("creating chain {}", c.name));
    if missing_support || (is_setup && errno == libc::ENOENT) {
        Error::NftablesUnavailable { source }
    } else {
        Error::kernel(format!("nftables: {what}{text}"), source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errno(e: i32) -> io::Error {
        io::Error::from_raw_os_error(e)
    }

    #[test]
    fn a_kernel_without_nf_tables_gets_one_clear_error() {
        let no_family = refusal("creating table inet kist", "", errno(libc::EAFNOSUPPORT));
        assert!(matches!(no_family, Error::NftablesUnavailable { .. }));
        let no_nat = refusal("creating chain postrouting", "", errno(libc::ENOENT));
        assert!(
            no_nat
                .to_string()
                .starts_with("nftables is not available on this host"),
            "{no_nat}"
        );
        let other = refusal(
            "deleting chain ctr-x",
            " (Chain is in use)",
            errno(libc::EBUSY),
        );
        assert_eq!(
            other.to_string(),
            format!(
                "nftables: deleting chain ctr-x (Chain is in use): {}",
                errno(libc::EBUSY)
            )
        );
    }
}
