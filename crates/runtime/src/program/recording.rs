//! A fake of [`Syscalls`] that changes nothing and records every call in order, so that tests
//! can check the order `become_program` confines a process in, without root; it can be told
//! to fail one call, to check that nothing after a failed step happens.

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use oci_spec::runtime::Process;

use super::capabilities::Capabilities;
use super::exec::Program;
use super::rlimits::Rlimit;
use super::syscalls::{Exec, Syscalls};
use crate::error::{Error, Result};
use crate::seccomp::Filter;
use crate::sync::Channel;

/// One recorded call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Call {
    MakeDirAll(PathBuf),
    SetRlimit(String),
    SetOomScoreAdj(i32),
    InstallSeccomp,
    LimitBounding,
    SetKeepcaps(bool),
    SetGroups(Vec<libc::gid_t>),
    SetGid(libc::gid_t),
    SetUid(libc::uid_t),
    SetCapabilities,
    SetNoNewPrivs,
    Chdir(PathBuf),
    SetUmask(libc::mode_t),
    FindProgram,
    CloseOnExecAboveStderr,
    PassChannelToInit,
    ExecProgram,
    ExecInit,
}

#[derive(Default)]
pub(crate) struct Recorder {
    calls: RefCell<Vec<Call>>,
    /// The call that fails (with EPERM), if any.
    failing: Option<Call>,
}

impl Recorder {
    pub(crate) fn failing_at(call: Call) -> Recorder {
        Recorder {
            failing: Some(call),
            ..Recorder::default()
        }
    }

    pub(crate) fn calls(&self) -> Vec<Call> {
        self.calls.borrow().clone()
    }

    fn record(&self, call: Call) -> Result<()> {
        let fails = self.failing.as_ref() == Some(&call);
        self.calls.borrow_mut().push(call);
        if fails {
            return Err(Error::sys(
                "a call the test made fail",
                std::io::Error::from_raw_os_error(libc::EPERM),
            ));
        }
        Ok(())
    }
}

impl Syscalls for Recorder {
    fn make_dir_all(&self, dir: &Path) -> Result<()> {
        self.record(Call::MakeDirAll(dir.to_path_buf()))
    }

    fn set_rlimit(&self, rlimit: &Rlimit) -> Result<()> {
        self.record(Call::SetRlimit(rlimit.name.clone()))
    }

    fn set_oom_score_adj(&self, adj: i32) -> Result<()> {
        self.record(Call::SetOomScoreAdj(adj))
    }

    fn install_seccomp(&self, _: &Filter) -> Result<()> {
        self.record(Call::InstallSeccomp)
    }

    fn limit_bounding(&self, _: &Capabilities) -> Result<()> {
        self.record(Call::LimitBounding)
    }

    fn set_keepcaps(&self, keep: bool) -> Result<()> {
        self.record(Call::SetKeepcaps(keep))
    }

    fn set_groups(&self, gids: &[libc::gid_t]) -> Result<()> {
        self.record(Call::SetGroups(gids.to_vec()))
    }

    fn set_gid(&self, gid: libc::gid_t) -> Result<()> {
        self.record(Call::SetGid(gid))
    }

    fn set_uid(&self, uid: libc::uid_t) -> Result<()> {
        self.record(Call::SetUid(uid))
    }

    fn set_capabilities(&self, _: &Capabilities) -> Result<()> {
        self.record(Call::SetCapabilities)
    }

    fn set_no_new_privs(&self) -> Result<()> {
        self.record(Call::SetNoNewPrivs)
    }

    fn chdir(&self, dir: &Path) -> Result<()> {
        self.record(Call::Chdir(dir.to_path_buf()))
    }

    fn set_umask(&self, mask: libc::mode_t) {
        let _ = self.record(Call::SetUmask(mask));
    }

    fn find_program(&self, process: &Process) -> Result<Program> {
        self.record(Call::FindProgram)?;
        let name = process.args().as_deref().unwrap_or_default().first();
        Ok(Program::for_test(name.map_or("", String::as_str)))
    }

    fn close_on_exec_above_stderr(&self) {
        let _ = self.record(Call::CloseOnExecAboveStderr);
    }

    fn pass_channel_to_init(&self, _: &Channel) -> Result<()> {
        self.record(Call::PassChannelToInit)
    }

    fn exec(&self, exec: &Exec<'_>) -> Error {
        let call = match exec {
            Exec::Program(_) => Call::ExecProgram,
            Exec::Init(..) => Call::ExecInit,
        };
        let _ = self.record(call);
        Error::Spec("the recorder executes nothing".into())
    }
}
