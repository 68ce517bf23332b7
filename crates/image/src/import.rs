//! `kist import`: a root filesystem tarball (what `docker export` writes) becomes a one-layer image.
//!
//! One pass over the input: the bytes are hashed and copied to a temporary blob as they are read,
//! decompressed, hashed again (the diff id) and unpacked. Nothing becomes visible until the whole
//! archive has been read and checked; then the blob and the layer are renamed into place and the
//! name is pointed at the new manifest, the last step.

use std::fs;
use std::io::{self, BufReader, Read, Write};
use std::path::Path;
use std::time::SystemTime;

use oci_spec::image::HistoryBuilder;
use rustix::fs::{Mode, OFlags, ResolveFlags};
use serde_json::json;

use crate::compression::Compression;
use crate::digest::{Digest, HashingReader};
use crate::error::{Error, IoContext, Result};
use crate::reference::Reference;
use crate::store::{
    CONFIG_MEDIA_TYPE, Descriptor, Image, ImageStore, LayerMeta, MANIFEST_MEDIA_TYPE,
};
use crate::temp::{TempDir, TempFile};
use crate::unpack::unpack_layer;

pub struct ImportOutcome {
    pub image_id: Digest,
    pub manifest_digest: Digest,
}

/// A layer stored in the blob store and unpacked.
pub struct NewLayer {
    pub descriptor: Descriptor,
    pub diff_id: Digest,
    pub chain_id: Digest,
    /// Whether the layer has /bin/sh (for an imported image's default command).
    pub has_sh: bool,
}

/// Imports the tarball read from `input`; `source` is how the user named it (for the history).
pub fn import_rootfs_tarball<R: Read>(
    store: &ImageStore,
    input: R,
    reference: &Reference,
    source: &str,
) -> Result<ImportOutcome> {
    let _writing = store.lock_for_writing()?;
    // A root filesystem with nothing in it is a mistake (the wrong file), not an image.
    let layer = add_layer_checked(store, input, None, None, Empty::Refused)?;
    let now = now();
    let mut config = json!({
        "created": now,
        "architecture": oci_architecture(),
        "os": "linux",
        "config": {
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        },
        "rootfs": {"type": "layers", "diff_ids": [layer.diff_id.to_string()]},
        "history": [{"created": now, "created_by": format!("kist import {source}")}],
    });
    if layer.has_sh {
        config["config"]["Cmd"] = json!(["sh"]);
    }
    write_image(store, &config, vec![layer.descriptor], Some(reference))
}

/// How a new layer on top of an image came to be: its history entry, and the image config
/// it brings (`commit -c`, a build's instructions).
#[derive(Debug, Default, Clone)]
pub struct LayerCommit {
    pub created_by: String,
    pub comment: Option<String>,
    pub author: Option<String>,
    /// The new image's `config` (Cmd, Env...), replacing the base's when given.
    pub config: Option<oci_spec::image::Config>,
}

/// A new image: `base` with one more layer, read from `input` (a tar stream, with OCI
/// whiteouts for what it deletes), and one more history entry. What commit and build make.
/// Without a `reference` the image has no name (Docker's `<none>`).
pub fn extend_image<R: Read>(
    store: &ImageStore,
    base: &Image,
    input: R,
    commit: &LayerCommit,
    reference: Option<&Reference>,
) -> Result<ImportOutcome> {
    let _writing = store.lock_for_writing()?;
    let layer = add_layer(store, input, base.layers.last().map(|l| &l.chain_id))?;
    let config = extended_config(base, commit, &layer.diff_id, &now())?;
    let mut layers = store.manifest_layers(base)?;
    layers.push(layer.descriptor);
    write_image(store, &config, layers, reference)
}

