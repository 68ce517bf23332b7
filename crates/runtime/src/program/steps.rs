//! The last steps of every container process, created or exec'd, from its set-up to its
//! program: the order here is what confines it (see `become_program`).

use std::convert::Infallible;
use std::ffi::CString;

use super::capabilities::Capabilities;
use super::sealed::SealedExe;
use crate::error::{Error, Result, SysContext, cvt};
use crate::sync::Channel;

/// The last steps of every container process, created or exec'd, in the order the runtime
/// spec and runc give them: working directory, rlimits; the seccomp filter while the process
/// still holds CAP_SYS_ADMIN (when no_new_privs is off, installing one needs it); the bounding
/// set; the user, keeping the permitted set across the switch; the other capability sets;
/// no_new_privs; the program looked up inside the container; no descriptor of kist's left open;
/// the filter last when no_new_privs is on; exec (under `kist-init` when given its sealed binary).
pub(crate) fn become_program(
    process: &oci_spec::runtime::Process,
    init: Option<&SealedExe>,
    channel: &Channel,
    seccomp: Option<&crate::seccomp::Filter>,
) -> Result<Infallible> {
    let cwd = process.cwd();
    if std::fs::metadata(cwd).is_err() {
        std::fs::create_dir_all(cwd)
            .sys(|| format!("creating the working directory {}", cwd.display()))?;
    }
    super::rlimits::set_rlimits(process)?;
    if let Some(adj) = process.oom_score_adj() {
        std::fs::write("/proc/self/oom_score_adj", adj.to_string())
            .sys(|| format!("setting oom_score_adj to {adj}"))?;
    }
    let no_new_privileges = process.no_new_privileges().unwrap_or(false);
    let capabilities = Capabilities::of(process)?;
    if let (Some(filter), false) = (seccomp, no_new_privileges) {
        install(filter)?;
    }
    if let Some(c) = &capabilities {
        c.limit_bounding()?;
        super::capabilities::keep_across_user_change(true)?;
    }
    set_user(process)?;
    if let Some(c) = &capabilities {
        super::capabilities::keep_across_user_change(false)?;
        c.apply()?;
    }
    if no_new_privileges {
        // SAFETY: prctl with integer arguments.
        cvt(unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) })
            .sys(|| "setting no_new_privs".into())?;
    }
    std::env::set_current_dir(cwd).map_err(|e| Error::Container {
        code: 125,
        message: format!("entering the working directory {}: {e}", cwd.display()),
    })?;
    // SAFETY: umask cannot fail.
    unsafe { libc::umask(process.user().umask().unwrap_or(0o022) as libc::mode_t) };
    let exec = match init {
        Some(sealed) => Exec::Init(sealed, init_command(process)?),
        None => Exec::Program(super::exec::resolve(process)?),
    };
    close_other_fds();
    if let Exec::Init(..) = exec {
        pass_channel_to_init(channel)?;
    }
    if let (Some(filter), true) = (seccomp, no_new_privileges) {
        install(filter)?;
    }
    match exec {
        Exec::Program(program) => Err(super::exec::exec(&program)),
        Exec::Init(sealed, (argv, envp)) => Err(sealed.exec(&argv, &envp)),
    }
}

fn install(filter: &crate::seccomp::Filter) -> Result<()> {
    filter
        .install()
        .sys(|| "installing the seccomp filter".into())
}

enum Exec<'a> {
    Program(super::exec::Program),
    Init(&'a SealedExe, (Vec<CString>, Vec<CString>)),
}

/// `kist-init -- ARGS...` and the program's environment.
fn init_command(process: &oci_spec::runtime::Process) -> Result<(Vec<CString>, Vec<CString>)> {
    let cstring =
        |s: &str| CString::new(s).map_err(|_| Error::Spec(format!("{s:?} holds a NUL byte")));
    let mut argv = vec![cstring(super::sealed::INIT_NAME)?, cstring("--")?];
    for a in process.args().as_deref().unwrap_or_default() {
        argv.push(cstring(a)?);
    }
    let envp = process
        .env()
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(|e| cstring(e))
        .collect::<Result<_>>()?;
    Ok((argv, envp))
}

/// Init finds the set-up channel at descriptor 3, open across its exec.
fn pass_channel_to_init(channel: &Channel) -> Result<()> {
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

fn set_user(process: &oci_spec::runtime::Process) -> Result<()> {
    let user = process.user();
    let groups: Vec<libc::gid_t> = user.additional_gids().clone().unwrap_or_default();
    // SAFETY: id-setting syscalls with valid arguments; groups first, while still root.
    unsafe {
        cvt(libc::setgroups(groups.len(), groups.as_ptr()))
            .sys(|| "setting supplementary groups".into())?;
        cvt(libc::setresgid(user.gid(), user.gid(), user.gid()))
            .sys(|| format!("setting gid {}", user.gid()))?;
        cvt(libc::setresuid(user.uid(), user.uid(), user.uid()))
            .sys(|| format!("setting uid {}", user.uid()))?;
    }
    Ok(())
}

/// Marks every descriptor above stderr close-on-exec, so none of kist's reaches the program.
fn close_other_fds() {
    // SAFETY: close_range only changes descriptor flags.
    unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3u32,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        );
    }
}
