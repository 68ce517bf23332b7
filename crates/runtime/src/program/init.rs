//! `--init`: the container's PID 1 when the user asks for one. It is kist's own binary, run
//! from its sealed view ([`crate::sealed`]) under the name `kist-init`, so that the container
//! never sees a host file as `/proc/1/exe`. It forks the program, forwards every signal it gets
//! to it, reaps every orphan, and exits as the program does.
//!
//! Its command line is `kist-init -- ARGS...` with the program's environment; the set-up
//! channel to kist is descriptor 3, on which a failure to find or execute the program is
//! reported (Docker's 126/127), and which closes when the program has exec'd.

use std::os::fd::{FromRawFd, OwnedFd};

use crate::sync::{Channel, Message};

/// The descriptor on which init finds the set-up channel.
pub(crate) const CHANNEL_FD: i32 = 3;

/// The init's whole life; called first thing by a binary started as [`crate::sealed::INIT_NAME`].
pub fn main() -> ! {
    // SAFETY: renaming the calling thread with a NUL-terminated literal.
    unsafe { libc::prctl(libc::PR_SET_NAME, c"kist-init".as_ptr(), 0, 0, 0) };
    // PID 1 of its namespace reaps orphans anyway; in a shared one (`--pid host`) it must ask.
    // SAFETY: prctl with integer arguments.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--") {
        args.remove(0);
    }
    let env: Vec<String> = std::env::vars().map(|(k, v)| format!("{k}={v}")).collect();
    let channel = open_channel();
    let fail = |code: i32, message: String| -> ! {
        if let Some(c) = &channel {
            let _ = c.send(&Message::Failed { code, message });
        }
        // SAFETY: leaving at once, as nothing else is left to do.
        unsafe { libc::_exit(code) }
    };
    let program = match super::exec::resolve_command(&args, &env) {
        Ok(p) => p,
        Err(e) => fail(e.exit_code(), e.to_string()),
    };
    // SAFETY: signal masks and fork in this single-threaded process.
    let all = unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::sigprocmask(libc::SIG_SETMASK, &all, std::ptr::null_mut());
        all
    };
    // SAFETY: fork in a single-threaded process.
    let child = unsafe { libc::fork() };
    if child < 0 {
        let e = std::io::Error::last_os_error();
        fail(125, format!("forking the program under init: {e}"));
    }
    if child == 0 {
        crate::signals::reset_in_child();
        let e = super::exec::exec(&program);
        fail(e.exit_code(), e.to_string());
    }
    // The channel closes for kist when the program has exec'd; init keeps no descriptor.
    drop(channel);
    // SAFETY: closing every descriptor above stderr.
    unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) };
    supervise(child, &all)
}

fn open_channel() -> Option<Channel> {
    // SAFETY: fstat into a zeroed struct.
    let is_socket = unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        libc::fstat(CHANNEL_FD, &mut st) == 0 && st.st_mode & libc::S_IFMT == libc::S_IFSOCK
    };
    if !is_socket {
        return None;
    }
    // Close-on-exec again, so that the program does not inherit it: kist learns that the
    // program runs when the channel closes.
    // SAFETY: fcntl on a descriptor this process has.
    unsafe { libc::fcntl(CHANNEL_FD, libc::F_SETFD, libc::FD_CLOEXEC) };
    // SAFETY: descriptor 3 was left open for this process by the container's set-up, and
    // nothing else in it owns it.
    Some(Channel::from_fd(unsafe {
        OwnedFd::from_raw_fd(CHANNEL_FD)
    }))
}

/// Forwards signals to the program and reaps; exits with the program's status.
fn supervise(child: libc::pid_t, all: &libc::sigset_t) -> ! {
    loop {
        // SAFETY: waiting for any signal of a valid set.
        let signal = unsafe { libc::sigwaitinfo(all, std::ptr::null_mut()) };
        if signal < 0 {
            continue;
        }
        if signal != libc::SIGCHLD {
            // SAFETY: our own child, not yet reaped.
            unsafe { libc::kill(child, signal) };
            continue;
        }
        loop {
            let mut status = 0;
            // SAFETY: reaping any child without blocking.
            let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
            if pid <= 0 {
                break;
            }
            if pid == child {
                let code = if libc::WIFSIGNALED(status) {
                    128 + libc::WTERMSIG(status)
                } else {
                    libc::WEXITSTATUS(status)
                };
                // SAFETY: leaving with the program's status.
                unsafe { libc::_exit(code) };
            }
        }
    }
}
