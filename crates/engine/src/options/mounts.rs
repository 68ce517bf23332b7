//! `--mount`, `--tmpfs`, `--shm-size` and `--volumes-from`: the rest of what Docker mounts into
//! a container besides `-v`, parsed with Docker's keys, and kept as `inspect` shows them.

use serde_json::{Value, json};

use super::volume::{VolumeSpec, check_propagation};
use crate::error::{Error, Result};

/// The mount flags as `inspect` shows them under `HostConfig`, with what only the engine can
/// resolve (`--volumes-from` names containers).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Storage {
    /// `HostConfig.Binds`: each `-v` with a source, its host path made absolute.
    pub binds: Vec<String>,
    /// `HostConfig.Mounts`: each `--mount`, as Docker's `Mount` object.
    pub mounts: Vec<Value>,
    /// `--tmpfs PATH[:OPTIONS]`, in order: the path and its options as given.
    pub tmpfs: Vec<(String, String)>,
    /// `--shm-size` in bytes; None is Docker's 64 MiB.
    pub shm_size: Option<u64>,
    /// `--volumes-from CONTAINER[:ro|rw]`, as given.
    pub volumes_from: Vec<String>,
}

/// Docker's default size of /dev/shm.
pub const DEFAULT_SHM_SIZE: u64 = 64 << 20;

/// What a tmpfs gets before the user's options, as Docker mounts one.
pub(crate) const TMPFS_DEFAULTS: [&str; 3] = ["nosuid", "nodev", "noexec"];

/// Docker's `--mount` types kist takes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Type {
    Bind,
    Volume,
    Tmpfs,
}

/// One `--mount` value's fields as given.
#[derive(Default)]
struct Fields {
    typ: Option<Type>,
    source: Option<String>,
    target: Option<String>,
    read_only: bool,
    propagation: Option<String>,
    no_copy: bool,
    tmpfs_size: Option<u64>,
    tmpfs_mode: Option<u32>,
    /// The first key that belongs to a type, to refuse mixing types' keys.
    typed_key: Option<(Type, String)>,
}

/// Go's `strconv.ParseBool`, as Docker reads `readonly=` and `volume-nocopy=`.
fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// Parses a `--mount` value (`type=bind,source=/a,target=/b,readonly`) the way Docker does:
/// the mount, and the object `HostConfig.Mounts` shows for it.
pub fn parse_mount(value: &str) -> Result<(VolumeSpec, Value)> {
    let bad = |why: String| Error::invalid_value("--mount", value, why);
    let mut f = Fields::default();
    let fields = csv_fields(value).map_err(|why| bad(why.into()))?;
    for field in fields.iter().filter(|s| !s.is_empty()) {
        let (key, val) = match field.split_once('=') {
            Some((k, v)) => (k.trim().to_ascii_lowercase(), Some(v.trim())),
            None => (field.trim().to_ascii_lowercase(), None),
        };
        read_field(&mut f, &key, val).map_err(bad)?;
    }
    let typ = f.typ.unwrap_or(Type::Volume);
    if let Some((t, key)) = &f.typed_key
        && *t != typ
    {
        return Err(bad(format!(
            "key {key} does not apply to type={}",
            type_name(typ)
        )));
    }
    let target = f
        .target
        .clone()
        .ok_or_else(|| bad("target is required (target=/path/in/container)".into()))?;
    if !target.starts_with('/') || target == "/" {
        return Err(bad(format!(
            "target {target:?} must be an absolute path other than /"
        )));
    }
    let spec = match typ {
        Type::Bind => bind(&f, target).map_err(bad)?,
        Type::Volume => volume(&f, target).map_err(bad)?,
        Type::Tmpfs => tmpfs(&f, target).map_err(bad)?,
    };
    let shown = docker_mount(&spec, &f);
    Ok((spec, shown))
}

/// One line of CSV, as Go's `encoding/csv` reads Docker's `--mount` value: a field may be
/// quoted (`"src=/a,b"`), with `""` for a quote inside it.
fn csv_fields(value: &str) -> std::result::Result<Vec<String>, &'static str> {
    let mut fields = Vec::new();
    let mut chars = value.chars().peekable();
    loop {
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => return Err("a quoted field is not closed"),
                }
            }
            if !matches!(chars.peek(), None | Some(',')) {
                return Err("a quoted field must end at a comma");
            }
        } else {
            while let Some(c) = chars.next_if(|c| *c != ',') {
                field.push(c);
            }
        }
        fields.push(field);
        if chars.next().is_none() {
            return Ok(fields);
        }
    }
}

