//! `--log-opt`: how a detached container's json-file log is rotated.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// `--log-opt max-size=10m max-file=3`: rotation of the json-file log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogOptions {
    /// Rotate when the log passes this many bytes (None: never).
    pub max_size: Option<u64>,
    /// How many files to keep, the current one included.
    pub max_file: u32,
}

impl Default for LogOptions {
    fn default() -> Self {
        LogOptions {
            max_size: None,
            max_file: 1,
        }
    }
}

impl LogOptions {
    pub fn parse(opts: &[String]) -> Result<LogOptions> {
        let mut out = LogOptions::default();
        for o in opts {
            let bad = || Error::invalid_value("log option", o, "use max-size=SIZE or max-file=N");
            match o.split_once('=') {
                Some(("max-size", v)) => {
                    out.max_size = Some(super::units::parse_bytes(v).map_err(|_| bad())?)
                }
                Some(("max-file", v)) => {
                    out.max_file = v.parse().ok().filter(|n| *n >= 1).ok_or_else(bad)?;
                }
                _ => return Err(bad()),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_options() {
        let o = LogOptions::parse(&["max-size=1k".into(), "max-file=3".into()]).unwrap();
        assert_eq!(
            o,
            LogOptions {
                max_size: Some(1024),
                max_file: 3
            }
        );
        assert!(LogOptions::parse(&["max-file=0".into()]).is_err());
        assert!(LogOptions::parse(&["colour=red".into()]).is_err());
    }
}
