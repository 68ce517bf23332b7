//! The compiler from a plan to a classic BPF program.
//!
//! The program checks `seccomp_data.arch` against each section's architecture (a process of any
//! other is killed), then loads the syscall number and finds its outcome by binary search over
//! ranges of numbers: neighbouring numbers with the same outcome (most of the allow list, gaps
//! taking the default) are one range, so a syscall costs about log2(ranges) jumps, not one
//! comparison per rule. A syscall whose rules test arguments has a range of its own, leading to
//! its chain of comparisons on the arguments' two 32-bit halves.

use libc::sock_filter;
use oci_spec::runtime::LinuxSeccompOperator as Op;

use super::arch::X32_SYSCALL_BIT;
use super::bpf::{Emitter, Jump, MAX_INSTRUCTIONS, OFFSET_ARCH, OFFSET_NR, Target, arg_offsets};
use super::error::SeccompError;
use super::plan::{Cond, ENOSYS_RET, Plan, RET_KILL_PROCESS, Rule, Section, Syscall};

pub(crate) fn compile(plan: &Plan) -> Result<Vec<sock_filter>, SeccompError> {
    let mut em = Emitter::default();
    // Back to front: the sections, then the architecture dispatch that jumps to them.
    let starts: Vec<Target> = plan
        .sections
        .iter()
        .map(|s| section(&mut em, s, plan.default))
        .collect();
    let mut next = Target::Ret(RET_KILL_PROCESS);
    for (s, start) in plan.sections.iter().zip(starts).rev() {
        next = Target::At(em.jump(Jump::Eq, s.table.audit_arch(), start, next));
    }
    // There is always a section (the native one), so `next` is the jump just placed.
    em.load(OFFSET_ARCH);
    let program = em.finish();
    if program.len() > MAX_INSTRUCTIONS {
        return Err(SeccompError::TooLong(program.len()));
    }
    Ok(program)
}

/// What a range of syscall numbers leads to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Ret(u32),
    /// The argument checks of this syscall number.
    Chain(u32),
}

/// One section: load the number, then the search tree. Returns where it starts.
fn section(em: &mut Emitter, s: &Section, default: u32) -> Target {
    let ranges = ranges(s, default);
    match tree(em, s, default, &ranges) {
        // One outcome for every number: no need to load it.
        Target::Ret(value) => Target::Ret(value),
        search => {
            em.enter(search);
            Target::At(em.load(OFFSET_NR))
        }
    }
}

/// The number line cut into ranges, each `(first number, outcome)`, in order, from 0.
fn ranges(s: &Section, default: u32) -> Vec<(u32, Outcome)> {
    // What a number no rule names gets.
    let background = |nr: u32| match (s.x32, s.enosys_above) {
        // As libseccomp: any number from bit 30 up is x32's (none is x86_64's).
        (Some(x32), _) if nr >= X32_SYSCALL_BIT => x32,
        (_, Some(top)) if nr > top => ENOSYS_RET,
        _ => default,
    };
    let mut cuts = vec![0];
    if let Some(top) = s.enosys_above.and_then(|t| t.checked_add(1)) {
        cuts.push(top);
    }
    if s.x32.is_some() {
        cuts.push(X32_SYSCALL_BIT);
    }
    for &nr in s.syscalls.keys() {
        cuts.push(nr);
        cuts.extend(nr.checked_add(1));
    }
    cuts.sort_unstable();
    cuts.dedup();

    let mut ranges: Vec<(u32, Outcome)> = Vec::with_capacity(cuts.len());
    for first in cuts {
        let outcome = match s.syscalls.get(&first) {
            Some(sc) => outcome(first, sc, default),
            None => Outcome::Ret(background(first)),
        };
        if ranges.last().is_none_or(|&(_, o)| o != outcome) {
            ranges.push((first, outcome));
        }
    }
    ranges
}

fn outcome(nr: u32, sc: &Syscall, default: u32) -> Outcome {
    if live_rules(sc, default).is_empty() {
        Outcome::Ret(fallback(sc, default))
    } else {
        Outcome::Chain(nr)
    }
}

fn fallback(sc: &Syscall, default: u32) -> u32 {
    sc.fallback.map_or(default, |(ret, _)| ret)
}

/// The conditional rules that can change the outcome: trailing ones that return what the
/// fallback returns anyway are dropped.
fn live_rules(sc: &Syscall, default: u32) -> &[Rule] {
    let fallback = fallback(sc, default);
    let live = sc
        .conditional
        .iter()
        .rposition(|r| r.ret != fallback)
        .map_or(0, |last| last + 1);
    &sc.conditional[..live]
}

