//! `kist pull`: resolve the reference to one manifest (choosing the platform from an index),
//! fetch its config, stream each missing layer straight into `add_layer_expecting` (digest
//! check, decompression and unpacking in one pass), then store config and manifest as received
//! and tag them: the image appears whole or not at all.

use std::fs::File;
use std::io::{self, Read};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use ureq::Body;
use ureq::http::{self, Response};

use super::auth::Credential;
use super::client::{Access, Client, RegistryOptions, read_document, unexpected};
use super::error::{Error, Result};
use super::lock::BlobLock;
use super::manifest::{self, ACCEPT, Config, Index, Manifest, Platform};
use crate::digest::{Digest, chain_ids};
use crate::import::{ExpectedLayer, add_layer_expecting};
use crate::reference::Reference;
use crate::store::{Descriptor, ImageStore};

/// How many layers download at once, as Docker's default.
const PARALLEL_DOWNLOADS: usize = 3;

/// What happens to one layer, for a progress display.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayerEvent {
    /// Already in the store: nothing to fetch (or, pushing, already in the registry).
    AlreadyExists,
    /// `done` of `total` bytes transferred.
    Transferring { done: u64, total: u64 },
    /// Pulled: downloaded, checked and unpacked.
    PullComplete,
    /// Pushed to the registry.
    Pushed,
}

/// Receives progress of a pull or a push; called from several threads.
pub trait Progress: Sync {
    /// The layers, bottom first, before any work on them.
    fn layers(&self, _layers: &[Descriptor]) {}
    fn layer(&self, digest: &Digest, event: LayerEvent);
}

pub struct PullOutcome {
    /// The digest the registry has for the reference: of the index, when it is one.
    pub digest: Digest,
    pub manifest_digest: Digest,
    pub image_id: Digest,
    /// The reference already named this image: nothing was fetched.
    pub up_to_date: bool,
}

pub struct PullRequest<'a> {
    pub reference: &'a Reference,
    /// The platform asked for; None: this machine's, without insisting on it for an image
    /// that is not multi-platform (as Docker).
    pub platform: Option<&'a Platform>,
    pub credential: Option<Credential>,
    pub options: &'a RegistryOptions,
}

pub fn pull(
    store: &ImageStore,
    request: &PullRequest,
    progress: &dyn Progress,
) -> Result<PullOutcome> {
    let reference = request.reference;
    let client = Client::connect(
        &reference.registry,
        Some(&reference.repository),
        Access::Pull,
        request.credential.clone(),
        request.options,
    )?;
    let name = reference.familiar();
    let target = match (&reference.digest, &reference.tag) {
        (Some(d), _) => d.clone(),
        (None, Some(t)) => t.clone(),
        (None, None) => crate::reference::DEFAULT_TAG.to_string(),
    };
    let top = fetch_manifest(&client, &target, &name)?;
    let host = Platform::host();
    let wanted = request.platform.unwrap_or(&host);
    let from_index = manifest::is_index(&top.media_type, &top.body);
    let chosen = if from_index {
        let index: Index = parse(&top.body, &top.url)?;
        let entry = manifest::choose(&index, wanted, &name)?;
        fetch_manifest(&client, &entry.digest, &name)?
    } else {
        top.clone()
    };
    let image: Manifest = parse(&chosen.body, &chosen.url)?;

    if let Ok(existing) = store.resolve(&reference.to_string())
        && existing.manifest_digest == chosen.digest
    {
        return Ok(PullOutcome {
            digest: top.digest,
            manifest_digest: chosen.digest,
            image_id: existing.id,
            up_to_date: true,
        });
    }

    let config_digest = descriptor_digest(&image.config, &chosen.url)?;
    let config_bytes = fetch_config(&client, &config_digest)?;
    let config: Config = parse(
        &config_bytes,
        &client.url(&format!("blobs/{config_digest}")),
    )?;
    if let (false, Some(asked), Some(actual)) = (from_index, request.platform, config.platform())
        && !actual.serves(asked)
    {
        return Err(Error::WrongPlatform {
            reference: name,
            wanted: asked.to_string(),
            actual: actual.to_string(),
        });
    }
    let diff_ids = config
        .rootfs
        .diff_ids
        .iter()
        .map(|d| Digest::parse(d))
        .collect::<crate::Result<Vec<_>>>()?;
    if diff_ids.len() != image.layers.len() {
        return Err(Error::BadResponse {
            url: chosen.url.clone(),
            what: format!(
                "the manifest has {} layers but its config {} diff ids",
                image.layers.len(),
                diff_ids.len()
            ),
        });
    }
    // Until the name lands, what is stored is reachable from no image: garbage collection
    // waits (see gc.rs).
    let _writing = store.lock_for_writing()?;
    progress.layers(&image.layers);
    let layers = LayerJob {
        client: &client,
        store,
        layers: &image.layers,
        diff_ids: &diff_ids,
        chain_ids: &chain_ids(&diff_ids),
        progress,
    };
    layers.run()?;

    store.put_blob(&config_bytes, &image.config.media_type)?;
    let manifest = store.put_blob(&chosen.body, &chosen.media_type)?;
    store.tag(reference, &manifest)?;
    Ok(PullOutcome {
        digest: top.digest,
        manifest_digest: chosen.digest,
        image_id: config_digest,
        up_to_date: false,
    })
}

