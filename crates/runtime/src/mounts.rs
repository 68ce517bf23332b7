//! The spec's mounts, made inside the container's root before `pivot_root`, and the pivot.

use std::ffi::CString;
use std::os::fd::OwnedFd;
use std::path::Path;

use oci_spec::runtime::{Mount, Spec};

use crate::error::{Error, Result, SysContext, cvt};
use crate::mount_options::MountOptions;
use crate::paths::{create_file_in_root, fd_path, mkdir_all_in_root, open_in_root};

/// Thin wrapper over mount(2) with paths.
pub fn mount(
    source: Option<&Path>,
    target: &Path,
    fstype: Option<&str>,
    flags: libc::c_ulong,
    data: Option<&str>,
) -> std::io::Result<()> {
    let cs = |s: &str| CString::new(s).map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL));
    let source = source.map(|p| cs(&p.to_string_lossy())).transpose()?;
    let target = cs(&target.to_string_lossy())?;
    let fstype = fstype.map(cs).transpose()?;
    let data = data.filter(|d| !d.is_empty()).map(cs).transpose()?;
    let ptr = |o: &Option<CString>| o.as_ref().map_or(std::ptr::null(), |c| c.as_ptr());
    // SAFETY: NUL-terminated strings (or null) that outlive the call.
    cvt(unsafe {
        libc::mount(
            ptr(&source),
            target.as_ptr(),
            ptr(&fstype),
            flags,
            ptr(&data).cast(),
        )
    })
    .map(drop)
}

/// `/sys/fs/cgroup` for a container in its own cgroup namespace: each of the host's cgroup
/// hierarchies mounted afresh, so that each shows the container's cgroup as its root. On a v1
/// or hybrid host they go on a tmpfs, as the host has them; on a v2 host cgroup2 is the mount.
fn mount_cgroups(root: &OwnedFd, dest: &Path, flags: libc::c_ulong) -> Result<()> {
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

/// Where a `cgroup` mount in the host's cgroup namespace gets the container's directories.
pub struct CgroupSource<'a> {
    pub cgroup: Option<&'a crate::Cgroup>,
    /// The parent says on it when the directories exist.
    pub channel: &'a crate::sync::Channel,
}

/// Whether the spec mounts cgroups in the host's cgroup namespace: the container's own
/// directories are bound there (what runc does on v1), once the parent has made them.
pub(crate) fn binds_host_cgroups(spec: &Spec) -> bool {
    !crate::launch::wants_cgroup_namespace(spec)
        && spec
            .mounts()
            .as_deref()
            .unwrap_or_default()
            .iter()
            .any(|m| m.typ().as_deref() == Some("cgroup"))
}

