//! The process's capability sets, applied as the spec gives them: the bounding set is cut first
//! (while root still holds CAP_SETPCAP), the permitted set survives the switch to the
//! container's user (PR_SET_KEEPCAPS), then inheritable, effective, permitted and ambient are
//! set. A process whose spec has no `capabilities` keeps what it has, as runc does.

use std::collections::HashSet;
use std::str::FromStr;

use caps::{CapSet, Capability};
use oci_spec::runtime::{LinuxCapabilities, Process};

use crate::error::{Error, Result, cvt};

/// A process's capability sets, parsed before anything changes.
pub(crate) struct Capabilities {
    bounding: HashSet<Capability>,
    effective: HashSet<Capability>,
    permitted: HashSet<Capability>,
    inheritable: HashSet<Capability>,
    ambient: HashSet<Capability>,
}

fn parse_set(names: &Option<oci_spec::runtime::Capabilities>) -> Result<HashSet<Capability>> {
    names.iter().flatten().copied().map(to_caps).collect()
}

/// oci-spec and caps name the same kernel capabilities; they meet by name (`CAP_SYS_ADMIN`).
fn to_caps(c: oci_spec::runtime::Capability) -> Result<Capability> {
    let name = serde_json::to_value(c)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default();
    Capability::from_str(&name).map_err(|_| Error::Spec(format!("unknown capability {name:?}")))
}

impl Capabilities {
    pub(crate) fn of(process: &Process) -> Result<Option<Capabilities>> {
        let Some(c): Option<&LinuxCapabilities> = process.capabilities().as_ref() else {
            return Ok(None);
        };
        Ok(Some(Capabilities {
            bounding: parse_set(c.bounding())?,
            effective: parse_set(c.effective())?,
            permitted: parse_set(c.permitted())?,
            inheritable: parse_set(c.inheritable())?,
            ambient: parse_set(c.ambient())?,
        }))
    }

    /// Drops from the bounding set every capability the spec does not keep, up to the last one
    /// this kernel knows (which may be newer than any name here).
    pub(crate) fn limit_bounding(&self) -> Result<()> {
        let kept: HashSet<u8> = self.bounding.iter().map(|c| c.index()).collect();
        for index in 0..=last_capability() {
            if kept.contains(&index) {
                continue;
            }
            // SAFETY: prctl with integer arguments.
            let r =
                unsafe { libc::prctl(libc::PR_CAPBSET_DROP, libc::c_ulong::from(index), 0, 0, 0) };
            if r < 0 {
                let e = std::io::Error::last_os_error();
                // A capability this kernel does not have is not in any set.
                if e.raw_os_error() == Some(libc::EINVAL) {
                    continue;
                }
                return Err(Error::sys(
                    format!("dropping capability {index} from the bounding set"),
                    e,
                ));
            }
        }
        Ok(())
    }

    /// Sets the other four sets, once the process runs as the container's user.
    pub(crate) fn apply(&self) -> Result<()> {
        let set = |which: CapSet, caps: &HashSet<Capability>, name: &str| {
            caps::set(None, which, caps)
                .map_err(|e| Error::Spec(format!("setting the {name} capabilities: {e}")))
        };
        // Inheritable first, while every capability is still permitted; effective before
        // permitted, which may not be smaller than effective.
        set(CapSet::Inheritable, &self.inheritable, "inheritable")?;
        set(CapSet::Effective, &self.effective, "effective")?;
        set(CapSet::Permitted, &self.permitted, "permitted")?;
        caps::clear(None, CapSet::Ambient)
            .map_err(|e| Error::Spec(format!("clearing the ambient capabilities: {e}")))?;
        for c in &self.ambient {
            caps::raise(None, CapSet::Ambient, *c)
                .map_err(|e| Error::Spec(format!("raising the ambient capability {c}: {e}")))?;
        }
        Ok(())
    }
}

/// Keeps the permitted set across a change from root to another user (or not).
pub(crate) fn keep_across_user_change(keep: bool) -> Result<()> {
    // SAFETY: prctl with integer arguments.
    cvt(unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, libc::c_ulong::from(keep), 0, 0, 0) })
        .map(drop)
        .map_err(|e| Error::sys("setting PR_SET_KEEPCAPS", e))
}

/// The highest capability number this kernel knows.
fn last_capability() -> u8 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(40)
}