/// The binary search over `ranges` (with the number in A): `if nr >= first(mid) goto right else
/// goto left`, down to single ranges.
fn tree(em: &mut Emitter, s: &Section, default: u32, ranges: &[(u32, Outcome)]) -> Target {
    match ranges {
        [] => Target::Ret(default),
        [(_, Outcome::Ret(value))] => Target::Ret(*value),
        [(_, Outcome::Chain(nr))] => chain(em, s, default, *nr),
        _ => {
            let mid = ranges.len() / 2;
            let right = tree(em, s, default, &ranges[mid..]);
            let left = tree(em, s, default, &ranges[..mid]);
            Target::At(em.jump(Jump::Ge, ranges[mid].0, right, left))
        }
    }
}

/// The argument checks of one syscall: its rules in order, each falling to the next when a
/// condition fails, the last to the fallback.
fn chain(em: &mut Emitter, s: &Section, default: u32, nr: u32) -> Target {
    let sc = &s.syscalls[&nr];
    let mut next = Target::Ret(fallback(sc, default));
    for rule in live_rules(sc, default).iter().rev() {
        let mut pass = Target::Ret(rule.ret);
        for cond in rule.conds.iter().rev() {
            pass = condition(em, cond, s.table.is_64bit(), pass, next);
        }
        next = pass;
    }
    next
}

/// One argument comparison (unsigned, on 64 bits, or on the low 32 bits for a 32-bit ABI, as
/// libseccomp does there), going to `pass` or `fail`.
fn condition(em: &mut Emitter, c: &Cond, wide: bool, pass: Target, fail: Target) -> Target {
    let (lo_off, hi_off) = arg_offsets(c.index);
    // Truncating on purpose: the low half of v.
    #[allow(clippy::cast_possible_truncation)]
    let split = |v: u64| ((v >> 32) as u32, v as u32);
    let (hi, lo) = split(c.value);
    match c.op {
        Op::ScmpCmpEq => equal(em, (lo_off, hi_off), (hi, lo), wide, pass, fail),
        Op::ScmpCmpNe => equal(em, (lo_off, hi_off), (hi, lo), wide, fail, pass),
        Op::ScmpCmpGt => greater(em, (lo_off, hi_off), (hi, lo), Jump::Gt, wide, pass, fail),
        Op::ScmpCmpGe => greater(em, (lo_off, hi_off), (hi, lo), Jump::Ge, wide, pass, fail),
        // a < b is not (a >= b); a <= b is not (a > b).
        Op::ScmpCmpLt => greater(em, (lo_off, hi_off), (hi, lo), Jump::Ge, wide, fail, pass),
        Op::ScmpCmpLe => greater(em, (lo_off, hi_off), (hi, lo), Jump::Gt, wide, fail, pass),
        Op::ScmpCmpMaskedEq => {
            let (want_hi, want_lo) = split(c.value_two);
            let lo_part = half(em, lo_off, Some(lo), Jump::Eq, want_lo, pass, fail);
            match (wide, hi, want_hi) {
                // Nothing to test in the high half.
                (false, _, _) | (true, 0, 0) => lo_part,
                // Masked to zero, it can never equal a non-zero value.
                (true, 0, _) => fail,
                (true, _, _) => half(em, hi_off, Some(hi), Jump::Eq, want_hi, lo_part, fail),
            }
        }
    }
}

/// `load half; [and mask]; if A <op> k goto jt else goto jf`.
fn half(
    em: &mut Emitter,
    offset: u32,
    mask: Option<u32>,
    op: Jump,
    k: u32,
    jt: Target,
    jf: Target,
) -> Target {
    em.jump(op, k, jt, jf);
    if let Some(mask) = mask.filter(|&m| m != u32::MAX) {
        em.and(mask);
    }
    Target::At(em.load(offset))
}

/// arg == value: both halves equal.
fn equal(
    em: &mut Emitter,
    (lo_off, hi_off): (u32, u32),
    (hi, lo): (u32, u32),
    wide: bool,
    pass: Target,
    fail: Target,
) -> Target {
    let lo_part = half(em, lo_off, None, Jump::Eq, lo, pass, fail);
    if wide {
        half(em, hi_off, None, Jump::Eq, hi, lo_part, fail)
    } else {
        lo_part
    }
}

/// arg > value (`Gt`) or arg >= value (`Ge`): the high half decides unless it is equal, then
/// the low half does.
fn greater(
    em: &mut Emitter,
    (lo_off, hi_off): (u32, u32),
    (hi, lo): (u32, u32),
    op: Jump,
    wide: bool,
    pass: Target,
    fail: Target,
) -> Target {
    let lo_part = half(em, lo_off, None, op, lo, pass, fail);
    if !wide {
        return lo_part;
    }
    // With the high half still in A: equal goes on to the low half.
    let high_equal = Target::At(em.jump(Jump::Eq, hi, lo_part, fail));
    half(em, hi_off, None, Jump::Gt, hi, pass, high_equal)
}
