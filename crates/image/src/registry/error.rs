use std::path::PathBuf;

/// Errors talking to a registry. Each names the registry, the image or the blob concerned.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot reach the registry at {address}: {why}")]
    Unreachable { address: String, why: String },
    #[error(
        "the registry at {address} does not speak HTTPS ({why}); if it is a plain-HTTP registry you trust, pass --insecure-registry {address}"
    )]
    NotHttps { address: String, why: String },
    #[error("manifest for {reference} not found: manifest unknown")]
    ManifestUnknown { reference: String },
    #[error(
        "{action} access denied for {repository}: repository does not exist or may require 'kist login {registry}'"
    )]
    AccessDenied {
        action: &'static str,
        repository: String,
        registry: String,
    },
    #[error("{registry}: authentication required; run 'kist login {registry}' first")]
    AuthenticationRequired { registry: String },
    #[error("{registry}: wrong username or password")]
    WrongCredentials { registry: String },
    #[error(
        "no matching manifest for {wanted} in the manifest list of {reference} (available: {available})"
    )]
    NoMatchingPlatform {
        reference: String,
        wanted: String,
        available: String,
    },
    #[error(
        "image {reference} is for {actual}, which does not match the requested platform {wanted}"
    )]
    WrongPlatform {
        reference: String,
        wanted: String,
        actual: String,
    },
    #[error("invalid platform {0:?}: expected OS/ARCH[/VARIANT], such as linux/amd64")]
    BadPlatform(String),
    #[error("{what} from {url} does not match its digest: expected {expected}, got {actual}")]
    DigestMismatch {
        what: &'static str,
        url: String,
        expected: String,
        actual: String,
    },
    #[error("{url}: {what}")]
    BadResponse { url: String, what: String },
    #[error("{method} {url}: the registry answered {status}: {message}")]
    Status {
        method: &'static str,
        url: String,
        status: u16,
        message: String,
    },
    #[error("downloading {what} from {url}: {why}")]
    Download {
        what: String,
        url: String,
        why: String,
    },
    #[error("credentials file {path}: {what}")]
    BadCredentials { path: PathBuf, what: String },
    #[error(transparent)]
    Store(#[from] crate::Error),
}

pub type Result<T> = std::result::Result<T, Error>;
