use std::path::PathBuf;

/// Errors of the image store. Each says what was being done and to what.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{context} {path}: {source}")]
    Io {
        context: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("not a valid tar archive: {0}")]
    BadArchive(String),
    #[error("unsupported compression: {0}")]
    UnsupportedCompression(&'static str),
    #[error("invalid reference {reference:?}: {why}")]
    BadReference { reference: String, why: String },
    #[error("no such image: {0} (run 'kist images' to list images)")]
    ImageNotFound(String),
    #[error(
        "image ID prefix {prefix:?} is ambiguous: {count} images match ({candidates}); give more of the ID"
    )]
    AmbiguousImage {
        prefix: String,
        count: usize,
        candidates: String,
    },
    #[error(
        "blob {digest} of image {image} does not match its digest: the store is corrupt; remove the image and import or pull it again"
    )]
    CorruptBlob { image: String, digest: String },
    #[error("image {image}: {what}")]
    BadImage { image: String, what: String },
    #[error("invalid digest {0:?}")]
    BadDigest(String),
    #[error("{what} does not match its digest: expected {expected}, got {actual}")]
    DigestMismatch {
        what: String,
        expected: String,
        actual: String,
    },
}

pub type Result<T> = std::result::Result<T, Error>;

/// Adds what was being done, and to which path, to an I/O error.
pub(crate) trait IoContext<T> {
    fn ctx(self, context: &'static str, path: impl Into<PathBuf>) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn ctx(self, context: &'static str, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|source| Error::Io {
            context,
            path: path.into(),
            source,
        })
    }
}

impl<T> IoContext<T> for rustix::io::Result<T> {
    fn ctx(self, context: &'static str, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|e| Error::Io {
            context,
            path: path.into(),
            source: e.into(),
        })
    }
}
