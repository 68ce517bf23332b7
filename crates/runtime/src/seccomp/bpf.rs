//! Classic BPF as seccomp runs it: the few instructions kist's filters use, an emitter that
//! writes a program back to front (so every jump's target is already placed and its offset
//! known) and bridges jumps beyond the 8-bit offset of a conditional jump, and a checker.

use std::collections::HashMap;

use libc::sock_filter;

/// The kernel's limit on a classic BPF program's length (BPF_MAXINSNS).
pub(crate) const MAX_INSTRUCTIONS: usize = 4096;

/// The size of `struct seccomp_data`: nr, arch, instruction_pointer, args[6].
pub(crate) const SECCOMP_DATA_SIZE: u32 = 64;
pub(crate) const OFFSET_NR: u32 = 0;
pub(crate) const OFFSET_ARCH: u32 = 4;

/// The offsets of the low and high 32 bits of a syscall argument in `seccomp_data`.
pub(crate) fn arg_offsets(index: u8) -> (u32, u32) {
    let base = 16 + 8 * u32::from(index);
    if cfg!(target_endian = "little") {
        (base, base + 4)
    } else {
        (base + 4, base)
    }
}

// Opcodes: class | size/operation | source (<linux/bpf_common.h>); BPF_LD and BPF_W are 0.
const LD_W_ABS: u16 = 0x20;
const ALU_AND_K: u16 = 0x04 | 0x50;
const JMP_JA: u16 = 0x05;
const RET_K: u16 = 0x06;

/// The conditional jumps used, comparing the accumulator with a constant (unsigned).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Jump {
    Eq = 0x15,
    Gt = 0x25,
    Ge = 0x35,
}

/// Where a jump goes: an instruction already placed, or a return of a value (placed, or
/// re-placed, within reach when needed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    At(Label),
    Ret(u32),
}

/// An instruction's place, counted from the program's end (1 is the last instruction), which
/// stays true as instructions are added in front.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Label(usize);

/// How far a conditional jump reaches: its offsets are 8 bits.
const REACH: usize = u8::MAX as usize;

/// Writes a program from its last instruction to its first.
#[derive(Default)]
pub(crate) struct Emitter {
    reversed: Vec<sock_filter>,
    /// The latest placed return of each value, to share it while it is in reach.
    rets: HashMap<u32, Label>,
}

impl Emitter {
    /// The instruction placed last, which is the first of the program so far.
    pub(crate) fn front(&self) -> Label {
        Label(self.reversed.len())
    }

    fn push(&mut self, code: u16, jt: u8, jf: u8, k: u32) -> Label {
        self.reversed.push(sock_filter { code, jt, jf, k });
        self.front()
    }

    /// `A = seccomp_data[offset]` (32 bits), going on to the program so far.
    pub(crate) fn load(&mut self, offset: u32) -> Label {
        self.push(LD_W_ABS, 0, 0, offset)
    }

    /// `A &= mask`, going on to the program so far.
    pub(crate) fn and(&mut self, mask: u32) -> Label {
        self.push(ALU_AND_K, 0, 0, mask)
    }

    /// A return of `value`.
    pub(crate) fn ret(&mut self, value: u32) -> Label {
        let label = self.push(RET_K, 0, 0, value);
        self.rets.insert(value, label);
        label
    }

    /// Makes `target` the first instruction so far, so that the next one placed goes on to it.
    pub(crate) fn enter(&mut self, target: Target) -> Label {
        match target {
            Target::At(l) if l == self.front() => l,
            Target::At(l) => {
                let distance =
                    u32::try_from(self.reversed.len() - l.0).expect("programs are short");
                self.push(JMP_JA, 0, 0, distance)
            }
            Target::Ret(value) => self.ret(value),
        }
    }

    /// `if A <op> k goto jt else goto jf`.
    pub(crate) fn jump(&mut self, op: Jump, k: u32, jt: Target, jf: Target) -> Label {
        // jt is resolved first, so it must reach one instruction further: jf's bridge, if one
        // is needed, comes between the two.
        let t = self.reachable(jt, REACH - 1);
        let f = self.reachable(jf, REACH);
        let here = self.reversed.len();
        let offset = |l: Label| u8::try_from(here - l.0).expect("targets were brought in reach");
        let (jt, jf) = (offset(t), offset(f));
        self.push(op as u16, jt, jf, k)
    }

    /// A label for `target` that a jump placed next can reach within `reach`.
    fn reachable(&mut self, target: Target, reach: usize) -> Label {
        let here = self.reversed.len();
        match target {
            Target::At(l) if here - l.0 <= reach => l,
            Target::At(l) => {
                // A bridge: an unconditional jump has a 32-bit offset.
                let distance = u32::try_from(here - l.0).expect("programs are short");
                self.push(JMP_JA, 0, 0, distance)
            }
            Target::Ret(value) => match self.rets.get(&value) {
                Some(&l) if here - l.0 <= reach => l,
                // A new return costs one instruction, as a bridge to the old one would.
                _ => self.ret(value),
            },
        }
    }

    /// The program, first instruction first.
    pub(crate) fn finish(mut self) -> Vec<sock_filter> {
        self.reversed.reverse();
        self.reversed
    }
}

