//! The two bpf(2) commands a cgroup v2 device program needs: load it, attach it to a cgroup.
//! Nothing is pinned: an attached program lives as long as its cgroup.

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use super::device_program::Insn;
use crate::error::cvt_long;

const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_ATTACH: libc::c_long = 8;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
/// Lets the cgroup's ancestors and descendants have programs of their own: all must allow.
const BPF_F_ALLOW_MULTI: u32 = 2;

/// The license the kernel is told; the program calls no helper, GPL-only or other.
const LICENSE: &[u8] = b"Apache-2.0\0";
/// As `bpftool prog` shows it (at most 15 bytes).
const NAME: &[u8] = b"kist_devices";

/// `union bpf_attr` for BPF_PROG_LOAD, up to the fields kist sets; the kernel takes a
/// shorter attr as if the rest were zero.
#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
}

/// `union bpf_attr` for BPF_PROG_ATTACH.
#[repr(C)]
struct ProgAttachAttr {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
    replace_bpf_fd: u32,
}

fn bpf<T>(cmd: libc::c_long, attr: &mut T) -> std::io::Result<libc::c_int> {
    // Cannot truncate: T is one of the bpf_attr prefixes above, a few dozen bytes.
    #[allow(clippy::cast_possible_truncation)]
    let size = std::mem::size_of::<T>() as libc::c_uint;
    // SAFETY: attr is a bpf_attr prefix for cmd, alive across the call; its size is passed.
    cvt_long(unsafe { libc::syscall(libc::SYS_bpf, cmd, attr as *mut T, size) })
}

/// Why the kernel refused a program: the error, and the verifier's last words if it spoke.
#[derive(Debug)]
pub(crate) struct Refused {
    pub error: std::io::Error,
    pub verifier: Option<String>,
}

/// Loads a cgroup device program. On refusal it loads it once more with the verifier's log on,
/// to say why.
pub(crate) fn load_device_program(program: &[Insn]) -> Result<OwnedFd, Refused> {
    let error = match load(program, None) {
        Ok(fd) => return Ok(fd),
        Err(e) => e,
    };
    let mut log = vec![0u8; 64 * 1024];
    let verifier = match load(program, Some(&mut log)) {
        Ok(fd) => return Ok(fd), // refused only the first time: take it
        Err(_) => last_line(&log),
    };
    Err(Refused { error, verifier })
}

fn load(program: &[Insn], log: Option<&mut [u8]>) -> std::io::Result<OwnedFd> {
    let mut attr = ProgLoadAttr {
        prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
        insn_cnt: u32::try_from(program.len()).map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "device program too long")
        })?,
        insns: program.as_ptr() as u64,
        license: LICENSE.as_ptr() as u64,
        ..Default::default()
    };
    attr.prog_name[..NAME.len()].copy_from_slice(NAME);
    if let Some(log) = log {
        attr.log_level = 1;
        // A shorter size than the buffer is safe: the kernel writes at most log_size bytes.
        attr.log_size = u32::try_from(log.len()).unwrap_or(u32::MAX);
        attr.log_buf = log.as_mut_ptr() as u64;
    }
    let fd = bpf(BPF_PROG_LOAD, &mut attr)?;
    // SAFETY: a new descriptor the kernel gave us alone.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The verifier's verdict in `log` (NUL-terminated): its last line but the statistics.
fn last_line(log: &[u8]) -> Option<String> {
    let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
    String::from_utf8_lossy(&log[..end])
        .lines()
        .map(str::trim)
        .rev()
        .find(|l| {
            !l.is_empty() && !l.starts_with("processed ") && !l.starts_with("verification time")
        })
        .map(String::from)
}

/// Attaches a loaded device program to the cgroup directory open as `cgroup`.
pub(crate) fn attach_device_program(
    program: BorrowedFd<'_>,
    cgroup: BorrowedFd<'_>,
) -> std::io::Result<()> {
    // Cannot lose a sign: open descriptors are non-negative.
    #[allow(clippy::cast_sign_loss)]
    let mut attr = ProgAttachAttr {
        target_fd: cgroup.as_raw_fd() as u32,
        attach_bpf_fd: program.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: BPF_F_ALLOW_MULTI,
        replace_bpf_fd: 0,
    };
    bpf(BPF_PROG_ATTACH, &mut attr).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[ignore = "needs root"]
    fn the_verifier_accepts_the_generated_programs() {
        crate::testing::assert_root("loads eBPF programs");
        use crate::cgroups::device_policy::Policy;
        use crate::cgroups::device_program::program;
        use crate::cgroups::device_rules::{docker_default_devices, parse};
        let open: Vec<oci_spec::runtime::LinuxDeviceCgroup> =
            serde_json::from_value(serde_json::json!([
                {"allow": false, "type": "c", "major": 1, "minor": 11, "access": "rw"},
                {"allow": false, "type": "b", "access": "rwm"},
                {"allow": false, "type": "c", "major": 4294967295_u32, "minor": 0, "access": "m"},
            ]))
            .unwrap();
        for rules in [docker_default_devices(), open, Vec::new()] {
            let p = program(&Policy::of(&parse(&rules).unwrap()).unwrap());
            if let Err(e) = load_device_program(&p) {
                panic!("{} instructions refused: {e:?}", p.len());
            }
        }
    }

    #[test]
    #[ignore = "needs root"]
    fn a_refused_program_says_what_the_verifier_said() {
        crate::testing::assert_root("loads eBPF programs");
        // Exits without setting r0.
        let bad = [Insn {
            code: 0x95,
            regs: 0,
            off: 0,
            imm: 0,
        }];
        let err = load_device_program(&bad).unwrap_err();
        assert_eq!(err.error.raw_os_error(), Some(libc::EACCES), "{err:?}");
        assert!(
            err.verifier.as_deref().unwrap_or_default().contains("R0"),
            "{err:?}"
        );
    }
}
