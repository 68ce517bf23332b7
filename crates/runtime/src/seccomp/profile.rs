//! Docker's seccomp profile format, a superset of the OCI runtime spec's `linux.seccomp` (which
//! is a profile without `archMap`, `includes` or `excludes`), read strictly: a field kist does
//! not know is an error, since a misspelt field in a security profile would otherwise be a hole.

use std::path::PathBuf;
use std::sync::OnceLock;

use oci_spec::runtime::{
    Arch, LinuxSeccompAction, LinuxSeccompArg, LinuxSeccompArgBuilder, LinuxSeccompFilterFlag,
    LinuxSeccompOperator,
};
use serde::Deserialize;

use super::error::SeccompError;
use super::kernel::KernelVersion;

/// The text of kist's default profile: Docker's default profile's rules, in kist's own layout.
pub const DEFAULT_PROFILE_JSON: &str = include_str!("default.json");

/// The largest argument index a rule can test: syscalls have six arguments.
const MAX_ARG_INDEX: usize = 5;

/// A seccomp profile as a user or an OCI bundle writes it, before it is resolved for one
/// container (its capabilities) on one host (its architecture and kernel).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    pub default_action: LinuxSeccompAction,
    pub default_errno_ret: Option<u32>,
    /// The OCI form: the architectures as they are (exclusive with `arch_map`).
    pub architectures: Vec<Arch>,
    /// Docker's form: per native architecture, the others its processes may use.
    pub arch_map: Vec<ArchMapEntry>,
    pub flags: Vec<LinuxSeccompFilterFlag>,
    pub listener_path: Option<PathBuf>,
    pub listener_metadata: Option<String>,
    pub syscalls: Vec<Entry>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchMapEntry {
    pub architecture: Arch,
    pub sub_architectures: Vec<Arch>,
}

/// One rule of `syscalls`: an OCI rule plus the conditions under which it applies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub names: Vec<String>,
    pub action: LinuxSeccompAction,
    pub errno_ret: Option<u32>,
    pub args: Vec<LinuxSeccompArg>,
    /// All of these must hold for the rule to apply.
    pub includes: Selector,
    /// None of these may hold for the rule to apply.
    pub excludes: Selector,
    pub comment: Option<String>,
}

/// Conditions on the container and the host (Docker's `Filter`). Empty parts are no condition.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selector {
    /// Capability names, such as "CAP_SYS_ADMIN".
    pub caps: Vec<String>,
    /// Architecture names as libseccomp spells them ("amd64", "arm64", "x86", ...), or
    /// `SCMP_ARCH_*`.
    pub arches: Vec<String>,
    pub min_kernel: Option<KernelVersion>,
}

impl Profile {
    /// Reads a profile from JSON: Docker's format or a plain OCI `linux.seccomp`.
    pub fn from_json(text: &str) -> crate::Result<Profile> {
        let raw: RawProfile = serde_json::from_str(text).map_err(SeccompError::Json)?;
        Ok(raw.into_profile()?)
    }

    /// kist's default profile (`default.json`), parsed once.
    pub fn docker_default() -> &'static Profile {
        static DEFAULT: OnceLock<Profile> = OnceLock::new();
        DEFAULT.get_or_init(|| {
            // The file is part of kist, not input: its test proves that it parses.
            Profile::from_json(DEFAULT_PROFILE_JSON).expect("default.json is a valid profile")
        })
    }

    /// Every syscall name any entry mentions, whether or not the entry applies: what the
    /// profile's author knew of, which is what decides ENOSYS for newer syscalls.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.syscalls
            .iter()
            .flat_map(|e| e.names.iter().map(String::as_str))
    }
}

/// How an entry is named in errors: its place and its first names.
pub(crate) fn entry_label(index: usize, names: &[String]) -> String {
    const SHOWN: usize = 3;
    let mut shown = names
        .iter()
        .take(SHOWN)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        shown.push_str(", ...");
    }
    format!("syscalls[{index}] ({shown})")
}

