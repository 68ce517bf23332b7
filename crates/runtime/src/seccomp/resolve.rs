//! Resolution: a Docker profile made into the plain OCI `linux.seccomp` of one container on one
//! host, with Docker's semantics (moby's `setupSeccomp`) for `includes`, `excludes` and `archMap`.

use std::collections::{BTreeSet, HashSet};

use oci_spec::runtime::{Arch, LinuxSeccomp, LinuxSyscall};

use super::arch::{native_arch, profile_names};
use super::kernel::KernelVersion;
use super::profile::{Entry, Profile, Selector};

impl Profile {
    /// The OCI seccomp of a container with capabilities `caps` (its bounding set, names such as
    /// "CAP_SYS_ADMIN", as Docker uses) on architecture `arch` and the running kernel.
    ///
    /// An entry applies when the container has all its `includes.caps`, `arch` is among its
    /// `includes.arches` and the kernel is at least its `includes.minKernel` (each when given),
    /// and none of its `excludes` holds. The architectures are `architectures`, or `arch` with
    /// its `archMap` sub-architectures.
    ///
    /// The names of the entries that do not apply are kept, in one last rule with the default
    /// action (which changes nothing, as they get it anyway): so the result still tells which
    /// syscalls the profile's author knew of, and a syscall newer than all of them gets ENOSYS
    /// (see `Filter`), whatever the capabilities. runc, given this result, finds the same.
    pub fn resolve(&self, caps: &[String], arch: Arch) -> crate::Result<LinuxSeccomp> {
        Ok(self.resolve_on(caps, arch, KernelVersion::running()?))
    }

    /// `resolve` for a given kernel version.
    pub fn resolve_on(&self, caps: &[String], arch: Arch, kernel: KernelVersion) -> LinuxSeccomp {
        let arch = if arch == Arch::ScmpArchNative {
            native_arch()
        } else {
            arch
        };
        let host = Host {
            caps: caps.iter().map(|c| cap_key(c)).collect(),
            arch,
            kernel,
        };
        let (applied, skipped): (Vec<&Entry>, Vec<&Entry>) =
            self.syscalls.iter().partition(|e| host.applies(e));
        let mut rules: Vec<LinuxSyscall> = applied.iter().map(|e| oci_rule(e)).collect();
        if let Some(kept) = self.names_kept(&applied, &skipped) {
            rules.push(kept);
        }

        let mut out = LinuxSeccomp::default();
        out.set_default_action(self.default_action);
        out.set_default_errno_ret(self.default_errno_ret);
        out.set_architectures(non_empty(self.architectures_for(arch)));
        out.set_flags(non_empty(self.flags.clone()));
        out.set_listener_path(self.listener_path.clone());
        out.set_listener_metadata(self.listener_metadata.clone());
        out.set_syscalls(non_empty(rules));
        out
    }

    fn architectures_for(&self, arch: Arch) -> Vec<Arch> {
        if !self.architectures.is_empty() {
            return self.architectures.clone();
        }
        self.arch_map
            .iter()
            .find(|m| m.architecture == arch)
            .map(|m| {
                let mut all = vec![m.architecture];
                all.extend(&m.sub_architectures);
                all
            })
            .unwrap_or_default()
    }

    /// The rule that keeps the names only skipped entries have (see `resolve`).
    fn names_kept(&self, applied: &[&Entry], skipped: &[&Entry]) -> Option<LinuxSyscall> {
        let named: HashSet<&str> = applied
            .iter()
            .flat_map(|e| e.names.iter().map(String::as_str))
            .collect();
        let kept: BTreeSet<&str> = skipped
            .iter()
            .flat_map(|e| e.names.iter().map(String::as_str))
            .filter(|n| !named.contains(n))
            .collect();
        if kept.is_empty() {
            return None;
        }
        let mut rule = LinuxSyscall::default();
        rule.set_names(kept.into_iter().map(str::to_owned).collect());
        rule.set_action(self.default_action);
        rule.set_errno_ret(self.default_errno_ret);
        Some(rule)
    }
}

/// What entries are matched against.
struct Host {
    caps: HashSet<String>,
    arch: Arch,
    kernel: KernelVersion,
}