fn read_field(f: &mut Fields, key: &str, val: Option<&str>) -> std::result::Result<(), String> {
    let need = || val.ok_or_else(|| format!("key {key} needs a value ({key}=...)"));
    let flag = |v: Option<&str>| match v {
        None => Ok(true),
        Some(v) => parse_bool(v).ok_or_else(|| format!("invalid value {v:?} for key {key}")),
    };
    let mut typed = |t: Type| {
        f.typed_key.get_or_insert((t, key.to_string()));
    };
    match key {
        "type" => {
            f.typ = Some(match need()? {
                "bind" => Type::Bind,
                "volume" => Type::Volume,
                "tmpfs" => Type::Tmpfs,
                other => {
                    return Err(format!(
                        "type {other:?} is not supported: use bind, volume or tmpfs"
                    ));
                }
            });
        }
        "source" | "src" => f.source = Some(need()?.to_string()),
        "target" | "destination" | "dst" => f.target = Some(need()?.to_string()),
        "readonly" | "ro" => f.read_only = flag(val)?,
        // Docker Desktop's hint; nothing on Linux.
        "consistency" => {}
        "bind-propagation" => {
            typed(Type::Bind);
            let p = need()?;
            check_propagation(p)?;
            f.propagation = Some(p.to_string());
        }
        "bind-recursive" => {
            typed(Type::Bind);
            if need()? != "enabled" {
                return Err("bind-recursive: kist's binds are recursive (enabled) only".into());
            }
        }
        "bind-nonrecursive" => {
            typed(Type::Bind);
            if flag(val)? {
                return Err(
                    "bind-nonrecursive is not supported: kist's binds are recursive".into(),
                );
            }
        }
        "volume-nocopy" => {
            typed(Type::Volume);
            f.no_copy = flag(val)?;
        }
        "volume-driver" => {
            typed(Type::Volume);
            if need()? != "local" {
                return Err("volume-driver: kist's volumes are local directories (local)".into());
            }
        }
        "volume-opt" | "volume-label" | "volume-subpath" => {
            return Err(format!(
                "{key} is not supported: kist's volumes are local directories without driver \
                 options, labels or subpaths"
            ));
        }
        "tmpfs-size" => {
            typed(Type::Tmpfs);
            let v = need()?;
            let bytes = super::units::parse_bytes(v).map_err(|e| format!("tmpfs-size: {e}"))?;
            f.tmpfs_size = Some(bytes);
        }
        "tmpfs-mode" => {
            typed(Type::Tmpfs);
            let v = need()?;
            f.tmpfs_mode =
                Some(parse_mode(v).ok_or_else(|| format!("tmpfs-mode {v:?} is not octal"))?);
        }
        other => return Err(format!("unknown key {other:?}")),
    }
    Ok(())
}

fn type_name(t: Type) -> &'static str {
    match t {
        Type::Bind => "bind",
        Type::Volume => "volume",
        Type::Tmpfs => "tmpfs",
    }
}

/// An octal file mode, at most 07777.
fn parse_mode(v: &str) -> Option<u32> {
    u32::from_str_radix(v, 8).ok().filter(|m| *m <= 0o7777)
}

fn bind(f: &Fields, target: String) -> std::result::Result<VolumeSpec, String> {
    let source = f
        .source
        .as_deref()
        .ok_or("source is required when type is bind")?;
    let spec =
        super::volume::parse_volume(&format!("{source}:{target}")).map_err(|e| e.to_string())?;
    let VolumeSpec::Bind { source, .. } = spec else {
        return Err(format!(
            "bind source {source:?} must be a host path (absolute, or ./relative)"
        ));
    };
    // Unlike -v, --mount never creates a missing source, as in Docker.
    if !source.exists() {
        return Err(format!(
            "bind source path does not exist: {}",
            source.display()
        ));
    }
    Ok(VolumeSpec::Bind {
        source,
        target,
        read_only: f.read_only,
        propagation: f.propagation.clone(),
    })
}

fn volume(f: &Fields, target: String) -> std::result::Result<VolumeSpec, String> {
    let name = match f.source.as_deref() {
        None | Some("") => None,
        Some(s) if crate::options::names::is_valid(s) => Some(s.to_string()),
        Some(s) => {
            return Err(format!(
                "volume name {s:?}: use letters, digits, '_', '.' and '-' (for a host path use type=bind)"
            ));
        }
    };
    Ok(VolumeSpec::Named {
        name,
        target,
        read_only: f.read_only,
        no_copy: f.no_copy,
    })
}

