//! Detects a stream's compression from its first bytes and decompresses it.

use std::io::{self, BufRead, Read};

use crate::error::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    /// Looks at the first bytes of `input` without consuming them.
    pub fn detect<R: BufRead>(input: &mut R) -> Result<Compression> {
        let head = fill_at_least(input)?;
        Ok(match head {
            [0x1f, 0x8b, ..] => Compression::Gzip,
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
            [0xfd, b'7', b'z', b'X', b'Z', 0, ..] => {
                return Err(Error::UnsupportedCompression("xz"));
            }
            [b'B', b'Z', b'h', ..] => return Err(Error::UnsupportedCompression("bzip2")),
            _ => Compression::None,
        })
    }

    /// The OCI media type of a layer blob with this compression.
    pub fn layer_media_type(self) -> &'static str {
        match self {
            Compression::None => "application/vnd.oci.image.layer.v1.tar",
            Compression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
            Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
        }
    }

    pub fn decompress<'a, R: BufRead + 'a>(self, input: R) -> Result<Box<dyn Read + 'a>> {
        Ok(match self {
            Compression::None => Box::new(input),
            Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(input)),
            Compression::Zstd => Box::new(
                zstd::stream::read::Decoder::with_buffer(input)
                    .map_err(|e| Error::BadArchive(format!("zstd: {e}")))?,
            ),
        })
    }
}

/// Returns what is buffered at the start of `input`: a compression or tar header arrives in the
/// first read in practice, and too few bytes only mean "not compressed", which the tar reader judges.
fn fill_at_least<R: BufRead>(input: &mut R) -> Result<&[u8]> {
    input
        .fill_buf()
        .map_err(|e: io::Error| Error::BadArchive(format!("reading the input: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_magic() {
        let mut gz = &[0x1f, 0x8b, 8, 0, 0, 0, 0][..];
        assert_eq!(Compression::detect(&mut gz).unwrap(), Compression::Gzip);
        let mut zs = &[0x28, 0xb5, 0x2f, 0xfd, 0, 0][..];
        assert_eq!(Compression::detect(&mut zs).unwrap(), Compression::Zstd);
        let mut plain = &b"bin/\0\0\0\0"[..];
        assert_eq!(Compression::detect(&mut plain).unwrap(), Compression::None);
        let mut xz = &[0xfd, b'7', b'z', b'X', b'Z', 0][..];
        assert!(Compression::detect(&mut xz).is_err());
    }
}
