//! A device policy as a `BPF_PROG_TYPE_CGROUP_DEVICE` eBPF program, the instructions emitted
//! here (no compiler, no libbpf): cgroup v2's stand-in for the v1 devices controller. The
//! kernel runs it at each open or mknod of a device by a process of the cgroup, with a
//! `struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }` in r1 (the device's
//! type in the low 16 bits of access_type, the access in the high 16), and allows the access if
//! it returns 1.
//!
//! The program is a prologue that loads the context into registers, then one block per
//! exception that returns the opposite of the default when the access matches it (as v1
//! matches: with a default of deny an exception must grant the whole access, with a default of
//! allow touching any of it denies), then the default.

use super::device_policy::{Exception, Policy};
use super::device_rules::{Access, Kind};

/// One eBPF instruction as the kernel takes it (`struct bpf_insn`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Insn {
    pub code: u8,
    /// Destination register in the low four bits, source register in the high four.
    pub regs: u8,
    pub off: i16,
    pub imm: i32,
}

// Instruction classes, operations and operand sources (include/uapi/linux/bpf_common.h, bpf.h).
const LDX_MEM_W: u8 = 0x01 | 0x60; // BPF_LDX | BPF_MEM | BPF_W: load 32 bits from memory
const ALU: u8 = 0x04; // 32-bit ALU; the upper half of the register is zeroed
const JMP: u8 = 0x05;
const JMP32: u8 = 0x06; // compares the low 32 bits, so any u32 device number compares exactly
const AND: u8 = 0x50;
const RSH: u8 = 0x70;
const MOV: u8 = 0xb0;
const JEQ: u8 = 0x10;
const JNE: u8 = 0x50;
const EXIT: u8 = 0x90;
const K: u8 = 0x00; // operand is the immediate
const X: u8 = 0x08; // operand is the source register

// What the registers hold after the prologue; r0 is the result, r1 the context and then scratch.
const R0: u8 = 0;
const R1: u8 = 1;
const TYPE: u8 = 2;
const ACCESS: u8 = 3;
const MAJOR: u8 = 4;
const MINOR: u8 = 5;

fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    Insn {
        code,
        regs: dst | (src << 4),
        off,
        imm,
    }
}

/// `BPF_DEVCG_DEV_*`.
fn device_type(kind: Kind) -> i32 {
    match kind {
        Kind::Block => 1,
        Kind::Char => 2,
    }
}

fn prologue() -> Vec<Insn> {
    vec![
        insn(LDX_MEM_W, TYPE, R1, 0, 0),
        insn(ALU | AND | K, TYPE, 0, 0, 0xffff),
        insn(LDX_MEM_W, ACCESS, R1, 0, 0),
        insn(ALU | RSH | K, ACCESS, 0, 0, 16),
        insn(LDX_MEM_W, MAJOR, R1, 4, 0),
        insn(LDX_MEM_W, MINOR, R1, 8, 0),
    ]
}

fn ret(value: i32) -> [Insn; 2] {
    [
        insn(ALU | MOV | K, R0, 0, 0, value),
        insn(JMP | EXIT, 0, 0, 0, 0),
    ]
}

/// A jump past the end of a block; `off` is filled in once the block is complete.
const SKIP: i16 = i16::MIN;

/// The block that returns `!default_allow` when the access matches `e`, else falls through.
fn exception_block(e: &Exception, default_allow: bool) -> Vec<Insn> {
    let mut b = vec![insn(
        JMP32 | JNE | K,
        TYPE,
        0,
        SKIP,
        device_type(e.devices.kind),
    )];
    if e.access != Access::ALL {
        // An allow exception matches if it grants all of the access (no bit outside it); a
        // deny exception if it takes any of it away (some bit inside it).
        let (mask, skip_when) = if default_allow {
            (e.access, JEQ)
        } else {
            (Access::ALL.without(e.access), JNE)
        };
        b.extend([
            insn(ALU | MOV | X, R1, ACCESS, 0, 0),
            insn(ALU | AND | K, R1, 0, 0, i32::from(mask.0)),
            insn(JMP32 | skip_when | K, R1, 0, SKIP, 0),
        ]);
    }
    // The bits of a u32 as the signed immediate; JMP32 compares them as they are.
    let imm = |n: u32| i32::from_ne_bytes(n.to_ne_bytes());
    if let Some(major) = e.devices.major {
        b.push(insn(JMP32 | JNE | K, MAJOR, 0, SKIP, imm(major)));
    }
    if let Some(minor) = e.devices.minor {
        b.push(insn(JMP32 | JNE | K, MINOR, 0, SKIP, imm(minor)));
    }
    b.extend(ret(i32::from(!default_allow)));
    let len = b.len();
    for (i, x) in b.iter_mut().enumerate() {
        if x.off == SKIP {
            // A jump's offset counts from the instruction after it. Cannot truncate or wrap: a
            // block is at most eight instructions.
            #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
            let off = (len - i - 1) as i16;
            x.off = off;
        }
    }
    b
}

