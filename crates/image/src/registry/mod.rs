//! Pulling from and pushing to OCI / Docker registries (distribution API v2).
//!
//! Design note:
//! - A small blocking client on `ureq` (rustls, no openssl) rather than the async `oci-client`:
//!   a layer's HTTP body is a `Read` that goes straight into `add_layer_expecting`, which
//!   checks its digest, decompresses and unpacks it in one pass; parallel downloads are a few
//!   threads. No runtime to start for a command that mostly waits on one socket per layer.
//! - Authentication follows the registry's challenge to `GET /v2/`: none, Basic (the login's
//!   credentials), or Bearer (a token from the challenge's realm for
//!   `repository:NAME:pull[,push]`, asked with the login's credentials when there is one). A
//!   401 later (expired token) is answered once more.
//! - Plain HTTP only for loopback registries and those named by `--insecure-registry` or
//!   `KIST_INSECURE_REGISTRIES`; HTTPS is tried first, as Docker does.
//! - A pull stores nothing visible until the end: layers land whole (add_layer renames them in
//!   place), config and manifest are stored as the registry sent them (digests unchanged), and
//!   the tag comes last. Each layer is fetched under an flock on its blob digest
//!   (tmp/<hex>.lock), so concurrent pulls sharing a layer fetch it once.
//! - Logins live in ROOT/auth.json (mode 0600), in the shape of Docker's config.json.

mod auth;
mod client;
mod credentials;
mod error;
mod lock;
mod manifest;
mod pull;
mod push;

pub use auth::Credential;
pub use client::{Access, Client, RegistryOptions};
pub use credentials::CredentialStore;
pub use error::{Error, Result};
pub use manifest::Platform;
pub use pull::{LayerEvent, Progress, PullOutcome, PullRequest, pull};
pub use push::{PushOutcome, PushRequest, push};

/// Checks `credential` against `registry` (as `kist login` does before storing it).
pub fn check_login(
    registry: &str,
    credential: &Credential,
    options: &RegistryOptions,
) -> Result<()> {
    let client = Client::connect(
        registry,
        None,
        Access::Pull,
        Some(credential.clone()),
        options,
    )?;
    client.check_authorized()
}

/// The name logins are stored under: `https://r.example/` and `r.example` are one registry,
/// and so are Docker Hub's several names.
pub fn normalize_registry(input: &str) -> String {
    let s = input
        .trim()
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let s = s.split('/').next().unwrap_or(s);
    match s {
        "" | "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            crate::reference::DEFAULT_REGISTRY.to_string()
        }
        other => other.to_string(),
    }
}
