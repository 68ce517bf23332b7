//! The container child's set-up steps behind a trait, so that `child` decides their order and
//! which of them a spec calls for, and tests check both against a recording fake
//! (`recording.rs`) without root or a container; the real steps here are this folder's modules.

use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use oci_spec::runtime::{Hook, Spec};
use rustix::fs::{Mode, OFlags};

use super::cgroup_mounts::CgroupSource;
use super::idmap::Idmapped;
use super::placement::Placement;
use super::stdio::Streams;
use crate::error::{Error, Result, SysContext};
use crate::launch::Rootfs;
use crate::namespaces::JoinedNamespaces;
use crate::program::sealed::SealedExe;
use crate::sync::{Channel, Message};

/// The steps of the child's set-up, each named for what it makes.
pub(crate) trait SetUp {
    /// Becomes root of the user namespace it was born in, a new one once kist has written
    /// its maps (`wait_for_maps`).
    fn enter_user_namespace(&self, channel: &Channel, wait_for_maps: bool) -> Result<()>;
    /// Enters the namespaces the spec joins by path (but the PID one, which the parent did).
    fn join_namespaces(&self, joined: &JoinedNamespaces) -> Result<()>;
    /// Waits for kist to place the process in its cgroup, then makes the cgroup namespace.
    /// Once the process is in its cgroup, which becomes the namespace's root.
    fn enter_cgroup_namespace(&self, placement: &Placement<'_>) -> Result<()>;
    fn make_namespace_private(&self, spec: &Spec) -> Result<()>;
    /// Mounts the root; returns where it is.
    fn mount_root(&self, rootfs: &Rootfs) -> Result<PathBuf>;
    /// A handle on the root, to resolve every path of the set-up inside it.
    fn open_root(&self, path: &Path) -> Result<OwnedFd>;
    fn mount_spec_mounts(
        &self,
        spec: &Spec,
        root: &OwnedFd,
        cgroups: &CgroupSource<'_>,
        idmapped: &Idmapped,
    ) -> Result<()>;
    fn populate_dev(&self, spec: &Spec, root: &OwnedFd) -> Result<()>;
    /// The container's terminal, bound onto /dev/console, its master sent to kist; returns the
    /// peer.
    fn open_console(&self, root: &OwnedFd, channel: &Channel) -> Result<OwnedFd>;
    fn write_sysctls(&self, root: &OwnedFd, sysctl: Option<&HashMap<String, String>>)
    -> Result<()>;
    /// The read-only paths, then the masked ones.
    fn protect_paths(&self, root: &OwnedFd, readonly: &[String], masked: &[String]) -> Result<()>;
    /// kist's sealed binary, for `--init`: opened while the host's paths are reachable.
    fn open_sealed_exe(&self) -> Result<SealedExe>;
    /// Tells kist the mounts are made, waits for it to run its own hooks, then runs the
    /// `createContainer` hooks here, before the pivot; returns the state `startContainer`'s
    /// hooks are told.
    fn pause_for_hooks(&self, channel: &Channel, create_container: &[Hook]) -> Result<Vec<u8>>;
    fn pivot_root(&self, new_root: &Path) -> Result<()>;
    fn make_root_read_only(&self) -> Result<()>;
    /// Without a mount namespace of the container's: chroot instead of pivot_root.
    fn chroot(&self, new_root: &Path) -> Result<()>;
    /// Without a mount namespace of the container's, after a failed set-up: the root and its
    /// mounts detached from the runtime's namespace.
    fn detach_shared_root(&self, path: &Path);
    /// A shared or unbindable root (`rootfsPropagation`), once pivoted into.
    fn set_root_propagation(&self, spec: &Spec) -> Result<()>;
    fn set_hostname(&self, name: &str) -> Result<()>;
    fn bring_up_loopback(&self) -> Result<()>;
    fn connect_streams(&self, streams: Streams<'_>) -> Result<()>;
}

/// The real steps, in the calling process's namespaces.
pub(crate) struct Kernel;

impl SetUp for Kernel {
    fn enter_user_namespace(&self, channel: &Channel, wait_for_maps: bool) -> Result<()> {
        if wait_for_maps {
            channel.await_or_exit(Message::Mapped)?;
        }
        crate::namespaces::become_namespace_root()
    }

    fn join_namespaces(&self, joined: &JoinedNamespaces) -> Result<()> {
        joined.enter()
    }

    fn enter_cgroup_namespace(&self, placement: &Placement<'_>) -> Result<()> {
        placement.ensure()?;
        // SAFETY: a cgroup namespace changes nothing this single-threaded child relies on.
        unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWCGROUP) }
            .sys(|| "making the cgroup namespace".into())
    }

