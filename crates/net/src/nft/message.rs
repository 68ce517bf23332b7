//! One nf_tables netlink message written by hand: the netlink header, the nfgenmsg header
//! (family, version, resource id) and attributes, nested ones included. Integers in
//! nf_tables attributes are big-endian; only the payloads compared against packet or
//! conntrack data have the byte order of what they are compared with.

const NLA_F_NESTED: u16 = 1 << 15;
const NLA_HDRLEN: usize = 4;
const NFNETLINK_V0: u8 = 0;

pub(crate) struct Message {
    buf: Vec<u8>,
}

impl Message {
    /// A message of type `kind` (subsystem << 8 | command) with netlink `flags`.
    pub fn new(kind: u16, flags: u16, seq: u32, family: u8, res_id: u16) -> Message {
        let mut buf = Vec::with_capacity(256);
        buf.extend_from_slice(&0u32.to_ne_bytes());
        buf.extend_from_slice(&kind.to_ne_bytes());
        buf.extend_from_slice(&flags.to_ne_bytes());
        buf.extend_from_slice(&seq.to_ne_bytes());
        buf.extend_from_slice(&0u32.to_ne_bytes());
        buf.extend_from_slice(&[family, NFNETLINK_V0]);
        buf.extend_from_slice(&res_id.to_be_bytes());
        Message { buf }
    }

    pub fn bytes(&mut self, kind: u16, value: &[u8]) -> &mut Self {
        let len = u16::try_from(NLA_HDRLEN + value.len()).unwrap_or(u16::MAX);
        self.buf.extend_from_slice(&len.to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.buf.extend_from_slice(value);
        self.pad();
        self
    }

    /// A NUL-terminated string.
    pub fn str(&mut self, kind: u16, value: &str) -> &mut Self {
        let mut bytes = Vec::with_capacity(value.len() + 1);
        bytes.extend_from_slice(value.as_bytes());
        bytes.push(0);
        self.bytes(kind, &bytes)
    }

    pub fn u32(&mut self, kind: u16, value: u32) -> &mut Self {
        self.bytes(kind, &value.to_be_bytes())
    }

    pub fn u64(&mut self, kind: u16, value: u64) -> &mut Self {
        self.bytes(kind, &value.to_be_bytes())
    }

    /// A nested attribute whose contents `fill` writes.
    pub fn nested(&mut self, kind: u16, fill: impl FnOnce(&mut Message)) -> &mut Self {
        let start = self.buf.len();
        self.buf.extend_from_slice(&0u16.to_ne_bytes());
        self.buf
            .extend_from_slice(&(kind | NLA_F_NESTED).to_ne_bytes());
        fill(self);
        let len = u16::try_from(self.buf.len() - start).unwrap_or(u16::MAX);
        self.buf[start..start + 2].copy_from_slice(&len.to_ne_bytes());
        self
    }

    fn pad(&mut self) {
        while !self.buf.len().is_multiple_of(4) {
            self.buf.push(0);
        }
    }

    /// The finished message, its length filled in.
    pub fn finish(mut self) -> Vec<u8> {
        let len = u32::try_from(self.buf.len()).unwrap_or(u32::MAX);
        self.buf[..4].copy_from_slice(&len.to_ne_bytes());
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_attributes_and_nesting() {
        let mut m = Message::new(0x0a06, 0x0405, 9, 1, 0x000a);
        m.str(1, "kist").nested(4, |n| {
            n.u32(2, 0x0102_0304);
        });
        let bytes = m.finish();
        assert_eq!(bytes.len(), 16 + 4 + 12 + 4 + 8);
        assert_eq!(&bytes[0..4], &44u32.to_ne_bytes());
        assert_eq!(
            &bytes[16..20],
            &[1, 0, 0, 10],
            "nfgenmsg: family, version, res_id big-endian"
        );
        assert_eq!(&bytes[20..28], &[9, 0, 1, 0, b'k', b'i', b's', b't']);
        assert_eq!(
            &bytes[28..32],
            &[0, 0, 0, 0],
            "the string's NUL and padding"
        );
        assert_eq!(&bytes[32..36], &[12, 0, 4, 0x80], "nested flag");
        assert_eq!(&bytes[36..44], &[8, 0, 2, 0, 1, 2, 3, 4]);
    }
}
