//! The last steps of every container process, created or exec'd, from its set-up to its
//! program: the order here is what confines it (see `become_program`), and the tests below hold
//! it, through a recording fake of the calls.

use std::convert::Infallible;
use std::ffi::CString;

use oci_spec::runtime::Process;

use super::capabilities::Capabilities;
use super::sealed::SealedExe;
use super::syscalls::{Exec, Linux, Syscalls};
use crate::error::{Error, Result};
use crate::seccomp::Filter;
use crate::sync::Channel;

/// The last steps of every container process, created or exec'd, in the order the runtime
/// spec and runc give them: working directory, rlimits, OOM score; the seccomp filter while the
/// process still holds CAP_SYS_ADMIN (when no_new_privs is off, installing one needs it); the
/// bounding set; the user, keeping the permitted set across the switch; the other capability
/// sets; no_new_privs; the program looked up inside the container; no descriptor of kist's left
/// open; the filter last when no_new_privs is on; exec (under `kist-init` when given its sealed
/// binary).
pub(crate) fn become_program(
    process: &Process,
    init: Option<&SealedExe>,
    channel: &Channel,
    seccomp: Option<&Filter>,
) -> Result<Infallible> {
    become_program_with(&Linux, process, init, channel, seccomp)
}

fn become_program_with(
    sys: &impl Syscalls,
    process: &Process,
    init: Option<&SealedExe>,
    channel: &Channel,
    seccomp: Option<&Filter>,
) -> Result<Infallible> {
    let no_new_privileges = process.no_new_privileges().unwrap_or(false);
    let capabilities = Capabilities::of(process)?;
    set_limits(sys, process)?;
    if let (Some(filter), false) = (seccomp, no_new_privileges) {
        sys.install_seccomp(filter)?;
    }
    become_user(sys, process, capabilities.as_ref())?;
    if no_new_privileges {
        sys.set_no_new_privs()?;
    }
    sys.chdir(process.cwd())?;
    sys.set_umask(process.user().umask().unwrap_or(0o022) as libc::mode_t);
    let exec = match init {
        Some(sealed) => Exec::Init(sealed, init_command(process)?),
        None => Exec::Program(sys.find_program(process)?),
    };
    sys.close_on_exec_above_stderr();
    if let Exec::Init(..) = exec {
        sys.pass_channel_to_init(channel)?;
    }
    if let (Some(filter), true) = (seccomp, no_new_privileges) {
        sys.install_seccomp(filter)?;
    }
    Err(sys.exec(&exec))
}

/// What is set while still root: the working directory made, rlimits (raising a hard limit
/// needs root), the OOM score.
fn set_limits(sys: &impl Syscalls, process: &Process) -> Result<()> {
    sys.make_dir_all(process.cwd())?;
    for rlimit in super::rlimits::of(process)? {
        sys.set_rlimit(&rlimit)?;
    }
    if let Some(adj) = process.oom_score_adj() {
        sys.set_oom_score_adj(adj)?;
    }
    Ok(())
}

/// The switch to the container's user: the bounding set cut first (while root still holds
/// CAP_SETPCAP), groups before ids (afterwards they could not be set), the permitted set kept
/// across the switch, and the other sets applied once the process runs as the user.
fn become_user(sys: &impl Syscalls, process: &Process, caps: Option<&Capabilities>) -> Result<()> {
    if let Some(c) = caps {
        sys.limit_bounding(c)?;
        sys.set_keepcaps(true)?;
    }
    let user = process.user();
    sys.set_groups(user.additional_gids().as_deref().unwrap_or_default())?;
    sys.set_gid(user.gid())?;
    sys.set_uid(user.uid())?;
    if let Some(c) = caps {
        sys.set_keepcaps(false)?;
        sys.set_capabilities(c)?;
    }
    Ok(())
}

