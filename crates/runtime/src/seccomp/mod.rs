//! Seccomp: which syscalls a container may make, as Docker decides it, compiled here into the
//! classic BPF program the kernel runs on each of them.
//!
//! The way from a profile to a loaded filter:
//! 1. [`Profile::from_json`] reads Docker's profile format, or a plain OCI `linux.seccomp`
//!    (`--security-opt seccomp=FILE` and an OCI bundle read the same format);
//!    [`Profile::docker_default`] is kist's default profile (`default.json`).
//! 2. [`Profile::resolve`] makes it the OCI `linux.seccomp` of one container: the entries that
//!    apply to its capabilities, the host's architecture and kernel.
//! 3. (to come) a compiler from that to a BPF program, and its installation.

mod arch;
mod error;
mod kernel;
mod profile;
mod resolve;

pub use arch::native_arch;
pub use error::SeccompError;
pub use kernel::KernelVersion;
pub use profile::{ArchMapEntry, DEFAULT_PROFILE_JSON, Entry, Profile, Selector};