/// Checks a program as the kernel will, for the instructions kist writes: known opcodes, loads
/// inside `seccomp_data`, jumps inside the program, a return at the end.
pub(crate) fn check(program: &[sock_filter]) -> Result<(), String> {
    if program.is_empty() || program.len() > MAX_INSTRUCTIONS {
        return Err(format!(
            "{} instructions (1 to {MAX_INSTRUCTIONS})",
            program.len()
        ));
    }
    let last = program.len() - 1;
    for (pc, insn) in program.iter().enumerate() {
        let lands = |offset: usize| pc + 1 + offset <= last;
        let ok = match insn.code {
            LD_W_ABS => insn.k % 4 == 0 && insn.k < SECCOMP_DATA_SIZE,
            ALU_AND_K | RET_K => true,
            JMP_JA => usize::try_from(insn.k).is_ok_and(lands),
            c if c == Jump::Eq as u16 || c == Jump::Gt as u16 || c == Jump::Ge as u16 => {
                lands(usize::from(insn.jt)) && lands(usize::from(insn.jf))
            }
            _ => false,
        };
        if !ok {
            return Err(format!(
                "bad instruction {pc}: code {:#06x} jt {} jf {} k {:#x}",
                insn.code, insn.jt, insn.jf, insn.k
            ));
        }
    }
    if program[last].code != RET_K {
        return Err("the last instruction is not a return".into());
    }
    Ok(())
}

/// Runs a checked program on a `seccomp_data`, as the kernel would: for tests.
#[cfg(test)]
pub(crate) fn run(program: &[sock_filter], data: &[u8; SECCOMP_DATA_SIZE as usize]) -> u32 {
    run_counting(program, data).0
}

/// `run`, also counting the instructions executed.
#[cfg(test)]
pub(crate) fn run_counting(
    program: &[sock_filter],
    data: &[u8; SECCOMP_DATA_SIZE as usize],
) -> (u32, usize) {
    let word = |k: u32| {
        let k = k as usize;
        u32::from_ne_bytes(data[k..k + 4].try_into().unwrap())
    };
    let (mut pc, mut a, mut steps) = (0usize, 0u32, 0usize);
    loop {
        let insn = program[pc];
        pc += 1;
        steps += 1;
        match insn.code {
            LD_W_ABS => a = word(insn.k),
            ALU_AND_K => a &= insn.k,
            RET_K => return (insn.k, steps),
            JMP_JA => pc += insn.k as usize,
            code => {
                let taken = match code {
                    c if c == Jump::Eq as u16 => a == insn.k,
                    c if c == Jump::Gt as u16 => a > insn.k,
                    c if c == Jump::Ge as u16 => a >= insn.k,
                    _ => panic!("unknown opcode {code:#x}"),
                };
                pc += usize::from(if taken { insn.jt } else { insn.jf });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(nr: u32) -> [u8; 64] {
        let mut d = [0u8; 64];
        d[..4].copy_from_slice(&nr.to_ne_bytes());
        d
    }

    #[test]
    fn a_short_program_runs_as_written() {
        let mut em = Emitter::default();
        let jump = em.jump(Jump::Eq, 7, Target::Ret(1), Target::Ret(2));
        assert_eq!(em.front(), jump);
        em.load(OFFSET_NR);
        let program = em.finish();
        check(&program).unwrap();
        assert_eq!(run(&program, &data(7)), 1);
        assert_eq!(run(&program, &data(8)), 2);
        assert_eq!(program.len(), 4);
    }

    #[test]
    fn far_targets_are_bridged() {
        let mut em = Emitter::default();
        let far = em.ret(42);
        let near = em.ret(43);
        // 600 instructions between the targets and the jumps.
        for _ in 0..600 {
            em.and(u32::MAX);
        }
        let ge = em.jump(Jump::Ge, 10, Target::At(far), Target::At(near));
        em.jump(Jump::Eq, 3, Target::Ret(43), Target::At(ge));
        em.load(OFFSET_NR);
        let program = em.finish();
        check(&program).unwrap();
        assert_eq!(run(&program, &data(3)), 43, "a new return of 43, in reach");
        assert_eq!(run(&program, &data(11)), 42, "bridged to the far return");
        assert_eq!(
            run(&program, &data(5)),
            43,
            "bridged to the old return of 43"
        );
        assert!(program.iter().any(|i| i.code == JMP_JA));
        assert_eq!(
            program
                .iter()
                .filter(|i| i.code == RET_K && i.k == 43)
                .count(),
            2
        );
    }

    #[test]
    fn bridged_jumps_reach_both_far_targets() {
        let mut em = Emitter::default();
        let a = em.ret(1);
        let b = em.ret(2);
        for _ in 0..300 {
            em.and(u32::MAX);
        }
        em.ret(3);
        em.jump(Jump::Gt, 5, Target::At(a), Target::At(b));
        em.load(OFFSET_NR);
        let program = em.finish();
        check(&program).unwrap();
        assert_eq!(run(&program, &data(6)), 1);
        assert_eq!(run(&program, &data(5)), 2);
    }

    #[test]
    fn the_checker_refuses_what_the_kernel_would() {
        let ret = sock_filter {
            code: RET_K,
            jt: 0,
            jf: 0,
            k: 0,
        };
        let load = |k| sock_filter {
            code: LD_W_ABS,
            jt: 0,
            jf: 0,
            k,
        };
        let jeq = |jt, jf| sock_filter {
            code: Jump::Eq as u16,
            jt,
            jf,
            k: 0,
        };
        assert!(check(&[]).is_err());
        assert!(check(&[load(0)]).is_err(), "no return at the end");
        assert!(
            check(&[load(64), ret]).is_err(),
            "load outside seccomp_data"
        );
        assert!(check(&[load(2), ret]).is_err(), "unaligned load");
        assert!(check(&[jeq(1, 0), ret]).is_err(), "jump past the end");
        assert!(check(&[jeq(0, 0), ret]).is_ok());
        let unknown = sock_filter {
            code: 0x07,
            jt: 0,
            jf: 0,
            k: 0,
        };
        assert!(check(&[unknown, ret]).is_err());
        assert!(check(&vec![ret; MAX_INSTRUCTIONS + 1]).is_err());
    }
}
