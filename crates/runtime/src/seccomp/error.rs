//! What can go wrong between a seccomp profile's text and a loaded filter, each case saying where.

/// An error from reading a profile, resolving it or compiling it. Each names the part of the
/// profile at fault, so that a user can fix a `--security-opt seccomp=FILE` without guessing.
#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    /// The profile is not JSON, or its top level does not have the expected shape.
    #[error("seccomp profile: {0}")]
    Json(#[source] serde_json::Error),
    /// One entry of `syscalls` is wrong; `entry` reads like `syscalls[3] (mount, umount2)`.
    #[error("seccomp profile, {entry}: {message}")]
    Entry { entry: String, message: String },
    /// Something outside the entries is wrong (both `architectures` and `archMap`, ...).
    #[error("seccomp profile: {0}")]
    Profile(String),
    /// The profile asks for something kist's filters cannot do (yet), such as SCMP_ACT_NOTIFY.
    #[error("seccomp: {0} is not supported")]
    Unsupported(String),
    /// The compiled program is over the kernel's limit on a classic BPF program's length.
    #[error("seccomp filter: {0} instructions, more than the kernel's limit of 4096")]
    TooLong(usize),
    /// Bytes handed to `Filter::from_bytes` are not a filter this version wrote.
    #[error("stored seccomp filter: {0}")]
    Corrupt(String),
    /// The compiler wrote a program the kernel would refuse: a bug in kist.
    #[error("seccomp compiler: {0} (a bug in kist)")]
    Internal(String),
    /// The running kernel's version, needed for `minKernel`, could not be read.
    #[error("seccomp profile: reading the kernel's version: {0}")]
    Kernel(String),
}
