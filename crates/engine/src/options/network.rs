//! `--network`: the network a container joins (until bridge networking lands, its own
//! namespace with only `lo`, or the host's).

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum NetworkMode {
    /// Its own network namespace with only `lo` (until bridge networking lands).
    #[default]
    None,
    /// The host's network namespace.
    Host,
}

impl NetworkMode {
    pub fn parse(s: &str) -> Result<NetworkMode> {
        match s {
            "none" => Ok(NetworkMode::None),
            "host" => Ok(NetworkMode::Host),
            other => Err(Error::invalid_option(
                "--network",
                format!("network {other:?} is not available: use --network none or --network host"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks() {
        assert_eq!(NetworkMode::parse("host").unwrap(), NetworkMode::Host);
        assert!(NetworkMode::parse("bridge").is_err());
    }
}
