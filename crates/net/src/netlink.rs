//! A netlink socket of one protocol (route or netfilter), bound in the network namespace of
//! the thread that opened it and staying there: requests out, acknowledgements and dumps back,
//! each failure with the kernel's errno and, where it gives one, its extended-ack message.

use std::io;

use netlink_sys::{Socket, SocketAddr};

const NLMSG_HDRLEN: usize = 16;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
/// The error message carries extended-ack attributes after the (capped) request header.
const NLM_F_ACK_TLVS: u16 = 0x200;
const NLMSGERR_ATTR_MSG: u16 = 1;

/// A refusal by the kernel: the errno and the extended-ack text, if any.
#[derive(Debug)]
pub(crate) struct Nack {
    /// The sequence number of the refused request.
    pub seq: u32,
    pub errno: i32,
    pub message: Option<String>,
}

impl Nack {
    /// An `io::Error` of the errno (so that callers can tell EEXIST from ENOENT) and the text
    /// that goes into the error's context.
    pub fn into_parts(self) -> (io::Error, String) {
        let text = self.message.map(|m| format!(" ({m})")).unwrap_or_default();
        (io::Error::from_raw_os_error(self.errno), text)
    }
}

/// A reply's header fields and payload (after the 16-byte netlink header).
pub(crate) struct Reply<'a> {
    /// The whole message, header included.
    pub message: &'a [u8],
    pub kind: u16,
    pub seq: u32,
    pub payload: &'a [u8],
}

pub(crate) struct Channel {
    socket: Socket,
    seq: u32,
    buf: Vec<u8>,
}

pub(crate) enum Failure {
    Io(io::Error),
    Nack(Nack),
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Failure {
        Failure::Io(e)
    }
}

impl Channel {
    /// A socket of `protocol` (`netlink_sys::constants::NETLINK_*`) in the calling thread's
    /// network namespace, connected to the kernel, asking for capped extended acks.
    pub fn open(protocol: isize) -> io::Result<Channel> {
        let mut socket = Socket::new(protocol)?;
        socket.bind_auto()?;
        socket.connect(&SocketAddr::new(0, 0))?;
        // Both are hints: an old kernel without them still acknowledges.
        let _ = socket.set_ext_ack(true);
        let _ = socket.set_cap_ack(true);
        Ok(Channel {
            socket,
            seq: 0,
            buf: Vec::with_capacity(64 * 1024),
        })
    }

