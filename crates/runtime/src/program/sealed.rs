//! A sealed view of kist's own binary, for every kist process that runs inside a container
//! (`--init`'s PID 1, the `exec` child while it sets itself up): a container process that can
//! open `/proc/PID/exe` of such a process must not get a writable host file (CVE-2019-5736).
//!
//! The view is the binary's directory as the lower layer of an overlay that has no upper layer
//! and is never attached to any mount namespace (`fsmount` without `move_mount`). An overlay
//! without an upper layer cannot be written at all, whatever the mount flags, and a detached
//! mount cannot be remounted: even a privileged container gets EROFS. The binary's pages come
//! from the host file's page cache, so nothing is copied (runc copied its 10 MB binary into a
//! memfd at every start, which broke containers with small memory limits, runc#1980). Where
//! the overlay cannot be made, a sealed memfd copy is the fallback.

use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{MemfdFlags, Mode, OFlags, SealFlags};
use rustix::mount::{FsMountFlags, FsOpenFlags, MountAttrFlags};

use crate::error::{Error, Result, SysContext};

/// Set in the environment of a kist that re-executed itself from its sealed view, so that it
/// does not do it again.
const SEALED_ENV: &str = "_KIST_SEALED_EXE";

/// The argv[0] under which kist's sealed binary runs as a container's init.
pub const INIT_NAME: &str = "kist-init";

/// An `O_PATH` descriptor of kist's binary that nothing can write through.
pub struct SealedExe {
    fd: OwnedFd,
}

impl SealedExe {
    /// Opens the sealed view of the running binary.
    pub fn open() -> Result<SealedExe> {
        let exe = std::fs::read_link("/proc/self/exe")
            .sys(|| "finding kist's own binary (/proc/self/exe)".into())?;
        match overlay_view(&exe) {
            Ok(fd) => Ok(SealedExe { fd }),
            Err(_) => memfd_copy().map(|fd| SealedExe { fd }),
        }
    }

    /// Any descriptor standing in for the sealed binary, for tests that never exec it.
    #[cfg(test)]
    pub(crate) fn for_test(fd: OwnedFd) -> SealedExe {
        SealedExe { fd }
    }

    /// Replaces this process with the sealed binary. Returns only on failure.
    pub fn exec(&self, argv: &[CString], envp: &[CString]) -> Error {
        let argv = null_terminated(argv);
        let envp = null_terminated(envp);
        let empty = c"";
        // SAFETY: NUL-terminated arrays of valid strings; AT_EMPTY_PATH executes the fd itself.
        unsafe {
            libc::syscall(
                libc::SYS_execveat,
                self.fd.as_raw_fd(),
                empty.as_ptr(),
                argv.as_ptr(),
                envp.as_ptr(),
                libc::AT_EMPTY_PATH,
            )
        };
        Error::sys(
            "executing kist's sealed binary",
            std::io::Error::last_os_error(),
        )
    }
}

