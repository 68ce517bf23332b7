//! Idmapped bind mounts: a spec mount's `uidMappings` and `gidMappings` (runtime spec 1.1,
//! `mount_setattr(MOUNT_ATTR_IDMAP)`), so that a directory owned by the host's ids appears
//! owned by the container's without a chown.
//!
//! The kernel sets a mount's idmap only for a process privileged over the source's
//! filesystem, which the container's process, in a user namespace of its own, is not: kist
//! makes each idmapped tree before the clone, in the host's namespaces (a detached clone of
//! the source, `open_tree(OPEN_TREE_CLONE)`, given the mapping of a user namespace made for
//! it), and the child, which inherits the descriptors, attaches each at its destination.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use oci_spec::runtime::{LinuxIdMapping, Mount, Spec};
use rustix::mount::{MoveMountFlags, OpenTreeFlags};

use super::mount_options::MountOptions;
use crate::error::{Error, Result, SysContext, cvt_long};
use crate::sys::clone::{Forked, fork_into_namespaces};

/// The spec's idmapped mounts, made ready to attach: (index in `mounts`, detached tree).
#[derive(Default)]
pub(crate) struct Idmapped {
    trees: Vec<(usize, OwnedFd)>,
}

impl Idmapped {
    /// For every spec mount with id maps: its source's tree, idmapped. Only bind mounts can
    /// be (a new filesystem has no source tree to map).
    pub(crate) fn prepare(spec: &Spec) -> Result<Idmapped> {
        let mut trees = Vec::new();
        for (index, m) in spec.mounts().iter().flatten().enumerate() {
            let (Some(uids), Some(gids)) = (wanted(m.uid_mappings()), wanted(m.gid_mappings()))
            else {
                if wanted(m.uid_mappings()).is_some() || wanted(m.gid_mappings()).is_some() {
                    return Err(spec_error(m, "needs both uidMappings and gidMappings"));
                }
                continue;
            };
            trees.push((index, idmapped_tree(m, uids, gids)?));
        }
        Ok(Idmapped { trees })
    }

    /// The idmapped tree for spec mount `index`, if it has one.
    pub(crate) fn tree(&self, index: usize) -> Option<&OwnedFd> {
        self.trees
            .iter()
            .find(|(i, _)| *i == index)
            .map(|(_, fd)| fd)
    }
}

fn wanted(maps: &Option<Vec<LinuxIdMapping>>) -> Option<&[LinuxIdMapping]> {
    maps.as_deref().filter(|m| !m.is_empty())
}

fn spec_error(m: &Mount, what: &str) -> Error {
    Error::Spec(format!("the mount at {} {what}", m.destination().display()))
}

/// Attaches a tree made by [`Idmapped::prepare`] onto `target` (a handle on the mount point).
pub(crate) fn attach(tree: &OwnedFd, target: &OwnedFd) -> Result<()> {
    rustix::mount::move_mount(
        tree.as_fd(),
        "",
        target.as_fd(),
        "",
        MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH | MoveMountFlags::MOVE_MOUNT_T_EMPTY_PATH,
    )
    .sys(|| "attaching the idmapped mount".into())
}

/// `mount_setattr`'s argument (the kernel's `struct mount_attr`).
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

const MOUNT_ATTR_IDMAP: u64 = 0x0010_0000;

/// A detached clone of the mount's source (with what is mounted below it for `rbind`),
/// idmapped by `uids`/`gids` (recursively for `ridmap`, or `rbind` without `idmap`).
fn idmapped_tree(m: &Mount, uids: &[LinuxIdMapping], gids: &[LinuxIdMapping]) -> Result<OwnedFd> {
    let options = m.options().as_deref().unwrap_or_default();
    let opts = MountOptions::parse(options, m.typ().as_deref());
    if !opts.bind {
        return Err(spec_error(
            m,
            "has id maps, which only bind mounts can have",
        ));
    }
    let source = m
        .source()
        .as_deref()
        .ok_or_else(|| spec_error(m, "has no source"))?;
    let has = |o: &str| options.iter().any(|x| x == o);
    let recursive = has("ridmap") || (opts.recursive && !has("idmap"));
    let mut flags = OpenTreeFlags::OPEN_TREE_CLONE | OpenTreeFlags::OPEN_TREE_CLOEXEC;
    if opts.recursive {
        flags |= OpenTreeFlags::AT_RECURSIVE;
    }
    let tree = rustix::mount::open_tree(rustix::fs::CWD, source, flags)
        .sys(|| format!("cloning {} for an idmapped mount", source.display()))?;
    let userns = mapping_namespace(uids, gids)?;
    let attr = MountAttr {
        attr_set: MOUNT_ATTR_IDMAP,
        attr_clr: 0,
        propagation: 0,
        // Cannot lose a sign: an open descriptor is non-negative.
        #[allow(clippy::cast_sign_loss)]
        userns_fd: userns.as_raw_fd() as u64,
    };
    let mut at = libc::AT_EMPTY_PATH;
    if recursive {
        at |= libc::AT_RECURSIVE;
    }
    // SAFETY: mount_setattr on a tree descriptor we own, with an empty path and an attr
    // struct that lives across the call, its size given.
    let set = cvt_long(unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            tree.as_raw_fd(),
            c"".as_ptr(),
            at,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    });
    set.sys(|| format!("idmapping the mount of {}", source.display()))?;
    Ok(tree)
}

/// A user namespace with these maps, for `MOUNT_ATTR_IDMAP`: made by a helper process that
/// waits (on a pipe kist holds) while its maps are written and its namespace opened.
fn mapping_namespace(uids: &[LinuxIdMapping], gids: &[LinuxIdMapping]) -> Result<OwnedFd> {
    let (hold, release) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(|e| Error::sys("making a pipe for the idmap helper", e.into()))?;
    match fork_into_namespaces(u64::try_from(libc::CLONE_NEWUSER).unwrap_or(0), None)? {
        Forked::Child => {
            drop(release);
            let mut byte = [0u8; 1];
            // Returns (0 bytes) once kist has closed its end, or died.
            let _ = nix::unistd::read(&hold, &mut byte);
            // SAFETY: leaving the forked helper without the parent's destructors.
            unsafe { libc::_exit(0) }
        }
        Forked::Parent { pid, pidfd } => {
            drop(hold);
            let opened = write_maps(pid, uids, gids).and_then(|()| {
                let path = format!("/proc/{pid}/ns/user");
                rustix::fs::open(
                    path.as_str(),
                    rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC,
                    rustix::fs::Mode::empty(),
                )
                .sys(|| format!("opening {path}"))
            });
            drop(release);
            drop(pidfd);
            let mut status = 0;
            // SAFETY: waits for the helper this function forked, with a valid status pointer.
            while unsafe { libc::waitpid(pid, &mut status, 0) } < 0
                && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR)
            {}
            opened
        }
    }
}

fn write_maps(pid: i32, uids: &[LinuxIdMapping], gids: &[LinuxIdMapping]) -> Result<()> {
    for (file, maps) in [("uid_map", uids), ("gid_map", gids)] {
        let path = format!("/proc/{pid}/{file}");
        std::fs::write(&path, crate::namespaces::id_map_text(maps))
            .sys(|| format!("writing {path}"))?;
    }
    Ok(())
}
