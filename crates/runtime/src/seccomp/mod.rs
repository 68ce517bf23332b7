//! Seccomp: which syscalls a container may make, as Docker decides it, compiled here into the
//! classic BPF program the kernel runs on each of them.
//!
//! The way from a profile to a loaded filter:
//! 1. [`Profile::from_json`] reads Docker's profile format, or a plain OCI `linux.seccomp`
//!    (`--security-opt seccomp=FILE` and an OCI bundle read the same format);
//!    [`Profile::docker_default`] is kist's default profile (`default.json`).
//! 2. [`Profile::resolve`] makes it the OCI `linux.seccomp` of one container: the entries that
//!    apply to its capabilities, the host's architecture and kernel.
//! 3. [`Filter::for_spec`] compiles that (see `plan` for the semantics, runc's), and
//!    [`Filter::to_bytes`] / [`Filter::from_bytes`] let the engine cache the result;
//! 4. [`Filter::install`], in the container's process just before it execs.
//!
//! kist compiles its own programs rather than use libseccomp (a C library in a static binary,
//! and its output would need patching for ENOSYS) or seccompiler (one action and errno per
//! filter, one architecture, no ENOSYS).

mod arch;
mod bpf;
mod compile;
mod errno;
mod error;
mod filter;
mod kernel;
mod plan;
mod profile;
mod resolve;

#[cfg(test)]
mod tests;

pub use arch::native_arch;
pub use error::SeccompError;
pub use filter::{COMPILER_VERSION, Filter};
pub use kernel::KernelVersion;
pub use profile::{ArchMapEntry, DEFAULT_PROFILE_JSON, Entry, Profile, Selector};