fn null_terminated(strings: &[CString]) -> Vec<*const libc::c_char> {
    strings
        .iter()
        .map(|s| s.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect()
}

/// The binary through a detached read-only overlay of its directory (and an empty detached
/// tmpfs: an overlay without an upper layer needs two lower ones, which must not overlap).
fn overlay_view(exe: &Path) -> Result<OwnedFd> {
    let (dir, name) = match (exe.parent(), exe.file_name()) {
        (Some(d), Some(n)) if exe.is_absolute() => (d, n),
        _ => return Err(Error::Spec(format!("odd binary path {}", exe.display()))),
    };
    let fail = |what: &str| {
        let what = what.to_string();
        move |e: rustix::io::Errno| Error::sys(what, e.into())
    };
    let empty = rustix::mount::fsopen("tmpfs", FsOpenFlags::FSOPEN_CLOEXEC)
        .map_err(fail("opening a tmpfs context"))?;
    rustix::mount::fsconfig_create(&empty).map_err(fail("creating a tmpfs"))?;
    let empty = rustix::mount::fsmount(
        &empty,
        FsMountFlags::FSMOUNT_CLOEXEC,
        MountAttrFlags::MOUNT_ATTR_RDONLY,
    )
    .map_err(fail("mounting a tmpfs"))?;
    let fs = rustix::mount::fsopen("overlay", FsOpenFlags::FSOPEN_CLOEXEC)
        .map_err(fail("opening an overlay context"))?;
    rustix::mount::fsconfig_set_string(&fs, "lowerdir+", dir)
        .map_err(fail("adding the binary's directory"))?;
    rustix::mount::fsconfig_set_fd(&fs, "lowerdir+", &empty)
        .map_err(fail("adding an empty layer"))?;
    rustix::mount::fsconfig_create(&fs).map_err(fail("creating the overlay"))?;
    let mnt = rustix::mount::fsmount(
        &fs,
        FsMountFlags::FSMOUNT_CLOEXEC,
        MountAttrFlags::MOUNT_ATTR_RDONLY | MountAttrFlags::MOUNT_ATTR_NODEV,
    )
    .map_err(fail("mounting the overlay"))?;
    let fd = rustix::fs::openat(
        &mnt,
        name,
        OFlags::PATH | OFlags::CLOEXEC | OFlags::NOFOLLOW,
        Mode::empty(),
    )
    .map_err(fail("opening the binary in the overlay"))?;
    same_file_as_running(&fd)?;
    Ok(fd)
}

/// The file at the binary's path may have been replaced since this process started (an
/// upgrade): then the running binary is what must run, and only a copy has it.
fn same_file_as_running(fd: &OwnedFd) -> Result<()> {
    let running = rustix::fs::stat("/proc/self/exe").sys(|| "reading /proc/self/exe".into())?;
    let view = rustix::fs::fstat(fd).sys(|| "reading the sealed binary".into())?;
    let same = running.st_size == view.st_size
        && running.st_mtime == view.st_mtime
        && running.st_mtime_nsec == view.st_mtime_nsec
        && running.st_ctime == view.st_ctime
        && running.st_ctime_nsec == view.st_ctime_nsec;
    if same {
        Ok(())
    } else {
        Err(Error::Spec("the binary on disk changed".into()))
    }
}

/// A copy of the running binary in a memfd sealed against any change.
fn memfd_copy() -> Result<OwnedFd> {
    let source = rustix::fs::open(
        "/proc/self/exe",
        OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .sys(|| "opening kist's own binary".into())?;
    let size = rustix::fs::fstat(&source)
        .sys(|| "reading kist's own binary".into())?
        .st_size;
    let size = usize::try_from(size).map_err(|_| {
        let e = std::io::Error::new(std::io::ErrorKind::InvalidData, format!("size {size}"));
        Error::sys("reading kist's own binary", e)
    })?;
    let memfd = rustix::fs::memfd_create("kist", MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING)
        .sys(|| "creating a memfd for kist's binary".into())?;
    let mut copied = 0;
    while copied < size {
        match rustix::fs::sendfile(&memfd, &source, None, size - copied) {
            Ok(0) => break,
            Ok(n) => copied += n,
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e).sys(|| "copying kist's binary into a memfd".into()),
        }
    }
    rustix::fs::fcntl_add_seals(
        &memfd,
        SealFlags::SEAL | SealFlags::SHRINK | SealFlags::GROW | SealFlags::WRITE,
    )
    .sys(|| "sealing the memfd copy of kist's binary".into())?;
    Ok(memfd)
}

/// Whether this process runs from the sealed view (it re-executed itself into it).
pub fn running_sealed() -> bool {
    std::env::var_os(SEALED_ENV).is_some()
}

/// Makes sure that this process runs from the sealed view of its binary, re-executing itself
/// (same arguments, same descriptors) if it does not: call it first thing in a command that
/// forks into a running container's namespaces (`exec`). Returns only when already sealed.
pub fn reexec_sealed() -> Result<()> {
    if running_sealed() {
        return Ok(());
    }
    let sealed = SealedExe::open()?;
    let argv: Vec<CString> = std::env::args_os()
        .map(|a| CString::new(a.as_bytes()))
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| Error::Spec("an argument holds a NUL byte".into()))?;
    let mut envp: Vec<CString> = std::env::vars_os()
        .filter_map(|(k, v)| {
            let mut kv = k.as_bytes().to_vec();
            kv.push(b'=');
            kv.extend_from_slice(v.as_bytes());
            CString::new(kv).ok()
        })
        .collect();
    envp.push(CString::new(format!("{SEALED_ENV}=1")).map_err(|_| Error::Spec("env".into()))?);
    Err(sealed.exec(&argv, &envp))
}

/// Whether a process joining a container with `process`'s capabilities must run from the
/// sealed view. The joining child is non-dumpable until its exec, so its `/proc/PID/exe` is
/// closed to every container process without CAP_SYS_PTRACE; a container whose bounding set
/// has it (`--cap-add SYS_PTRACE`, `--privileged`, or a spec that leaves capabilities alone)
/// could open it, and gets the sealed view. Sealing costs a re-exec of kist (about 1.3 ms).
pub fn needs_sealed_exe(process: &oci_spec::runtime::Process) -> bool {
    let Some(caps) = process.capabilities() else {
        return true;
    };
    caps.bounding()
        .as_ref()
        .is_none_or(|b| b.contains(&oci_spec::runtime::Capability::SysPtrace))
}

/// Whether this process was started as a container's init (see [`INIT_NAME`]).
pub fn is_init_invocation() -> bool {
    std::env::args_os()
        .next()
        .is_some_and(|a| Path::new(&a).file_name() == Some(std::ffi::OsStr::new(INIT_NAME)))
}

/// Where the running binary is on the host, for messages and tests.
pub fn own_path() -> Option<PathBuf> {
    std::fs::read_link("/proc/self/exe").ok()
}
