//! The network crate's errors: each says what was being done, to what, and why it failed, in
//! the one line a user sees.

use std::io;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A request to the kernel (netlink, a namespace, a sysctl) failed.
    #[error("{context}: {source}")]
    Kernel {
        context: String,
        #[source]
        source: io::Error,
    },
    /// The kernel has no nf_tables (module missing or not built), so bridge networks cannot
    /// masquerade or publish ports.
    #[error(
        "nftables is not available on this host ({source}): bridge networks need it; --network host or none still work"
    )]
    NftablesUnavailable {
        #[source]
        source: io::Error,
    },
    #[error("invalid network configuration: {0}")]
    Config(String),
    #[error("address {ip} is not in subnet {subnet}")]
    OutsideSubnet { ip: Ipv4Addr, subnet: Ipv4Net },
    #[error("address {ip} is already in use on subnet {subnet}")]
    AddressInUse { ip: Ipv4Addr, subnet: Ipv4Net },
    #[error("address {ip} is reserved on subnet {subnet} ({what})")]
    AddressReserved {
        ip: Ipv4Addr,
        subnet: Ipv4Net,
        what: &'static str,
    },
    #[error("no free address left in {range}")]
    NoFreeAddress { range: Ipv4Net },
    #[error("subnet {subnet} overlaps {other} ({what})")]
    Overlap {
        subnet: Ipv4Net,
        other: Ipv4Net,
        what: String,
    },
    #[error("all predefined address pools have been fully subnetted")]
    PoolsExhausted,
    #[error("malformed DNS message: {0}")]
    Dns(String),
}

impl Error {
    pub(crate) fn kernel(context: impl Into<String>, source: io::Error) -> Error {
        Error::Kernel {
            context: context.into(),
            source,
        }
    }

    /// The errno of a kernel failure, if this is one (for callers that treat, say, EEXIST apart).
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::Kernel { source, .. } | Error::NftablesUnavailable { source } => {
                source.raw_os_error()
            }
            _ => None,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
