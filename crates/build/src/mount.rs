//! `RUN --mount=...`: bind, cache, tmpfs, secret and ssh mounts, their options and BuildKit's
//! rules for them. A mount's values may hold variables, so a [`MountSpec`] keeps them as
//! written and [`MountSpec::resolve`] types them once the executor can expand them; a spec
//! without any `$` is checked in full at parse time already.

use std::fmt;

use crate::expand::{ExpandError, Lexer};
use crate::size::parse_size;
use crate::suggest::closest;

/// The kinds of mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MountType {
    Bind,
    Cache,
    Tmpfs,
    Secret,
    Ssh,
}

const TYPES: &[(&str, MountType)] = &[
    ("bind", MountType::Bind),
    ("cache", MountType::Cache),
    ("tmpfs", MountType::Tmpfs),
    ("secret", MountType::Secret),
    ("ssh", MountType::Ssh),
];

impl fmt::Display for MountType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = TYPES
            .iter()
            .find(|(_, t)| t == self)
            .map_or("?", |(n, _)| *n);
        f.write_str(name)
    }
}

/// How a cache mount is shared between builds running at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sharing {
    Shared,
    Private,
    Locked,
}

const SHARINGS: &[(&str, Sharing)] = &[
    ("shared", Sharing::Shared),
    ("private", Sharing::Private),
    ("locked", Sharing::Locked),
];

/// A mount, its values expanded and typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub kind: MountType,
    /// `from=`: the stage or image to mount from (bind, cache).
    pub from: Option<String>,
    /// `source=`, `src=`: the path in `from`, or a secret's id.
    pub source: Option<String>,
    /// `target=`, `dst=`, `destination=`.
    pub target: Option<String>,
    /// `ro`/`rw`; without either, cache and tmpfs mounts are writable, the others read-only.
    pub readonly: bool,
    /// A tmpfs mount's `size=`, in bytes.
    pub size: Option<u64>,
    /// `id=`: a cache's or a secret's id.
    pub id: Option<String>,
    pub sharing: Option<Sharing>,
    /// A secret or ssh mount must be provided.
    pub required: bool,
    /// `env=`: a secret's environment variable.
    pub env: Option<String>,
    /// `mode=` (octal), `uid=`, `gid=`: cache, secret and ssh mounts' ownership.
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
}