/// The program for `policy`.
pub(crate) fn program(policy: &Policy) -> Vec<Insn> {
    let mut p = prologue();
    for e in &policy.exceptions {
        p.extend(exception_block(e, policy.default_allow));
    }
    p.extend(ret(i32::from(policy.default_allow)));
    p
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::cgroups::device_rules::{docker_default_devices, parse};

    /// Runs a program over one access, as the kernel would: an interpreter of exactly the
    /// instructions emitted above, to check the program against the policy it came from. Its
    /// casts are the machine's: immediates are bits, 32-bit operations take a register's low
    /// half.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_possible_wrap,
        clippy::cast_sign_loss
    )]
    pub fn run(program: &[Insn], kind: Kind, major: u32, minor: u32, access: Access) -> u64 {
        let ctx = [
            (u32::from(access.0) << 16) | device_type(kind) as u32,
            major,
            minor,
        ];
        let mut r = [0u64; 11];
        let mut pc = 0usize;
        loop {
            let i = program[pc];
            let (dst, src) = (usize::from(i.regs & 0xf), usize::from(i.regs >> 4));
            let imm = i.imm as u32;
            pc += 1;
            let jump = |taken: bool, pc: &mut usize| {
                if taken {
                    *pc = (*pc as isize + isize::from(i.off)) as usize;
                }
            };
            match i.code {
                LDX_MEM_W => {
                    assert_eq!(src, 1, "loads only from the context");
                    r[dst] = u64::from(ctx[i.off as usize / 4]);
                }
                c if c == ALU | AND | K => r[dst] = u64::from(r[dst] as u32 & imm),
                c if c == ALU | RSH | K => r[dst] = u64::from((r[dst] as u32) >> imm),
                c if c == ALU | MOV | K => r[dst] = u64::from(imm),
                c if c == ALU | MOV | X => r[dst] = u64::from(r[src] as u32),
                c if c == JMP32 | JNE | K => jump(r[dst] as u32 != imm, &mut pc),
                c if c == JMP32 | JEQ | K => jump(r[dst] as u32 == imm, &mut pc),
                c if c == JMP | EXIT => return r[0],
                c => panic!("unexpected instruction {c:#x}"),
            }
        }
    }

    fn docker_policy() -> Policy {
        Policy::of(&parse(&docker_default_devices()).unwrap()).unwrap()
    }

    #[test]
    fn dockers_defaults_make_64_instructions() {
        // Prologue 6; c *:* m and b *:* m 6 each (type, access, return); eight c M:N rwm 5
        // each (type, major, minor, return); c 136:* rwm 4; the default 2.
        let p = program(&docker_policy());
        assert_eq!(p.len(), 6 + 6 + 6 + 8 * 5 + 4 + 2);
        assert_eq!(p.last(), Some(&insn(JMP | EXIT, 0, 0, 0, 0)));
        assert_eq!(
            p[p.len() - 2],
            insn(ALU | MOV | K, R0, 0, 0, 0),
            "default deny"
        );
    }

    #[test]
    fn an_open_policy_is_two_instructions_past_the_prologue() {
        let p = Policy::of(&[]).unwrap();
        assert_eq!(program(&p)[6..], ret(1));
    }

    /// Every access to a spread of devices, by the program and by the v1 rules it came from.
    #[test]
    fn the_program_decides_as_the_v1_controller_would() {
        let json = serde_json::json!([
            {"allow": false, "type": "c", "major": 1, "minor": 11, "access": "rw"},
            {"allow": false, "type": "b", "major": 4294967295_u32, "access": "m"},
            {"allow": false, "type": "b", "major": 8, "access": "w"},
        ]);
        let spec: Vec<oci_spec::runtime::LinuxDeviceCgroup> = serde_json::from_value(json).unwrap();
        let open = Policy::of(&parse(&spec).unwrap()).unwrap();
        for policy in [docker_policy(), open] {
            let prog = program(&policy);
            for kind in [Kind::Char, Kind::Block] {
                for (major, minor) in [
                    (1, 3),
                    (1, 11),
                    (5, 2),
                    (136, 0),
                    (136, 99),
                    (7, 0),
                    (8, 1),
                    (10, 237),
                    (4294967295, 0),
                ] {
                    for access in 1..=7 {
                        let access = Access(access);
                        assert_eq!(
                            run(&prog, kind, major, minor, access) == 1,
                            policy.allows(kind, major, minor, access),
                            "{kind:?} {major}:{minor} {access} under {policy:?}"
                        );
                    }
                }
            }
        }
    }
}
