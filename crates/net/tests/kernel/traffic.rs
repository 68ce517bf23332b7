//! The traffic the kernel tests send: one TCP exchange between a client and an echo server,
//! to addresses inside the test's own namespaces only.

use std::io::{Read, Write};
use std::net::{SocketAddrV4, TcpListener, TcpStream};
use std::time::Duration;

/// Accepts one connection on `listener` and echoes what it reads back, upper-cased.
pub fn echo_once(listener: TcpListener) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        let mut buf = [0u8; 5];
        stream.read_exact(&mut buf).expect("read");
        stream.write_all(&buf.to_ascii_uppercase()).expect("write");
    })
}

pub fn exchange(to: SocketAddrV4) -> String {
    let mut stream =
        TcpStream::connect_timeout(&to.into(), Duration::from_secs(5)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    stream.write_all(b"hello").expect("send");
    let mut reply = [0u8; 5];
    stream.read_exact(&mut reply).expect("reply");
    String::from_utf8_lossy(&reply).into_owned()
}
