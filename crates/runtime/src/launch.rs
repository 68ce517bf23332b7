//! What a caller asks the runtime to launch: the spec, the root filesystem and where the
//! standard streams go. Types only, so that the parent's side (`create`) and the child's side
//! (`child`, `setup`) share them without depending on each other.

use std::os::fd::OwnedFd;
use std::path::PathBuf;

use oci_spec::runtime::Spec;

/// The container's root filesystem.
pub enum Rootfs {
    /// A directory (an OCI bundle's `rootfs`), bind-mounted onto itself.
    Directory(PathBuf),
    /// An overlay of read-only layers (top first) under a writable upper directory, mounted at
    /// `mountpoint` (an empty directory) inside the container's mount namespace only.
    Overlay {
        lower: Vec<PathBuf>,
        upper: PathBuf,
        work: PathBuf,
        mountpoint: PathBuf,
    },
}

/// Where the container's standard streams go.
pub enum Stdio {
    /// These become the process's fds 0, 1 and 2.
    Fds {
        stdin: OwnedFd,
        stdout: OwnedFd,
        stderr: OwnedFd,
    },
    /// A new pseudo-terminal of the container's own devpts; its master side comes back from
    /// [`create`] through [`Created::take_console`].
    Terminal,
}

pub struct Launch<'a> {
    pub spec: &'a Spec,
    pub rootfs: Rootfs,
    pub stdio: Stdio,
    /// Run a minimal init as PID 1 that forwards signals to the program and reaps zombies.
    pub init: bool,
    /// The spec's `linux.seccomp`, compiled (the caller may keep compiled filters).
    pub seccomp: Option<&'a crate::seccomp::Filter>,
    /// The OCI hooks run inside the container; with them the process stops before its
    /// `pivot_root` for its creator's hooks (see [`crate::Created::wait_mounted`]).
    pub hooks: Option<crate::hooks::ContainerHooks<'a>>,
}
