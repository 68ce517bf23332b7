//! `kist export`: a container's whole filesystem (its image's layers under its write layer,
//! volumes excepted) as one tarball, the kind `import` reads.
//!
//! The layers are merged by the kernel: a read-only overlay of the write layer over the image's
//! layers (a write layer's whiteouts hide what they delete, as in any layer), mounted in a
//! mount namespace of a thread's own, so the host never sees it and it goes with the thread.
//! A running container is frozen meanwhile.

use std::io::Write;
use std::path::Path;

use kist_image::TreeKind;

use crate::Engine;
use crate::container::freeze::Freeze;
use crate::error::{Error, IoContext, Result};
use crate::state::container_dirs::ContainerDirs;
use crate::state::launch_config::LaunchConfig;
use crate::state::store::{ContainerRecord, ContainerState};

/// Writes `c`'s filesystem to `out` as a tar archive.
pub fn export<W: Write + Send>(engine: &Engine, c: &ContainerRecord, out: W) -> Result<W> {
    let dirs = ContainerDirs::of(&engine.layout, &c.id);
    let launch = LaunchConfig::load(&dirs.dir)?;
    // A running container's write layer must not change while the overlay below reads it
    // as a lower layer (overlayfs leaves that undefined): it is frozen meanwhile.
    let _frozen = if c.state == ContainerState::Running {
        Freeze::of(engine, c, "export:frozen")?
    } else {
        None
    };
    let mut layers = vec![dirs.upper.clone()];
    layers.extend(launch.lower.iter().cloned());
    let mountpoint = engine
        .layout
        .root
        .join("tmp")
        .join(format!("export-{}", c.id));
    std::fs::create_dir_all(&mountpoint).ctx("creating the export mount point", &mountpoint)?;
    let result = std::thread::scope(|s| {
        s.spawn(|| merged_tree(&layers, &mountpoint, out))
            .join()
            .unwrap_or_else(|_| {
                Err(Error::Panicked {
                    what: "export thread",
                })
            })
    });
    let _ = std::fs::remove_dir(&mountpoint);
    result
}

/// In the calling thread (which it gives a mount namespace of its own): mounts the merged
/// view of `layers` at `mountpoint` and archives it.
fn merged_tree<W: Write>(layers: &[std::path::PathBuf], mountpoint: &Path, out: W) -> Result<W> {
    // SAFETY: only this thread's filesystem context changes; it is the thread's alone
    // afterwards and ends with it.
    unsafe {
        rustix::thread::unshare_unsafe(
            rustix::thread::UnshareFlags::NEWNS | rustix::thread::UnshareFlags::FS,
        )
    }
    .map_err(|e| Error::sys("making a mount namespace for the export")(e.into()))?;
    rustix::mount::mount_change(
        "/",
        rustix::mount::MountPropagationFlags::PRIVATE | rustix::mount::MountPropagationFlags::REC,
    )
    .map_err(|e| Error::sys("making the export's mounts private")(e.into()))?;
    kist_runtime::mount_overlay_read_only(layers, mountpoint)?;
    Ok(kist_image::write_tree(mountpoint, TreeKind::Plain, out)?)
}
