//! The plan of a filter: an OCI `linux.seccomp` checked and turned into what the program must
//! do, per architecture and syscall number, before any instruction is written.
//!
//! Semantics, as runc with libseccomp gives them:
//! - the native architecture is always in the filter, with the spec's other ones; a process of
//!   any other architecture is killed (SECCOMP_RET_KILL_PROCESS);
//! - names an architecture does not have are skipped;
//! - the conditions of one rule are ANDed, except when two of them test the same argument:
//!   then runc adds each condition as a rule of its own, so they are ORed, and so are they here;
//! - a rule whose action is the default action is skipped (runc passes libseccomp no such
//!   rule: it would refuse it);
//! - a syscall with a rule without conditions gets that rule's action whatever its other rules
//!   say: libseccomp keeps the first such rule, drops the conditions of rules added before it
//!   and ignores every rule added after it (Podman's profile allows `setns` in its long list,
//!   then denies it without CAP_SYS_ADMIN: libseccomp, so runc and crun, allow it);
//! - otherwise its rules with conditions are tried in the spec's order, the first that matches
//!   decides; then the default action;
//! - SCMP_ACT_ERRNO without `errnoRet` returns the spec's `defaultErrnoRet`, else EPERM;
//!   SCMP_ACT_TRACE without it passes EPERM to the tracer (runc's value);
//! - a syscall whose number is above every number the spec names for that architecture returns
//!   ENOSYS (runc does so since 1.0.2, moby#42871): the C library then falls back to an older
//!   call instead of failing on EPERM. Not when the default action allows.

use std::collections::BTreeMap;

use oci_spec::runtime::{
    Arch, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompOperator, LinuxSyscall,
};

use super::arch::{Table, native_arch};
use super::error::SeccompError;
use super::profile::entry_label;

pub(crate) const RET_KILL_PROCESS: u32 = 0x8000_0000;
const RET_KILL_THREAD: u32 = 0x0000_0000;
const RET_TRAP: u32 = 0x0003_0000;
const RET_ERRNO: u32 = 0x0005_0000;
const RET_TRACE: u32 = 0x7FF0_0000;
const RET_LOG: u32 = 0x7FFC_0000;
pub(crate) const RET_ALLOW: u32 = 0x7FFF_0000;
/// The data part of a return value: 16 bits.
const RET_DATA: u32 = 0xFFFF;

pub(crate) const ENOSYS_RET: u32 = RET_ERRNO | libc::ENOSYS as u32;

/// What the filter does, before it is written as instructions.
#[derive(Debug)]
pub(crate) struct Plan {
    /// The return value for syscalls no rule decides.
    pub default: u32,
    pub sections: Vec<Section>,
}

/// The part of the filter for one architecture.
#[derive(Debug)]
pub(crate) struct Section {
    pub table: Table,
    /// For x86_64: what x32 syscalls (numbers from bit 30 up) get. kist has no x32 table, so
    /// none is named: the default action if the spec lists SCMP_ARCH_X32, else the kill that
    /// any unlisted architecture gets.
    pub x32: Option<u32>,
    /// Numbers above this get ENOSYS: the highest number the spec names on this architecture.
    pub enosys_above: Option<u32>,
    pub syscalls: BTreeMap<u32, Syscall>,
}

/// The rules of one syscall on one architecture.
#[derive(Debug, Default)]
pub(crate) struct Syscall {
    pub conditional: Vec<Rule>,
    /// The action of its rule without conditions, and which spec rule that was.
    pub fallback: Option<(u32, usize)>,
}

/// Conditions, all of which must hold, and the return value when they do.
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub conds: Vec<Cond>,
    pub ret: u32,
}

/// One comparison of a 64-bit argument.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cond {
    pub index: u8,
    pub op: LinuxSeccompOperator,
    /// The operand; for SCMP_CMP_MASKED_EQ, the mask.
    pub value: u64,
    /// For SCMP_CMP_MASKED_EQ, what the masked argument must equal.
    pub value_two: u64,
}

