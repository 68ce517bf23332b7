//! Signals that `kist run` passes on to the container, read through a signalfd.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use crate::error::{Result, SysContext, cvt};

/// What a foreground `kist run` forwards, as Docker's sig-proxy does (SIGWINCH resizes the
/// terminal instead). SIGKILL and SIGSTOP cannot be caught and so cannot be forwarded.
const FORWARDED: [libc::c_int; 9] = [
    libc::SIGHUP,
    libc::SIGINT,
    libc::SIGQUIT,
    libc::SIGTERM,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGALRM,
    libc::SIGCONT,
    libc::SIGWINCH,
];

/// The blocked signals, readable one at a time from a signalfd.
pub struct ForwardedSignals {
    fd: OwnedFd,
}

/// Blocks the forwarded signals in the calling (single-threaded) process, so that they queue
/// for the signalfd instead of killing kist. Call it before creating the container: its process
/// resets its signal mask before exec.
pub fn block_forwarded_signals() -> Result<ForwardedSignals> {
    // SAFETY: sigset manipulation on a local, then sigprocmask/signalfd with valid pointers.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in FORWARDED {
            libc::sigaddset(&mut set, s);
        }
        cvt(libc::sigprocmask(
            libc::SIG_BLOCK,
            &set,
            std::ptr::null_mut(),
        ))
        .sys(|| "blocking signals".into())?;
        let fd = cvt(libc::signalfd(
            -1,
            &set,
            libc::SFD_CLOEXEC | libc::SFD_NONBLOCK,
        ))
        .sys(|| "creating a signalfd".into())?;
        Ok(ForwardedSignals {
            fd: OwnedFd::from_raw_fd(fd),
        })
    }
}

impl ForwardedSignals {
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// The next pending signal, if any.
    pub fn next(&self) -> Option<i32> {
        // SAFETY: reading one signalfd_siginfo into a properly sized, zeroed buffer.
        unsafe {
            let mut info: libc::signalfd_siginfo = std::mem::zeroed();
            let size = std::mem::size_of::<libc::signalfd_siginfo>();
            let n = libc::read(
                self.fd.as_raw_fd(),
                (&mut info as *mut libc::signalfd_siginfo).cast(),
                size,
            );
            if usize::try_from(n) != Ok(size) {
                return None;
            }
            i32::try_from(info.ssi_signo).ok()
        }
    }
}

/// In a freshly cloned container process: no blocked signals, every handler at its default
/// (Rust ignores SIGPIPE, and an ignored signal would stay ignored across exec).
pub(crate) fn reset_in_child() {
    // SAFETY: plain signal-state syscalls in a single-threaded process.
    unsafe {
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
        for s in 1..libc::SIGRTMIN() {
            if s != libc::SIGKILL && s != libc::SIGSTOP {
                libc::signal(s, libc::SIG_DFL);
            }
        }
    }
}
