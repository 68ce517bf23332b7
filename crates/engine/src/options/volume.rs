//! `-v`: what is mounted where in a container, a host directory or a named volume.

use std::path::PathBuf;

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum VolumeSpec {
    /// `-v /host/dir:/ctr/dir[:ro]`
    Bind {
        source: PathBuf,
        target: String,
        read_only: bool,
    },
    /// `-v NAME:/ctr/dir[:ro]`, or an anonymous volume for `-v /ctr/dir` (name None).
    Named {
        name: Option<String>,
        target: String,
        read_only: bool,
    },
}

impl VolumeSpec {
    pub fn target(&self) -> &str {
        match self {
            VolumeSpec::Bind { target, .. } | VolumeSpec::Named { target, .. } => target,
        }
    }
}

/// Parses a `-v` value the way Docker does.
pub fn parse_volume(value: &str) -> Result<VolumeSpec> {
    let bad = |why: &str| Error::invalid_value("volume specification", value, why);
    let parts: Vec<&str> = value.split(':').collect();
    let (source, target, mode) = match parts.as_slice() {
        [target] => (None, *target, None),
        [source, target] => (Some(*source), *target, None),
        [source, target, mode] => (Some(*source), *target, Some(*mode)),
        _ => return Err(bad("expected SOURCE:TARGET[:ro|rw]")),
    };
    if !target.starts_with('/') {
        return Err(bad("the container path must be absolute"));
    }
    if target == "/" {
        return Err(bad("the container path cannot be /"));
    }
    let read_only = match mode {
        None | Some("rw") => false,
        Some("ro") => true,
        Some(other) => return Err(bad(&format!("unknown mode {other:?}: use ro or rw"))),
    };
    let target = target.to_string();
    match source {
        None => Ok(VolumeSpec::Named {
            name: None,
            target,
            read_only,
        }),
        Some("") => Err(bad("the source is empty")),
        Some(s) if s.starts_with('/') => Ok(VolumeSpec::Bind {
            source: PathBuf::from(s),
            target,
            read_only,
        }),
        Some(s) if s.contains('/') || s.starts_with('.') || s.starts_with('~') => Err(bad(
            "a host path must be absolute (like /srv/data); a volume name has no '/'",
        )),
        Some(s) if crate::options::names::is_valid(s) => Ok(VolumeSpec::Named {
            name: Some(s.to_string()),
            target,
            read_only,
        }),
        Some(_) => Err(bad(
            "a volume name is letters, digits, '_', '.' and '-', starting with a letter or digit",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volumes_parse_like_docker() {
        assert_eq!(
            parse_volume("/srv/data:/data").unwrap(),
            VolumeSpec::Bind {
                source: "/srv/data".into(),
                target: "/data".into(),
                read_only: false
            }
        );
        assert_eq!(
            parse_volume("cache:/var/cache:ro").unwrap(),
            VolumeSpec::Named {
                name: Some("cache".into()),
                target: "/var/cache".into(),
                read_only: true
            }
        );
        assert_eq!(
            parse_volume("/data").unwrap(),
            VolumeSpec::Named {
                name: None,
                target: "/data".into(),
                read_only: false
            }
        );
        for bad in [
            "data", "./d:/x", "d/x:/x", "/a:rel", "/a:/b:rx", "a:b:c:d", ":/x", "/a:/",
        ] {
            assert!(parse_volume(bad).is_err(), "{bad:?} should be refused");
        }
        let msg = parse_volume("./d:/x").unwrap_err().to_string();
        assert!(msg.contains("must be absolute"), "{msg}");
    }
}
