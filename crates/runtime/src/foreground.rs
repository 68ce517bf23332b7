//! A foreground container's I/O: the terminal in raw mode with its size passed on, standard
//! streams copied where they cannot be handed over directly, and signals forwarded, until the
//! container's process exits.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use rustix::termios::{self, OptionalActions, Termios};

use crate::ExitStatus;
use crate::create::Running;
use crate::error::{Result, SysContext};
use crate::signals::ForwardedSignals;

/// Copies from one descriptor to another while the container runs.
pub struct Pump {
    pub from: OwnedFd,
    pub to: OwnedFd,
    /// The stream the tee sees this copy as (None: the tee does not see it).
    pub tee: Option<OutputStream>,
}

/// Which of the container's outputs some bytes came from (its terminal is its stdout).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputStream {
    Stdout,
    Stderr,
}

/// Sees a copy of what the container writes, as it is copied out (its log).
pub type Tee = Box<dyn FnMut(OutputStream, &[u8])>;

#[derive(Default)]
pub struct ForegroundIo {
    /// The master side of the container's terminal (`-t`).
    pub console: Option<OwnedFd>,
    /// Copy kist's stdin into the terminal (`-i` with `-t`).
    pub stdin_to_console: bool,
    /// Do not show the terminal's output (`-t` attached to no output stream, `-a stdin`).
    pub console_hidden: bool,
    /// `--sig-proxy=false`: the signals kist gets are not passed on (they stay blocked, so
    /// they do not end kist either); a terminal's resize still is.
    pub keep_signals: bool,
    /// Copies out of the container: its output pipes to kist's stdout and stderr.
    pub outputs: Vec<Pump>,
    /// Copies into the container: kist's stdin to the program's stdin pipe.
    pub inputs: Vec<Pump>,
    /// Sees the outputs whose pumps name a stream (and the terminal's output).
    pub tee: Option<Tee>,
}

impl ForegroundIo {
    /// These streams with the container's terminal, sized like kist's own now: before the
    /// program starts, so that the first thing it reads is the right size.
    pub fn with_console(self, console: Option<OwnedFd>) -> ForegroundIo {
        if let Some(master) = &console {
            resize(master);
        }
        ForegroundIo { console, ..self }
    }
}

/// Runs the I/O of a started container until its process exits, and returns how it ended.
pub fn run_foreground(
    running: Running,
    mut io: ForegroundIo,
    signals: &ForwardedSignals,
) -> Result<ExitStatus> {
    let mut pumps = Pumps {
        outputs: std::mem::take(&mut io.outputs),
        inputs: std::mem::take(&mut io.inputs),
        tee: io.tee.take(),
    };
    let raw_guard = attach_console(&io, &mut pumps)?;
    loop {
        let mut fds = vec![
            pollfd(running.pidfd().as_raw_fd()),
            pollfd(signals.fd().as_raw_fd()),
        ];
        fds.extend(pumps.sources().map(pollfd));
        // SAFETY: fds is a valid array of pollfd for the duration of the call.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, -1) };
        if n < 0 {
            continue; // EINTR
        }
        if fds[1].revents != 0 {
            forward_signals(signals, &running, io.console.as_ref(), io.keep_signals);
        }
        pumps.copy_ready(&fds[2..]);
        if fds[0].revents != 0 {
            break;
        }
    }
    // The process has exited; what it wrote is still buffered in the pipes or the terminal.
    pumps.drain();
    drop(raw_guard);
    running.wait()
}

/// The copies running while the container does: out of it first, then into it.
struct Pumps {
    outputs: Vec<Pump>,
    inputs: Vec<Pump>,
    tee: Option<Tee>,
}

impl Pumps {
    /// The descriptors to poll, in the order `copy_ready` takes their results.
    fn sources(&self) -> impl Iterator<Item = i32> + '_ {
        self.outputs
            .iter()
            .chain(self.inputs.iter())
            .map(|p| p.from.as_raw_fd())
    }

    /// Copies what the poll found ready, and drops the pumps that are done.
    fn copy_ready(&mut self, polled: &[libc::pollfd]) {
        let outputs = self.outputs.len();
        let mut finished = Vec::new();
        for (i, fd) in polled.iter().enumerate() {
            let pump = if i < outputs {
                &self.outputs[i]
            } else {
                &self.inputs[i - outputs]
            };
            if fd.revents != 0 && !copy_once(pump, &mut self.tee) {
                finished.push(i);
            }
        }
        for i in finished.into_iter().rev() {
            if i < outputs {
                self.outputs.remove(i);
            } else {
                // Dropping the pump closes the container's end: the program sees end-of-file.
                self.inputs.remove(i - outputs);
            }
        }
    }

    /// Copies what the outputs still hold once the process has exited.
    fn drain(&mut self) {
        for p in &self.outputs {
            loop {
                let mut fds = [pollfd(p.from.as_raw_fd())];
                // SAFETY: a valid one-element pollfd array.
                let ready = unsafe { libc::poll(fds.as_mut_ptr(), 1, 0) };
                if ready <= 0 || !copy_once(p, &mut self.tee) {
                    break;
                }
            }
        }
    }
}