// The serde shapes, kept apart from the public types so that entries can be read one at a time
// (an error then says which entry it is in) and checked beyond their shape.

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawProfile {
    default_action: LinuxSeccompAction,
    #[serde(default)]
    default_errno_ret: Option<u32>,
    /// Podman's profile names the errno too ("ENOSYS"); it must agree with the number.
    #[serde(default)]
    default_errno: Option<String>,
    #[serde(default)]
    architectures: Option<Vec<Arch>>,
    #[serde(default)]
    arch_map: Option<Vec<RawArchMap>>,
    #[serde(default)]
    flags: Option<Vec<LinuxSeccompFilterFlag>>,
    #[serde(default)]
    listener_path: Option<PathBuf>,
    #[serde(default)]
    listener_metadata: Option<String>,
    #[serde(default)]
    syscalls: Option<Vec<serde_json::Value>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawArchMap {
    architecture: Arch,
    #[serde(default)]
    sub_architectures: Option<Vec<Arch>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawEntry {
    #[serde(default)]
    names: Option<Vec<String>>,
    /// Docker's old format: one name per entry.
    #[serde(default)]
    name: Option<String>,
    action: LinuxSeccompAction,
    #[serde(default)]
    errno_ret: Option<u32>,
    /// Podman's name for `errnoRet` ("EPERM"), as for `defaultErrno`.
    #[serde(default)]
    errno: Option<String>,
    #[serde(default)]
    args: Option<Vec<RawArg>>,
    #[serde(default)]
    includes: Option<RawSelector>,
    #[serde(default)]
    excludes: Option<RawSelector>,
    #[serde(default)]
    comment: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawArg {
    index: usize,
    value: u64,
    #[serde(default)]
    value_two: Option<u64>,
    op: LinuxSeccompOperator,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawSelector {
    #[serde(default)]
    caps: Option<Vec<String>>,
    #[serde(default)]
    arches: Option<Vec<String>>,
    #[serde(default)]
    min_kernel: Option<String>,
}

impl RawProfile {
    fn into_profile(self) -> Result<Profile, SeccompError> {
        let architectures = self.architectures.unwrap_or_default();
        let arch_map: Vec<ArchMapEntry> = self
            .arch_map
            .unwrap_or_default()
            .into_iter()
            .map(|a| ArchMapEntry {
                architecture: a.architecture,
                sub_architectures: a.sub_architectures.unwrap_or_default(),
            })
            .collect();
        if !architectures.is_empty() && !arch_map.is_empty() {
            return Err(SeccompError::Profile(
                "both \"architectures\" and \"archMap\" are given: use one of them".into(),
            ));
        }
        let syscalls = self
            .syscalls
            .unwrap_or_default()
            .into_iter()
            .enumerate()
            .map(|(index, value)| read_entry(index, value))
            .collect::<Result<_, _>>()?;
        let default_errno_ret =
            super::errno::reconcile(self.default_errno_ret, self.default_errno.as_deref())
                .map_err(|m| SeccompError::Profile(format!("defaultErrno: {m}")))?;
        Ok(Profile {
            default_action: self.default_action,
            default_errno_ret,
            architectures,
            arch_map,
            flags: self.flags.unwrap_or_default(),
            listener_path: self.listener_path,
            listener_metadata: self.listener_metadata,
            syscalls,
        })
    }
}

fn read_entry(index: usize, value: serde_json::Value) -> Result<Entry, SeccompError> {
    // The names are read loosely first, only to say which entry an error is in.
    let label = entry_label(index, &loose_names(&value));
    let fail = |message: String| SeccompError::Entry {
        entry: label.clone(),
        message,
    };
    let raw: RawEntry = serde_json::from_value(value).map_err(|e| fail(e.to_string()))?;
    let names = match (raw.names, raw.name) {
        (Some(_), Some(_)) => {
            return Err(fail(
                "both \"name\" and \"names\" are given: use \"names\"".into(),
            ));
        }
        (Some(names), None) => names,
        (None, Some(name)) => vec![name],
        (None, None) => return Err(fail("no \"names\"".into())),
    };
    let args = raw
        .args
        .unwrap_or_default()
        .into_iter()
        .map(|a| read_arg(a).map_err(&fail))
        .collect::<Result<_, _>>()?;
    let errno_ret = super::errno::reconcile(raw.errno_ret, raw.errno.as_deref())
        .map_err(|m| fail(format!("errno: {m}")))?;
    Ok(Entry {
        names,
        action: raw.action,
        errno_ret,
        args,
        includes: read_selector(raw.includes).map_err(&fail)?,
        excludes: read_selector(raw.excludes).map_err(&fail)?,
        comment: raw.comment,
    })
}

fn loose_names(value: &serde_json::Value) -> Vec<String> {
    let strings = |v: &serde_json::Value| v.as_str().map(str::to_owned);
    match (value.get("names"), value.get("name")) {
        (Some(serde_json::Value::Array(names)), _) => names.iter().filter_map(strings).collect(),
        (_, Some(name)) => strings(name).into_iter().collect(),
        _ => Vec::new(),
    }
}

fn read_arg(raw: RawArg) -> Result<LinuxSeccompArg, String> {
    if raw.index > MAX_ARG_INDEX {
        return Err(format!(
            "argument index {} is out of range (syscalls have arguments 0 to {MAX_ARG_INDEX})",
            raw.index
        ));
    }
    let mut builder = LinuxSeccompArgBuilder::default()
        .index(raw.index)
        .value(raw.value)
        .op(raw.op);
    if let Some(two) = raw.value_two {
        builder = builder.value_two(two);
    }
    builder
        .build()
        .map_err(|e| format!("argument {}: {e}", raw.index))
}

fn read_selector(raw: Option<RawSelector>) -> Result<Selector, String> {
    let Some(raw) = raw else {
        return Ok(Selector::default());
    };
    let min_kernel = match raw.min_kernel.as_deref() {
        None | Some("") => None,
        Some(text) => Some(KernelVersion::from_min_kernel(text)?),
    };
    Ok(Selector {
        caps: raw.caps.unwrap_or_default(),
        arches: raw.arches.unwrap_or_default(),
        min_kernel,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(text: &str) -> String {
        Profile::from_json(text).unwrap_err().to_string()
    }

    #[test]
    fn default_profile_parses() {
        let p = Profile::docker_default();
        assert_eq!(p.default_action, LinuxSeccompAction::ScmpActErrno);
        assert_eq!(p.default_errno_ret, Some(1));
        assert!(p.architectures.is_empty());
        let x86_64 = p
            .arch_map
            .iter()
            .find(|a| a.architecture == Arch::ScmpArchX86_64)
            .unwrap();
        assert_eq!(
            x86_64.sub_architectures,
            [Arch::ScmpArchX86, Arch::ScmpArchX32]
        );
        assert!(p.names().any(|n| n == "read"));
        // Denied by omission, as in Docker's profile.
        for denied in [
            "keyctl",
            "add_key",
            "request_key",
            "io_uring_setup",
            "kexec_load",
        ] {
            assert!(!p.names().any(|n| n == denied), "{denied} is named");
        }
    }

    #[test]
    fn docker_fields_are_read() {
        let p = Profile::from_json(
            r#"{
                "defaultAction": "SCMP_ACT_ERRNO",
                "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": null}],
                "flags": ["SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
                "syscalls": [{
                    "names": ["clone"],
                    "action": "SCMP_ACT_ALLOW",
                    "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}],
                    "comment": "no namespaces",
                    "includes": {"minKernel": "4.8", "arches": ["amd64"]},
                    "excludes": {"caps": ["CAP_SYS_ADMIN"]}
                }]
            }"#,
        )
        .unwrap();
        assert_eq!(p.arch_map[0].sub_architectures, []);
        assert_eq!(
            p.flags,
            [LinuxSeccompFilterFlag::SeccompFilterFlagSpecAllow]
        );
        let e = &p.syscalls[0];
        assert_eq!(e.args[0].op(), LinuxSeccompOperator::ScmpCmpMaskedEq);
        assert_eq!(e.args[0].value(), 0x7E02_0000);
        assert_eq!(e.includes.min_kernel, Some(KernelVersion::new(4, 8)));
        assert_eq!(e.includes.arches, ["amd64"]);
        assert_eq!(e.excludes.caps, ["CAP_SYS_ADMIN"]);
        assert_eq!(e.comment.as_deref(), Some("no namespaces"));
    }

    #[test]
    fn a_plain_oci_seccomp_is_a_profile() {
        let p = Profile::from_json(
            r#"{
                "defaultAction": "SCMP_ACT_KILL_PROCESS",
                "defaultErrnoRet": 38,
                "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
                "listenerPath": "/run/agent.sock",
                "listenerMetadata": "m",
                "syscalls": [{"names": ["getpid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5}]
            }"#,
        )
        .unwrap();
        assert_eq!(p.architectures.len(), 2);
        assert_eq!(p.syscalls[0].errno_ret, Some(5));
        assert_eq!(p.syscalls[0].includes, Selector::default());
    }

    #[test]
    fn the_old_single_name_format_is_read() {
        let p = Profile::from_json(
            r#"{"defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [{"name": "ptrace", "action": "SCMP_ACT_ERRNO", "args": null}]}"#,
        )
        .unwrap();
        assert_eq!(p.syscalls[0].names, ["ptrace"]);
    }

    #[test]
    fn a_bad_action_names_its_entry() {
        let err = error_of(
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
                {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
                {"names": ["mount", "umount2"], "action": "SCMP_ACT_ALOW"}]}"#,
        );
        assert!(err.contains("syscalls[1] (mount, umount2)"), "{err}");
        assert!(err.contains("SCMP_ACT_ALOW"), "{err}");
    }

    #[test]
    fn a_bad_operator_names_its_entry() {
        let err = error_of(
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
                {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
                 "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQUAL"}]}]}"#,
        );
        assert!(err.contains("syscalls[0] (personality)"), "{err}");
        assert!(err.contains("SCMP_CMP_EQUAL"), "{err}");
    }

    #[test]
    fn unknown_fields_are_refused_by_name() {
        let err = error_of(
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
                {"names": ["getpid"], "action": "SCMP_ACT_ERRNO", "errnoret": 5}]}"#,
        );
        assert!(err.contains("syscalls[0] (getpid)"), "{err}");
        assert!(err.contains("errnoret"), "{err}");
        let err = error_of(r#"{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoo": 1}"#);
        assert!(err.contains("defaultErrnoo"), "{err}");
    }

    #[test]
    fn other_mistakes_are_clear() {
        let err = error_of(r#"{"syscalls": []}"#);
        assert!(err.contains("defaultAction"), "{err}");
        let err = error_of(
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86"],
                "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]}"#,
        );
        assert!(err.contains("archMap"), "{err}");
        let err = error_of(
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
                {"names": ["a"], "name": "b", "action": "SCMP_ACT_ALLOW"}]}"#,
        );
        assert!(err.contains("\"name\""), "{err}");
        let err = error_of(
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["a", "b", "c", "d"],
                "action": "SCMP_ACT_ALLOW", "args": [{"index": 6, "value": 0, "op": "SCMP_CMP_EQ"}]}]}"#,
        );
        assert!(err.contains("syscalls[0] (a, b, c, ...)"), "{err}");
        assert!(err.contains("index 6"), "{err}");
        let err = error_of(
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["ptrace"],
                "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4"}}]}"#,
        );
        assert!(err.contains("minKernel"), "{err}");
        let err =
            error_of(r#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_Z80"]}"#);
        assert!(err.contains("SCMP_ARCH_Z80"), "{err}");
    }
}
