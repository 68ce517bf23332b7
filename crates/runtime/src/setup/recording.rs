//! A fake of [`SetUp`] that makes nothing and records every step in order, for the tests of
//! the child's set-up order; the handles it hands back are stand-ins (`/`, `/dev/null`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use oci_spec::runtime::{Hook, Spec};
use rustix::fs::{Mode, OFlags};

use super::cgroup_mounts::CgroupSource;
use super::idmap::Idmapped;
use super::placement::Placement;
use super::stdio::Streams;
use super::steps::SetUp;
use crate::error::Result;
use crate::launch::Rootfs;
use crate::namespaces::JoinedNamespaces;
use crate::program::sealed::SealedExe;
use crate::sync::Channel;

/// One recorded step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    EnterUserNamespace,
    /// How many namespaces were joined.
    JoinNamespaces(usize),
    EnterCgroupNamespace,
    MakeNamespacePrivate,
    MountRoot,
    OpenRoot,
    MountSpecMounts,
    PopulateDev,
    OpenConsole,
    WriteSysctls,
    ProtectPaths,
    OpenSealedExe,
    /// How many createContainer hooks were to run.
    PauseForHooks(usize),
    PivotRoot(PathBuf),
    MakeRootReadOnly,
    SetRootPropagation,
    Chroot(PathBuf),
    DetachSharedRoot(PathBuf),
    SetHostname(String),
    BringUpLoopback,
    ConnectTerminal,
    ConnectFds,
}

#[derive(Default)]
pub(crate) struct Recorder {
    steps: RefCell<Vec<Step>>,
    /// The step that fails (recorded, then an error), for the tests of what a failure undoes.
    fails_at: Option<StepTest>,
}

/// Which step a [`Recorder`] fails at.
pub(crate) type StepTest = fn(&Step) -> bool;

impl Recorder {
    /// A recorder whose step that `fails_at` picks fails.
    pub(crate) fn failing_at(fails_at: StepTest) -> Recorder {
        Recorder {
            fails_at: Some(fails_at),
            ..Recorder::default()
        }
    }

    pub(crate) fn steps(&self) -> Vec<Step> {
        self.steps.borrow().clone()
    }

    fn record(&self, step: Step) -> Result<()> {
        let fails = self.fails_at.is_some_and(|f| f(&step));
        self.steps.borrow_mut().push(step);
        if fails {
            return Err(crate::error::Error::Spec("a recorded failure".into()));
        }
        Ok(())
    }
}

fn stand_in(path: &str) -> OwnedFd {
    rustix::fs::open(path, OFlags::PATH | OFlags::CLOEXEC, Mode::empty())
        .expect("a stand-in descriptor")
}

impl SetUp for Recorder {
    fn enter_user_namespace(&self, _: &Channel, _: bool) -> Result<()> {
        self.record(Step::EnterUserNamespace)
    }

    fn join_namespaces(&self, joined: &JoinedNamespaces) -> Result<()> {
        self.record(Step::JoinNamespaces(joined.others.len()))
    }

    fn enter_cgroup_namespace(&self, _: &Placement<'_>) -> Result<()> {
        self.record(Step::EnterCgroupNamespace)
    }

    fn make_namespace_private(&self, _: &Spec) -> Result<()> {
        self.record(Step::MakeNamespacePrivate)
    }

    fn mount_root(&self, _: &Rootfs) -> Result<PathBuf> {
        self.record(Step::MountRoot)?;
        Ok(PathBuf::from("/root-of-the-test"))
    }

    fn open_root(&self, _: &Path) -> Result<OwnedFd> {
        self.record(Step::OpenRoot)?;
        Ok(stand_in("/"))
    }

    fn mount_spec_mounts(
        &self,
        _: &Spec,
        _: &OwnedFd,
        _: &CgroupSource<'_>,
        _: &Idmapped,
    ) -> Result<()> {
        self.record(Step::MountSpecMounts)
    }

    fn populate_dev(&self, _: &Spec, _: &OwnedFd) -> Result<()> {
        self.record(Step::PopulateDev)
    }

    fn open_console(&self, _: &OwnedFd, _: &Channel) -> Result<OwnedFd> {
        self.record(Step::OpenConsole)?;
        Ok(stand_in("/dev/null"))
    }

    fn write_sysctls(&self, _: &OwnedFd, _: Option<&HashMap<String, String>>) -> Result<()> {
        self.record(Step::WriteSysctls)
    }

    fn protect_paths(&self, _: &OwnedFd, _: &[String], _: &[String]) -> Result<()> {
        self.record(Step::ProtectPaths)
    }

    fn open_sealed_exe(&self) -> Result<SealedExe> {
        self.record(Step::OpenSealedExe)?;
        Ok(SealedExe::for_test(stand_in("/")))
    }

    fn pause_for_hooks(&self, _: &Channel, create_container: &[Hook]) -> Result<Vec<u8>> {
        self.record(Step::PauseForHooks(create_container.len()))?;
        Ok(b"{}".to_vec())
    }

    fn pivot_root(&self, new_root: &Path) -> Result<()> {
        self.record(Step::PivotRoot(new_root.to_path_buf()))
    }

    fn make_root_read_only(&self) -> Result<()> {
        self.record(Step::MakeRootReadOnly)
    }

    fn set_root_propagation(&self, _spec: &Spec) -> Result<()> {
        self.record(Step::SetRootPropagation)
    }

    fn chroot(&self, new_root: &Path) -> Result<()> {
        self.record(Step::Chroot(new_root.to_path_buf()))
    }

    fn detach_shared_root(&self, path: &Path) {
        let _ = self.record(Step::DetachSharedRoot(path.to_path_buf()));
    }

    fn set_hostname(&self, name: &str) -> Result<()> {
        self.record(Step::SetHostname(name.into()))
    }

    fn bring_up_loopback(&self) -> Result<()> {
        self.record(Step::BringUpLoopback)
    }

    fn connect_streams(&self, streams: Streams<'_>) -> Result<()> {
        self.record(match streams {
            Streams::Terminal(_) => Step::ConnectTerminal,
            Streams::Fds { .. } => Step::ConnectFds,
        })
    }
}
