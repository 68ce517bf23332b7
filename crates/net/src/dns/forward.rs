//! Queries for names kist does not know, passed to the host's resolvers over UDP: a fresh
//! socket (so a fresh source port) per query, a timeout per resolver, the reply accepted only
//! if it answers that query's id.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::time::Duration;

/// The resolvers to forward to, tried in order.
#[derive(Debug, Clone)]
pub struct Upstreams {
    servers: Vec<SocketAddr>,
    timeout: Duration,
}

impl Upstreams {
    pub fn new(servers: Vec<SocketAddr>, timeout: Duration) -> Upstreams {
        Upstreams { servers, timeout }
    }

    pub fn is_empty(&self) -> bool {
        self.servers.is_empty()
    }

    /// The first resolver's reply to `query`, or None if none answered in time.
    pub fn forward(&self, query: &[u8]) -> Option<Vec<u8>> {
        let id = query.get(..2)?;
        self.servers.iter().find_map(|server| {
            ask(*server, query, self.timeout)
                .ok()
                .filter(|r| answers(r, id))
        })
    }
}

fn ask(server: SocketAddr, query: &[u8], timeout: Duration) -> io::Result<Vec<u8>> {
    let local: SocketAddr = match server {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = UdpSocket::bind(local)?;
    socket.connect(server)?;
    socket.set_read_timeout(Some(timeout))?;
    socket.send(query)?;
    let mut buf = vec![0u8; 4096];
    let n = socket.recv(&mut buf)?;
    buf.truncate(n);
    Ok(buf)
}

/// A response (QR set) with the query's id.
fn answers(reply: &[u8], id: &[u8]) -> bool {
    reply.len() >= 12 && &reply[..2] == id && reply[2] & 0x80 != 0
}
