//! A supervised container's terminal, shared with the clients that attach to it (`run -it`,
//! `attach` of a `-t` container): kist has no daemon to hold the terminal for them, so its
//! supervisor does. Each client that connects to `console.sock` gets the terminal's master
//! (SCM_RIGHTS), to type into and to size as its own terminal is, and then frames: what the
//! container writes, as it comes, and at the end its exit code. The client can come and go; the
//! container runs on, its output still logged.
//!
//! A frame: a kind byte, a little-endian u32 length, the payload. A client's first byte tells
//! the supervisor it has sized the terminal; with `run -it` the program starts only then, so
//! nothing it writes is missed and it reads the right size first.

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::time::{Duration, Instant};

use nix::sys::socket::{ControlMessage, ControlMessageOwned, MsgFlags, recvmsg, sendmsg};

use crate::error::{Error, IoContext, Result};
use crate::state::layout::Layout;

/// The socket's name in the container's runtime directory.
pub const SOCKET: &str = "console.sock";

const OUTPUT: u8 = 0;
const EXIT: u8 = 1;
const FAILED: u8 = 2;
/// The one byte that carries the master.
const HELLO: u8 = b'K';
/// A client that takes longer than this to read its output is dropped, so that it cannot hold
/// the container up.
const SLOW_CLIENT: Duration = Duration::from_secs(5);

/// The supervisor's side: the listening socket and the clients attached now.
pub(crate) struct ConsolePoint {
    listener: UnixListener,
    master: OwnedFd,
    clients: Vec<UnixStream>,
}

impl ConsolePoint {
    pub(crate) fn open(path: &Path, master: OwnedFd) -> Result<ConsolePoint> {
        let _ = std::fs::remove_file(path);
        let listener =
            crate::container::supervisor::with_short_path(path, |p| UnixListener::bind(p))
                .ctx("listening for attach on", path)?;
        let _ = listener.set_nonblocking(true);
        Ok(ConsolePoint {
            listener,
            master,
            clients: Vec::new(),
        })
    }

    pub(crate) fn listener_fd(&self) -> RawFd {
        self.listener.as_raw_fd()
    }

    pub(crate) fn client_fds(&self) -> Vec<RawFd> {
        self.clients.iter().map(AsRawFd::as_raw_fd).collect()
    }

    /// Accepts the clients waiting, handing each the terminal's master.
    pub(crate) fn accept(&mut self) {
        while let Ok((client, _)) = self.listener.accept() {
            let fds = [self.master.as_raw_fd()];
            let sent = sendmsg::<()>(
                client.as_raw_fd(),
                &[std::io::IoSlice::new(&[HELLO])],
                &[ControlMessage::ScmRights(&fds)],
                MsgFlags::MSG_NOSIGNAL,
                None,
            );
            if sent.is_ok() && client.set_nonblocking(false).is_ok() {
                let _ = client.set_write_timeout(Some(SLOW_CLIENT));
                self.clients.push(client);
            }
        }
    }

    /// Reads what the clients whose descriptors polled ready (`ready`, in `client_fds` order)
    /// sent, dropping those gone; true if one said it is ready.
    pub(crate) fn read_clients(&mut self, ready: &[libc::pollfd]) -> bool {
        let mut go = false;
        let mut gone = Vec::new();
        let mut buf = [0u8; 64];
        for (i, client) in self.clients.iter_mut().enumerate() {
            if ready.get(i).is_none_or(|p| p.revents == 0) {
                continue;
            }
            match rustix::io::read(&*client, &mut buf) {
                Ok(0) | Err(_) => gone.push(i),
                Ok(_) => go = true,
            }
        }
        for i in gone.into_iter().rev() {
            self.clients.remove(i);
        }
        go
    }

