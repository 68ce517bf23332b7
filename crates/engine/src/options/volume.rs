//! `-v`: what is mounted where in a container, a host directory or a named volume (and, from
//! `--mount`, a tmpfs), with Docker's modes.

use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum VolumeSpec {
    /// `-v /host/dir:/ctr/dir[:ro]`
    Bind {
        source: PathBuf,
        target: String,
        read_only: bool,
        /// `rslave`, `private`...: the bind's propagation; None is Docker's `rprivate`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        propagation: Option<String>,
    },
    /// `-v NAME:/ctr/dir[:ro]`, or an anonymous volume for `-v /ctr/dir` (name None).
    Named {
        name: Option<String>,
        target: String,
        read_only: bool,
        /// `nocopy`: a new volume is not seeded from the image.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        no_copy: bool,
    },
    /// `--mount type=tmpfs`: a tmpfs of its own, with these mount options (`size=`, `mode=`).
    Tmpfs {
        target: String,
        options: Vec<String>,
    },
}

impl VolumeSpec {
    pub fn target(&self) -> &str {
        match self {
            VolumeSpec::Bind { target, .. }
            | VolumeSpec::Named { target, .. }
            | VolumeSpec::Tmpfs { target, .. } => target,
        }
    }

    /// The same mount, read-only or writable (`--volumes-from C:ro`).
    pub(crate) fn with_read_only(mut self, ro: bool) -> VolumeSpec {
        match &mut self {
            VolumeSpec::Bind { read_only, .. } | VolumeSpec::Named { read_only, .. } => {
                *read_only = ro;
            }
            VolumeSpec::Tmpfs { .. } => {}
        }
        self
    }
}

/// The propagations a bind may ask for. `shared` and `rshared` would let the container's own
/// mounts (its root among them) reach the host, which kist never allows.
pub(crate) fn check_propagation(p: &str) -> std::result::Result<(), String> {
    match p {
        "private" | "rprivate" | "slave" | "rslave" => Ok(()),
        "shared" | "rshared" => Err(format!(
            "propagation {p} is not supported: kist keeps a container's mounts inside it; \
             use rslave to see the host's new mounts"
        )),
        other => Err(format!(
            "unknown propagation {other:?}: use private, rprivate, slave or rslave"
        )),
    }
}

/// What a `-v` mode (`ro`, `rw,z`, `rslave`, `nocopy`...) asks for.
#[derive(Default)]
struct Mode {
    read_only: bool,
    propagation: Option<String>,
    no_copy: bool,
}

fn parse_mode(mode: Option<&str>) -> std::result::Result<Mode, String> {
    let mut out = Mode::default();
    let Some(mode) = mode else { return Ok(out) };
    let mut access = 0;
    for part in mode.split(',') {
        match part {
            "ro" | "rw" => {
                access += 1;
                out.read_only = part == "ro";
            }
            // SELinux labels: the CLI warns that they are ignored here (see `asks_relabel`).
            "z" | "Z" => {}
            "nocopy" => out.no_copy = true,
            // Docker Desktop's consistency hints mean nothing on Linux.
            "consistent" | "cached" | "delegated" => {}
            p if check_propagation(p).is_ok() || p.ends_with("shared") => {
                check_propagation(p)?;
                out.propagation = Some(p.to_string());
            }
            other => {
                return Err(format!(
                    "unknown mode {other:?}: use ro or rw (and z, Z, nocopy, or a propagation)"
                ));
            }
        }
    }
    if access > 1 {
        return Err("give ro or rw once".into());
    }
    Ok(out)
}

/// Whether a `-v` value asks for an SELinux relabel (`:z`, `:Z`), which kist does not do.
pub fn asks_relabel(value: &str) -> bool {
    let parts: Vec<&str> = value.split(':').collect();
    parts.len() == 3 && parts[2].split(',').any(|m| m == "z" || m == "Z")
}

/// A host path as given, made absolute against the current directory (Docker 23+ takes
/// `./dir` and `../dir`) and cleaned of `.` and `..` as Go's `filepath.Abs` does.
fn absolute(source: &str) -> std::result::Result<PathBuf, String> {
    let path = Path::new(source);
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| format!("cannot read the current directory: {e}"))?
            .join(path)
    };
    let mut clean = PathBuf::from("/");
    for c in joined.components() {
        match c {
            Component::Normal(n) => clean.push(n),
            Component::ParentDir => {
                clean.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    Ok(clean)
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
    let mode = parse_mode(mode).map_err(|why| bad(&why))?;
    let target = target.to_string();
    let named = |name: Option<String>| -> Result<VolumeSpec> {
        if mode.propagation.is_some() {
            return Err(bad("a propagation applies to bind mounts, not volumes"));
        }
        Ok(VolumeSpec::Named {
            name,
            target: target.clone(),
            read_only: mode.read_only,
            no_copy: mode.no_copy,
        })
    };
    match source {
        None => named(None),
        Some("") => Err(bad("the source is empty")),
        Some(s) if s.starts_with('/') || s.starts_with('.') => {
            if mode.no_copy {
                return Err(bad("nocopy applies to volumes, not bind mounts"));
            }
            Ok(VolumeSpec::Bind {
                source: absolute(s).map_err(|why| bad(&why))?,
                target,
                read_only: mode.read_only,
                propagation: mode.propagation,
            })
        }
        Some(s) if s.contains('/') || s.starts_with('~') => Err(bad(
            "a host path must be absolute (/srv/data) or relative to this directory (./data); \
             a volume name has no '/'",
        )),
        Some(s) if crate::options::names::is_valid(s) => named(Some(s.to_string())),
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
                read_only: false,
                propagation: None,
            }
        );
        assert_eq!(
            parse_volume("cache:/var/cache:ro").unwrap(),
            VolumeSpec::Named {
                name: Some("cache".into()),
                target: "/var/cache".into(),
                read_only: true,
                no_copy: false,
            }
        );
        assert_eq!(
            parse_volume("/data").unwrap(),
            VolumeSpec::Named {
                name: None,
                target: "/data".into(),
                read_only: false,
                no_copy: false,
            }
        );
        for bad in [
            "data",
            "d/x:/x",
            "/a:rel",
            "/a:/b:rx",
            "a:b:c:d",
            ":/x",
            "/a:/",
            "/a:/b:ro,rw",
            "/a:/b:rshared",
            "v:/b:rslave",
            "/a:/b:nocopy",
        ] {
            assert!(parse_volume(bad).is_err(), "{bad:?} should be refused");
        }
        let msg = parse_volume("d/x:/x").unwrap_err().to_string();
        assert!(msg.contains("must be absolute"), "{msg}");
    }

    #[test]
    fn relative_sources_are_taken_from_the_current_directory() {
        let cwd = std::env::current_dir().unwrap();
        let VolumeSpec::Bind { source, .. } = parse_volume("./d/../e:/x").unwrap() else {
            panic!("a bind");
        };
        assert_eq!(source, cwd.join("e"));
    }

    #[test]
    fn modes_combine() {
        assert_eq!(
            parse_volume("/a:/b:ro,Z,rslave").unwrap(),
            VolumeSpec::Bind {
                source: "/a".into(),
                target: "/b".into(),
                read_only: true,
                propagation: Some("rslave".into()),
            }
        );
        assert!(asks_relabel("/a:/b:z") && asks_relabel("v:/b:ro,Z"));
        assert!(!asks_relabel("/a:/b:ro") && !asks_relabel("/zz:/z"));
        let VolumeSpec::Named { no_copy, .. } = parse_volume("vol:/b:nocopy").unwrap() else {
            panic!("a volume");
        };
        assert!(no_copy);
    }
}
