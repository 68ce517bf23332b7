//! Creating a container's first process, starting it, and waiting for it.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use oci_spec::runtime::Spec;

use crate::ExitStatus;
use crate::error::{Error, Result};
use crate::launch::Launch;
use crate::namespaces::{
    BornIn, JoinedNamespaces, check_sysctls, new_namespace_flags, wants_user_namespace,
};
use crate::pidfd::{Delivery, Pidfd};
use crate::sync::{Message, channel_pair};
use crate::sys::clone::{Forked, fork_in_user_namespace, fork_into_namespaces};

/// A container whose first process exists: it is setting itself up, then waits to exec.
pub struct Created {
    pid: i32,
    pidfd: Pidfd,
    channel: crate::sync::Channel,
    console: Option<OwnedFd>,
    ready: bool,
    /// Its process was reaped (its set-up failed): its pid may name another process now.
    reaped: bool,
}

/// A container whose program is running.
pub struct Running {
    pid: i32,
    pidfd: Pidfd,
}

/// Clones the container's first process into its namespaces, where it sets itself up up to the
/// exec. Returns at once: the caller can work (record the container) meanwhile, then
/// [`Created::wait_ready`].
pub fn create(launch: Launch<'_>) -> Result<Created> {
    create_with(launch, None)
}

/// Like [`create`], for a container whose `start` comes from another process (the OCI front
/// end's `create`, then `start`): once set up, the child no longer dies with its creator and
/// waits for a connection on `start_socket`, a listening `SOCK_SEQPACKET` socket, that sends
/// it Start; that connection then carries its exec's outcome as the set-up channel does (see
/// [`connect_and_start`]). The returned [`Created`] only serves [`Created::wait_ready`]:
/// dropping it leaves the container waiting.
pub fn create_detached(launch: Launch<'_>, start_socket: OwnedFd) -> Result<Created> {
    create_with(launch, Some(start_socket))
}

/// Starts a container made by [`create_detached`] through a connection to its start socket:
/// Ok once its program runs, the program's failure (127, 126, 125) otherwise.
pub fn connect_and_start(connection: OwnedFd) -> Result<()> {
    let channel = crate::sync::Channel::from_fd(connection);
    channel.send(&Message::Start)?;
    match channel.recv()? {
        None => Ok(()),
        Some((Message::Failed { code, message }, _)) => Err(Error::Container { code, message }),
        Some((other, _)) => Err(Error::Spec(format!(
            "unexpected {other:?} from the container"
        ))),
    }
}

fn create_with(launch: Launch<'_>, start_socket: Option<OwnedFd>) -> Result<Created> {
    let flags = new_namespace_flags(launch.spec)?;
    check_sysctls(launch.spec)?;
    let joined = JoinedNamespaces::open(launch.spec)?;
    // Before the clone, in kist's namespaces: see `setup::idmap`.
    let idmapped = crate::setup::idmap::Idmapped::prepare(launch.spec)?;
    let (parent_end, child_end) = channel_pair()?;
    // On cgroup v2 the cgroup is made first and the child born in it; on v1 the child is
    // moved in while it sets itself up (it execs only after Start), as v1 allows no better.
    let cgroup = crate::cgroups::Cgroup::of_spec(launch.spec)?;
    let born_in = match cgroup.as_ref().filter(|c| c.is_born_in()) {
        Some(c) => {
            c.create(resources(launch.spec))?;
            c.open_for_clone()?
        }
        None => None,
    };
    let cgroup_fd = born_in.as_ref().map(|fd| fd.as_fd());
    let forked = match &joined.user {
        None => {
            // Only for the clone: kist's later children are born in its own PID namespace.
            let _born_in = joined.pid.as_ref().map(BornIn::enter).transpose()?;
            fork_into_namespaces(flags, cgroup_fd)?
        }
        Some(userns) => fork_in_user_namespace(
            userns.as_fd(),
            joined.pid.as_ref().map(|fd| fd.as_fd()),
            flags,
            cgroup_fd,
        )?,
    };
    match forked {
        Forked::Child => {
            drop(parent_end);
            crate::child::run(
                launch,
                child_end,
                cgroup.as_ref(),
                &joined,
                &idmapped,
                start_socket,
            )
        }
        Forked::Parent { pid, pidfd } => {
            drop(child_end);
            let joins_pid = joined.pid.is_some();
            drop(joined);
            drop(idmapped);
            drop(start_socket);
            // First, as the child waits for it before anything else.
            if wants_user_namespace(launch.spec) {
                let mapped = crate::namespaces::write_id_maps(pid, launch.spec)
                    .and_then(|()| parent_end.send(&Message::Mapped));
                if let Err(e) = mapped {
                    kill_and_reap(pid);
                    return Err(e);
                }
            }
            // On v1, the cgroup is made while the child sets itself up, and the child moves
            // itself in (see `setup::placement`). Born in another container's PID namespace,
            // it is visible there: it is moved from here and holds no cgroup file of kist's.
            let placed = match (&cgroup, &born_in) {
                (Some(c), None) => c.create(resources(launch.spec)).and_then(|()| {
                    let joins = match joins_pid {
                        true => c.add(pid).map(|()| Vec::new()),
                        false => c.open_joins(),
                    }?;
                    let raw: Vec<_> = joins.iter().map(|f| f.as_raw_fd()).collect();
                    parent_end.send_with_fds(&Message::Join, &raw)
                }),
                _ => Ok(()),
            };
            if let Err(e) = placed {
                kill_and_reap(pid);
                return Err(e);
            }
            drop(launch); // our copies of the stdio fds: the child has its own
            Ok(Created::new(pid, pidfd, parent_end))
        }
    }
}