    fn make_namespace_private(&self, spec: &Spec) -> Result<()> {
        super::rootfs::make_namespace_private(spec)
    }

    fn mount_root(&self, rootfs: &Rootfs) -> Result<PathBuf> {
        super::rootfs::mount_rootfs(rootfs)
    }

    fn open_root(&self, path: &Path) -> Result<OwnedFd> {
        rustix::fs::open(
            path,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .sys(|| format!("opening the container's root {}", path.display()))
    }

    fn mount_spec_mounts(
        &self,
        spec: &Spec,
        root: &OwnedFd,
        cgroups: &CgroupSource<'_>,
        idmapped: &Idmapped,
    ) -> Result<()> {
        super::mounts::mount_all(spec, root, cgroups, idmapped)
    }

    fn populate_dev(&self, spec: &Spec, root: &OwnedFd) -> Result<()> {
        super::devices::populate_dev(spec, root)
    }

    fn open_console(&self, root: &OwnedFd, channel: &Channel) -> Result<OwnedFd> {
        use std::os::fd::AsRawFd;
        let (master, slave) = super::console::open_pty(root)?;
        super::console::mount_console(root, &slave)?;
        channel.send_with_fd(&Message::Console, Some(master.as_raw_fd()))?;
        Ok(slave)
    }

    fn write_sysctls(
        &self,
        root: &OwnedFd,
        sysctl: Option<&HashMap<String, String>>,
    ) -> Result<()> {
        super::sysctl::apply(root, sysctl)
    }

    fn protect_paths(&self, root: &OwnedFd, readonly: &[String], masked: &[String]) -> Result<()> {
        super::masks::Masks::prepare()?.apply(root, readonly, masked)
    }

    fn open_sealed_exe(&self) -> Result<SealedExe> {
        SealedExe::open()
    }

    fn pause_for_hooks(&self, channel: &Channel, create_container: &[Hook]) -> Result<Vec<u8>> {
        channel.send(&Message::Mounted)?;
        let Some((
            Message::Resume {
                create_state,
                start_state,
            },
            _,
        )) = channel.recv()?
        else {
            // kist failed (its hooks) or went away: nothing left to set up for.
            // SAFETY: leaving the forked child without the parent's destructors or atexit
            // handlers, as a forked child must.
            unsafe { libc::_exit(125) }
        };
        crate::hooks::run_all("createContainer", create_container, &create_state)?;
        Ok(start_state)
    }

    fn pivot_root(&self, new_root: &Path) -> Result<()> {
        super::pivot::pivot_into(new_root)
    }

    fn make_root_read_only(&self) -> Result<()> {
        super::rootfs::make_root_read_only()
    }

    fn set_root_propagation(&self, spec: &Spec) -> Result<()> {
        super::rootfs::set_late_propagation(spec)
    }

    fn chroot(&self, new_root: &Path) -> Result<()> {
        super::pivot::chroot_into(new_root)
    }

    fn detach_shared_root(&self, path: &Path) {
        super::pivot::detach_shared_root(path);
    }

    fn set_hostname(&self, name: &str) -> Result<()> {
        nix::unistd::sethostname(name).map_err(|e| Error::sys("setting the hostname", e.into()))
    }

    fn bring_up_loopback(&self) -> Result<()> {
        super::loopback::bring_up_loopback()
    }

    fn connect_streams(&self, streams: Streams<'_>) -> Result<()> {
        streams.connect()
    }
}
