//! The container's first process moving itself into its cgroup on v1, where it is not born in
//! it: kist makes the directories while the process sets itself up and sends it, for each
//! hierarchy, the file that moves its writer. The process writes them at the first point that
//! needs it in its cgroup (entering a cgroup namespace, binding its cgroup directories, the
//! hooks), else at the end of its set-up, before it says it is ready: a process that moves
//! itself costs the kernel no global lock, which moving it from kist would (see
//! `Cgroup::open_joins`).

use std::cell::Cell;

use crate::error::Result;
use crate::sync::{Channel, Message};

pub struct Placement<'a> {
    channel: &'a Channel,
    /// Whether kist will send the cgroup's files and they are not written yet.
    pending: Cell<bool>,
}

impl<'a> Placement<'a> {
    /// For a process whose cgroup (if any) is `cgroup`.
    pub fn new(channel: &'a Channel, cgroup: Option<&crate::Cgroup>) -> Placement<'a> {
        Placement {
            channel,
            pending: Cell::new(cgroup.is_some_and(|c| !c.is_born_in())),
        }
    }

    /// The process is in its cgroup once this returns (at once if it was born there). If kist
    /// failed or went away instead of sending the files, there is nothing to set up for:
    /// leaves quietly, as [`Channel::await_or_exit`].
    pub fn ensure(&self) -> Result<()> {
        if !self.pending.get() {
            return Ok(());
        }
        let joins = match self.channel.recv_with_fds()? {
            Some((Message::Join, fds)) => fds,
            // SAFETY: leaving the forked child without the parent's destructors or atexit
            // handlers, as a forked child must.
            _ => unsafe { libc::_exit(125) },
        };
        crate::cgroups::join_self(joins)?;
        self.pending.set(false);
        Ok(())
    }
}
