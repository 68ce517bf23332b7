//! The channel between kist and a container's first process while it is being set up: a
//! `SOCK_SEQPACKET` socket pair, one message a packet. The child's end is close-on-exec, so a
//! successful exec shows up on kist's side as the end of the stream.

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use nix::sys::socket::{
    AddressFamily, ControlMessage, ControlMessageOwned, MsgFlags, SockFlag, SockType, recvmsg,
    sendmsg, socketpair,
};

use crate::error::{Error, Result};

/// A message on the channel.
#[derive(Debug, PartialEq, Eq)]
pub enum Message {
    /// Child: here is the terminal's master side (carried as an fd).
    Console,
    /// Child: set-up is done; waiting for `Start`.
    Ready,
    /// Parent: exec now.
    Start,
    /// Parent: the container's cgroup directories exist; here is, for each hierarchy, its
    /// file that moves the writer in (carried as fds; sent only on cgroup v1, where the child
    /// is not born in its cgroup).
    Join,
    /// Parent: the new user namespace's id maps are written (sent only when it has one).
    Mapped,
    /// Child: its mounts are made, it waits before `pivot_root` for its creator's hooks (sent
    /// only when the launch has [`crate::ContainerHooks`]).
    Mounted,
    /// Parent: the hooks before the pivot ran; here are the state documents the container's
    /// own hooks are told (`createContainer`'s, then `startContainer`'s).
    Resume {
        create_state: Vec<u8>,
        start_state: Vec<u8>,
    },
    /// Child: set-up or exec failed.
    Failed { code: i32, message: String },
}

/// The most descriptors one message carries (a cgroup v1 host has about a dozen hierarchies).
pub const MAX_FDS: usize = 32;

pub struct Channel {
    fd: OwnedFd,
}

pub fn channel_pair() -> Result<(Channel, Channel)> {
    let (a, b) = socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(|e| Error::sys("creating the set-up channel", e.into()))?;
    Ok((Channel { fd: a }, Channel { fd: b }))
}

impl Channel {
    /// A channel over a descriptor inherited across exec (init's descriptor 3).
    pub(crate) fn from_fd(fd: OwnedFd) -> Channel {
        Channel { fd }
    }

    pub(crate) fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// For the container's child: waits for kist's `expected` message, and leaves quietly
    /// (exit 125) on anything else, as kist then failed or went away and there is nothing left
    /// to set up for.
    pub(crate) fn await_or_exit(&self, expected: Message) -> Result<()> {
        match self.recv()? {
            Some((got, _)) if got == expected => Ok(()),
            // SAFETY: leaving the forked child without the parent's destructors or atexit
            // handlers, as a forked child must.
            _ => unsafe { libc::_exit(125) },
        }
    }

    pub fn send(&self, msg: &Message) -> Result<()> {
        self.send_with_fd(msg, None)
    }

    pub fn send_with_fd(&self, msg: &Message, fd: Option<RawFd>) -> Result<()> {
        self.send_with_fds(msg, fd.as_slice())
    }

    /// Sends `msg` with the descriptors `fds` (at most [`MAX_FDS`]).
    pub fn send_with_fds(&self, msg: &Message, fds: &[RawFd]) -> Result<()> {
        let bytes = encode(msg);
        let cmsgs: Vec<ControlMessage> = Some(fds)
            .filter(|f| !f.is_empty())
            .map(ControlMessage::ScmRights)
            .into_iter()
            .collect();
        loop {
            match sendmsg::<()>(
                self.fd.as_raw_fd(),
                &[IoSlice::new(&bytes)],
                &cmsgs,
                MsgFlags::MSG_NOSIGNAL,
                None,
            ) {
                Ok(_) => return Ok(()),
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(Error::sys("sending on the set-up channel", e.into())),
            }
        }
    }

    /// The next message and the first fd it carried; None when the other side has closed its
    /// end.
    pub fn recv(&self) -> Result<Option<(Message, Option<OwnedFd>)>> {
        Ok(self
            .recv_with_fds()?
            .map(|(m, fds)| (m, fds.into_iter().next())))
    }