fn resources(spec: &Spec) -> Option<&oci_spec::runtime::LinuxResources> {
    spec.linux().as_ref().and_then(|l| l.resources().as_ref())
}

impl Created {
    pub(crate) fn new(pid: i32, pidfd: Pidfd, channel: crate::sync::Channel) -> Created {
        Created {
            pid,
            pidfd,
            channel,
            console: None,
            ready: false,
            reaped: false,
        }
    }

    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// For a launch with [`crate::ContainerHooks`]: waits until the process has made its
    /// mounts and stopped before its `pivot_root`, the runtime spec's point for the
    /// `prestart` and `createRuntime` hooks, which the caller runs next, then
    /// [`Created::resume`].
    pub fn wait_mounted(&mut self) -> Result<()> {
        self.wait_for(&Message::Mounted)
    }

    /// Lets a process stopped by [`Created::wait_mounted`] go on: it runs its
    /// `createContainer` hooks, told `create_state`, and keeps `start_state` for its
    /// `startContainer` ones.
    pub fn resume(&self, create_state: &[u8], start_state: &[u8]) -> Result<()> {
        self.channel.send(&Message::Resume {
            create_state: create_state.to_vec(),
            start_state: start_state.to_vec(),
        })
    }

    /// Waits until the process has set itself up. Fails, with the exit code Docker would give,
    /// when the set-up failed.
    pub fn wait_ready(&mut self) -> Result<()> {
        if !self.ready {
            self.wait_for(&Message::Ready)?;
            self.ready = true;
        }
        Ok(())
    }

    /// Reads the channel up to `stage` (keeping the terminal on the way); the set-up's
    /// failure, or the process's death, fails it (the process reaped).
    fn wait_for(&mut self, stage: &Message) -> Result<()> {
        loop {
            match self.channel.recv()? {
                Some((Message::Console, fd)) => self.console = fd,
                Some((got, _)) if &got == stage => return Ok(()),
                Some((Message::Failed { code, message }, _)) => {
                    self.reaped = true;
                    reap(self.pid);
                    return Err(Error::Container { code, message });
                }
                Some((other, _)) => {
                    self.reaped = true;
                    kill_and_reap(self.pid);
                    return Err(Error::Spec(format!(
                        "unexpected {other:?} from the container"
                    )));
                }
                None => {
                    self.reaped = true;
                    let status = reap(self.pid);
                    return Err(Error::Container {
                        code: 125,
                        message: format!("the container's process died during set-up ({status:?})"),
                    });
                }
            }
        }
    }

    /// The master side of the container's terminal, when the launch asked for one (available
    /// once ready).
    pub fn take_console(&mut self) -> Option<OwnedFd> {
        self.console.take()
    }

    /// Lets the process exec its program. Fails, with the exit code Docker would give, when the
    /// program cannot be found (127) or executed (126).
    pub fn start(mut self) -> Result<Running> {
        self.wait_ready()?;
        self.channel.send(&Message::Start)?;
        match self.channel.recv()? {
            // The channel closed on exec.
            None => Ok(Running {
                pid: self.pid,
                pidfd: self.pidfd,
            }),
            Some((Message::Failed { code, message }, _)) => {
                reap(self.pid);
                Err(Error::Container { code, message })
            }
            Some((other, _)) => {
                kill_and_reap(self.pid);
                Err(Error::Spec(format!(
                    "unexpected {other:?} from the container"
                )))
            }
        }
    }

    /// Gives up on the container: kills and reaps its process (unless a failed set-up did).
    pub fn abort(self) {
        if !self.reaped {
            kill_and_reap(self.pid);
        }
    }
}

impl Running {
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Readable once the process has exited.
    pub fn pidfd(&self) -> BorrowedFd<'_> {
        self.pidfd.as_fd()
    }

    /// Sends `signal` through the pidfd, which cannot hit a recycled pid, unlike kill(2).
    pub fn signal(&self, signal: i32) -> Result<Delivery> {
        self.pidfd.send_signal(signal)
    }

    /// Waits for the process to end.
    pub fn wait(self) -> Result<ExitStatus> {
        Ok(reap(self.pid))
    }
}

/// Waits for `pid` and decodes its status, retrying on EINTR.
fn reap(pid: i32) -> ExitStatus {
    let mut status = 0;
    loop {
        // SAFETY: waitpid on our own child with a valid status pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            break;
        }
        if r < 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return ExitStatus::Exited(125);
        }
    }
    if libc::WIFSIGNALED(status) {
        ExitStatus::Signaled(libc::WTERMSIG(status))
    } else {
        ExitStatus::Exited(libc::WEXITSTATUS(status))
    }
}

fn kill_and_reap(pid: i32) {
    // SAFETY: our own child, not yet reaped, so the pid cannot have been recycled.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    reap(pid);
}