impl Plan {
    pub(crate) fn new(spec: &LinuxSeccomp) -> Result<Plan, SeccompError> {
        let default_errno = spec.default_errno_ret().unwrap_or(libc::EPERM as u32);
        let default = action_ret(spec.default_action(), None, default_errno)
            .map_err(|m| SeccompError::Profile(format!("defaultAction: {m}")))?;
        let rules: &[LinuxSyscall] = spec.syscalls().as_deref().unwrap_or_default();
        let stub = enosys_stub_wanted(spec.default_action(), default);

        let mut sections = Vec::new();
        let listed: &[Arch] = spec.architectures().as_deref().unwrap_or_default();
        for table in tables(listed)? {
            let x32 = (table == Table::X86_64).then(|| {
                if listed.contains(&Arch::ScmpArchX32) {
                    default
                } else {
                    RET_KILL_PROCESS
                }
            });
            let mut section = Section {
                table,
                x32,
                enosys_above: stub.then(|| horizon(table, rules)).flatten(),
                syscalls: BTreeMap::new(),
            };
            for (index, rule) in rules.iter().enumerate() {
                section.add(index, rule, default, default_errno)?;
            }
            sections.push(section);
        }
        Ok(Plan { default, sections })
    }
}

/// The architectures to have sections for: the native one first, then the spec's others (in
/// its order), each once; those kist has no table for cannot occur on this host.
fn tables(listed: &[Arch]) -> Result<Vec<Table>, SeccompError> {
    let native = Table::of(native_arch()).ok_or_else(|| {
        SeccompError::Unsupported("a seccomp filter on this host's architecture".into())
    })?;
    let mut tables = vec![native];
    for table in listed.iter().filter_map(|a| Table::of(*a)) {
        if !tables.contains(&table) {
            tables.push(table);
        }
    }
    Ok(tables)
}

/// Whether newer syscalls get ENOSYS: not when the default lets them through anyway (runc's
/// rule), nor when the default is ENOSYS already.
fn enosys_stub_wanted(action: LinuxSeccompAction, default: u32) -> bool {
    !matches!(
        action,
        LinuxSeccompAction::ScmpActAllow | LinuxSeccompAction::ScmpActLog
    ) && default != ENOSYS_RET
}

/// The highest syscall number the spec names on an architecture, whatever the rule's action.
fn horizon(table: Table, rules: &[LinuxSyscall]) -> Option<u32> {
    rules
        .iter()
        .flat_map(|r| r.names())
        .filter_map(|n| table.number(n))
        .filter(|&nr| table.counts_for_horizon(nr))
        .max()
}

impl Section {
    /// Adds spec rule `index` as libseccomp would (see the module's doc).
    fn add(
        &mut self,
        index: usize,
        rule: &LinuxSyscall,
        default: u32,
        default_errno: u32,
    ) -> Result<(), SeccompError> {
        let fail = |message: String| SeccompError::Entry {
            entry: entry_label(index, rule.names()),
            message,
        };
        let ret = action_ret(rule.action(), rule.errno_ret(), default_errno);
        let ret = ret.map_err(&fail)?;
        let groups = condition_groups(rule).map_err(&fail)?;
        if ret == default {
            return Ok(());
        }
        for name in rule.names() {
            let Some(nr) = self.table.number(name) else {
                continue;
            };
            let syscall = self.syscalls.entry(nr).or_default();
            if syscall.fallback.is_some() {
                // The first rule without conditions decides this syscall.
                continue;
            }
            if groups.is_empty() {
                syscall.fallback = Some((ret, index));
                syscall.conditional.clear();
            }
            for conds in &groups {
                syscall.conditional.push(Rule {
                    conds: conds.clone(),
                    ret,
                });
            }
        }
        Ok(())
    }
}

