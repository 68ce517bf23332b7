//! Just enough of a gRPC client to call containerd's CRI plugin from a test, with no code
//! generator and no HTTP stack: HTTP/2 over a unix socket (prior knowledge, one stream per
//! call, headers sent as HPACK literals), and protobuf messages written and read field by
//! field. The server's headers are not decoded (they are Huffman-coded): a call succeeded
//! when a response message came back, as gRPC sends one only with status OK.

// Varint and HPACK bytes are the low seven bits of a number, masked or below 0x80.
#![allow(clippy::cast_possible_truncation)]

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// A protobuf message being written: fields appended in any order.
#[derive(Default, Clone)]
pub struct Msg(Vec<u8>);

fn varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

impl Msg {
    pub fn new() -> Msg {
        Msg::default()
    }

    fn key(&mut self, field: u32, wire: u8) {
        varint(&mut self.0, u64::from(field) << 3 | u64::from(wire));
    }

    pub fn bytes(mut self, field: u32, value: &[u8]) -> Msg {
        self.key(field, 2);
        varint(&mut self.0, value.len() as u64);
        self.0.extend_from_slice(value);
        self
    }

    pub fn str(self, field: u32, value: &str) -> Msg {
        self.bytes(field, value.as_bytes())
    }

    pub fn msg(self, field: u32, value: Msg) -> Msg {
        self.bytes(field, &value.0)
    }

    pub fn int(mut self, field: u32, value: u64) -> Msg {
        self.key(field, 0);
        varint(&mut self.0, value);
        self
    }
}

/// A protobuf message read back: its fields, varints and length-delimited ones.
pub struct Fields(Vec<(u32, Field)>);

enum Field {
    Varint(u64),
    Bytes(Vec<u8>),
}

impl Fields {
    pub fn parse(mut b: &[u8]) -> Fields {
        fn read_varint(b: &mut &[u8]) -> u64 {
            let mut n = 0u64;
            for shift in (0..64).step_by(7) {
                let byte = b[0];
                *b = &b[1..];
                n |= u64::from(byte & 0x7f) << shift;
                if byte < 0x80 {
                    break;
                }
            }
            n
        }
        let mut out = Vec::new();
        while !b.is_empty() {
            let key = read_varint(&mut b);
            let field = u32::try_from(key >> 3).unwrap();
            match key & 7 {
                0 => out.push((field, Field::Varint(read_varint(&mut b)))),
                2 => {
                    let len = usize::try_from(read_varint(&mut b)).unwrap();
                    out.push((field, Field::Bytes(b[..len].to_vec())));
                    b = &b[len..];
                }
                1 => b = &b[8..],
                5 => b = &b[4..],
                w => panic!("protobuf wire type {w} in a CRI response"),
            }
        }
        Fields(out)
    }

    fn bytes(&self, field: u32) -> Option<&[u8]> {
        self.0.iter().find_map(|(f, v)| match v {
            Field::Bytes(b) if *f == field => Some(b.as_slice()),
            _ => None,
        })
    }

    /// A string field ("" when absent, as proto3 leaves defaults out).
    pub fn str(&self, field: u32) -> String {
        String::from_utf8_lossy(self.bytes(field).unwrap_or_default()).into_owned()
    }

    /// A message field (empty when absent).
    pub fn msg(&self, field: u32) -> Fields {
        Fields::parse(self.bytes(field).unwrap_or_default())
    }

    /// A varint field (0 when absent).
    pub fn int(&self, field: u32) -> u64 {
        self.0
            .iter()
            .find_map(|(f, v)| match v {
                Field::Varint(n) if *f == field => Some(*n),
                _ => None,
            })
            .unwrap_or(0)
    }
}

const DATA: u8 = 0;
const HEADERS: u8 = 1;
const RST_STREAM: u8 = 3;
const SETTINGS: u8 = 4;
const PING: u8 = 6;
const GOAWAY: u8 = 7;
const WINDOW_UPDATE: u8 = 8;
const END_STREAM: u8 = 1;
const ACK: u8 = 1;
const END_HEADERS: u8 = 4;

/// One HTTP/2 connection to a gRPC server on a unix socket.
pub struct Client {
    sock: UnixStream,
    next_stream: u32,
}

