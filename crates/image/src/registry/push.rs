//! `kist push`: each blob of the image (layers, then config) that the registry lacks (a HEAD
//! says) goes up in one monolithic upload (POST for a session, PUT with the digest); then the
//! manifest, as stored, with its media type. The registry sees the manifest only when
//! everything it refers to is there.

use std::fs::File;

use ureq::http;

use super::auth::Credential;
use super::client::{Access, Client, RegistryOptions, unexpected};
use super::error::{Error, Result};
use super::manifest::{self, Manifest};
use super::pull::{LayerEvent, Progress, descriptor_digest};
use crate::digest::Digest;
use crate::reference::Reference;
use crate::store::{Descriptor, Image, ImageStore};

pub struct PushOutcome {
    pub tag: String,
    pub digest: Digest,
    pub size: u64,
}

pub struct PushRequest<'a> {
    pub image: &'a Image,
    pub reference: &'a Reference,
    pub credential: Option<Credential>,
    pub options: &'a RegistryOptions,
}

pub fn push(
    store: &ImageStore,
    request: &PushRequest,
    progress: &dyn Progress,
) -> Result<PushOutcome> {
    let (image, reference) = (request.image, request.reference);
    let tag = reference.tag.clone().ok_or_else(|| {
        Error::Store(crate::Error::BadReference {
            reference: reference.familiar(),
            why: "a push needs a tag, not a digest".into(),
        })
    })?;
    let bytes = store.read_blob(&image.manifest_digest, &image.name)?;
    let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|e| {
        Error::Store(crate::Error::BadImage {
            image: image.name.clone(),
            what: format!("manifest {} is not valid: {e}", image.manifest_digest),
        })
    })?;
    let media_type = manifest
        .media_type
        .clone()
        .unwrap_or_else(|| manifest::OCI_MANIFEST.to_string());
    let client = Client::connect(
        &reference.registry,
        Some(&reference.repository),
        Access::Push,
        request.credential.clone(),
        request.options,
    )?;
    progress.layers(&manifest.layers);
    for layer in &manifest.layers {
        let digest = descriptor_digest(layer, &image.name)?;
        let event = push_blob(&client, store, &image.name, layer, &digest)?;
        progress.layer(&digest, event);
    }
    let config = descriptor_digest(&manifest.config, &image.name)?;
    push_blob(&client, store, &image.name, &manifest.config, &config)?;
    put_manifest(&client, &tag, &bytes, &media_type)?;
    Ok(PushOutcome {
        tag,
        digest: image.manifest_digest.clone(),
        size: bytes.len() as u64,
    })
}

/// Uploads one blob unless the registry has it.
fn push_blob(
    client: &Client,
    store: &ImageStore,
    image: &str,
    desc: &Descriptor,
    digest: &Digest,
) -> Result<LayerEvent> {
    let url = client.url(&format!("blobs/{digest}"));
    let mut head = client.fetch(http::Method::HEAD, &url, "")?;
    match head.status().as_u16() {
        200 => return Ok(LayerEvent::AlreadyExists),
        404 => {}
        403 => return Err(client.access_denied()),
        _ => return Err(unexpected("HEAD", &url, &mut head)),
    }
    let path = store.blob_path(digest);
    if !path.exists() {
        return Err(Error::Store(crate::Error::BadImage {
            image: desc.digest.clone(),
            what: format!("blob {} is missing from the store", path.display()),
        }));
    }
    // A corrupt blob is this store's fault: say so, rather than let the registry refuse it.
    store.verify_blob(digest, image)?;
    let upload = start_upload(client)?;
    let sep = if upload.contains('?') { '&' } else { '?' };
    let put_url = format!("{upload}{sep}digest={digest}");
    let mut response = client.send(
        || {
            Ok(http::Request::builder()
                .method(http::Method::PUT)
                .uri(&put_url)
                .header(http::header::CONTENT_TYPE, "application/octet-stream"))
        },
        || {
            File::open(&path).map_err(|e| {
                Error::Store(crate::Error::Io {
                    context: "opening the blob",
                    path: path.clone(),
                    source: e,
                })
            })
        },
    )?;
    match response.status().as_u16() {
        200..=299 => Ok(LayerEvent::Pushed),
        403 => Err(client.access_denied()),
        _ => Err(unexpected("PUT", &put_url, &mut response)),
    }
}

/// Opens an upload session; returns where to send the blob.
fn start_upload(client: &Client) -> Result<String> {
    let url = client.url("blobs/uploads/");
    let mut response = client.send(
        || {
            Ok(http::Request::builder()
                .method(http::Method::POST)
                .uri(&url))
        },
        || Ok(Vec::<u8>::new()),
    )?;
    match response.status().as_u16() {
        200..=299 => {}
        403 => return Err(client.access_denied()),
        _ => return Err(unexpected("POST", &url, &mut response)),
    }
    let location = response
        .headers()
        .get(http::header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .ok_or_else(|| Error::BadResponse {
            url: url.clone(),
            what: "the upload session has no Location".into(),
        })?;
    Ok(client.absolute(location))
}

fn put_manifest(client: &Client, tag: &str, bytes: &[u8], media_type: &str) -> Result<()> {
    let url = client.url(&format!("manifests/{tag}"));
    let mut response = client.send(
        || {
            Ok(http::Request::builder()
                .method(http::Method::PUT)
                .uri(&url)
                .header(http::header::CONTENT_TYPE, media_type))
        },
        || Ok(bytes),
    )?;
    match response.status().as_u16() {
        200..=299 => Ok(()),
        403 => Err(client.access_denied()),
        _ => Err(unexpected("PUT", &url, &mut response)),
    }
}
