//! The calls that turn a container process into its program, behind a trait, so that their
//! order (which is what confines the program) is tested without root against a recording fake
//! (`recording.rs`), while the process itself uses the real ones here.
//!
//! Each method is one step whose place in the order matters, not one syscall: the bounding set
//! is one step of many prctl calls. Errors carry the context the steps always had.

use std::ffi::CString;
use std::path::Path;

use oci_spec::runtime::Process;

use super::capabilities::Capabilities;
use super::exec::Program;
use super::rlimits::Rlimit;
use super::sealed::SealedExe;
use crate::error::{Error, Result, SysContext, cvt};
use crate::seccomp::Filter;
use crate::sync::Channel;

/// What the process finally executes.
pub(crate) enum Exec<'a> {
    /// The program, found on the container's PATH.
    Program(Program),
    /// `kist-init` from kist's sealed binary, with its argv and the program's environment.
    Init(&'a SealedExe, (Vec<CString>, Vec<CString>)),
}

/// The steps of `become_program`, in the words of the kernel calls they make.
pub(crate) trait Syscalls {
    /// Creates the working directory when it does not exist.
    fn make_dir_all(&self, dir: &Path) -> Result<()>;
    fn set_rlimit(&self, rlimit: &Rlimit) -> Result<()>;
    fn set_oom_score_adj(&self, adj: i32) -> Result<()>;
    /// seccomp(SECCOMP_SET_MODE_FILTER); must not allocate (it may be the last call before exec).
    fn install_seccomp(&self, filter: &Filter) -> Result<()>;
    /// Drops from the bounding set all that `caps` does not keep.
    fn limit_bounding(&self, caps: &Capabilities) -> Result<()>;
    /// PR_SET_KEEPCAPS: whether the permitted set survives a change from root to another user.
    fn set_keepcaps(&self, keep: bool) -> Result<()>;
    fn set_groups(&self, gids: &[libc::gid_t]) -> Result<()>;
    fn set_gid(&self, gid: libc::gid_t) -> Result<()>;
    fn set_uid(&self, uid: libc::uid_t) -> Result<()>;
    /// The inheritable, effective, permitted and ambient sets.
    fn set_capabilities(&self, caps: &Capabilities) -> Result<()>;
    fn set_no_new_privs(&self) -> Result<()>;
    fn chdir(&self, dir: &Path) -> Result<()>;
    fn set_umask(&self, mask: libc::mode_t);
    /// Looks the program up on the container's PATH, as the container's user.
    fn find_program(&self, process: &Process) -> Result<Program>;
    /// Marks every descriptor above stderr close-on-exec, so none of kist's reaches the program.
    fn close_on_exec_above_stderr(&self);
    /// Puts the set-up channel at init's descriptor 3, open across the exec.
    fn pass_channel_to_init(&self, channel: &Channel) -> Result<()>;
    /// Replaces the process; returns only on failure.
    fn exec(&self, exec: &Exec<'_>) -> Error;
}

/// How many descriptors above stderr (3, 4, ...) the caller's containers keep open across
/// their exec: runc's `--preserve-fds`, set through [`crate::preserve_fds`]. The engine
/// leaves it at 0.
pub(crate) static PRESERVED_FDS: std::sync::atomic::AtomicU32 =
    std::sync::atomic::AtomicU32::new(0);

/// The real calls, on the calling process.
pub(crate) struct Linux;

impl Syscalls for Linux {
    fn make_dir_all(&self, dir: &Path) -> Result<()> {
        if std::fs::metadata(dir).is_ok() {
            return Ok(());
        }
        // 0755 as runc makes it: the process's umask here is 0, and create_dir_all's 0777
        // left world-writable directories in the images that RUN steps committed.
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(dir)
            .sys(|| format!("creating the working directory {}", dir.display()))
    }