/// `kist-init -- ARGS...` and the program's environment.
fn init_command(process: &Process) -> Result<(Vec<CString>, Vec<CString>)> {
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

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::program::recording::{Call, Recorder};

    /// A process as Docker's defaults and `--user 1000:1000 --group-add 10` make it, with or
    /// without no_new_privs.
    fn process(no_new_privileges: bool) -> Process {
        let caps = ["CAP_CHOWN", "CAP_KILL"];
        serde_json::from_value(serde_json::json!({
            "user": {"uid": 1000, "gid": 1000, "additionalGids": [10]},
            "args": ["sh", "-c", "true"],
            "env": ["PATH=/bin"],
            "cwd": "/work",
            "noNewPrivileges": no_new_privileges,
            "capabilities": {
                "bounding": caps, "effective": caps, "permitted": caps,
                "inheritable": [], "ambient": []
            },
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "oomScoreAdj": 100,
        }))
        .unwrap()
    }

    fn filter() -> Filter {
        Filter::for_spec(
            &serde_json::from_value(serde_json::json!({"defaultAction": "SCMP_ACT_ALLOW"}))
                .unwrap(),
        )
        .unwrap()
    }

    /// The calls `become_program` makes, up to its (recorded) exec.
    fn run(
        sys: &Recorder,
        process: &Process,
        init: Option<&SealedExe>,
        seccomp: Option<&Filter>,
    ) -> Result<Infallible> {
        let (channel, _peer) = crate::sync::channel_pair().unwrap();
        become_program_with(sys, process, init, &channel, seccomp)
    }

    fn position(calls: &[Call], call: &Call) -> usize {
        calls
            .iter()
            .position(|c| c == call)
            .unwrap_or_else(|| panic!("{call:?} not made: {calls:?}"))
    }

    /// The calls that confine the process, by themselves, for order checks.
    const SWITCH: [Call; 6] = [
        Call::LimitBounding,
        Call::SetKeepcaps(true),
        Call::SetGid(1000),
        Call::SetUid(1000),
        Call::SetKeepcaps(false),
        Call::SetCapabilities,
    ];

    #[test]
    fn without_no_new_privs_the_filter_comes_before_the_capability_drop_and_the_user() {
        let sys = Recorder::default();
        assert!(run(&sys, &process(false), None, Some(&filter())).is_err());
        assert_eq!(
            sys.calls(),
            [
                Call::MakeDirAll(PathBuf::from("/work")),
                Call::SetRlimit("RLIMIT_NOFILE".into()),
                Call::SetOomScoreAdj(100),
                Call::InstallSeccomp,
                Call::LimitBounding,
                Call::SetKeepcaps(true),
                Call::SetGroups(vec![10]),
                Call::SetGid(1000),
                Call::SetUid(1000),
                Call::SetKeepcaps(false),
                Call::SetCapabilities,
                Call::Chdir(PathBuf::from("/work")),
                Call::SetUmask(0o022),
                Call::FindProgram,
                Call::CloseOnExecAboveStderr,
                Call::ExecProgram,
            ]
        );
    }

    #[test]
    fn with_no_new_privs_the_filter_is_the_last_call_before_exec() {
        let sys = Recorder::default();
        assert!(run(&sys, &process(true), None, Some(&filter())).is_err());
        let calls = sys.calls();
        let n = calls.len();
        assert_eq!(
            calls[n - 2..],
            [Call::InstallSeccomp, Call::ExecProgram],
            "{calls:?}"
        );
        let installs = calls.iter().filter(|c| **c == Call::InstallSeccomp).count();
        assert_eq!(installs, 1, "{calls:?}");
        assert!(position(&calls, &Call::SetNoNewPrivs) > position(&calls, &Call::SetCapabilities));
        assert!(position(&calls, &Call::SetNoNewPrivs) < n - 2);
    }

    #[test]
    fn the_bounding_set_is_cut_before_the_user_switch_and_the_other_sets_set_after_it() {
        for no_new_privileges in [false, true] {
            let sys = Recorder::default();
            assert!(run(&sys, &process(no_new_privileges), None, Some(&filter())).is_err());
            let calls = sys.calls();
            let at: Vec<usize> = SWITCH.iter().map(|c| position(&calls, c)).collect();
            assert!(at.is_sorted(), "{calls:?}");
            // Groups go while the process may still set them, before the ids.
            assert!(
                position(&calls, &Call::SetGroups(vec![10]))
                    < position(&calls, &Call::SetGid(1000))
            );
        }
    }

    #[test]
    fn init_gets_the_channel_before_the_last_filter_and_no_lookup() {
        let stand_in = rustix::fs::open(
            "/",
            rustix::fs::OFlags::PATH | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .unwrap();
        let sealed = SealedExe::for_test(stand_in);
        let sys = Recorder::default();
        assert!(run(&sys, &process(true), Some(&sealed), Some(&filter())).is_err());
        let calls = sys.calls();
        let n = calls.len();
        assert_eq!(
            calls[n - 4..],
            [
                Call::CloseOnExecAboveStderr,
                Call::PassChannelToInit,
                Call::InstallSeccomp,
                Call::ExecInit
            ],
            "{calls:?}"
        );
        assert!(!calls.contains(&Call::FindProgram), "{calls:?}");
    }

    #[test]
    fn a_spec_without_capabilities_or_a_filter_changes_neither() {
        let mut p = process(false);
        p.set_capabilities(None);
        let sys = Recorder::default();
        assert!(run(&sys, &p, None, None).is_err());
        let calls = sys.calls();
        for absent in [
            Call::InstallSeccomp,
            Call::LimitBounding,
            Call::SetKeepcaps(true),
            Call::SetCapabilities,
        ] {
            assert!(!calls.contains(&absent), "{absent:?} in {calls:?}");
        }
        assert!(calls.contains(&Call::SetUid(1000)), "{calls:?}");
    }

    /// A step that fails stops the process there: nothing after it runs, and above all no
    /// exec of a program that is not confined as asked.
    #[test]
    fn nothing_follows_a_failed_step() {
        for (no_new_privileges, failing) in [
            (false, Call::InstallSeccomp),
            (false, Call::LimitBounding),
            (false, Call::SetUid(1000)),
            (false, Call::SetCapabilities),
            (true, Call::SetNoNewPrivs),
            (true, Call::InstallSeccomp),
        ] {
            let sys = Recorder::failing_at(failing.clone());
            let result = run(&sys, &process(no_new_privileges), None, Some(&filter()));
            assert!(
                matches!(result, Err(Error::Sys { .. })),
                "{failing:?}: {result:?}"
            );
            let calls = sys.calls();
            assert_eq!(calls.last(), Some(&failing), "{calls:?}");
        }
    }
}