/// A rule's conditions as alternatives, each a conjunction: one for the rule, or one per
/// condition when two test the same argument (runc's way, see the module's doc). None: the rule
/// has no conditions.
fn condition_groups(rule: &LinuxSyscall) -> Result<Vec<Vec<Cond>>, String> {
    let args = rule.args().as_deref().unwrap_or_default();
    let conds = args
        .iter()
        .map(|a| {
            let index = u8::try_from(a.index())
                .ok()
                .filter(|&i| i <= 5)
                .ok_or_else(|| format!("argument index {} is out of range (0 to 5)", a.index()))?;
            Ok(Cond {
                index,
                op: a.op(),
                value: a.value(),
                value_two: a.value_two().unwrap_or(0),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    if conds.is_empty() {
        return Ok(Vec::new());
    }
    let mut seen = [false; 6];
    let repeats = conds
        .iter()
        .any(|c| std::mem::replace(&mut seen[usize::from(c.index)], true));
    Ok(if repeats {
        conds.into_iter().map(|c| vec![c]).collect()
    } else {
        vec![conds]
    })
}

/// The kernel's return value for an action; `errno` (the rule's `errnoRet`) is the data for
/// ERRNO and TRACE, ERRNO's defaulting to `default_errno`, TRACE's to EPERM.
fn action_ret(
    action: LinuxSeccompAction,
    errno: Option<u32>,
    default_errno: u32,
) -> Result<u32, String> {
    let with_data = |base: u32, errno: u32| {
        if errno > RET_DATA {
            Err(format!(
                "errnoRet {errno} does not fit in the 16 bits the kernel returns"
            ))
        } else {
            Ok(base | errno)
        }
    };
    match action {
        LinuxSeccompAction::ScmpActAllow => Ok(RET_ALLOW),
        LinuxSeccompAction::ScmpActErrno => with_data(RET_ERRNO, errno.unwrap_or(default_errno)),
        LinuxSeccompAction::ScmpActKill | LinuxSeccompAction::ScmpActKillThread => {
            Ok(RET_KILL_THREAD)
        }
        LinuxSeccompAction::ScmpActKillProcess => Ok(RET_KILL_PROCESS),
        LinuxSeccompAction::ScmpActTrap => Ok(RET_TRAP),
        LinuxSeccompAction::ScmpActTrace => {
            with_data(RET_TRACE, errno.unwrap_or(libc::EPERM as u32))
        }
        LinuxSeccompAction::ScmpActLog => Ok(RET_LOG),
        LinuxSeccompAction::ScmpActNotify => Err(
            "SCMP_ACT_NOTIFY is not supported: kist has no seccomp notification listener".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: &str) -> LinuxSeccomp {
        serde_json::from_str(json).unwrap()
    }

    fn section(plan: &Plan, table: Table) -> &Section {
        plan.sections.iter().find(|s| s.table == table).unwrap()
    }

    #[test]
    fn actions_become_return_values() {
        let plan = Plan::new(&spec(
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "defaultErrnoRet": 13, "syscalls": [
                {"names": ["getpid"], "action": "SCMP_ACT_ERRNO"},
                {"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 99},
                {"names": ["gettid"], "action": "SCMP_ACT_TRACE"},
                {"names": ["getuid"], "action": "SCMP_ACT_KILL"},
                {"names": ["getgid"], "action": "SCMP_ACT_KILL_PROCESS"},
                {"names": ["geteuid"], "action": "SCMP_ACT_TRAP"},
                {"names": ["getegid"], "action": "SCMP_ACT_LOG"}]}"#,
        ))
        .unwrap();
        assert_eq!(plan.default, 0x7FFF_0000);
        let s = section(&plan, Table::X86_64);
        let ret = |name| {
            s.syscalls[&Table::X86_64.number(name).unwrap()]
                .fallback
                .unwrap()
                .0
        };
        assert_eq!(ret("getpid"), 0x0005_000D);
        assert_eq!(ret("getppid"), 0x0005_0063);
        assert_eq!(ret("gettid"), 0x7FF0_0001);
        assert_eq!(ret("getuid"), 0);
        assert_eq!(ret("getgid"), 0x8000_0000);
        assert_eq!(ret("geteuid"), 0x0003_0000);
        assert_eq!(ret("getegid"), 0x7FFC_0000);
    }

    #[test]
    fn notify_and_oversized_errno_are_refused_by_entry() {
        let err = Plan::new(&spec(
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
                {"names": ["getpid"], "action": "SCMP_ACT_ALLOW"},
                {"names": ["mount"], "action": "SCMP_ACT_NOTIFY"}]}"#,
        ))
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("syscalls[1] (mount)") && err.contains("NOTIFY"),
            "{err}"
        );
        let err = Plan::new(&spec(
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 70000}"#,
        ))
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("defaultAction") && err.contains("70000"),
            "{err}"
        );
    }

    /// libseccomp's rules for one syscall in several rules (Podman's profile has `setns` in
    /// its allowed list and in a list denied without CAP_SYS_ADMIN): the first rule without
    /// conditions decides, whatever comes before or after it; a rule that says what the
    /// default says is no rule.
    #[test]
    fn the_first_rule_without_conditions_decides() {
        let plan = Plan::new(&spec(
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38, "syscalls": [
                {"names": ["read", "setns"], "action": "SCMP_ACT_ALLOW"},
                {"names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": 22,
                 "args": [{"index": 0, "value": 16, "op": "SCMP_CMP_EQ"}]},
                {"names": ["setns", "bpf"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
                {"names": ["socket"], "action": "SCMP_ACT_ALLOW"},
                {"names": ["setns"], "action": "SCMP_ACT_KILL",
                 "args": [{"index": 1, "value": 0, "op": "SCMP_CMP_EQ"}]},
                {"names": ["getpid"], "action": "SCMP_ACT_ERRNO"},
                {"names": ["getpid"], "action": "SCMP_ACT_ALLOW"}]}"#,
        ))
        .unwrap();
        let s = section(&plan, Table::X86_64);
        let of = |name| &s.syscalls[&Table::X86_64.number(name).unwrap()];
        let setns = of("setns");
        assert_eq!(setns.fallback, Some((RET_ALLOW, 0)));
        assert!(setns.conditional.is_empty(), "{setns:?}");
        assert_eq!(of("bpf").fallback, Some((RET_ERRNO | 1, 2)));
        // Its earlier rule with a condition is dropped by the later one without.
        let socket = of("socket");
        assert_eq!(socket.fallback, Some((RET_ALLOW, 3)));
        assert!(socket.conditional.is_empty(), "{socket:?}");
        // ERRNO(38) is the default action: skipped, the ALLOW after it decides.
        assert_eq!(of("getpid").fallback, Some((RET_ALLOW, 6)));
    }

    #[test]
    fn conditions_on_one_argument_are_alternatives() {
        let plan = Plan::new(&spec(
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
                {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [
                    {"index": 0, "value": 8, "op": "SCMP_CMP_EQ"},
                    {"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]},
                {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [
                    {"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
                    {"index": 1, "value": 1, "op": "SCMP_CMP_EQ"}]}]}"#,
        ))
        .unwrap();
        let s = section(&plan, Table::X86_64);
        let personality = &s.syscalls[&135];
        assert_eq!(personality.conditional.len(), 2);
        assert!(personality.conditional.iter().all(|r| r.conds.len() == 1));
        let socket = &s.syscalls[&41];
        assert_eq!(socket.conditional.len(), 1);
        assert_eq!(socket.conditional[0].conds.len(), 2);
    }

    #[test]
    fn sections_for_native_and_listed_arches() {
        let plan = Plan::new(&spec(
            r#"{"defaultAction": "SCMP_ACT_ERRNO",
                "architectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_S390X"],
                "syscalls": [{"names": ["getpid", "socketcall"], "action": "SCMP_ACT_ALLOW"}]}"#,
        ))
        .unwrap();
        let tables: Vec<Table> = plan.sections.iter().map(|s| s.table).collect();
        assert_eq!(tables[0], Table::of(native_arch()).unwrap());
        assert!(tables.contains(&Table::X86) && tables.contains(&Table::X86_64));
        assert_eq!(tables.len(), 2);
        let x86_64 = section(&plan, Table::X86_64);
        assert_eq!(x86_64.x32, Some(plan.default));
        // socketcall is x86 only: skipped on x86_64.
        assert_eq!(x86_64.syscalls.len(), 1);
        assert_eq!(section(&plan, Table::X86).syscalls.len(), 2);
        assert_eq!(section(&plan, Table::X86).x32, None);
    }

    #[test]
    fn the_enosys_line_is_the_newest_name_known() {
        let plan = Plan::new(&spec(
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
                {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
                {"names": ["mseal", "nonexistent"], "action": "SCMP_ACT_ERRNO"}]}"#,
        ))
        .unwrap();
        assert_eq!(section(&plan, Table::X86_64).enosys_above, Some(462));
        // Allow by default: no ENOSYS line.
        let plan = Plan::new(&spec(
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
                {"names": ["mseal"], "action": "SCMP_ACT_ERRNO"}]}"#,
        ))
        .unwrap();
        assert_eq!(section(&plan, Table::X86_64).enosys_above, None);
        assert_eq!(section(&plan, Table::X86_64).x32, Some(RET_KILL_PROCESS));
    }
}