/// A manifest or an index as the registry sent it.
#[derive(Clone)]
struct Document {
    url: String,
    media_type: String,
    body: Vec<u8>,
    digest: Digest,
}

/// GETs `manifests/<tag or digest>`; one asked for by digest must have that digest.
fn fetch_manifest(client: &Client, target: &str, name: &str) -> Result<Document> {
    let url = client.url(&format!("manifests/{target}"));
    let mut response = client.fetch(http::Method::GET, &url, ACCEPT)?;
    match response.status().as_u16() {
        200 => {}
        404 => {
            return Err(Error::ManifestUnknown {
                reference: name.to_string(),
            });
        }
        403 => return Err(client.access_denied()),
        _ => return Err(unexpected("GET", &url, &mut response)),
    }
    let header_type = content_type(&response);
    let body = read_document(&mut response, &url)?;
    let digest = Digest::of_bytes(&body);
    if target.starts_with("sha256:") && digest.as_str() != target {
        return Err(Error::DigestMismatch {
            what: "manifest",
            url,
            expected: target.to_string(),
            actual: digest.to_string(),
        });
    }
    // A registry may answer with a generic type; the document's own field says better.
    let media_type = match header_type {
        Some(t) if t.contains("vnd.") => t,
        _ => serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["mediaType"].as_str().map(str::to_string))
            .unwrap_or_else(|| manifest::OCI_MANIFEST.to_string()),
    };
    Ok(Document {
        url,
        media_type,
        body,
        digest,
    })
}

fn content_type(response: &Response<Body>) -> Option<String> {
    let value = response.headers().get(http::header::CONTENT_TYPE)?;
    let value = value.to_str().ok()?;
    Some(value.split(';').next().unwrap_or(value).trim().to_string())
}

fn fetch_config(client: &Client, digest: &Digest) -> Result<Vec<u8>> {
    let url = client.url(&format!("blobs/{digest}"));
    let mut response = client.fetch(http::Method::GET, &url, "")?;
    if response.status() != http::StatusCode::OK {
        return Err(unexpected("GET", &url, &mut response));
    }
    let body = read_document(&mut response, &url)?;
    let actual = Digest::of_bytes(&body);
    if actual != *digest {
        return Err(Error::DigestMismatch {
            what: "image config",
            url,
            expected: digest.to_string(),
            actual: actual.to_string(),
        });
    }
    Ok(body)
}

fn parse<'a, T: serde::Deserialize<'a>>(bytes: &'a [u8], url: &str) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| Error::BadResponse {
        url: url.to_string(),
        what: format!("not a valid document: {e}"),
    })
}

pub(crate) fn descriptor_digest(d: &Descriptor, url: &str) -> Result<Digest> {
    Digest::parse(&d.digest).map_err(|_| Error::BadResponse {
        url: url.to_string(),
        what: format!("invalid digest {:?}", d.digest),
    })
}

/// The layers of one pull, fetched by a few threads.
struct LayerJob<'a> {
    client: &'a Client,
    store: &'a ImageStore,
    layers: &'a [Descriptor],
    diff_ids: &'a [Digest],
    chain_ids: &'a [Digest],
    progress: &'a dyn Progress,
}