/// `base` with one more layer (its diff id) and the history entry and settings of `commit`.
fn extended_config(
    base: &Image,
    commit: &LayerCommit,
    diff_id: &Digest,
    now: &str,
) -> Result<serde_json::Value> {
    let bad = |e: String| Error::BadImage {
        image: base.name.clone(),
        what: e,
    };
    let mut config = base.config.clone();
    config.set_created(Some(now.to_string()));
    if let Some(c) = &commit.config {
        config.set_config(Some(c.clone()));
    }
    if let Some(a) = &commit.author {
        config.set_author(Some(a.clone()));
    }
    config.rootfs_mut().diff_ids_mut().push(diff_id.to_string());
    let mut history = HistoryBuilder::default()
        .created(now)
        .created_by(commit.created_by.clone());
    if let Some(c) = &commit.comment {
        history = history.comment(c.clone());
    }
    if let Some(a) = &commit.author {
        history = history.author(a.clone());
    }
    let history = history.build().map_err(|e| bad(e.to_string()))?;
    let mut entries = config.history().clone().unwrap_or_default();
    entries.push(history);
    config.set_history(Some(entries));
    // Through a JSON value, whose maps are sorted: the same config is always the same bytes
    // (the image's id), where the typed labels map has no order.
    serde_json::to_value(&config).map_err(|e| bad(e.to_string()))
}

fn now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// Stores the config and a manifest of `layers`, and points `reference` at it (or lists it
/// without a name).
fn write_image(
    store: &ImageStore,
    config: &serde_json::Value,
    layers: Vec<Descriptor>,
    reference: Option<&Reference>,
) -> Result<ImportOutcome> {
    let config_desc = store.put_blob(&to_json(config)?, CONFIG_MEDIA_TYPE)?;
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_MEDIA_TYPE,
        "config": config_desc,
        "layers": layers,
    });
    let manifest_desc = store.put_blob(&to_json(&manifest)?, MANIFEST_MEDIA_TYPE)?;
    match reference {
        Some(r) => store.tag(r, &manifest_desc)?,
        None => store.add_nameless(&manifest_desc)?,
    }
    Ok(ImportOutcome {
        image_id: Digest::parse(&config_desc.digest)?,
        manifest_digest: Digest::parse(&manifest_desc.digest)?,
    })
}

/// Reads a layer tarball (plain, gzip or zstd) once: stores it as a blob and unpacks it into
/// `layers/<chain id>` on top of the layer `parent` (a chain id). Nothing becomes visible
/// unless the whole archive was read and checked.
pub fn add_layer<R: Read>(
    store: &ImageStore,
    input: R,
    parent: Option<&Digest>,
) -> Result<NewLayer> {
    add_layer_checked(store, input, parent, None, Empty::Allowed)
}

/// What a layer from elsewhere (a registry) must be: the digest of its blob, as the manifest
/// says, and of its uncompressed tar, as the image config's `rootfs.diff_ids` says.
pub struct ExpectedLayer<'a> {
    pub blob: &'a Digest,
    pub diff_id: &'a Digest,
}

/// `add_layer` for a layer whose digests are known in advance: one that does not match them is
/// refused, and nothing of it is stored.
pub fn add_layer_expecting<R: Read>(
    store: &ImageStore,
    input: R,
    parent: Option<&Digest>,
    expected: &ExpectedLayer,
) -> Result<NewLayer> {
    add_layer_checked(store, input, parent, Some(expected), Empty::Allowed)
}

/// Whether a layer may hold no entry at all.
#[derive(PartialEq)]
enum Empty {
    Allowed,
    Refused,
}