    fn set_rlimit(&self, rlimit: &Rlimit) -> Result<()> {
        let limit = libc::rlimit {
            rlim_cur: rlimit.soft,
            rlim_max: rlimit.hard,
        };
        // SAFETY: setrlimit with a struct that lives across the call.
        cvt(unsafe { libc::setrlimit(rlimit.resource, &limit) })
            .map(drop)
            .sys(|| format!("setting {}", rlimit.name))
    }

    fn set_oom_score_adj(&self, adj: i32) -> Result<()> {
        std::fs::write("/proc/self/oom_score_adj", adj.to_string())
            .sys(|| format!("setting oom_score_adj to {adj}"))
    }

    fn install_seccomp(&self, filter: &Filter) -> Result<()> {
        filter
            .install()
            .sys(|| "installing the seccomp filter".into())
    }

    fn limit_bounding(&self, caps: &Capabilities) -> Result<()> {
        caps.limit_bounding()
    }

    fn set_keepcaps(&self, keep: bool) -> Result<()> {
        super::capabilities::keep_across_user_change(keep)
    }

    fn set_groups(&self, gids: &[libc::gid_t]) -> Result<()> {
        // SAFETY: setgroups reads `gids.len()` ids from a live slice.
        cvt(unsafe { libc::setgroups(gids.len(), gids.as_ptr()) })
            .map(drop)
            .sys(|| "setting supplementary groups".into())
    }

    fn set_gid(&self, gid: libc::gid_t) -> Result<()> {
        // SAFETY: setresgid with integer arguments.
        cvt(unsafe { libc::setresgid(gid, gid, gid) })
            .map(drop)
            .sys(|| format!("setting gid {gid}"))
    }

    fn set_uid(&self, uid: libc::uid_t) -> Result<()> {
        // SAFETY: setresuid with integer arguments.
        cvt(unsafe { libc::setresuid(uid, uid, uid) })
            .map(drop)
            .sys(|| format!("setting uid {uid}"))
    }

    fn set_capabilities(&self, caps: &Capabilities) -> Result<()> {
        caps.apply()
    }

    fn set_no_new_privs(&self) -> Result<()> {
        // SAFETY: prctl with integer arguments.
        cvt(unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) })
            .map(drop)
            .sys(|| "setting no_new_privs".into())
    }

    fn chdir(&self, dir: &Path) -> Result<()> {
        std::env::set_current_dir(dir).map_err(|e| Error::Container {
            code: 125,
            message: format!("entering the working directory {}: {e}", dir.display()),
        })
    }

    fn set_umask(&self, mask: libc::mode_t) {
        // SAFETY: umask cannot fail.
        unsafe { libc::umask(mask) };
    }

    fn find_program(&self, process: &Process) -> Result<Program> {
        super::exec::resolve(process)
    }

    fn close_on_exec_above_stderr(&self) {
        let first = 3u32.saturating_add(PRESERVED_FDS.load(std::sync::atomic::Ordering::Relaxed));
        // SAFETY: close_range with CLOSE_RANGE_CLOEXEC only changes descriptor flags.
        unsafe {
            libc::syscall(
                libc::SYS_close_range,
                first,
                u32::MAX,
                libc::CLOSE_RANGE_CLOEXEC,
            );
        }
    }

    fn pass_channel_to_init(&self, channel: &Channel) -> Result<()> {
        let fd = channel.raw_fd();
        let target = super::init::CHANNEL_FD;
        // SAFETY: descriptor-table syscalls on descriptors this process owns; dup2 onto another
        // number clears close-on-exec, and fcntl clears it when the channel already is there.
        let r = unsafe {
            if fd == target {
                libc::fcntl(fd, libc::F_SETFD, 0)
            } else {
                libc::dup2(fd, target)
            }
        };
        cvt(r)
            .map(drop)
            .sys(|| "passing the set-up channel to init".into())
    }

    fn exec(&self, exec: &Exec<'_>) -> Error {
        match exec {
            Exec::Program(program) => super::exec::exec(program),
            Exec::Init(sealed, (argv, envp)) => sealed.exec(argv, envp),
        }
    }
}
