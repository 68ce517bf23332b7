//! The spec's `linux.resources.devices` rules, checked once and in the one form both device
//! controllers are built from: v1's `devices.allow`/`devices.deny` lines and v2's eBPF program.
//! Checking here means a rule v1 would silently misread is refused the same way on v2.

use oci_spec::runtime::{LinuxDeviceCgroup, LinuxDeviceType};

use crate::error::{Error, Result};

/// A device type the devices controller tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Char,
    Block,
}

impl Kind {
    fn letter(self) -> char {
        match self {
            Kind::Char => 'c',
            Kind::Block => 'b',
        }
    }
}

/// A set of accesses: the bits are the kernel's own (`BPF_DEVCG_ACC_*`, and v1's `ACC_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Access(pub u8);

impl Access {
    pub const MKNOD: Access = Access(1);
    pub const READ: Access = Access(2);
    pub const WRITE: Access = Access(4);
    pub const ALL: Access = Access(7);

    /// `rwm` in any order and any combination; empty is no access at all.
    fn parse(s: &str) -> Option<Access> {
        s.chars().try_fold(Access(0), |a, c| {
            let bit = match c {
                'r' => Access::READ,
                'w' => Access::WRITE,
                'm' => Access::MKNOD,
                _ => return None,
            };
            Some(Access(a.0 | bit.0))
        })
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn and(self, other: Access) -> Access {
        Access(self.0 & other.0)
    }

    pub fn or(self, other: Access) -> Access {
        Access(self.0 | other.0)
    }

    pub fn without(self, other: Access) -> Access {
        Access(self.0 & !other.0)
    }
}

impl std::fmt::Display for Access {
    /// In v1's order, `rwm`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (bit, c) in [
            (Access::READ, 'r'),
            (Access::WRITE, 'w'),
            (Access::MKNOD, 'm'),
        ] {
            if !self.and(bit).is_empty() {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

/// Which devices a rule is about: a type, and a major and minor number (None: any).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Devices {
    pub kind: Kind,
    pub major: Option<u32>,
    pub minor: Option<u32>,
}

impl Devices {
    /// Whether some device is in both sets.
    pub fn overlaps(&self, other: &Devices) -> bool {
        let meet = |a: Option<u32>, b: Option<u32>| a.is_none() || b.is_none() || a == b;
        self.kind == other.kind && meet(self.major, other.major) && meet(self.minor, other.minor)
    }
}

impl std::fmt::Display for Devices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = |x: Option<u32>| x.map_or("*".to_string(), |x| x.to_string());
        write!(
            f,
            "{} {}:{}",
            self.kind.letter(),
            n(self.major),
            n(self.minor)
        )
    }
}

/// One checked rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rule {
    /// Every device, every access: resets the controller to allow or deny by default.
    All { allow: bool },
    Some {
        allow: bool,
        devices: Devices,
        access: Access,
    },
}

impl Rule {
    /// The v1 file and the line to write into it: `devices.deny` `a`, `devices.allow`
    /// `c 1:3 rwm`. None for a rule that grants or takes away nothing (empty access), which v1
    /// would refuse to parse.
    pub fn v1_line(&self) -> Option<(&'static str, String)> {
        let file = |allow| {
            if allow {
                "devices.allow"
            } else {
                "devices.deny"
            }
        };
        match *self {
            Rule::All { allow } => Some((file(allow), "a".into())),
            Rule::Some { access, .. } if access.is_empty() => None,
            Rule::Some {
                allow,
                devices,
                access,
            } => Some((file(allow), format!("{devices} {access}"))),
        }
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Rule::All { allow } => write!(f, "{} a", if allow { "allow" } else { "deny" }),
            Rule::Some {
                allow,
                devices,
                access,
            } => write!(
                f,
                "{} {devices} {access}",
                if allow { "allow" } else { "deny" }
            ),
        }
    }
}

/// Checks the spec's rules. Refused: types other than a, b and c; numbers past 32 bits; access
/// other than `rwm` letters; and an `a` rule with numbers or partial access, which v1 would
/// read as every device and every access.
pub(crate) fn parse(rules: &[LinuxDeviceCgroup]) -> Result<Vec<Rule>> {
    rules.iter().map(parse_one).collect()
}

fn parse_one(r: &LinuxDeviceCgroup) -> Result<Rule> {
    let refuse = |why: &str| Err(Error::Spec(format!("device cgroup rule \"{r}\": {why}")));
    let Some(access) = Access::parse(r.access().as_deref().unwrap_or_default()) else {
        return refuse("access is a combination of r, w and m");
    };
    // OCI leaves a number out for "any"; runc's convention of -1 means the same.
    let number = |n: Option<i64>| match n {
        None => Ok(None),
        Some(n) if n < 0 => Ok(None),
        Some(n) => u32::try_from(n).map(Some).map_err(|_| ()),
    };
    let (Ok(major), Ok(minor)) = (number(r.major()), number(r.minor())) else {
        return refuse("device numbers are 32 bits");
    };
    let kind = match r.typ().unwrap_or_default() {
        LinuxDeviceType::A => {
            if major.is_some() || minor.is_some() {
                return refuse("a rule for all devices (type a) takes no device numbers");
            }
            if access != Access::ALL && !access.is_empty() {
                return refuse("a rule for all devices (type a) is for every access (rwm)");
            }
            return Ok(Rule::All { allow: r.allow() });
        }
        LinuxDeviceType::C => Kind::Char,
        LinuxDeviceType::B => Kind::Block,
        other => {
            return refuse(&format!(
                "the devices cgroup knows types a, b and c, not {}",
                other.as_str()
            ));
        }
    };
    Ok(Rule::Some {
        allow: r.allow(),
        devices: Devices { kind, major, minor },
        access,
    })
}

