//! `/sys/fs/cgroup` inside a container: the host's hierarchies mounted afresh in the
//! container's own cgroup namespace, or, in the host's, the container's own cgroup directories
//! bound read-only where each hierarchy is (runc's way).

use std::os::fd::OwnedFd;
use std::path::Path;

use crate::error::{Result, SysContext};
use crate::paths::{fd_path, mkdir_all_in_root, open_in_root};
use crate::sys::mount::mount;

/// Where a `cgroup` mount in the host's cgroup namespace gets the container's directories.
pub struct CgroupSource<'a> {
    pub cgroup: Option<&'a crate::Cgroup>,
    /// Done once the directories exist and the process is in them.
    pub placement: &'a super::placement::Placement<'a>,
}

/// `/sys/fs/cgroup` for a container in its own cgroup namespace: each of the host's cgroup
/// hierarchies mounted afresh, so that each shows the container's cgroup as its root. On a v1
/// or hybrid host they go on a tmpfs, as the host has them; on a v2 host cgroup2 is the mount.
pub(crate) fn mount_cgroups(root: &OwnedFd, dest: &Path, flags: libc::c_ulong) -> Result<()> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo")
        .sys(|| "reading /proc/self/mountinfo".into())?;
    let hierarchies = crate::cgroups::cgroup_mounts(&mountinfo);
    let host_root = Path::new("/sys/fs/cgroup");
    let target = mkdir_all_in_root(root, dest).sys(|| "creating the mount point".into())?;
    if let [only] = hierarchies.as_slice()
        && only.v2
        && only.mount == host_root
    {
        return mount(
            Some(Path::new("cgroup2")),
            &fd_path(&target),
            Some("cgroup2"),
            flags,
            None,
        )
        .sys(|| "mounting cgroup2".into());
    }
    let tree_flags = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
    mount(
        Some(Path::new("tmpfs")),
        &fd_path(&target),
        Some("tmpfs"),
        tree_flags,
        Some("mode=755"),
    )
    .sys(|| "mounting the tmpfs for the cgroup hierarchies".into())?;
    for h in &hierarchies {
        let Ok(name) = h.mount.strip_prefix(host_root) else {
            continue;
        };
        if name.as_os_str().is_empty() {
            continue;
        }
        let sub = dest.join(name);
        let dir = mkdir_all_in_root(root, &sub).sys(|| format!("creating {}", sub.display()))?;
        let (fstype, data) = if h.v2 {
            ("cgroup2", String::new())
        } else {
            let mut options = h.controllers.clone();
            if let Some(n) = &h.name {
                options.push("none".into());
                options.push(format!("name={n}"));
            }
            ("cgroup", options.join(","))
        };
        mount(
            Some(Path::new("cgroup")),
            &fd_path(&dir),
            Some(fstype),
            flags,
            Some(&data),
        )
        .sys(|| format!("mounting the {} hierarchy", name.display()))?;
    }
    if flags & libc::MS_RDONLY != 0 {
        let mounted = open_in_root(root, dest).sys(|| "reopening the mount point".into())?;
        mount(
            None,
            &fd_path(&mounted),
            None,
            libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY | tree_flags,
            None,
        )
        .sys(|| "making the cgroup tmpfs read-only".into())?;
    }
    Ok(())
}

/// `/sys/fs/cgroup` in the host's cgroup namespace: the container's own cgroup directories,
/// read-only, each where its hierarchy is on the host (on a tmpfs; a v2 host's one directory
/// is the mount itself). Hierarchies kist does not use are left out.
pub(crate) fn bind_own_cgroups(
    root: &OwnedFd,
    dest: &Path,
    flags: libc::c_ulong,
    source: &CgroupSource<'_>,
) -> Result<()> {
    let Some(cgroup) = source.cgroup else {
        return Ok(());
    };
    // Once kist has made them (if it failed or went away, there is nothing to set up).
    source.placement.ensure()?;
    let host_root = Path::new("/sys/fs/cgroup");
    let target = mkdir_all_in_root(root, dest).sys(|| "creating the mount point".into())?;
    let read_only = |path: &Path| -> Result<()> {
        let mounted = open_in_root(root, path).sys(|| "reopening the mount point".into())?;
        mount(
            None,
            &fd_path(&mounted),
            None,
            libc::MS_BIND
                | libc::MS_REMOUNT
                | libc::MS_NOSUID
                | libc::MS_NODEV
                | libc::MS_NOEXEC
                | (flags & libc::MS_RDONLY),
            None,
        )
        .sys(|| format!("making {} read-only", path.display()))
    };
    let mut on_tmpfs = false;
    for (mount_point, dir) in cgroup.mounts_and_dirs() {
        if !dir.is_dir() {
            continue; // cpuset, made only when asked for
        }
        let Ok(name) = mount_point.strip_prefix(host_root) else {
            continue;
        };
        let at = if name.as_os_str().is_empty() {
            dest.to_path_buf()
        } else {
            if !on_tmpfs {
                mount(
                    Some(Path::new("tmpfs")),
                    &fd_path(&target),
                    Some("tmpfs"),
                    libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                    Some("mode=755"),
                )
                .sys(|| "mounting the tmpfs for the cgroup hierarchies".into())?;
                on_tmpfs = true;
            }
            dest.join(name)
        };
        let point = mkdir_all_in_root(root, &at).sys(|| format!("creating {}", at.display()))?;
        mount(Some(dir), &fd_path(&point), None, libc::MS_BIND, None)
            .sys(|| format!("binding the cgroup {}", dir.display()))?;
        read_only(&at)?;
    }
    if on_tmpfs {
        read_only(dest)?;
    }
    Ok(())
}
