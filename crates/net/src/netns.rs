//! A handle on a network namespace (a container's, by `/proc/PID/ns/net` or a descriptor
//! the caller already holds) and a way to do something inside it: the calling thread enters
//! the namespace and comes back (a network namespace is a thread's, not the process's). A
//! socket opened there stays in that namespace after the thread has left it.

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

    /// Runs `f` with the calling thread in this namespace, and brings the thread back to its
    /// own namespace after (even when `f` fails or panics). A thread of its own for each
    /// visit cost a bridged `run` two thread starts and joins on its way to the program.
    pub fn run_in<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let home = NetNs::current()?;
        enter(self.fd.as_fd())?;
        let _back = Return(home);
        f()
    }
}

fn enter(fd: BorrowedFd<'_>) -> Result<()> {
    move_into_link_name_space(fd, Some(LinkNameSpaceType::Network))
        .map_err(|e| Error::kernel("entering a network namespace", e.into()))
}

/// Takes the thread back to the namespace it came from when dropped.
struct Return(NetNs);

impl Drop for Return {
    fn drop(&mut self) {
        // A thread left in a container's namespace would make every later socket and rule
        // there: kist cannot go on. Re-entering a namespace this thread was in is refused
        // only if the namespace is gone, which its open descriptor prevents.
        if enter(self.0.fd.as_fd()).is_err() {
            eprintln!("kist: cannot return to its own network namespace");
            std::process::abort();
        }
    }
}

impl AsFd for NetNs {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A namespace of its own for the test: made by a thread that leaves at once, kept by
    /// its descriptor alone (nothing is made in it).
    fn fresh_namespace() -> NetNs {
        std::thread::spawn(|| {
            // SAFETY: NEWNET changes this thread's network namespace alone; no descriptor
            // table or memory is unshared.
            unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWNET) }
                .expect("unshare(CLONE_NEWNET) needs root");
            NetNs::current().unwrap()
        })
        .join()
        .unwrap()
    }

    #[test]
    #[ignore = "needs root"]
    fn a_visit_runs_inside_and_comes_back_even_after_a_failure() {
        let home = NetNs::current().unwrap().inode().unwrap();
        let other = fresh_namespace();
        let inside = other.run_in(|| NetNs::current()?.inode()).unwrap();
        assert_eq!(inside, other.inode().unwrap());
        assert_eq!(NetNs::current().unwrap().inode().unwrap(), home);
        let failed: Result<()> =
            other.run_in(|| Err(Error::kernel("test", std::io::Error::other("x"))));
        assert!(failed.is_err());
        assert_eq!(NetNs::current().unwrap().inode().unwrap(), home);
    }
}
