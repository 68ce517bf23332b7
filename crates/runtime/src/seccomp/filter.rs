//! A compiled seccomp filter: built from an OCI `linux.seccomp`, stored as bytes (so compiled
//! programs can be cached), and installed in the calling thread without allocating.

use std::fmt;

use libc::sock_filter;
use oci_spec::runtime::{Arch, LinuxSeccomp, LinuxSeccompFilterFlag};

use super::bpf::{MAX_INSTRUCTIONS, check};
use super::compile::compile;
use super::error::SeccompError;
use super::plan::Plan;
use super::profile::Profile;

/// The version of kist's compiler and of `to_bytes`' format. Bytes another version wrote are
/// refused by `from_bytes`, so that a cache keyed by the resolved profile alone never hands out
/// a program an older (perhaps wrong) compiler wrote: the caller recompiles on that error.
pub const COMPILER_VERSION: u32 = 2;

const MAGIC: &[u8; 8] = b"kistbpf\0";
const HEADER_LEN: usize = MAGIC.len() + 3 * 4;
const INSTRUCTION_LEN: usize = 8;

/// The seccomp(2) flags kist passes, as the u32 a filter keeps them in. Cannot truncate: the
/// kernel's unsigned longs are bits 1 and 2.
#[allow(clippy::cast_possible_truncation)]
const FLAG_LOG: u32 = libc::SECCOMP_FILTER_FLAG_LOG as u32;
#[allow(clippy::cast_possible_truncation)]
const FLAG_SPEC_ALLOW: u32 = libc::SECCOMP_FILTER_FLAG_SPEC_ALLOW as u32;
const KNOWN_FLAGS: u32 = FLAG_LOG | FLAG_SPEC_ALLOW;

/// A checked classic BPF program and the seccomp(2) flags to install it with.
#[derive(Clone)]
pub struct Filter {
    program: Vec<sock_filter>,
    flags: u32,
}

impl Filter {
    /// Compiles an OCI `linux.seccomp` (as given, or as `Profile::resolve` made it).
    ///
    /// Syscalls above the highest number the spec names (per architecture) get ENOSYS;
    /// a resolved profile still names what its skipped entries named, so that line is the
    /// same whatever the container's capabilities.
    pub fn for_spec(spec: &LinuxSeccomp) -> crate::Result<Filter> {
        let flags = flags(spec.flags().as_deref().unwrap_or_default())?;
        let program = compile(&Plan::new(spec)?)?;
        // The compiler's output is checked as the kernel will, so that a bug here is an error
        // at compile time, not a failed install in a container's child.
        check(&program).map_err(SeccompError::Internal)?;
        Ok(Filter { program, flags })
    }

    /// Resolves `profile` for a container with `caps` on `arch` and compiles it.
    pub fn for_profile(profile: &Profile, caps: &[String], arch: Arch) -> crate::Result<Filter> {
        Filter::for_spec(&profile.resolve(caps, arch)?)
    }

    /// The program's instructions.
    pub fn instructions(&self) -> &[sock_filter] {
        &self.program
    }

    /// The number of instructions (at most 4096).
    pub fn len(&self) -> usize {
        self.program.len()
    }

    /// Never true: a filter has at least its return.
    pub fn is_empty(&self) -> bool {
        self.program.is_empty()
    }

    /// The `SECCOMP_FILTER_FLAG_*` bits `install` passes.
    pub fn flags(&self) -> u32 {
        self.flags
    }