fn tmpfs(f: &Fields, target: String) -> std::result::Result<VolumeSpec, String> {
    if f.source.is_some() {
        return Err("a tmpfs has no source".into());
    }
    let mut options: Vec<String> = TMPFS_DEFAULTS.iter().map(|s| s.to_string()).collect();
    if f.read_only {
        options.push("ro".into());
    }
    if let Some(size) = f.tmpfs_size {
        options.push(format!("size={size}"));
    }
    if let Some(mode) = f.tmpfs_mode {
        options.push(format!("mode={mode:o}"));
    }
    Ok(VolumeSpec::Tmpfs { target, options })
}

/// Docker's `mount.Mount` for one `--mount`, its empty fields left out as Docker leaves them.
fn docker_mount(spec: &VolumeSpec, f: &Fields) -> Value {
    let mut m = json!({"Type": "volume", "Target": spec.target()});
    match spec {
        VolumeSpec::Bind {
            source,
            propagation,
            ..
        } => {
            m["Type"] = json!("bind");
            m["Source"] = json!(source);
            if let Some(p) = propagation {
                m["BindOptions"] = json!({"Propagation": p});
            }
        }
        VolumeSpec::Named { name, no_copy, .. } => {
            if let Some(n) = name {
                m["Source"] = json!(n);
            }
            if *no_copy {
                m["VolumeOptions"] = json!({"NoCopy": true});
            }
        }
        VolumeSpec::Tmpfs { .. } => {
            m["Type"] = json!("tmpfs");
            let mut o = json!({});
            if let Some(s) = f.tmpfs_size {
                o["SizeBytes"] = json!(s);
            }
            if let Some(mode) = f.tmpfs_mode {
                o["Mode"] = json!(mode);
            }
            if o != json!({}) {
                m["TmpfsOptions"] = o;
            }
        }
    }
    if f.read_only {
        m["ReadOnly"] = json!(true);
    }
    m
}

/// Parses a `--tmpfs PATH[:OPTIONS]` value: the path and its options as given, checked to be
/// options a tmpfs takes.
pub fn parse_tmpfs(value: &str) -> Result<(String, String)> {
    let bad = |why: String| Error::invalid_value("--tmpfs", value, why);
    let (target, options) = value.split_once(':').unwrap_or((value, ""));
    if !target.starts_with('/') || target == "/" {
        return Err(bad("the path must be absolute and not /".into()));
    }
    for o in options.split(',').filter(|o| !o.is_empty()) {
        check_tmpfs_option(o).map_err(bad)?;
    }
    Ok((target.to_string(), options.to_string()))
}

const TMPFS_FLAGS: [&str; 18] = [
    "ro",
    "rw",
    "exec",
    "noexec",
    "suid",
    "nosuid",
    "dev",
    "nodev",
    "atime",
    "noatime",
    "diratime",
    "nodiratime",
    "relatime",
    "norelatime",
    "strictatime",
    "nostrictatime",
    "sync",
    "async",
];

fn check_tmpfs_option(o: &str) -> std::result::Result<(), String> {
    if TMPFS_FLAGS.contains(&o) {
        return Ok(());
    }
    let Some((key, v)) = o.split_once('=') else {
        return Err(format!("unknown tmpfs option {o:?}"));
    };
    let ok = match key {
        "size" => v.ends_with('%') || super::units::parse_bytes(v).is_ok(),
        "mode" => parse_mode(v).is_some(),
        "uid" | "gid" | "nr_inodes" | "nr_blocks" => super::units::parse_bytes(v).is_ok(),
        "huge" => ["never", "always", "within_size", "advise"].contains(&v),
        "mpol" => true,
        _ => return Err(format!("unknown tmpfs option {key:?}")),
    };
    if ok {
        Ok(())
    } else {
        Err(format!("invalid value {v:?} for tmpfs option {key}"))
    }
}

/// `--shm-size`: bytes; 0 is Docker's default.
pub fn parse_shm_size(value: &str) -> Result<Option<u64>> {
    let bytes = super::units::parse_bytes(value)
        .map_err(|why| Error::invalid_value("--shm-size", value, why))?;
    Ok((bytes > 0).then_some(bytes))
}

/// `--volumes-from CONTAINER[:ro|rw]`: the container and whether to force read-only
/// (None keeps each mount's own mode).
pub(crate) fn parse_volumes_from(value: &str) -> Result<(&str, Option<bool>)> {
    match value.rsplit_once(':') {
        None => Ok((value, None)),
        Some((c, "ro")) => Ok((c, Some(true))),
        Some((c, "rw")) => Ok((c, Some(false))),
        Some((_, mode)) => Err(Error::invalid_value(
            "--volumes-from",
            value,
            format!("invalid mode {mode:?}: use ro or rw"),
        )),
    }
}

