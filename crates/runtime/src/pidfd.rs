//! A process descriptor (pidfd): how kist signals and waits for a container's processes, because
//! a pidfd names one process for its whole life, never a pid the kernel has since recycled.
//!
//! Opening one tells "the process is gone" (ESRCH) apart from every other failure (EMFILE with
//! a full descriptor table, EINVAL or ENOENT for a thread that is not a process's leader), and
//! so does signalling through one: a caller never takes a signal that was not sent for one that
//! was.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use crate::error::{Error, Result, cvt_long};

/// An open pidfd.
#[derive(Debug)]
pub struct Pidfd(OwnedFd);

/// What became of a signal sent through a pidfd.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Delivery {
    /// The kernel delivered it.
    Sent,
    /// The process had exited (and was reaped): nothing was sent.
    Gone,
}

impl Pidfd {
    /// A pidfd for `pid`; `None` when there is no such process (any more).
    pub fn open(pid: i32) -> Result<Option<Pidfd>> {
        // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
        let fd = match cvt_long(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) }) {
            Ok(fd) => fd,
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => return Ok(None),
            Err(e) => return Err(Error::sys(format!("opening a pidfd for process {pid}"), e)),
        };
        // SAFETY: the kernel just returned this descriptor, which nothing else owns.
        Ok(Some(Pidfd(unsafe { OwnedFd::from_raw_fd(fd) })))
    }

    /// Takes ownership of a pidfd the kernel handed over another way (clone3's CLONE_PIDFD).
    pub(crate) fn from_owned(fd: OwnedFd) -> Pidfd {
        Pidfd(fd)
    }

    /// Sends `signal` (0 only checks that the process exists).
    pub fn send_signal(&self, signal: i32) -> Result<Delivery> {
        // SAFETY: pidfd_send_signal on a descriptor this value owns, with no siginfo.
        let ret = unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                self.0.as_raw_fd(),
                signal,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            )
        };
        if ret == 0 {
            return Ok(Delivery::Sent);
        }
        let e = std::io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::ESRCH) => Ok(Delivery::Gone),
            _ => Err(Error::sys(format!("sending signal {signal}"), e)),
        }
    }

    /// Whether the process has not exited yet (a pidfd turns readable when it exits).
    pub fn is_alive(&self) -> Result<bool> {
        self.wait_exited(Duration::ZERO).map(|exited| !exited)
    }

    /// Waits up to `timeout` for the process to exit; whether it did.
    pub fn wait_exited(&self, timeout: Duration) -> Result<bool> {
        let deadline = Instant::now().checked_add(timeout);
        loop {
            let left = deadline.map_or(-1, |d| {
                let left = d.saturating_duration_since(Instant::now());
                // Rounded up, so a short wait is not a busy loop of zero-millisecond polls.
                i32::try_from(left.as_nanos().div_ceil(1_000_000)).unwrap_or(i32::MAX)
            });
            let mut fds = [libc::pollfd {
                fd: self.0.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            }];
            // SAFETY: a one-element pollfd array that lives across the call.
            let n = unsafe { libc::poll(fds.as_mut_ptr(), 1, left) };
            if n >= 0 {
                return Ok(n > 0);
            }
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EINTR) {
                return Err(Error::sys("waiting for a process to exit", e));
            }
        }
    }
}

impl AsFd for Pidfd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A child that has exited and been reaped: its pid names nothing.
    fn reaped_child() -> (i32, std::process::Child) {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = i32::try_from(child.id()).unwrap();
        child.wait().unwrap();
        (pid, child)
    }

    #[test]
    fn a_live_process_is_signalled_and_waited_for() {
        let mut child = std::process::Command::new("sleep")
            .arg("100")
            .spawn()
            .unwrap();
        let pidfd = Pidfd::open(i32::try_from(child.id()).unwrap())
            .unwrap()
            .unwrap();
        assert!(pidfd.is_alive().unwrap());
        assert!(!pidfd.wait_exited(Duration::from_millis(20)).unwrap());
        assert_eq!(pidfd.send_signal(0).unwrap(), Delivery::Sent);
        assert_eq!(pidfd.send_signal(libc::SIGKILL).unwrap(), Delivery::Sent);
        assert!(pidfd.wait_exited(Duration::from_secs(10)).unwrap());
        assert!(!pidfd.is_alive().unwrap());
        child.wait().unwrap();
        // Reaped: a signal now reaches nobody, and says so.
        assert_eq!(pidfd.send_signal(libc::SIGKILL).unwrap(), Delivery::Gone);
    }

    #[test]
    fn a_gone_process_opens_as_none() {
        let (pid, _child) = reaped_child();
        assert!(Pidfd::open(pid).unwrap().is_none());
    }

    /// Only ESRCH means "gone". A thread that is not its process's leader cannot have a
    /// (process) pidfd: EINVAL (ENOENT since Linux 6.9), an error, where kist once took any
    /// failure for a gone process and reported a `kill` that signalled nothing as done.
    #[test]
    fn failing_to_open_for_another_reason_is_an_error_not_gone() {
        let (tid_tx, tid_rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            tid_tx
                .send(rustix::thread::gettid().as_raw_nonzero().get())
                .unwrap();
            done_rx.recv().unwrap();
        });
        let tid = tid_rx.recv().unwrap();
        let opened = Pidfd::open(tid);
        done_tx.send(()).unwrap();
        thread.join().unwrap();
        match opened {
            Err(Error::Sys { context, source }) => {
                let errno = source.raw_os_error();
                assert!(
                    errno == Some(libc::EINVAL) || errno == Some(libc::ENOENT),
                    "{source}"
                );
                assert!(context.contains(&tid.to_string()), "{context}");
            }
            other => panic!("expected an error for a thread, got {other:?}"),
        }
    }
}