    /// The filter as bytes: a header (magic, `COMPILER_VERSION`, flags, count) and each
    /// instruction as code (u16), jt, jf (u8), k (u32), little-endian.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + self.program.len() * INSTRUCTION_LEN);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&COMPILER_VERSION.to_le_bytes());
        out.extend_from_slice(&self.flags.to_le_bytes());
        // Cannot truncate: at most 4096 instructions, checked when the filter was made.
        #[allow(clippy::cast_possible_truncation)]
        let count = self.program.len() as u32;
        out.extend_from_slice(&count.to_le_bytes());
        for insn in &self.program {
            out.extend_from_slice(&insn.code.to_le_bytes());
            out.push(insn.jt);
            out.push(insn.jf);
            out.extend_from_slice(&insn.k.to_le_bytes());
        }
        out
    }

    /// Reads what `to_bytes` wrote, checking it as the kernel will check the program.
    pub fn from_bytes(bytes: &[u8]) -> crate::Result<Filter> {
        let corrupt = |what: String| SeccompError::Corrupt(what);
        let body = bytes
            .strip_prefix(MAGIC.as_slice())
            .ok_or_else(|| corrupt("not a kist seccomp filter".into()))?;
        let word = |i: usize| -> Result<u32, SeccompError> {
            let b = body
                .get(i * 4..i * 4 + 4)
                .ok_or_else(|| corrupt("truncated header".into()))?;
            Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        };
        let version = word(0)?;
        if version != COMPILER_VERSION {
            return Err(corrupt(format!(
                "written by compiler version {version}, this is {COMPILER_VERSION}: recompile"
            ))
            .into());
        }
        let flags = word(1)?;
        if flags & !KNOWN_FLAGS != 0 {
            return Err(corrupt(format!("unknown flags {flags:#x}")).into());
        }
        let count = usize::try_from(word(2)?).unwrap_or(usize::MAX);
        let code = &body[12..];
        if count > MAX_INSTRUCTIONS || code.len() != count * INSTRUCTION_LEN {
            return Err(corrupt(format!(
                "{} bytes of instructions for a count of {count}",
                code.len()
            ))
            .into());
        }
        let program: Vec<sock_filter> = code
            .chunks_exact(INSTRUCTION_LEN)
            .map(|c| sock_filter {
                code: u16::from_le_bytes([c[0], c[1]]),
                jt: c[2],
                jf: c[3],
                k: u32::from_le_bytes([c[4], c[5], c[6], c[7]]),
            })
            .collect();
        check(&program).map_err(corrupt)?;
        Ok(Filter { program, flags })
    }

    /// Installs the filter on the calling thread (and the processes it then forks and execs),
    /// with seccomp(SECCOMP_SET_MODE_FILTER). Allocates nothing, so it may be called in a
    /// forked child right before execve.
    ///
    /// The kernel requires no_new_privs (PR_SET_NO_NEW_PRIVS) or CAP_SYS_ADMIN in the caller's
    /// user namespace, else EACCES: without no_new_privs, install before dropping
    /// capabilities. The filter then applies to the rest of the set-up, which must only make
    /// syscalls it allows.
    pub fn install(&self) -> std::io::Result<()> {
        // Cannot truncate: at most 4096 instructions, checked when the filter was made.
        #[allow(clippy::cast_possible_truncation)]
        let prog = libc::sock_fprog {
            len: self.program.len() as u16,
            filter: self.program.as_ptr().cast_mut(),
        };
        // SAFETY: `prog` points at `self.program`, which outlives the call; the kernel copies
        // the program and never writes through the pointer.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                libc::c_ulong::from(self.flags),
                &prog as *const libc::sock_fprog,
            )
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    }
}

/// The seccomp(2) flags for the spec's `flags`.
fn flags(wanted: &[LinuxSeccompFilterFlag]) -> Result<u32, SeccompError> {
    let mut bits = 0;
    for flag in wanted {
        bits |= match flag {
            LinuxSeccompFilterFlag::SeccompFilterFlagLog => FLAG_LOG,
            LinuxSeccompFilterFlag::SeccompFilterFlagSpecAllow => FLAG_SPEC_ALLOW,
            // Ignored: the filter is installed by the container's first process while it is
            // single-threaded, where there are no other threads to synchronise.
            LinuxSeccompFilterFlag::SeccompFilterFlagTsync => 0,
            LinuxSeccompFilterFlag::SeccompFilterFlagWaitKillableRecv => {
                return Err(SeccompError::Unsupported(
                    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (it needs SCMP_ACT_NOTIFY's listener)"
                        .into(),
                ));
            }
        };
    }
    Ok(bits)
}

impl PartialEq for Filter {
    fn eq(&self, other: &Filter) -> bool {
        let key = |i: &sock_filter| (i.code, i.jt, i.jf, i.k);
        self.flags == other.flags
            && self
                .program
                .iter()
                .map(key)
                .eq(other.program.iter().map(key))
    }
}

impl Eq for Filter {}

impl fmt::Debug for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Filter")
            .field("instructions", &self.program.len())
            .field("flags", &self.flags)
            .finish()
    }
}