    /// The socket, for the ioctls that ask the socket's namespace about a link by name.
    pub fn fd(&self) -> std::os::fd::BorrowedFd<'_> {
        std::os::fd::AsFd::as_fd(&self.socket)
    }

    /// Makes `seq` the last number used (a batch numbers its messages itself).
    pub fn set_seq(&mut self, seq: u32) {
        self.seq = seq;
    }

    pub fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    pub fn send(&self, bytes: &[u8]) -> io::Result<()> {
        let sent = self.socket.send(bytes, 0)?;
        if sent == bytes.len() {
            Ok(())
        } else {
            Err(io::Error::other("netlink message sent in part"))
        }
    }

    /// Reads one datagram (blocking unless `dontwait`) into the buffer; Ok(false) when
    /// non-blocking and nothing is queued.
    fn read(&mut self, dontwait: bool) -> io::Result<bool> {
        self.buf.clear();
        let flags = if dontwait { libc::MSG_DONTWAIT } else { 0 };
        match self.socket.recv(&mut self.buf, flags) {
            Ok(n) if n > self.buf.capacity() => Err(io::Error::other("netlink reply truncated")),
            Ok(_) => Ok(true),
            Err(e) if dontwait && e.kind() == io::ErrorKind::WouldBlock => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Waits for the acknowledgement of each of `seqs` (requests sent with NLM_F_ACK). After
    /// the first refusal it only reads what is already queued (a failed nf_tables batch
    /// answers only some of its messages) and returns that refusal.
    pub fn acks(&mut self, seqs: &[u32]) -> Result<(), Failure> {
        let mut pending: Vec<u32> = seqs.to_vec();
        let mut first_nack: Option<Nack> = None;
        while !pending.is_empty() {
            if !self.read(first_nack.is_some())? {
                break;
            }
            for reply in replies(&self.buf) {
                let reply = reply?;
                if reply.kind != NLMSG_ERROR {
                    continue;
                }
                pending.retain(|s| *s != reply.seq);
                if let Some(nack) = parse_error(reply.seq, reply.payload)? {
                    first_nack.get_or_insert(nack);
                }
            }
        }
        first_nack.map_or(Ok(()), |n| Err(Failure::Nack(n)))
    }

    /// Reads the multi-part answer to the dump request `seq`, giving each message to `each`.
    pub fn dump(&mut self, seq: u32, mut each: impl FnMut(&Reply<'_>)) -> Result<(), Failure> {
        loop {
            self.read(false)?;
            for reply in replies(&self.buf) {
                let reply = reply?;
                if reply.seq != seq {
                    continue;
                }
                match reply.kind {
                    NLMSG_DONE => return Ok(()),
                    NLMSG_ERROR => match parse_error(reply.seq, reply.payload)? {
                        Some(nack) => return Err(Failure::Nack(nack)),
                        None => return Ok(()),
                    },
                    _ => each(&reply),
                }
            }
        }
    }
}

/// The netlink messages of one datagram.
fn replies(mut buf: &[u8]) -> impl Iterator<Item = io::Result<Reply<'_>>> {
    std::iter::from_fn(move || {
        if buf.len() < NLMSG_HDRLEN {
            return None;
        }
        let len = usize::try_from(u32_at(buf, 0)).unwrap_or(usize::MAX);
        if len < NLMSG_HDRLEN || len > buf.len() {
            buf = &[];
            return Some(Err(io::Error::other("malformed netlink reply")));
        }
        let reply = Reply {
            message: &buf[..len],
            kind: u16_at(buf, 4),
            seq: u32_at(buf, 8),
            payload: &buf[NLMSG_HDRLEN..len],
        };
        buf = &buf[align4(len).min(buf.len())..];
        Some(Ok(reply))
    })
}

/// An NLMSG_ERROR payload: None for an acknowledgement, the refusal otherwise.
fn parse_error(seq: u32, payload: &[u8]) -> io::Result<Option<Nack>> {
    if payload.len() < 4 + NLMSG_HDRLEN {
        return Err(io::Error::other("short netlink error message"));
    }
    let code = i32::from_ne_bytes([payload[0], payload[1], payload[2], payload[3]]);
    if code == 0 {
        return Ok(None);
    }
    let request = &payload[4..];
    let flags = u16_at(request, 6);
    let message = if flags & NLM_F_ACK_TLVS != 0 {
        ack_message(&request[NLMSG_HDRLEN..])
    } else {
        None
    };
    Ok(Some(Nack {
        seq,
        errno: -code,
        message,
    }))
}

/// The NLMSGERR_ATTR_MSG string among the extended-ack attributes.
fn ack_message(mut attrs: &[u8]) -> Option<String> {
    while attrs.len() >= 4 {
        let len = usize::from(u16_at(attrs, 0));
        if len < 4 || len > attrs.len() {
            return None;
        }
        if u16_at(attrs, 2) == NLMSGERR_ATTR_MSG {
            let text = attrs[4..len].split(|b| *b == 0).next().unwrap_or_default();
            return Some(String::from_utf8_lossy(text).into_owned());
        }
        attrs = &attrs[align4(len).min(attrs.len())..];
    }
    None
}

pub(crate) fn align4(len: usize) -> usize {
    (len + 3) & !3
}

pub(crate) fn u16_at(buf: &[u8], at: usize) -> u16 {
    u16::from_ne_bytes([buf[at], buf[at + 1]])
}

pub(crate) fn u32_at(buf: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(len: u32, kind: u16, flags: u16, seq: u32) -> Vec<u8> {
        let mut h = Vec::new();
        h.extend_from_slice(&len.to_ne_bytes());
        h.extend_from_slice(&kind.to_ne_bytes());
        h.extend_from_slice(&flags.to_ne_bytes());
        h.extend_from_slice(&seq.to_ne_bytes());
        h.extend_from_slice(&0u32.to_ne_bytes());
        h
    }

    #[test]
    fn an_error_with_its_extended_ack_text() {
        let mut payload = (-16i32).to_ne_bytes().to_vec();
        payload.extend(header(20, 5, NLM_F_ACK_TLVS, 7));
        let text = b"Chain is in use\0";
        let attr_len = u16::try_from(4 + text.len()).expect("short");
        payload.extend_from_slice(&attr_len.to_ne_bytes());
        payload.extend_from_slice(&NLMSGERR_ATTR_MSG.to_ne_bytes());
        payload.extend_from_slice(text);
        let nack = parse_error(7, &payload)
            .expect("parsed")
            .expect("a refusal");
        assert_eq!(nack.errno, libc::EBUSY);
        assert_eq!(nack.message.as_deref(), Some("Chain is in use"));
    }

    #[test]
    fn an_acknowledgement_is_no_error() {
        let mut payload = 0i32.to_ne_bytes().to_vec();
        payload.extend(header(20, 5, 0, 7));
        assert!(parse_error(7, &payload).expect("parsed").is_none());
    }

    #[test]
    fn messages_of_a_datagram_in_order() {
        let mut buf = header(20, NLMSG_ERROR, 0, 1);
        buf.extend_from_slice(&[1, 2, 3, 4]);
        buf.extend(header(16, NLMSG_DONE, 0, 2));
        let got: Vec<(u16, u32, usize)> = replies(&buf)
            .map(|r| r.map(|r| (r.kind, r.seq, r.payload.len())))
            .collect::<io::Result<_>>()
            .expect("well formed");
        assert_eq!(got, vec![(NLMSG_ERROR, 1, 4), (NLMSG_DONE, 2, 0)]);
        let truncated = header(40, NLMSG_DONE, 0, 3);
        assert!(replies(&truncated).next().expect("one").is_err());
    }
}