impl Host {
    fn applies(&self, entry: &Entry) -> bool {
        self.includes(&entry.includes) && !self.excludes(&entry.excludes)
    }

    fn includes(&self, sel: &Selector) -> bool {
        (sel.arches.is_empty() || self.arch_in(&sel.arches))
            && sel.caps.iter().all(|c| self.caps.contains(&cap_key(c)))
            && sel.min_kernel.is_none_or(|min| self.kernel >= min)
    }

    fn excludes(&self, sel: &Selector) -> bool {
        self.arch_in(&sel.arches)
            || sel.caps.iter().any(|c| self.caps.contains(&cap_key(c)))
            || sel.min_kernel.is_some_and(|min| self.kernel >= min)
    }

    fn arch_in(&self, arches: &[String]) -> bool {
        let names = profile_names(self.arch);
        arches.iter().any(|a| names.contains(&a.as_str()))
    }
}

/// Capability names compared as "CAP_" + upper case, so "sys_admin" is CAP_SYS_ADMIN too.
fn cap_key(name: &str) -> String {
    let upper = name.to_ascii_uppercase();
    if upper.starts_with("CAP_") {
        upper
    } else {
        format!("CAP_{upper}")
    }
}

fn oci_rule(entry: &Entry) -> LinuxSyscall {
    let mut rule = LinuxSyscall::default();
    rule.set_names(entry.names.clone());
    rule.set_action(entry.action);
    rule.set_errno_ret(entry.errno_ret);
    rule.set_args(non_empty(entry.args.clone()));
    rule
}