    /// The next message and every fd it carried; None when the other side has closed its end.
    pub fn recv_with_fds(&self) -> Result<Option<(Message, Vec<OwnedFd>)>> {
        let mut buf = vec![0u8; 64 * 1024];
        let mut cmsg = nix::cmsg_space!([RawFd; MAX_FDS]);
        loop {
            let mut iov = [IoSliceMut::new(&mut buf)];
            let received = recvmsg::<()>(
                self.fd.as_raw_fd(),
                &mut iov,
                Some(&mut cmsg),
                MsgFlags::MSG_CMSG_CLOEXEC,
            );
            let msg = match received {
                Ok(m) => m,
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(Error::sys("reading the set-up channel", e.into())),
            };
            let mut fds = Vec::new();
            for c in msg
                .cmsgs()
                .map_err(|e| Error::sys("reading the set-up channel", e.into()))?
            {
                if let ControlMessageOwned::ScmRights(received) = c {
                    // SAFETY: the kernel just installed these fds in our table for us alone.
                    fds.extend(
                        received
                            .into_iter()
                            .map(|f| unsafe { OwnedFd::from_raw_fd(f) }),
                    );
                }
            }
            let n = msg.bytes;
            if n == 0 {
                return Ok(None);
            }
            return Ok(Some((decode(&buf[..n])?, fds)));
        }
    }
}

fn encode(msg: &Message) -> Vec<u8> {
    match msg {
        Message::Console => vec![b'C'],
        Message::Ready => vec![b'R'],
        Message::Start => vec![b'S'],
        Message::Join => vec![b'J'],
        Message::Mounted => vec![b'M'],
        Message::Mapped => vec![b'U'],
        Message::Resume {
            create_state,
            start_state,
        } => {
            let mut v = vec![b'H'];
            let len = u32::try_from(create_state.len()).unwrap_or(u32::MAX);
            v.extend_from_slice(&len.to_le_bytes());
            v.extend_from_slice(create_state);
            v.extend_from_slice(start_state);
            v
        }
        Message::Failed { code, message } => {
            let mut v = vec![b'F'];
            v.extend_from_slice(&code.to_le_bytes());
            v.extend_from_slice(message.as_bytes());
            v
        }
    }
}

fn decode(bytes: &[u8]) -> Result<Message> {
    match bytes {
        [b'C'] => Ok(Message::Console),
        [b'R'] => Ok(Message::Ready),
        [b'S'] => Ok(Message::Start),
        [b'J'] => Ok(Message::Join),
        [b'M'] => Ok(Message::Mounted),
        [b'U'] => Ok(Message::Mapped),
        [b'H', a, b, c, d, rest @ ..] => {
            let len = usize::try_from(u32::from_le_bytes([*a, *b, *c, *d])).unwrap_or(usize::MAX);
            if len > rest.len() {
                return Err(Error::Spec("a truncated Resume message".into()));
            }
            let (create_state, start_state) = rest.split_at(len);
            Ok(Message::Resume {
                create_state: create_state.to_vec(),
                start_state: start_state.to_vec(),
            })
        }
        [b'F', a, b, c, d, rest @ ..] => Ok(Message::Failed {
            code: i32::from_le_bytes([*a, *b, *c, *d]),
            message: String::from_utf8_lossy(rest).into_owned(),
        }),
        _ => Err(Error::Spec(format!("unexpected set-up message {bytes:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip() {
        for m in [
            Message::Console,
            Message::Ready,
            Message::Start,
            Message::Join,
            Message::Mounted,
            Message::Mapped,
            Message::Resume {
                create_state: b"{\"status\":\"creating\"}".to_vec(),
                start_state: b"{\"status\":\"created\"}".to_vec(),
            },
            Message::Failed {
                code: 127,
                message: "not found".into(),
            },
        ] {
            assert_eq!(decode(&encode(&m)).unwrap(), m);
        }
    }

    #[test]
    fn a_closed_peer_reads_as_none_and_fds_travel() {
        let (a, b) = channel_pair().unwrap();
        let file = std::fs::File::open("/dev/null").unwrap();
        a.send_with_fd(&Message::Console, Some(file.as_raw_fd()))
            .unwrap();
        let (m, fd) = b.recv().unwrap().unwrap();
        assert_eq!(m, Message::Console);
        assert!(fd.is_some());
        let files: Vec<_> = (0..3)
            .map(|_| std::fs::File::open("/dev/null").unwrap())
            .collect();
        let raw: Vec<RawFd> = files.iter().map(AsRawFd::as_raw_fd).collect();
        a.send_with_fds(&Message::Join, &raw).unwrap();
        let (m, fds) = b.recv_with_fds().unwrap().unwrap();
        assert_eq!(m, Message::Join);
        assert_eq!(fds.len(), 3);
        drop(a);
        assert!(b.recv().unwrap().is_none());
    }
}