/// The `-v` value as `HostConfig.Binds` shows it: with its host path made absolute; None
/// for an anonymous volume, which Docker does not list there.
pub fn bind_as_shown(value: &str, spec: &VolumeSpec) -> Option<String> {
    let mode = value.splitn(3, ':').nth(2);
    let source = match spec {
        VolumeSpec::Bind { source, .. } => source.display().to_string(),
        VolumeSpec::Named { name: Some(n), .. } => n.clone(),
        _ => return None,
    };
    let mut shown = format!("{source}:{}", spec.target());
    if let Some(m) = mode {
        shown.push(':');
        shown.push_str(m);
    }
    Some(shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mounts_take_dockers_keys() {
        let (spec, shown) = parse_mount("type=bind,src=/,dst=/host,readonly").unwrap();
        assert_eq!(
            spec,
            VolumeSpec::Bind {
                source: "/".into(),
                target: "/host".into(),
                read_only: true,
                propagation: None
            }
        );
        assert_eq!(
            shown,
            json!({"Type": "bind", "Source": "/", "Target": "/host", "ReadOnly": true})
        );
        let (spec, shown) = parse_mount("source=cache,target=/c,volume-nocopy").unwrap();
        assert_eq!(
            spec,
            VolumeSpec::Named {
                name: Some("cache".into()),
                target: "/c".into(),
                read_only: false,
                no_copy: true
            }
        );
        assert_eq!(shown["VolumeOptions"]["NoCopy"], true);
        let (spec, shown) =
            parse_mount("type=tmpfs,destination=/t,tmpfs-size=1m,tmpfs-mode=1770").unwrap();
        let VolumeSpec::Tmpfs { options, .. } = spec else {
            panic!("a tmpfs")
        };
        assert!(options.contains(&"size=1048576".to_string()));
        assert!(options.contains(&"mode=1770".to_string()));
        assert_eq!(
            shown["TmpfsOptions"],
            json!({"SizeBytes": 1048576, "Mode": 0o1770})
        );
        let (_, shown) =
            parse_mount("type=bind,source=/,target=/h,bind-propagation=rslave").unwrap();
        assert_eq!(shown["BindOptions"]["Propagation"], "rslave");
    }

    #[test]
    fn fields_are_csv_as_docker_reads_them() {
        assert_eq!(
            csv_fields(r#"type=bind,"src=/a,b",dst=/x"#).unwrap(),
            ["type=bind", "src=/a,b", "dst=/x"]
        );
        assert_eq!(
            csv_fields(r#""say ""hi""",x"#).unwrap(),
            [r#"say "hi""#, "x"]
        );
        assert!(csv_fields(r#""open"#).is_err());
        assert!(csv_fields(r#""a"b,c"#).is_err());
    }

    #[test]
    fn bad_mounts_name_what_is_wrong() {
        for (value, says) in [
            ("type=bind,target=/x", "source is required"),
            ("type=nfs,target=/x", "\"nfs\""),
            (
                "type=volume,src=v,target=/x,volume-opt=o=size",
                "volume-opt",
            ),
            ("type=bind,src=/,target=/x,tmpfs-size=1m", "tmpfs-size"),
            ("type=tmpfs,target=/x,tmpfs-mode=9", "tmpfs-mode"),
            ("type=tmpfs,target=/x,src=/a", "no source"),
            (
                "type=bind,src=/no/such/dir/here,target=/x",
                "does not exist",
            ),
            (
                "type=bind,src=/,target=/x,bind-propagation=rshared",
                "rshared",
            ),
            ("target=/x,colour=blue", "\"colour\""),
            ("type=volume,src=v", "target is required"),
            ("type=volume,src=v,target=rel", "absolute"),
        ] {
            let e = parse_mount(value).unwrap_err().to_string();
            assert!(e.contains(says), "{value}: {e}");
            assert!(e.starts_with("invalid --mount"), "{e}");
        }
    }

    #[test]
    fn tmpfs_options_are_checked() {
        assert_eq!(
            parse_tmpfs("/run:rw,size=64m,mode=1777").unwrap(),
            ("/run".into(), "rw,size=64m,mode=1777".into())
        );
        assert_eq!(parse_tmpfs("/run").unwrap(), ("/run".into(), "".into()));
        for bad in ["run", "/", "/x:size=lots", "/x:bogus", "/x:mode=abc"] {
            assert!(parse_tmpfs(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_shm_size("128m").unwrap(), Some(128 << 20));
        assert_eq!(parse_shm_size("0").unwrap(), None);
        assert!(parse_volumes_from("c:rx").is_err());
        assert_eq!(parse_volumes_from("c:ro").unwrap(), ("c", Some(true)));
    }
}
