//! The user's terminal attached to a container's (`run -it`, `attach`), as Docker's CLI does
//! it: raw mode, restored on the way out whatever happens; the container's output as it comes;
//! the keys typed passed to the container's terminal, except the detach sequence (Ctrl-P
//! Ctrl-Q, or `--detach-keys`), which leaves the container running; the terminal's size and
//! the signals kist gets passed on.

use std::os::fd::AsRawFd;

use anyhow::{Result, bail};
use kist_engine::console::{ConsoleClient, Frame};
use kist_engine::{Engine, lifecycle};

/// Docker's detach sequence.
pub const DEFAULT_DETACH_KEYS: &str = "ctrl-p,ctrl-q";

/// Docker's `--detach-keys`: comma-separated keys, each one character or `ctrl-X` (X one of
/// a-z, @, [, \, ], ^, _).
pub fn parse_detach_keys(spec: &str) -> Result<Vec<u8>> {
    let bad = || {
        anyhow::anyhow!(
            "invalid --detach-keys {spec:?}: give keys separated by commas, each one character or ctrl-<a-z, @, [, \\, ], ^ or _>, like ctrl-p,ctrl-q"
        )
    };
    spec.split(',')
        .map(|key| match key.strip_prefix("ctrl-") {
            Some(c) if c.len() == 1 => {
                let c = c.as_bytes()[0].to_ascii_lowercase();
                match c {
                    b'a'..=b'z' => Ok(c - b'a' + 1),
                    b'@' => Ok(0),
                    b'[' | b'\\' | b']' | b'^' | b'_' => Ok(c - b'@'),
                    _ => Err(bad()),
                }
            }
            _ if key.len() == 1 => Ok(key.as_bytes()[0]),
            _ => Err(bad()),
        })
        .collect()
}

/// Finds the detach sequence in what is typed. Keys that may begin it are held back until it
/// is clear whether they do; then they are passed on, as Docker does.
struct DetachKeys {
    keys: Vec<u8>,
    held: usize,
}

impl DetachKeys {
    /// What to pass on of `input`, and whether the sequence is complete (what follows it is
    /// dropped).
    fn feed(&mut self, input: &[u8]) -> (Vec<u8>, bool) {
        let mut out = Vec::with_capacity(input.len());
        for &b in input {
            if self.keys.get(self.held) == Some(&b) {
                self.held += 1;
                if self.held == self.keys.len() {
                    return (out, true);
                }
                continue;
            }
            out.extend_from_slice(&self.keys[..self.held]);
            self.held = 0;
            if self.keys.first() == Some(&b) {
                self.held = 1;
                if self.keys.len() == 1 {
                    return (out, true);
                }
            } else {
                out.push(b);
            }
        }
        (out, false)
    }
}

/// How an attached session ended.
pub enum Ended {
    Exited(i32),
    /// The user typed the detach keys: the container runs on.
    Detached,
}