/// Why a mount is refused; the messages are BuildKit's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MountError {
    #[error("failed to parse csv mounts: {0}")]
    Csv(String),
    #[error("invalid field '{0}' must be a key=value pair")]
    NotKeyValue(String),
    #[error("unexpected key '{key}' in '{field}'{}", hint(.suggestion))]
    UnknownKey {
        key: String,
        field: String,
        suggestion: Option<String>,
    },
    #[error("unexpected key '{key}' for mount type '{kind}'")]
    KeyNotForType { key: String, kind: MountType },
    #[error("unsupported mount type {value:?}{}", hint(.suggestion))]
    UnknownType {
        value: String,
        suggestion: Option<String>,
    },
    #[error("unsupported sharing value {value:?}{}", hint(.suggestion))]
    UnknownSharing {
        value: String,
        suggestion: Option<String>,
    },
    #[error("invalid value for {key}: {value}")]
    BadValue { key: String, value: String },
    #[error("{key} not allowed for {kind:?} type mounts", kind = .kind.to_string())]
    NotForType { key: &'static str, kind: MountType },
    #[error("'from' doesn't support variable expansion, define alias stage instead")]
    FromExpansion,
    #[error("secret mount should not have a from")]
    SecretFrom,
    #[error("secret mount should not define sharing")]
    SecretSharing,
    #[error("invalid secret mount. one of source, target required")]
    SecretTarget,
    #[error("both source and id can't be set")]
    SecretSourceAndId,
    #[error("invalid cache sharing set for {0} mount")]
    SharingNotCache(MountType),
    #[error(transparent)]
    Expand(#[from] ExpandError),
}

fn hint(suggestion: &Option<String>) -> String {
    suggestion
        .as_ref()
        .map(|s| format!(" (did you mean {s}?)"))
        .unwrap_or_default()
}

/// A `--mount=` value as written: its fields, keys in lower case, values not yet expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountSpec {
    /// The flag's value, as written.
    pub spec: String,
    fields: Vec<Field>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Field {
    text: String,
    key: String,
    value: Option<String>,
}

const KEYS: &[&str] = &[
    "type",
    "from",
    "source",
    "target",
    "readonly",
    "id",
    "sharing",
    "required",
    "size",
    "mode",
    "uid",
    "gid",
    "src",
    "dst",
    "destination",
    "ro",
    "rw",
    "readwrite",
    "env",
];

impl MountSpec {
    /// Reads `spec`, and checks it as far as it can be before expansion (fully if it has no
    /// `$`). `escape` is the Dockerfile's escape character.
    pub(crate) fn parse(spec: &str, escape: char) -> Result<MountSpec, MountError> {
        let fields = crate::csv::fields(spec)
            .map_err(MountError::Csv)?
            .into_iter()
            .map(|text| {
                let (key, value) = match text.split_once('=') {
                    Some((k, v)) => (k.to_ascii_lowercase(), Some(v.to_string())),
                    None => (text.to_ascii_lowercase(), None),
                };
                Field { text, key, value }
            })
            .collect();
        let mount = MountSpec {
            spec: spec.to_string(),
            fields,
        };
        mount.check(escape)?;
        Ok(mount)
    }

    fn check(&self, escape: char) -> Result<(), MountError> {
        let mut literal = true;
        for field in &self.fields {
            let Some(value) = &field.value else { continue };
            // A variable at the very end is allowed (a literal `$`), as BuildKit allows it.
            let variable = value.find('$').is_some_and(|i| i + 1 < value.len());
            if field.key == "from" && variable {
                return Err(MountError::FromExpansion);
            }
            literal &= !value.contains('$');
        }
        if literal {
            let lexer = Lexer::new(escape);
            let no_env: Vec<(String, String)> = Vec::new();
            self.resolve(|v| lexer.expand(v, &no_env))?;
        }
        Ok(())
    }

    /// The mount, each value expanded with `expand` (the executor's, with the build's
    /// variables) and typed.
    pub fn resolve<F>(&self, mut expand: F) -> Result<Mount, MountError>
    where
        F: FnMut(&str) -> Result<String, ExpandError>,
    {
        let mut mount = Mount {
            kind: MountType::Bind,
            from: None,
            source: None,
            target: None,
            readonly: false,
            size: None,
            id: None,
            sharing: None,
            required: false,
            env: None,
            mode: None,
            uid: None,
            gid: None,
        };
        let mut access_given = false;
        for field in &self.fields {
            match &field.value {
                None => mount.set_flag(field)?,
                Some(value) => mount.set(field, expand(value)?)?,
            }
            access_given |= matches!(field.key.as_str(), "ro" | "readonly" | "rw" | "readwrite");
        }
        if !access_given {
            mount.readonly = !matches!(mount.kind, MountType::Cache | MountType::Tmpfs);
        }
        mount.check()?;
        Ok(mount)
    }
}

impl Mount {
    /// A field without a value: `ro`, `rw`, `required`.
    fn set_flag(&mut self, field: &Field) -> Result<(), MountError> {
        match field.key.as_str() {
            "readonly" | "ro" => self.readonly = true,
            "readwrite" | "rw" => self.readonly = false,
            "required" => {
                self.check_secret_like("required")?;
                self.required = true;
            }
            _ => return Err(MountError::NotKeyValue(field.text.clone())),
        }
        Ok(())
    }

    /// A `key=value` field, its value expanded.
    fn set(&mut self, field: &Field, value: String) -> Result<(), MountError> {
        let key = field.key.as_str();
        match key {
            "type" => {
                let kind = lookup(TYPES, &value);
                self.kind =
                    kind.map_err(|suggestion| MountError::UnknownType { value, suggestion })?;
            }
            "from" => self.from = Some(value),
            "source" | "src" => self.source = Some(value),
            "target" | "dst" | "destination" => self.target = Some(value),
            "readonly" | "ro" => self.readonly = parse_bool(key, &value)?,
            "readwrite" | "rw" => self.readonly = !parse_bool(key, &value)?,
            "required" => {
                self.check_secret_like(key)?;
                self.required = parse_bool(key, &value)?;
            }
            "size" if self.kind != MountType::Tmpfs => return Err(self.not_for_type(key)),
            "size" => self.size = Some(parse_size(&value).ok_or_else(|| bad(key, &value))?),
            "id" => self.id = Some(value),
            "sharing" => {
                let sharing = lookup(SHARINGS, &value);
                let sharing = sharing
                    .map_err(|suggestion| MountError::UnknownSharing { value, suggestion })?;
                self.sharing = Some(sharing);
            }
            "mode" => {
                self.mode = Some(u32::from_str_radix(&value, 8).map_err(|_| bad(key, &value))?)
            }
            "uid" => self.uid = Some(value.parse().map_err(|_| bad(key, &value))?),
            "gid" => self.gid = Some(value.parse().map_err(|_| bad(key, &value))?),
            "env" => self.env = Some(value),
            _ => {
                return Err(MountError::UnknownKey {
                    key: key.to_string(),
                    field: field.text.clone(),
                    suggestion: closest(key, KEYS),
                });
            }
        }
        Ok(())
    }

    /// `required` is for secret and ssh mounts only (of the type given so far).
    fn check_secret_like(&self, key: &str) -> Result<(), MountError> {
        match self.kind {
            MountType::Secret | MountType::Ssh => Ok(()),
            _ => Err(self.not_for_type(key)),
        }
    }

    fn not_for_type(&self, key: &str) -> MountError {
        MountError::KeyNotForType {
            key: key.to_string(),
            kind: self.kind,
        }
    }

    /// The rules between fields, once all are read.
    fn check(&self) -> Result<(), MountError> {
        if !matches!(
            self.kind,
            MountType::Secret | MountType::Ssh | MountType::Cache
        ) {
            let owned = [("mode", self.mode), ("uid", self.uid), ("gid", self.gid)];
            if let Some((key, _)) = owned.into_iter().find(|(_, v)| v.is_some()) {
                return Err(MountError::NotForType {
                    key,
                    kind: self.kind,
                });
            }
        }
        if self.kind == MountType::Secret {
            if self.from.is_some() {
                return Err(MountError::SecretFrom);
            }
            if self.sharing.is_some() {
                return Err(MountError::SecretSharing);
            }
            if self.source.is_none() && self.target.is_none() && self.id.is_none() {
                return Err(MountError::SecretTarget);
            }
            if self.source.is_some() && self.id.is_some() {
                return Err(MountError::SecretSourceAndId);
            }
        }
        if self.sharing.is_some() && self.kind != MountType::Cache {
            return Err(MountError::SharingNotCache(self.kind));
        }
        Ok(())
    }
}

fn bad(key: &str, value: &str) -> MountError {
    MountError::BadValue {
        key: key.to_string(),
        value: value.to_string(),
    }
}

/// A boolean as Go's `strconv.ParseBool` reads it.
fn parse_bool(key: &str, value: &str) -> Result<bool, MountError> {
    match value {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(bad(key, value)),
    }
}

/// The entry of `table` named `value` (case ignored), or a suggestion for the error.
fn lookup<T: Copy>(table: &[(&str, T)], value: &str) -> Result<T, Option<String>> {
    let lower = value.to_ascii_lowercase();
    match table.iter().find(|(name, _)| *name == lower) {
        Some((_, t)) => Ok(*t),
        None => {
            let names: Vec<&str> = table.iter().map(|(n, _)| *n).collect();
            Err(closest(value, &names))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expand::expand;

    fn mount(spec: &str) -> Result<Mount, MountError> {
        let env: Vec<(String, String)> =
            vec![("DIR".into(), "/cache".into()), ("U".into(), "1000".into())];
        MountSpec::parse(spec, '\\')?.resolve(|v| expand(v, &env))
    }

    #[test]
    fn cache_mounts() {
        let m = mount("type=cache,target=/root/.cache,id=pip,sharing=locked,mode=0755,uid=1,gid=2")
            .expect("cache");
        assert_eq!(m.kind, MountType::Cache);
        assert_eq!(m.target.as_deref(), Some("/root/.cache"));
        assert_eq!(m.id.as_deref(), Some("pip"));
        assert_eq!(m.sharing, Some(Sharing::Locked));
        assert_eq!((m.mode, m.uid, m.gid), (Some(0o755), Some(1), Some(2)));
        assert!(!m.readonly);
        let expanded = mount("type=cache,target=$DIR,uid=$U,from=base,source=/s").expect("cache");
        assert_eq!(
            (expanded.target.as_deref(), expanded.uid),
            (Some("/cache"), Some(1000))
        );
    }

    #[test]
    fn bind_secret_tmpfs_mounts() {
        let bind = mount("type=bind,from=build,source=/out,target=/in").expect("bind");
        assert_eq!(
            (bind.kind, bind.readonly, bind.from.as_deref()),
            (MountType::Bind, true, Some("build"))
        );
        assert!(!mount("target=/x,rw").expect("bind").readonly);
        let secret = mount("type=secret,id=token,target=/t,required=true").expect("secret");
        assert!(secret.required && secret.readonly);
        assert!(
            mount("type=secret,id=token,required")
                .expect("secret")
                .required
        );
        let tmpfs = mount("type=tmpfs,target=/tmp,size=64m").expect("tmpfs");
        assert_eq!(tmpfs.size, Some(64 << 20));
    }

    #[test]
    fn refused_mounts() {
        let refused = |spec: &str| MountSpec::parse(spec, '\\').expect_err(spec).to_string();
        assert_eq!(refused("type=volume"), "unsupported mount type \"volume\"");
        assert_eq!(
            refused("type=cahce"),
            "unsupported mount type \"cahce\" (did you mean cache?)"
        );
        assert_eq!(
            refused("target=/x,trget=/y"),
            "unexpected key 'trget' in 'trget=/y' (did you mean target?)"
        );
        assert_eq!(
            refused("type=bind,mode=0700"),
            "mode not allowed for \"bind\" type mounts"
        );
        assert_eq!(
            refused("type=secret,from=x,id=a"),
            "secret mount should not have a from"
        );
        assert_eq!(
            refused("type=secret"),
            "invalid secret mount. one of source, target required"
        );
        assert_eq!(
            refused("type=bind,target=/x,required"),
            "unexpected key 'required' for mount type 'bind'"
        );
        assert_eq!(
            refused("size=1m,type=tmpfs"),
            "unexpected key 'size' for mount type 'bind'"
        );
        assert_eq!(
            refused("type=bind,sharing=locked"),
            "invalid cache sharing set for bind mount"
        );
        assert_eq!(refused("type=cache,uid=x"), "invalid value for uid: x");
        assert_eq!(
            refused("type=bind,target"),
            "invalid field 'target' must be a key=value pair"
        );
        assert_eq!(
            refused("type=bind,from=$STAGE"),
            "'from' doesn't support variable expansion, define alias stage instead"
        );
    }

    #[test]
    fn variables_wait_for_the_executor() {
        // Not checkable before expansion: accepted now, typed by resolve.
        let spec = MountSpec::parse("type=cache,target=/x,uid=$U", '\\').expect("spec");
        let no_env: Vec<(String, String)> = Vec::new();
        assert!(spec.resolve(|v| expand(v, &no_env)).is_err());
    }
}