fn non_empty<T>(items: Vec<T>) -> Option<Vec<T>> {
    (!items.is_empty()).then_some(items)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use oci_spec::runtime::{LinuxSeccompAction, LinuxSeccompOperator};

    /// Docker's default capabilities (the bounding set of `docker run` without --cap-add).
    pub(crate) fn docker_caps() -> Vec<String> {
        crate::DOCKER_DEFAULT_CAPABILITIES
            .map(String::from)
            .to_vec()
    }

    const KERNEL: KernelVersion = KernelVersion::new(6, 18);

    fn resolved(caps: &[String], arch: Arch) -> LinuxSeccomp {
        Profile::docker_default().resolve_on(caps, arch, KERNEL)
    }

    /// The rules (action, has arguments) that name `name`, in order.
    fn rules_for(spec: &LinuxSeccomp, name: &str) -> Vec<(LinuxSeccompAction, Option<u32>, bool)> {
        spec.syscalls()
            .iter()
            .flatten()
            .filter(|r| r.names().iter().any(|n| n == name))
            .map(|r| {
                let has_args = r.args().as_ref().is_some_and(|a| !a.is_empty());
                (r.action(), r.errno_ret(), has_args)
            })
            .collect()
    }

    fn allowed_plainly(spec: &LinuxSeccomp, name: &str) -> bool {
        rules_for(spec, name).contains(&(LinuxSeccompAction::ScmpActAllow, None, false))
    }

    #[test]
    fn default_caps_keep_namespaces_and_mounts_out() {
        let spec = resolved(&docker_caps(), Arch::ScmpArchX86_64);
        for name in [
            "mount", "umount2", "unshare", "setns", "bpf", "reboot", "clone3",
        ] {
            assert!(!allowed_plainly(&spec, name), "{name} allowed");
        }
        // clone only without namespace flags.
        let clone = rules_for(&spec, "clone");
        assert_eq!(clone, [(LinuxSeccompAction::ScmpActAllow, None, true)]);
        let rule = spec
            .syscalls()
            .iter()
            .flatten()
            .find(|r| r.names() == &["clone"])
            .unwrap();
        let arg = rule.args().as_ref().unwrap()[0];
        assert_eq!((arg.index(), arg.value()), (0, 0x7E02_0000));
        assert_eq!(arg.op(), LinuxSeccompOperator::ScmpCmpMaskedEq);
        // clone3 gets ENOSYS, so that the C library falls back to clone.
        assert!(rules_for(&spec, "clone3").contains(&(
            LinuxSeccompAction::ScmpActErrno,
            Some(38),
            false
        )));
        // CAP_SYS_CHROOT is among Docker's defaults.
        assert!(allowed_plainly(&spec, "chroot"));
        assert!(allowed_plainly(&spec, "ptrace"), "minKernel 4.8 holds");
    }

    #[test]
    fn cap_sys_admin_adds_mounts_and_namespaces() {
        let mut caps = docker_caps();
        caps.push("CAP_SYS_ADMIN".into());
        let spec = resolved(&caps, Arch::ScmpArchX86_64);
        for name in [
            "mount", "umount2", "unshare", "setns", "clone", "clone3", "bpf",
        ] {
            assert!(allowed_plainly(&spec, name), "{name} not allowed");
        }
        // The masked clone rule and clone3's ENOSYS are gone.
        assert_eq!(
            rules_for(&spec, "clone"),
            [(LinuxSeccompAction::ScmpActAllow, None, false)]
        );
        assert_eq!(
            rules_for(&spec, "clone3"),
            [(LinuxSeccompAction::ScmpActAllow, None, false)]
        );
    }

    #[test]
    fn capability_names_are_matched_loosely() {
        let spec = resolved(&["sys_admin".to_string()], Arch::ScmpArchX86_64);
        assert!(allowed_plainly(&spec, "mount"));
    }

    #[test]
    fn architectures_come_from_the_arch_map() {
        let spec = resolved(&docker_caps(), Arch::ScmpArchX86_64);
        assert_eq!(
            spec.architectures().as_deref(),
            Some(&[Arch::ScmpArchX86_64, Arch::ScmpArchX86, Arch::ScmpArchX32][..])
        );
        assert!(allowed_plainly(&spec, "arch_prctl"));
        assert!(allowed_plainly(&spec, "modify_ldt"));
        assert!(!allowed_plainly(&spec, "cacheflush"));

        let spec = resolved(&docker_caps(), Arch::ScmpArchAarch64);
        assert_eq!(
            spec.architectures().as_deref(),
            Some(&[Arch::ScmpArchAarch64, Arch::ScmpArchArm][..])
        );
        assert!(allowed_plainly(&spec, "cacheflush"));
        assert!(!allowed_plainly(&spec, "arch_prctl"));
    }

    #[test]
    fn excluded_arches_and_min_kernel() {
        // s390 takes the other clone rule.
        let spec = resolved(&docker_caps(), Arch::ScmpArchS390x);
        let clone = spec
            .syscalls()
            .iter()
            .flatten()
            .find(|r| r.names() == &["clone"])
            .unwrap();
        assert_eq!(clone.args().as_ref().unwrap()[0].index(), 1);
        // Before 4.8, ptrace needs CAP_SYS_PTRACE.
        let old = Profile::docker_default().resolve_on(
            &docker_caps(),
            Arch::ScmpArchX86_64,
            KernelVersion::new(4, 4),
        );
        assert!(!allowed_plainly(&old, "ptrace"));
    }

    #[test]
    fn skipped_names_are_kept_with_the_default_action() {
        let spec = resolved(&docker_caps(), Arch::ScmpArchX86_64);
        let last = spec.syscalls().as_ref().unwrap().last().unwrap();
        assert_eq!(last.action(), LinuxSeccompAction::ScmpActErrno);
        assert_eq!(last.errno_ret(), Some(1));
        for name in ["mount", "lsm_list_modules", "reboot", "open_by_handle_at"] {
            assert!(last.names().iter().any(|n| n == name), "{name} not kept");
        }
        // A name some applied entry has is not repeated there.
        assert!(!last.names().iter().any(|n| n == "clone" || n == "chroot"));
    }

    #[test]
    fn a_plain_oci_profile_resolves_to_itself() {
        let text = r#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
            "syscalls": [{"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 99}]}"#;
        let spec = Profile::from_json(text)
            .unwrap()
            .resolve_on(&[], Arch::ScmpArchX86_64, KERNEL);
        let oci: LinuxSeccomp = serde_json::from_str(text).unwrap();
        assert_eq!(spec, oci);
    }
}
