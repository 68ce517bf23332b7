//! kist's OCI runtime core: from a runtime spec and a root filesystem to a running process.
//!
//! It clones the container's first process into new namespaces, mounts its root (an overlay built
//! from image layers, or a bundle's directory) inside the container's own mount namespace,
//! performs the spec's mounts, creates devices, `pivot_root`s, applies the process settings and
//! execs. Because the root and every other mount exist only in the container's mount namespace,
//! they vanish with it: a container (or a kist) killed at any point leaves no mount behind.
//!
//! The runtime knows nothing of images or of the command line. `create` stops the new process
//! just before it execs, so the caller can record it (and, later, place it in cgroups or hand it
//! to an OCI front end's `start`); `Created::start` lets it go.

mod cgroups;
mod child;
mod create;
mod error;
mod foreground;
pub mod hooks;
mod join;
mod launch;
mod namespaces;
pub mod paths;
pub mod pidfd;
pub mod process;
mod program;
pub mod seccomp;
mod setup;
mod signals;
mod sync;
mod sys;
#[cfg(test)]
mod testing;

pub use cgroups::{
    Cgroup, Usage, VERSION_ANNOTATION as CGROUP_VERSION_ANNOTATION, Version as CgroupVersion,
    docker_default_devices, host_version as cgroup_host_version,
};
pub use create::{Created, Running, connect_and_start, create, create_detached};
pub use error::{Error, Result};
pub use foreground::{ForegroundIo, OutputStream, Pump, RawTerminal, Tee, resize, run_foreground};
pub use hooks::ContainerHooks;
pub use join::{Join, join};
pub use launch::{Launch, Rootfs, Stdio};
pub use namespaces::has_mount_namespace;
pub use program::default_capabilities::DOCKER_DEFAULT_CAPABILITIES;
pub use program::{init, sealed};
pub use setup::overlay::{mount_overlay, mount_overlay_read_only};
pub use signals::{ForwardedSignals, block_forwarded_signals};

/// Containers created (and processes joined) by this process from now on keep its
/// descriptors 3 to 3+n-1 open across their exec, as runc's `--preserve-fds N` does; every
/// other descriptor above stderr is still closed.
pub fn preserve_fds(n: u32) {
    program::syscalls::PRESERVED_FDS.store(n, std::sync::atomic::Ordering::Relaxed);
}

/// How a container's first process ended, as Docker reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    Exited(i32),
    Signaled(i32),
}

impl ExitStatus {
    /// The exit code Docker gives: the program's own, or 128+N when killed by signal N.
    pub fn code(self) -> i32 {
        match self {
            ExitStatus::Exited(c) => c,
            ExitStatus::Signaled(s) => 128 + s,
        }
    }
}

/// The mount option kist adds to a bind mount whose (empty) source should first receive a copy
/// of what the image has at the destination: Docker's seeding of a new named volume.
pub const COPY_UP_OPTION: &str = "kist.copyup";