impl LayerJob<'_> {
    fn run(&self) -> Result<()> {
        let next = AtomicUsize::new(0);
        let failure: Mutex<Option<Error>> = Mutex::new(None);
        let failed = || failure.lock().map_or(true, |f| f.is_some());
        std::thread::scope(|s| {
            for _ in 0..PARALLEL_DOWNLOADS.min(self.layers.len()) {
                s.spawn(|| {
                    while !failed() {
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        if i >= self.layers.len() {
                            return;
                        }
                        if let Err(e) = self.layer(i) {
                            if let Ok(mut f) = failure.lock() {
                                f.get_or_insert(e);
                            }
                            return;
                        }
                    }
                });
            }
        });
        match failure.into_inner() {
            Ok(Some(e)) => Err(e),
            Ok(None) => Ok(()),
            Err(poisoned) => poisoned.into_inner().map_or(Ok(()), Err),
        }
    }

    /// Layer `i`: present already, or unpacked from the local blob, or downloaded. Under the
    /// blob's lock, so that a concurrent pull of the same blob waits and then finds it.
    fn layer(&self, i: usize) -> Result<()> {
        let desc = &self.layers[i];
        let url = self.client.url(&format!("blobs/{}", desc.digest));
        if desc.media_type.contains("foreign") || desc.media_type.contains("nondistributable") {
            return Err(Error::BadResponse {
                url,
                what: format!(
                    "layer {} is a foreign layer, which kist cannot pull",
                    desc.digest
                ),
            });
        }
        let digest = descriptor_digest(desc, &url)?;
        let _lock = BlobLock::acquire(self.store.tmp_dir(), &digest)?;
        let blob = self.store.blob_path(&digest);
        if blob.exists() && self.store.layer_path(&self.chain_ids[i]).is_dir() {
            self.progress.layer(&digest, LayerEvent::AlreadyExists);
            return Ok(());
        }
        let parent = i.checked_sub(1).map(|p| &self.chain_ids[p]);
        let expected = ExpectedLayer {
            blob: &digest,
            diff_id: &self.diff_ids[i],
        };
        if blob.exists() {
            let file = File::open(&blob).map_err(|e| {
                Error::Store(crate::Error::Io {
                    context: "opening",
                    path: blob.clone(),
                    source: e,
                })
            })?;
            add_layer_expecting(self.store, file, parent, &expected)?;
        } else {
            self.download(&url, desc, &digest, parent, &expected)?;
        }
        self.progress.layer(&digest, LayerEvent::PullComplete);
        Ok(())
    }

    fn download(
        &self,
        url: &str,
        desc: &Descriptor,
        digest: &Digest,
        parent: Option<&Digest>,
        expected: &ExpectedLayer,
    ) -> Result<()> {
        let mut response = self.client.fetch(http::Method::GET, url, "")?;
        if response.status() != http::StatusCode::OK {
            return Err(unexpected("GET", url, &mut response));
        }
        let mut reader = Counting {
            // No more than the manifest says: the digest check then decides.
            inner: response.into_body().into_reader().take(desc.size),
            digest,
            done: 0,
            total: desc.size,
            progress: self.progress,
            error: None,
        };
        let result = add_layer_expecting(self.store, &mut reader, parent, expected);
        match (result, reader.error) {
            (Ok(_), _) => Ok(()),
            // The archive "ended early" because the connection did: say so.
            (Err(_), Some(why)) => Err(Error::Download {
                what: format!("layer {digest}"),
                url: url.to_string(),
                why,
            }),
            (Err(e), None) => Err(e.into()),
        }
    }
}

/// Reports bytes read, and remembers a transport error that the archive reader would only see
/// as a broken archive.
struct Counting<'a, R> {
    inner: R,
    digest: &'a Digest,
    done: u64,
    total: u64,
    progress: &'a dyn Progress,
    error: Option<String>,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.done += n as u64;
                self.progress.layer(
                    self.digest,
                    LayerEvent::Transferring {
                        done: self.done,
                        total: self.total,
                    },
                );
                Ok(n)
            }
            Err(e) => {
                self.error.get_or_insert(e.to_string());
                Err(e)
            }
        }
    }
}