/// `/sys/fs/cgroup` in the host's cgroup namespace: the container's own cgroup directories,
/// read-only, each where its hierarchy is on the host (on a tmpfs; a v2 host's one directory
/// is the mount itself). Hierarchies kist does not use are left out.
fn bind_own_cgroups(
    root: &OwnedFd,
    dest: &Path,
    flags: libc::c_ulong,
    source: &CgroupSource<'_>,
) -> Result<()> {
    let Some(cgroup) = source.cgroup else {
        return Ok(());
    };
    match source.channel.recv()? {
        Some((crate::sync::Message::CgroupReady, _)) => {}
        // kist failed to make the cgroup, or went away: nothing to set up for.
        _ => unsafe { libc::_exit(125) },
    }
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

/// Makes every spec mount under `root` (the container's root, not yet pivoted into).
pub fn mount_all(spec: &Spec, root: &OwnedFd, cgroups: &CgroupSource<'_>) -> Result<()> {
    let private_cgroups = crate::launch::wants_cgroup_namespace(spec);
    for m in spec.mounts().as_deref().unwrap_or_default() {
        let made = if m.typ().as_deref() == Some("cgroup") {
            let flags =
                MountOptions::parse(m.options().as_deref().unwrap_or_default(), Some("cgroup"))
                    .flags;
            if private_cgroups {
                mount_cgroups(root, m.destination(), flags)
            } else {
                bind_own_cgroups(root, m.destination(), flags, cgroups)
            }
        } else {
            mount_one(m, root)
        };
        made.map_err(|e| match e {
            Error::Sys { context, source } => Error::sys(
                format!("mounting {}: {context}", m.destination().display()),
                source,
            ),
            other => other,
        })?;
    }
    Ok(())
}

fn mount_one(m: &Mount, root: &OwnedFd) -> Result<()> {
    let dest = m.destination();
    if !dest.is_absolute() {
        return Err(Error::Spec(format!(
            "mount destination {} is not absolute",
            dest.display()
        )));
    }
    let opts = MountOptions::parse(
        m.options().as_deref().unwrap_or_default(),
        m.typ().as_deref(),
    );
    let source = m.source().as_deref();
    if opts.bind {
        let source = source.ok_or_else(|| {
            Error::Spec(format!("bind mount at {} has no source", dest.display()))
        })?;
        if opts.copy_up {
            crate::copyup::seed_from_image(root, dest, source)?;
        }
        let target = if source.is_dir() {
            mkdir_all_in_root(root, dest)
        } else {
            create_file_in_root(root, dest)
        }
        .sys(|| "creating the mount point".into())?;
        let mut flags = libc::MS_BIND;
        if opts.recursive {
            flags |= libc::MS_REC;
        }
        mount(Some(source), &fd_path(&target), None, flags, None)
            .sys(|| format!("bind-mounting {}", source.display()))?;
        // Flags other than MS_BIND only take effect through a remount of the new mount, which
        // the handle opened before it was made does not reach: open the path again.
        if opts.flags != 0 {
            let mounted = open_in_root(root, dest).sys(|| "reopening the mount point".into())?;
            mount(
                None,
                &fd_path(&mounted),
                None,
                libc::MS_BIND | libc::MS_REMOUNT | opts.flags,
                None,
            )
            .sys(|| "applying the mount options".into())?;
        }
    } else {
        let fstype = m
            .typ()
            .as_deref()
            .ok_or_else(|| Error::Spec(format!("mount at {} has no type", dest.display())))?;
        let target = mkdir_all_in_root(root, dest).sys(|| "creating the mount point".into())?;
        let source = source.unwrap_or(Path::new(fstype));
        mount(
            Some(source),
            &fd_path(&target),
            Some(fstype),
            opts.flags,
            Some(&opts.data),
        )
        .sys(|| format!("mounting a {fstype} filesystem"))?;
    }
    if opts.propagation != 0 {
        let mounted = open_in_root(root, dest).sys(|| "reopening the mount point".into())?;
        mount(None, &fd_path(&mounted), None, opts.propagation, None)
            .sys(|| "setting propagation".into())?;
    }
    Ok(())
}

/// `pivot_root` into `new_root` and detach the old root, which shares the same directory until
/// it is detached (the runc trick: no directory for the old root is needed).
pub fn pivot_into(new_root: &Path) -> Result<()> {
    std::env::set_current_dir(new_root).sys(|| format!("entering {}", new_root.display()))?;
    let dot = CString::new(".").map_err(|_| Error::Spec("unreachable".into()))?;
    // SAFETY: valid strings; raw syscall as glibc has no wrapper.
    cvt(unsafe { libc::syscall(libc::SYS_pivot_root, dot.as_ptr(), dot.as_ptr()) as libc::c_int })
        .sys(|| "pivot_root".into())?;
    // The old root is stacked on the new one at "."; make sure its unmounting does not
    // propagate anywhere, then detach it.
    mount(
        None,
        Path::new("."),
        None,
        libc::MS_SLAVE | libc::MS_REC,
        None,
    )
    .sys(|| "isolating the old root".into())?;
    let c = CString::new(".").map_err(|_| Error::Spec("unreachable".into()))?;
    // SAFETY: valid string.
    cvt(unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) })
        .sys(|| "detaching the old root".into())?;
    std::env::set_current_dir("/").sys(|| "entering the new root".into())?;
    Ok(())
}
