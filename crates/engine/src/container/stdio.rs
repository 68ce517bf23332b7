//! The standard streams of a foreground container or exec: kist's own, except that a stream
//! that is a terminal is never handed to a container (it could push input into the host's
//! terminal with TIOCSTI): it is copied through a pipe. So are the outputs of a container whose
//! output is also logged (`kist run` without `--rm`, as Docker logs it).

use std::os::fd::{AsFd, OwnedFd};

use kist_runtime::{ForegroundIo, OutputStream, Stdio};

use crate::error::{Error, IoContext, Result};
use crate::options::attach::Attach;

/// The streams for a process with or without a terminal (`tty`) and stdin (`interactive`);
/// with `logged`, its outputs are copied through kist, where the caller's tee sees them.
pub fn connect_stdio(tty: bool, interactive: bool, logged: bool) -> Result<(Stdio, ForegroundIo)> {
    let attach = Attach {
        stdin: interactive,
        ..Attach::default()
    };
    connect_attached(tty, attach, logged)
}

/// The same, with only the `attach`ed streams connected to kist's: the others are not shown
/// (only logged, when `logged`), as a stream Docker does not attach.
pub fn connect_attached(tty: bool, attach: Attach, logged: bool) -> Result<(Stdio, ForegroundIo)> {
    let mut io = ForegroundIo::default();
    if tty {
        io.stdin_to_console = attach.stdin;
        io.console_hidden = !attach.stdout && !attach.stderr;
        return Ok((Stdio::Terminal, io));
    }
    let stdin = if attach.stdin {
        let host = dup(&std::io::stdin().as_fd())?;
        if is_terminal(&host) {
            let (r, w) = pipe()?;
            io.inputs.push(kist_runtime::Pump {
                from: host,
                to: w,
                tee: None,
            });
            r
        } else {
            host
        }
    } else {
        null(libc::O_RDONLY)?
    };
    let mut output = |host: OwnedFd, stream: OutputStream| -> Result<OwnedFd> {
        if logged || is_terminal(&host) {
            let (r, w) = pipe()?;
            io.outputs.push(kist_runtime::Pump {
                from: r,
                to: host,
                tee: Some(stream),
            });
            Ok(w)
        } else {
            Ok(host)
        }
    };
    // A stream not attached is not shown, but still logged, as Docker logs every stream.
    let stdout = match (attach.stdout, logged) {
        (true, _) => output(dup(&std::io::stdout().as_fd())?, OutputStream::Stdout)?,
        (false, true) => output(null(libc::O_WRONLY)?, OutputStream::Stdout)?,
        (false, false) => null(libc::O_WRONLY)?,
    };
    let stderr = match (attach.stderr, logged) {
        (true, _) => output(dup(&std::io::stderr().as_fd())?, OutputStream::Stderr)?,
        (false, true) => output(null(libc::O_WRONLY)?, OutputStream::Stderr)?,
        (false, false) => null(libc::O_WRONLY)?,
    };
    Ok((
        Stdio::Fds {
            stdin,
            stdout,
            stderr,
        },
        io,
    ))
}

fn null(access: libc::c_int) -> Result<OwnedFd> {
    use std::os::unix::fs::OpenOptionsExt;
    Ok(std::fs::OpenOptions::new()
        .read(access == libc::O_RDONLY)
        .write(access == libc::O_WRONLY)
        .custom_flags(libc::O_CLOEXEC)
        .open("/dev/null")
        .ctx("opening", "/dev/null")?
        .into())
}

fn dup(fd: &impl AsFd) -> Result<OwnedFd> {
    fd.as_fd()
        .try_clone_to_owned()
        .map_err(Error::sys("duplicating a standard stream"))
}

fn is_terminal(fd: &OwnedFd) -> bool {
    use std::io::IsTerminal;
    fd.is_terminal()
}

/// A pipe whose ends are closed on exec: (read, write).
pub(crate) fn pipe() -> Result<(OwnedFd, OwnedFd)> {
    nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(|e| Error::sys("creating a pipe")(e.into()))
}