/// HPACK's integer with an N-bit prefix (RFC 7541 5.1), the prefix's other bits zero.
fn hpack_int(out: &mut Vec<u8>, prefix_bits: u32, mut n: usize) {
    let max = (1usize << prefix_bits) - 1;
    if n < max {
        out.push(n as u8);
        return;
    }
    out.push(max as u8);
    n -= max;
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// A header as "literal without indexing, new name", plain (not Huffman) strings.
fn hpack_literal(out: &mut Vec<u8>, name: &str, value: &str) {
    out.push(0);
    hpack_int(out, 7, name.len());
    out.extend_from_slice(name.as_bytes());
    hpack_int(out, 7, value.len());
    out.extend_from_slice(value.as_bytes());
}

impl Client {
    pub fn connect(path: &Path) -> std::io::Result<Client> {
        let sock = UnixStream::connect(path)?;
        sock.set_read_timeout(Some(Duration::from_secs(120)))?;
        let mut c = Client {
            sock,
            next_stream: 1,
        };
        c.sock.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")?;
        c.frame(SETTINGS, 0, 0, &[])?;
        Ok(c)
    }

    fn frame(&mut self, typ: u8, flags: u8, stream: u32, payload: &[u8]) -> std::io::Result<()> {
        let len = u32::try_from(payload.len()).unwrap();
        let mut f = len.to_be_bytes()[1..].to_vec();
        f.extend([typ, flags]);
        f.extend(stream.to_be_bytes());
        f.extend_from_slice(payload);
        self.sock.write_all(&f)
    }

    fn read_frame(&mut self) -> std::io::Result<(u8, u8, u32, Vec<u8>)> {
        let mut head = [0u8; 9];
        self.sock.read_exact(&mut head)?;
        let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
        let stream = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
        let mut payload = vec![0u8; len];
        self.sock.read_exact(&mut payload)?;
        Ok((head[3], head[4], stream, payload))
    }

    /// Calls `/SERVICE/METHOD` with `request`: the response message, or Err with what came
    /// back instead (the raw trailers, a reset, the connection's end).
    pub fn call(&mut self, method: &str, request: &Msg) -> Result<Fields, String> {
        let stream = self.next_stream;
        self.next_stream += 2;
        let mut block = Vec::new();
        for (name, value) in [
            (":method", "POST"),
            (":scheme", "http"),
            (":path", method),
            (":authority", "localhost"),
            ("content-type", "application/grpc"),
            ("te", "trailers"),
        ] {
            hpack_literal(&mut block, name, value);
        }
        let mut body = vec![0u8];
        body.extend(u32::try_from(request.0.len()).unwrap().to_be_bytes());
        body.extend_from_slice(&request.0);
        self.frame(HEADERS, END_HEADERS, stream, &block)
            .map_err(|e| e.to_string())?;
        self.frame(DATA, END_STREAM, stream, &body)
            .map_err(|e| e.to_string())?;
        let mut data = Vec::new();
        let mut trailers = Vec::new();
        loop {
            let (typ, flags, on, payload) = self.read_frame().map_err(|e| e.to_string())?;
            match typ {
                SETTINGS if flags & ACK == 0 => self
                    .frame(SETTINGS, ACK, 0, &[])
                    .map_err(|e| e.to_string())?,
                PING if flags & ACK == 0 => self
                    .frame(PING, ACK, 0, &payload)
                    .map_err(|e| e.to_string())?,
                GOAWAY => return Err("the server closed the connection (GOAWAY)".into()),
                RST_STREAM if on == stream => return Err("the server reset the call".into()),
                DATA if on == stream => {
                    data.extend_from_slice(&payload);
                    // Give the connection its window back: the calls add up past 64 KiB.
                    let n = u32::try_from(payload.len()).unwrap();
                    if n > 0 {
                        self.frame(WINDOW_UPDATE, 0, 0, &n.to_be_bytes())
                            .map_err(|e| e.to_string())?;
                    }
                    if flags & END_STREAM != 0 {
                        break;
                    }
                }
                HEADERS if on == stream => {
                    trailers.extend_from_slice(&payload);
                    if flags & END_STREAM != 0 {
                        break;
                    }
                }
                _ => {}
            }
        }
        // A response is one length-prefixed message; none means a status other than OK.
        if data.len() < 5 {
            return Err(format!(
                "{method} failed: {}",
                String::from_utf8_lossy(&trailers)
            ));
        }
        let len = u32::from_be_bytes([data[1], data[2], data[3], data[4]]) as usize;
        Ok(Fields::parse(&data[5..5 + len]))
    }
}