/// The terminal's output goes to kist's stdout and, with `-i`, kist's stdin (made raw) into
/// the terminal. Returns what restores kist's terminal.
fn attach_console(io: &ForegroundIo, pumps: &mut Pumps) -> Result<Option<RawTerminal>> {
    let Some(master) = &io.console else {
        return Ok(None);
    };
    // Read even when not shown: a terminal nobody reads fills up and blocks the program.
    let shown = if !io.console_hidden {
        dup(&std::io::stdout().as_fd())?
    } else {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/null")
            .sys(|| "opening /dev/null".into())?
            .into()
    };
    pumps.outputs.push(Pump {
        from: dup(&master.as_fd())?,
        to: shown,
        tee: Some(OutputStream::Stdout),
    });
    if !io.stdin_to_console {
        return Ok(None);
    }
    let raw_guard = RawTerminal::enter();
    pumps.inputs.push(Pump {
        from: dup(&std::io::stdin().as_fd())?,
        to: dup(&master.as_fd())?,
        tee: None,
    });
    Ok(raw_guard)
}

/// Passes on every pending signal: a terminal's size change to the container's terminal, the
/// others to its process.
fn forward_signals(
    signals: &ForwardedSignals,
    running: &Running,
    console: Option<&OwnedFd>,
    keep: bool,
) {
    while let Some(sig) = signals.next() {
        if sig == libc::SIGWINCH {
            if let Some(master) = console {
                resize(master);
            }
        } else if !keep {
            let _ = running.signal(sig);
        }
    }
}

fn pollfd(fd: i32) -> libc::pollfd {
    libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    }
}

fn dup(fd: &impl AsFd) -> Result<OwnedFd> {
    rustix::io::fcntl_dupfd_cloexec(fd, 3).sys(|| "duplicating a standard stream".into())
}

/// Copies what is available (showing it to the tee); false at end of input or when the
/// output is gone.
fn copy_once(p: &Pump, tee: &mut Option<Tee>) -> bool {
    let mut buf = [0u8; 32 * 1024];
    let n = match rustix::io::read(&p.from, &mut buf) {
        Ok(0) => return false,
        Ok(n) => n,
        Err(rustix::io::Errno::INTR) | Err(rustix::io::Errno::AGAIN) => return true,
        // EIO: a terminal whose other side has closed.
        Err(_) => return false,
    };
    if let (Some(stream), Some(tee)) = (p.tee, tee.as_mut()) {
        tee(stream, &buf[..n]);
    }
    write_all(&p.to, &buf[..n])
}

fn write_all(fd: &OwnedFd, mut data: &[u8]) -> bool {
    while !data.is_empty() {
        match rustix::io::write(fd, data) {
            Ok(n) => data = &data[n..],
            Err(rustix::io::Errno::INTR) => {}
            Err(_) => return false,
        }
    }
    true
}

/// Passes kist's terminal size on to the container's.
pub fn resize(master: &OwnedFd) {
    for fd in [0, 1] {
        // SAFETY: TIOCGWINSZ/TIOCSWINSZ with a valid winsize.
        unsafe {
            let mut ws: libc::winsize = std::mem::zeroed();
            if libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) == 0 {
                libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, &ws);
                return;
            }
        }
    }
}

/// kist's terminal in raw mode, restored when dropped (on an error's way out too): keys reach
/// the container unchanged.
pub struct RawTerminal {
    saved: Termios,
}

impl RawTerminal {
    /// None if stdin is not a terminal (nothing to change).
    pub fn enter() -> Option<RawTerminal> {
        let stdin = std::io::stdin();
        let saved = termios::tcgetattr(stdin.as_fd()).ok()?;
        let mut raw = saved.clone();
        raw.make_raw();
        termios::tcsetattr(stdin.as_fd(), OptionalActions::Now, &raw).ok()?;
        Some(RawTerminal { saved })
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(std::io::stdin().as_fd(), OptionalActions::Now, &self.saved);
    }
}