fn add_layer_checked<R: Read>(
    store: &ImageStore,
    input: R,
    parent: Option<&Digest>,
    expected: Option<&ExpectedLayer>,
    empty: Empty,
) -> Result<NewLayer> {
    let mut blob = TempFile::new(store.tmp_dir(), "blob")?;
    let layer = TempDir::new(store.tmp_dir(), "layer")?;
    let diff_dir = layer.path().join("diff");
    fs::create_dir(&diff_dir).ctx("creating a layer directory", &diff_dir)?;

    let mut tee = Tee {
        inner: HashingReader::new(input),
        copy: blob.file(),
    };
    let mut buffered = BufReader::with_capacity(256 * 1024, &mut tee);
    let compression = Compression::detect(&mut buffered)?;
    let mut decompressed = HashingReader::new(compression.decompress(&mut buffered)?);
    let stats = unpack_layer(&mut decompressed, &diff_dir)?;
    if stats.entries == 0 && empty == Empty::Refused {
        return Err(Error::BadArchive("the archive is empty".into()));
    }
    let (diff_id, _, decoder) = decompressed.finish();
    drop(decoder);
    // Anything after the compressed stream still belongs to the blob.
    io::copy(&mut buffered, &mut io::sink())
        .map_err(|e| Error::BadArchive(crate::unpack::printable(&e.to_string())))?;
    drop(buffered);
    let (blob_digest, blob_size, _) = tee.inner.finish();
    if let Some(expected) = expected {
        check_digest("a layer", expected.blob, &blob_digest)?;
        check_digest(
            &format!("the uncompressed content of layer {}", expected.blob),
            expected.diff_id,
            &diff_id,
        )?;
    }

    let has_sh = exists_in_root(&diff_dir, "bin/sh");
    let meta = serde_json::to_vec(&LayerMeta {
        diff_id: diff_id.to_string(),
        size: stats.size,
    })
    .map_err(|e| Error::BadArchive(e.to_string()))?;
    fs::write(layer.path().join("meta.json"), meta)
        .ctx("writing layer metadata in", layer.path())?;
    // One sync for the whole layer instead of one per file.
    sync_filesystem(layer.path())?;

    let blob_dest = store.blob_path(&blob_digest);
    if blob_dest.exists() {
        drop(blob);
    } else {
        blob.persist(&blob_dest)?;
    }
    let chain_id = match parent {
        None => diff_id.clone(),
        Some(p) => crate::digest::chain_ids(&[p.clone(), diff_id.clone()])
            .pop()
            .unwrap_or_else(|| diff_id.clone()),
    };
    let layer_dest = store.layer_path(&chain_id);
    match fs::rename(layer.path(), &layer_dest) {
        Ok(()) => layer.disarm(),
        // Already unpacked, by an earlier import or a concurrent one: keep that one.
        Err(e) if layer_dest.is_dir() => drop((e, layer)),
        Err(e) => return Err(e).ctx("moving the layer into place at", layer_dest),
    }
    Ok(NewLayer {
        descriptor: Descriptor {
            media_type: compression.layer_media_type().to_string(),
            digest: blob_digest.to_string(),
            size: blob_size,
            annotations: Default::default(),
        },
        diff_id,
        chain_id,
        has_sh,
    })
}

fn check_digest(what: &str, expected: &Digest, actual: &Digest) -> Result<()> {
    if expected == actual {
        return Ok(());
    }
    Err(Error::DigestMismatch {
        what: what.to_string(),
        expected: expected.to_string(),
        actual: actual.to_string(),
    })
}

fn to_json(v: &serde_json::Value) -> Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(|e| Error::BadArchive(e.to_string()))
}

/// Whether `path` exists inside `root`, resolving symlinks as the container would.
fn exists_in_root(root: &Path, path: &str) -> bool {
    let Ok(dir) = rustix::fs::open(
        root,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    ) else {
        return false;
    };
    rustix::fs::openat2(
        &dir,
        path,
        OFlags::PATH | OFlags::CLOEXEC,
        Mode::empty(),
        ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
    )
    .is_ok()
}

fn sync_filesystem(path: &Path) -> Result<()> {
    let fd = rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ctx("opening", path)?;
    rustix::fs::syncfs(&fd).ctx("syncing the filesystem of", path)
}

/// The OCI name of this machine's architecture.
pub fn oci_architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

/// Copies what it reads to a file, and hashes it on the way.
struct Tee<'a, R> {
    inner: HashingReader<R>,
    copy: &'a mut fs::File,
}

impl<R: Read> Read for Tee<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.copy.write_all(&buf[..n])?;
        Ok(n)
    }
}
