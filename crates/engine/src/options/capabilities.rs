//! Capability names and sets, Docker's way: `--cap-add`/`--cap-drop` names in any case, with or
//! without `CAP_`; "ALL" meaning all that kist itself holds.

use std::collections::BTreeSet;

use crate::error::{Error, Result};

/// Docker's default capability set (the runtime's list, which its seccomp tests use too).
pub use kist_runtime::DOCKER_DEFAULT_CAPABILITIES as DEFAULT_CAPABILITIES;

/// Every capability kist knows by name (Linux 5.9's set).
const ALL_CAPABILITIES: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// The set a container gets: all with `privileged` or `--cap-add ALL` (less the drops), none
/// but the adds with `--cap-drop ALL`, else the default set with the adds and without the drops.
pub(super) fn set(privileged: bool, cap_add: &[String], cap_drop: &[String]) -> Vec<String> {
    // "All" is all that kist itself holds: a host may withhold some (CAP_SYS_RESOURCE).
    let all = || {
        let held = own_bounding_set();
        ALL_CAPABILITIES
            .iter()
            .enumerate()
            .filter(move |(i, _)| held & (1u64 << i) != 0)
            .map(|(_, c)| c.to_string())
    };
    let has = |list: &[String]| list.iter().any(|c| c == "ALL");
    let set: BTreeSet<String> = if privileged {
        all().collect()
    } else if has(cap_add) {
        all().filter(|c| !cap_drop.contains(c)).collect()
    } else if has(cap_drop) {
        cap_add.iter().cloned().collect()
    } else {
        DEFAULT_CAPABILITIES
            .iter()
            .map(|c| c.to_string())
            .filter(|c| !cap_drop.contains(c))
            .chain(cap_add.iter().cloned())
            .collect()
    };
    set.into_iter().collect()
}

/// kist's own bounding set, as a bit mask by capability number (ALL_CAPABILITIES's order).
pub(super) fn own_bounding_set() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("CapBnd:"))
                .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        })
        .unwrap_or(u64::MAX)
}

/// An added capability kist does not hold itself cannot be given: say so before anything.
pub(super) fn check_held(added: &[String]) -> Result<()> {
    if added.is_empty() {
        return Ok(());
    }
    let held = own_bounding_set();
    for c in added.iter().filter(|c| *c != "ALL") {
        let index = ALL_CAPABILITIES.iter().position(|a| a == c).unwrap_or(0);
        if held & (1u64 << index) == 0 {
            return Err(Error::invalid_option(
                "--cap-add",
                format!(
                    "--cap-add {c}: kist itself does not hold {c} on this host, so it cannot give it to a container"
                ),
            ));
        }
    }
    Ok(())
}

/// `net_admin`, `CAP_NET_ADMIN`, `all` → `CAP_NET_ADMIN`, `ALL`.
/// `flag`: the flag that names it, `--cap-add` or `--cap-drop`.
pub(super) fn name(flag: &'static str, raw: &str) -> Result<String> {
    let upper = raw.trim().to_ascii_uppercase();
    if upper == "ALL" {
        return Ok(upper);
    }
    let name = if upper.starts_with("CAP_") {
        upper
    } else {
        format!("CAP_{upper}")
    };
    if ALL_CAPABILITIES.contains(&name.as_str()) {
        Ok(name)
    } else {
        Err(Error::invalid_option(
            flag,
            format!(
                "unknown capability {raw:?}: use a name such as NET_ADMIN or CAP_SYS_PTRACE, or ALL"
            ),
        ))
    }
}
