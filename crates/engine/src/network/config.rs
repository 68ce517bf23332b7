//! The network settings of ROOT/config.json, under Docker's daemon.json keys: `bip` (the
//! default bridge's gateway address and prefix, `172.26.0.1/16`) and `default-address-pools`
//! (`[{"base": "10.10.0.0/16", "size": 24}]`: where networks without `--subnet` come from).

use std::path::Path;

use ipnet::Ipv4Net;
use kist_net::ipam::{AddressPool, default_pools};

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The default bridge's gateway with its subnet's prefix length.
    pub bip: Option<Ipv4Net>,
    pub pools: Vec<AddressPool>,
}

impl Settings {
    pub fn load(root: &Path) -> Result<Settings> {
        let path = root.join("config.json");
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(source) => {
                return Err(Error::Io {
                    context: "reading",
                    path,
                    source,
                });
            }
        };
        Settings::parse(&text)
    }

    fn parse(text: &str) -> Result<Settings> {
        let bad = |what: &str, why: String| {
            Error::invalid_value("config.json setting", what.to_string(), why)
        };
        let config: serde_json::Value = if text.trim().is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(text).map_err(|e| bad("config.json", e.to_string()))?
        };
        let bip = match config["bip"].as_str() {
            Some(s) => Some(
                s.parse::<Ipv4Net>()
                    .map_err(|e| bad("bip", format!("{s}: {e}")))?,
            ),
            None => None,
        };
        let pools = match config["default-address-pools"].as_array() {
            Some(list) => list
                .iter()
                .map(|p| {
                    let base = p["base"]
                        .as_str()
                        .and_then(|b| b.parse::<Ipv4Net>().ok())
                        .ok_or_else(|| {
                            bad("default-address-pools", format!("{p}: no IPv4 base"))
                        })?;
                    let size = p["size"]
                        .as_u64()
                        .and_then(|s| u8::try_from(s).ok())
                        .filter(|s| *s >= base.prefix_len() && *s <= 30)
                        .ok_or_else(|| bad("default-address-pools", format!("{p}: bad size")))?;
                    Ok(AddressPool {
                        base: base.trunc(),
                        size,
                    })
                })
                .collect::<Result<Vec<_>>>()?,
            None => default_pools(),
        };
        Ok(Settings { bip, pools })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_keys() {
        let s = Settings::parse(
            r#"{"bip": "10.5.0.1/24", "default-address-pools": [{"base": "10.10.0.0/16", "size": 24}]}"#,
        )
        .unwrap();
        assert_eq!(s.bip, Some("10.5.0.1/24".parse().unwrap()));
        assert_eq!(s.pools.len(), 1);
        assert_eq!(s.pools[0].size, 24);
        assert_eq!(Settings::parse("").unwrap().pools, default_pools());
        assert!(Settings::parse(r#"{"bip": "nope"}"#).is_err());
        assert!(
            Settings::parse(r#"{"default-address-pools": [{"base": "10.0.0.0/16", "size": 8}]}"#)
                .is_err()
        );
    }
}