/// Follows container `id`'s terminal through its supervisor's `client` until the container
/// exits or the user detaches. With `input`, what is typed goes to the container.
pub fn attach(
    engine: &Engine,
    id: &str,
    mut client: ConsoleClient,
    detach_keys: &[u8],
    input: bool,
) -> Result<Ended> {
    let signals = kist_runtime::block_forwarded_signals()?;
    kist_runtime::resize(&client.master);
    let raw = if input {
        kist_runtime::RawTerminal::enter()
    } else {
        None
    };
    client.ready()?;
    let mut keys = DetachKeys {
        keys: detach_keys.to_vec(),
        held: 0,
    };
    let mut stdin_open = input;
    let mut buf = vec![0u8; 32 * 1024];
    let ended = loop {
        let pollin = |fd: i32| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        let mut fds = vec![pollin(client.fd()), pollin(signals.fd().as_raw_fd())];
        if stdin_open {
            fds.push(pollin(0));
        }
        // SAFETY: a valid pollfd array for the duration of the call.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, -1) };
        if n < 0 {
            continue; // EINTR
        }
        if fds[1].revents != 0 {
            pass_signals(engine, id, &signals, &client);
        }
        if fds[0].revents != 0 {
            match client.next_frame()? {
                Some(Frame::Output(bytes)) => {
                    // A reader that went away stops the output, not the session.
                    let _ = crate::output::write_out_checked(&bytes);
                }
                Some(Frame::Exit(code)) => break Ended::Exited(code),
                Some(Frame::Failed(code, message)) => {
                    drop(raw);
                    return Err(crate::status::ExitWith { code, message }.into());
                }
                // The supervisor let go without an exit code: killed (its record says how the
                // container ended), or the container was removed by force, so killed too.
                None => match engine.store.find_container(id) {
                    Ok(c) => break Ended::Exited(lifecycle::wait(engine, &c)?),
                    Err(kist_engine::Error::NoSuchContainer { .. }) => break Ended::Exited(137),
                    Err(e) => return Err(e.into()),
                },
            }
        }
        if fds.get(2).is_some_and(|p| p.revents != 0) {
            // SAFETY: reading into a buffer that lives across the call.
            let n = unsafe { libc::read(0, buf.as_mut_ptr().cast(), buf.len()) };
            if n < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EIO) {
                // The user's terminal hung up: nobody is left to attach, the container runs on.
                drop(raw);
                return Ok(Ended::Detached);
            }
            if n <= 0 {
                stdin_open = false;
                continue;
            }
            let (typed, detached) = keys.feed(&buf[..n.unsigned_abs()]);
            write_all(&client.master, &typed);
            if detached {
                break Ended::Detached;
            }
        }
    };
    drop(raw);
    Ok(ended)
}

/// A size change to the container's terminal; any other signal to the container.
fn pass_signals(
    engine: &Engine,
    id: &str,
    signals: &kist_runtime::ForwardedSignals,
    client: &ConsoleClient,
) {
    while let Some(sig) = signals.next() {
        if sig == libc::SIGWINCH {
            kist_runtime::resize(&client.master);
        } else if let Ok(c) = engine.store.find_container(id) {
            let _ = lifecycle::kill(engine, &c, sig);
        }
    }
}

fn write_all(fd: &std::os::fd::OwnedFd, mut data: &[u8]) {
    while !data.is_empty() {
        // SAFETY: writing from a slice that lives across the call.
        let n = unsafe { libc::write(fd.as_raw_fd(), data.as_ptr().cast(), data.len()) };
        if n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        if n <= 0 {
            return;
        }
        data = &data[n.unsigned_abs()..];
    }
}

/// The keys of `--detach-keys`, or Docker's.
pub fn detach_keys(flag: Option<&str>) -> Result<Vec<u8>> {
    let keys = parse_detach_keys(flag.unwrap_or(DEFAULT_DETACH_KEYS))?;
    if keys.is_empty() {
        bail!("--detach-keys needs at least one key");
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_s_detach_key_syntax() {
        assert_eq!(parse_detach_keys("ctrl-p,ctrl-q").unwrap(), [16, 17]);
        assert_eq!(
            parse_detach_keys("ctrl-@,ctrl-[,ctrl-_").unwrap(),
            [0, 27, 31]
        );
        assert_eq!(parse_detach_keys("a,ctrl-A,x").unwrap(), [b'a', 1, b'x']);
        for bad in ["ctrl-", "ctrl-1", "ab", "ctrl-p,", "shift-a"] {
            assert!(parse_detach_keys(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_sequence_is_found_and_other_keys_pass() {
        let mut k = DetachKeys {
            keys: vec![16, 17],
            held: 0,
        };
        assert_eq!(k.feed(b"ls\r"), (b"ls\r".to_vec(), false));
        // Ctrl-P alone is held, then passed on with the key that did not complete it.
        assert_eq!(k.feed(&[16]), (vec![], false));
        assert_eq!(k.feed(b"x"), (vec![16, b'x'], false));
        // Ctrl-P Ctrl-P Ctrl-Q: the first passes, the last two detach.
        assert_eq!(k.feed(&[b'a', 16, 16, 17, b'z']), (vec![b'a', 16], true));
    }
}