    /// Waits up to `timeout` for a client to connect and say it is ready.
    pub(crate) fn wait_for_client(&mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            let mut fds: Vec<libc::pollfd> = std::iter::once(self.listener_fd())
                .chain(self.client_fds())
                .map(|fd| libc::pollfd {
                    fd,
                    events: libc::POLLIN,
                    revents: 0,
                })
                .collect();
            // SAFETY: a valid pollfd array for the duration of the call.
            let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 100) };
            if n <= 0 {
                continue;
            }
            if self.read_clients(&fds[1..]) {
                return;
            }
            if fds[0].revents != 0 {
                self.accept();
            }
        }
    }

    /// The container's output, to every client.
    pub(crate) fn output(&mut self, data: &[u8]) {
        self.send(OUTPUT, data);
    }

    /// The container's exit code; the clients are done.
    pub(crate) fn exit(mut self, code: i32) {
        self.send(EXIT, &code.to_le_bytes());
    }

    /// Why the program could not start, and the status to exit with.
    pub(crate) fn failed(mut self, code: i32, message: &str) {
        let mut payload = code.to_le_bytes().to_vec();
        payload.extend_from_slice(message.as_bytes());
        self.send(FAILED, &payload);
    }

    fn send(&mut self, kind: u8, payload: &[u8]) {
        let Ok(len) = u32::try_from(payload.len()) else {
            return;
        };
        let mut frame = Vec::with_capacity(payload.len() + 5);
        frame.push(kind);
        frame.extend_from_slice(&len.to_le_bytes());
        frame.extend_from_slice(payload);
        self.clients.retain_mut(|c| c.write_all(&frame).is_ok());
    }
}

/// What a client reads.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    Output(Vec<u8>),
    Exit(i32),
    /// The program could not start: the status to exit with, and why.
    Failed(i32, String),
}

/// A client's side: the terminal's master and the frames.
pub struct ConsoleClient {
    pub master: OwnedFd,
    stream: UnixStream,
}

impl ConsoleClient {
    /// Connects to the console of container `id`; None if it has none (no `-t`, or not
    /// running under a supervisor).
    pub fn connect(layout: &Layout, id: &str) -> Result<Option<ConsoleClient>> {
        let path = layout.container_run_dir(id).join(SOCKET);
        let Ok(stream) =
            crate::container::supervisor::with_short_path(&path, |p| UnixStream::connect(p))
        else {
            return Ok(None);
        };
        let mut byte = [0u8; 1];
        let mut space = nix::cmsg_space!([RawFd; 1]);
        let mut iov = [std::io::IoSliceMut::new(&mut byte)];
        let msg = recvmsg::<()>(
            stream.as_raw_fd(),
            &mut iov,
            Some(&mut space),
            MsgFlags::MSG_CMSG_CLOEXEC,
        )
        .map_err(|e| Error::sys("receiving the container's terminal")(e.into()))?;
        let mut master = None;
        for c in msg
            .cmsgs()
            .map_err(|e| Error::sys("receiving the container's terminal")(e.into()))?
        {
            if let ControlMessageOwned::ScmRights(fds) = c {
                for fd in fds {
                    // SAFETY: the kernel just installed this descriptor for this process.
                    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
                    master.get_or_insert(owned);
                }
            }
        }
        Ok(master.map(|master| ConsoleClient { master, stream }))
    }

    /// Tells the supervisor the terminal is sized: a program waiting for this starts.
    pub fn ready(&mut self) -> Result<()> {
        self.stream
            .write_all(&[1])
            .map_err(Error::sys("writing to the container's supervisor"))
    }

    /// The socket, to poll.
    pub fn fd(&self) -> RawFd {
        self.stream.as_raw_fd()
    }

    /// The next frame; None when the supervisor closed the socket without an exit code (the
    /// container is restarting, or the supervisor went).
    pub fn next_frame(&mut self) -> Result<Option<Frame>> {
        let mut head = [0u8; 5];
        if self.stream.read_exact(&mut head).is_err() {
            return Ok(None);
        }
        let len = u32::from_le_bytes([head[1], head[2], head[3], head[4]]) as usize;
        let mut payload = vec![0u8; len];
        if self.stream.read_exact(&mut payload).is_err() {
            return Ok(None);
        }
        let code = || {
            payload
                .get(..4)
                .and_then(|b| b.try_into().ok())
                .map_or(125, i32::from_le_bytes)
        };
        Ok(Some(match head[0] {
            OUTPUT => Frame::Output(payload),
            EXIT => Frame::Exit(code()),
            _ => Frame::Failed(
                code(),
                String::from_utf8_lossy(payload.get(4..).unwrap_or_default()).into_owned(),
            ),
        }))
    }
}
