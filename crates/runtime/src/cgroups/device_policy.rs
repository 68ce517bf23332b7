//! What a list of device rules leaves in force, worked out as the v1 devices controller does
//! (security/device_cgroup.c): a default, allow or deny, and exceptions to it. cgroup v2 has no
//! such controller, so its eBPF program is generated from this, and a container gets the same
//! devices on either version.
//!
//! The kernel's rules: `a` resets the default and drops every exception. A rule that goes
//! against the default adds an exception (merging its access into one for the same devices); a
//! rule that goes with it takes access away from the exception for exactly the same devices
//! only. So on v1 "deny c 1:3" after "allow c *:* rwm" changes nothing; such a rule is refused
//! here (as runc does), as it does not do what it says.

use super::device_rules::{Access, Devices, Rule};
use crate::error::{Error, Result};

/// An exception to the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Exception {
    pub devices: Devices,
    pub access: Access,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Policy {
    pub default_allow: bool,
    /// In the order they were first made; at most one per set of devices.
    pub exceptions: Vec<Exception>,
}

impl Policy {
    /// What `rules` leave, starting as a new cgroup does below an unrestricted parent: every
    /// device allowed. (A restricted parent restricts its children further on both versions:
    /// v1 checks the parent too, v2 runs every ancestor's program.)
    pub fn of(rules: &[Rule]) -> Result<Policy> {
        let mut p = Policy {
            default_allow: true,
            exceptions: Vec::new(),
        };
        for rule in rules {
            p.apply(rule)?;
        }
        Ok(p)
    }

    /// Whether this policy lets everything through, so that nothing need be set up.
    pub fn allows_all(&self) -> bool {
        self.default_allow && self.exceptions.is_empty()
    }

    fn apply(&mut self, rule: &Rule) -> Result<()> {
        match *rule {
            Rule::All { allow } => {
                self.default_allow = allow;
                self.exceptions.clear();
            }
            Rule::Some { access, .. } if access.is_empty() => {}
            Rule::Some {
                allow,
                devices,
                access,
            } if allow != self.default_allow => self.add(devices, access),
            Rule::Some {
                devices, access, ..
            } => self.remove(rule, devices, access)?,
        }
        Ok(())
    }

    fn add(&mut self, devices: Devices, access: Access) {
        match self.exceptions.iter_mut().find(|e| e.devices == devices) {
            Some(e) => e.access = e.access.or(access),
            None => self.exceptions.push(Exception { devices, access }),
        }
    }

    fn remove(&mut self, rule: &Rule, devices: Devices, access: Access) -> Result<()> {
        if let Some(other) = self.exceptions.iter().find(|e| {
            e.devices != devices && e.devices.overlaps(&devices) && !e.access.and(access).is_empty()
        }) {
            return Err(Error::Spec(format!(
                "device cgroup rule \"{rule}\" would not take effect: the devices controller \
                 takes access away only from an earlier rule for exactly the same devices, \
                 and {} {} overlaps it",
                other.devices, other.access
            )));
        }
        if let Some(i) = self.exceptions.iter().position(|e| e.devices == devices) {
            let left = self.exceptions[i].access.without(access);
            if left.is_empty() {
                self.exceptions.remove(i);
            } else {
                self.exceptions[i].access = left;
            }
        }
        Ok(())
    }