/// The rules Docker gives a container that is not privileged: every device denied but mknod
/// of any, and read, write and mknod of the devices every container's /dev has (null, zero,
/// full, random, urandom, tty, console, ptmx) and of its pseudo-terminals (`136:*`). That is
/// moby's default list with the devices runc adds to every container's.
pub fn docker_default_devices() -> Vec<LinuxDeviceCgroup> {
    let rule = |typ, major: Option<i64>, minor: Option<i64>, access: &str| {
        let mut r = LinuxDeviceCgroup::default();
        r.set_allow(true);
        r.set_typ(Some(typ));
        r.set_major(major);
        r.set_minor(minor);
        r.set_access(Some(access.to_string()));
        r
    };
    let mut deny_all = LinuxDeviceCgroup::default();
    deny_all.set_allow(false);
    deny_all.set_access(Some("rwm".into()));
    let mut out = vec![
        deny_all,
        rule(LinuxDeviceType::C, None, None, "m"),
        rule(LinuxDeviceType::B, None, None, "m"),
    ];
    // null, zero, full, random, urandom; tty, console, ptmx.
    for (major, minor) in [
        (1, 3),
        (1, 5),
        (1, 7),
        (1, 8),
        (1, 9),
        (5, 0),
        (5, 1),
        (5, 2),
    ] {
        out.push(rule(LinuxDeviceType::C, Some(major), Some(minor), "rwm"));
    }
    out.push(rule(LinuxDeviceType::C, Some(136), None, "rwm"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(json: serde_json::Value) -> Result<Vec<Rule>> {
        let spec: Vec<LinuxDeviceCgroup> = serde_json::from_value(json).unwrap();
        parse(&spec)
    }

    fn lines(rules: &[Rule]) -> Vec<(&'static str, String)> {
        rules.iter().filter_map(Rule::v1_line).collect()
    }

    #[test]
    fn dockers_defaults_are_v1_lines_in_order() {
        let parsed = parse(&docker_default_devices()).unwrap();
        let l = |f: &'static str, s: &str| (f, s.to_string());
        assert_eq!(
            lines(&parsed),
            vec![
                l("devices.deny", "a"),
                l("devices.allow", "c *:* m"),
                l("devices.allow", "b *:* m"),
                l("devices.allow", "c 1:3 rwm"),
                l("devices.allow", "c 1:5 rwm"),
                l("devices.allow", "c 1:7 rwm"),
                l("devices.allow", "c 1:8 rwm"),
                l("devices.allow", "c 1:9 rwm"),
                l("devices.allow", "c 5:0 rwm"),
                l("devices.allow", "c 5:1 rwm"),
                l("devices.allow", "c 5:2 rwm"),
                l("devices.allow", "c 136:* rwm"),
            ]
        );
    }

    #[test]
    fn spec_json_reads_as_oci_means_it() {
        let parsed = rules(serde_json::json!([
            {"allow": false, "access": "rwm"},
            {"allow": true, "type": "b", "major": 7, "minor": -1, "access": "mwr"},
            {"allow": false, "type": "c", "major": 10, "minor": 200, "access": "w"},
            {"allow": true, "type": "c", "major": 1, "minor": 3},
            {"allow": true, "type": "a", "access": "rwm"},
        ]))
        .unwrap();
        let l = |f: &'static str, s: &str| (f, s.to_string());
        assert_eq!(
            lines(&parsed),
            vec![
                l("devices.deny", "a"),
                l("devices.allow", "b 7:* rwm"),
                l("devices.deny", "c 10:200 w"),
                // c 1:3 with no access grants nothing: no line
                l("devices.allow", "a"),
            ]
        );
    }

    #[test]
    fn rules_v1_would_misread_are_refused() {
        for (json, why) in [
            (
                serde_json::json!({"allow": true, "type": "a", "major": 1, "access": "rwm"}),
                "takes no device numbers",
            ),
            (
                serde_json::json!({"allow": false, "type": "a", "access": "r"}),
                "every access",
            ),
            (
                serde_json::json!({"allow": true, "type": "p", "access": "rwm"}),
                "not p",
            ),
            (
                serde_json::json!({"allow": true, "type": "c", "major": 4294967296_i64, "access": "r"}),
                "32 bits",
            ),
            (
                serde_json::json!({"allow": true, "type": "c", "access": "rx"}),
                "combination of r, w and m",
            ),
        ] {
            let err = rules(serde_json::json!([json])).unwrap_err().to_string();
            assert!(err.contains(why), "{err}");
        }
    }
}
