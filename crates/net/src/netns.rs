//! A handle on a network namespace (a container's, by `/proc/PID/ns/net` or a descriptor
//! the caller already holds) and a way to do something inside it: on a short-lived thread that
//! enters the namespace, so that kist's own threads never leave theirs. A socket opened there
//! stays in that namespace after the thread is gone.

use std::fs::File;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use rustix::thread::{LinkNameSpaceType, move_into_link_name_space};

use crate::error::{Error, Result};

#[derive(Debug)]
pub struct NetNs {
    fd: OwnedFd,
}

impl NetNs {
    /// The network namespace of process `pid`.
    pub fn of_pid(pid: i32) -> Result<NetNs> {
        NetNs::open(Path::new(&format!("/proc/{pid}/ns/net")))
    }

    /// The calling thread's own network namespace.
    pub fn current() -> Result<NetNs> {
        NetNs::open(Path::new("/proc/thread-self/ns/net"))
    }

    /// A namespace file: `/proc/PID/ns/net` or a bind mount of one.
    pub fn open(path: &Path) -> Result<NetNs> {
        let file = File::open(path).map_err(|e| {
            Error::kernel(format!("opening network namespace {}", path.display()), e)
        })?;
        Ok(NetNs { fd: file.into() })
    }

    /// A descriptor of a network namespace that the caller opened.
    pub fn from_fd(fd: OwnedFd) -> NetNs {
        NetNs { fd }
    }

    /// The namespace's inode number: two handles name the same namespace when these match.
    pub fn inode(&self) -> Result<u64> {
        let file = File::from(self.fd.try_clone().map_err(|e| Error::kernel("dup", e))?);
        let meta = file
            .metadata()
            .map_err(|e| Error::kernel("reading a network namespace's inode", e))?;
        Ok(meta.ino())
    }

    /// Runs `f` on a new thread that has entered this namespace; the caller's thread stays
    /// where it is. A panic in `f` is passed on.
    pub fn run_in<T: Send>(&self, f: impl FnOnce() -> Result<T> + Send) -> Result<T> {
        let fd = self.fd.as_fd();
        std::thread::scope(|scope| {
            let thread = scope.spawn(move || {
                move_into_link_name_space(fd, Some(LinkNameSpaceType::Network))
                    .map_err(|e| Error::kernel("entering a network namespace", e.into()))?;
                f()
            });
            thread
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }
}

impl AsFd for NetNs {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