    /// The kernel's v1 check of one access to one device: with a default of deny, one exception
    /// must grant the whole access; with a default of allow, no exception may touch any of it.
    #[cfg(test)]
    pub fn allows(
        &self,
        kind: super::device_rules::Kind,
        major: u32,
        minor: u32,
        access: Access,
    ) -> bool {
        let device = Devices {
            kind,
            major: Some(major),
            minor: Some(minor),
        };
        let mut matching = self
            .exceptions
            .iter()
            .filter(|e| e.devices.overlaps(&device));
        if self.default_allow {
            !matching.any(|e| !e.access.and(access).is_empty())
        } else {
            matching.any(|e| access.without(e.access).is_empty())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroups::device_rules::{Kind, docker_default_devices, parse};

    fn policy(json: serde_json::Value) -> Result<Policy> {
        let spec: Vec<oci_spec::runtime::LinuxDeviceCgroup> = serde_json::from_value(json).unwrap();
        Policy::of(&parse(&spec)?)
    }

    const R: Access = Access::READ;
    const W: Access = Access::WRITE;
    const M: Access = Access::MKNOD;

    #[test]
    fn dockers_defaults_deny_all_but_the_listed_devices_and_mknod() {
        let p = Policy::of(&parse(&docker_default_devices()).unwrap()).unwrap();
        assert!(!p.default_allow);
        assert_eq!(p.exceptions.len(), 11);
        assert!(p.allows(Kind::Char, 1, 3, R.or(W)), "/dev/null");
        assert!(p.allows(Kind::Char, 136, 7, R.or(W)), "/dev/pts/7");
        assert!(p.allows(Kind::Char, 1, 11, M), "mknod of anything");
        assert!(p.allows(Kind::Block, 7, 0, M));
        assert!(!p.allows(Kind::Char, 1, 11, R), "/dev/kmsg");
        assert!(!p.allows(Kind::Char, 10, 237, R), "/dev/loop-control");
        assert!(!p.allows(Kind::Block, 7, 0, R), "/dev/loop0");
        assert!(
            !p.allows(Kind::Char, 1, 11, R.or(M)),
            "one exception must grant it all"
        );
    }

    #[test]
    fn without_a_reset_rules_deny_from_an_open_default() {
        let p = policy(serde_json::json!([
            {"allow": false, "type": "c", "major": 1, "minor": 11, "access": "rw"},
            {"allow": false, "type": "b", "access": "w"},
        ]))
        .unwrap();
        assert!(p.default_allow);
        assert!(!p.allows(Kind::Char, 1, 11, R));
        assert!(
            !p.allows(Kind::Char, 1, 11, R.or(M)),
            "part of it is denied"
        );
        assert!(p.allows(Kind::Char, 1, 11, M));
        assert!(p.allows(Kind::Block, 8, 0, R));
        assert!(!p.allows(Kind::Block, 8, 0, W));
        assert!(p.allows(Kind::Char, 1, 3, R.or(W)));
    }

    #[test]
    fn a_rule_with_the_default_takes_access_from_the_same_devices() {
        let p = policy(serde_json::json!([
            {"allow": false, "access": "rwm"},
            {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
            {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "r"},
            {"allow": false, "type": "c", "major": 1, "minor": 3, "access": "w"},
            {"allow": true, "type": "c", "major": 1, "minor": 5, "access": "r"},
            {"allow": false, "type": "c", "major": 1, "minor": 5, "access": "r"},
        ]))
        .unwrap();
        assert_eq!(p.exceptions.len(), 1, "1:5 is gone: {p:?}");
        assert_eq!(p.exceptions[0].access, R.or(M));
        assert!(!p.allows(Kind::Char, 1, 3, W));
        assert!(p.allows(Kind::Char, 1, 3, R));
    }

    #[test]
    fn a_reset_drops_the_exceptions_before_it() {
        let p = policy(serde_json::json!([
            {"allow": false, "access": "rwm"},
            {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
            {"allow": true, "access": "rwm"},
        ]))
        .unwrap();
        assert!(p.allows_all());
    }

    #[test]
    fn a_hole_in_a_wider_rule_is_refused() {
        for (wide, narrow) in [
            (
                serde_json::json!({"allow": true, "type": "c", "access": "rwm"}),
                serde_json::json!({"allow": false, "type": "c", "major": 1, "minor": 11, "access": "r"}),
            ),
            (
                serde_json::json!({"allow": true, "type": "c", "major": 1, "minor": 3, "access": "r"}),
                serde_json::json!({"allow": false, "type": "c", "major": 1, "access": "rw"}),
            ),
        ] {
            let err = policy(serde_json::json!([{"allow": false, "access": "rwm"}, wide, narrow]))
                .unwrap_err()
                .to_string();
            assert!(err.contains("would not take effect"), "{err}");
        }
        // Access that does not overlap is fine: it takes nothing away from the wider rule.
        policy(serde_json::json!([
            {"allow": false, "access": "rwm"},
            {"allow": true, "type": "c", "access": "m"},
            {"allow": false, "type": "c", "major": 1, "minor": 11, "access": "rw"},
        ]))
        .unwrap();
    }
}
