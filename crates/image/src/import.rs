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

use rustix::fs::{Mode, OFlags, ResolveFlags};
use serde_json::json;

use crate::compression::Compression;
use crate::digest::{Digest, HashingReader};
use crate::error::{Error, IoContext, Result};
use crate::reference::Reference;
use crate::store::{CONFIG_MEDIA_TYPE, Descriptor, ImageStore, LayerMeta, MANIFEST_MEDIA_TYPE};
use crate::temp::{TempDir, TempFile};
use crate::unpack::unpack_layer;

pub struct ImportOutcome {
    pub image_id: Digest,
    pub manifest_digest: Digest,
}

/// Imports the tarball read from `input`; `source` is how the user named it (for the history).
pub fn import_rootfs_tarball<R: Read>(
    store: &ImageStore,
    input: R,
    reference: &Reference,
    source: &str,
) -> Result<ImportOutcome> {
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
    let (diff_id, _, decoder) = decompressed.finish();
    drop(decoder);
    // Anything after the compressed stream still belongs to the blob.
    io::copy(&mut buffered, &mut io::sink())
        .map_err(|e| Error::BadArchive(crate::unpack::printable(&e.to_string())))?;
    drop(buffered);
    let (blob_digest, blob_size, _) = tee.inner.finish();

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
    let layer_dest = store.layer_path(&diff_id);
    match fs::rename(layer.path(), &layer_dest) {
        Ok(()) => layer.disarm(),
        // Already unpacked, by an earlier import or a concurrent one: keep that one.
        Err(e) if layer_dest.is_dir() => drop((e, layer)),
        Err(e) => return Err(e).ctx("moving the layer into place at", layer_dest),
    }

    let now = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let mut config = json!({
        "created": now,
        "architecture": oci_architecture(),
        "os": "linux",
        "config": {
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        },
        "rootfs": {"type": "layers", "diff_ids": [diff_id.to_string()]},
        "history": [{"created": now, "created_by": format!("kist import {source}")}],
    });
    if has_sh {
        config["config"]["Cmd"] = json!(["sh"]);
    }
    let config_desc = store.put_blob(&to_json(&config)?, CONFIG_MEDIA_TYPE)?;
    let layer_desc = Descriptor {
        media_type: compression.layer_media_type().to_string(),
        digest: blob_digest.to_string(),
        size: blob_size,
        annotations: Default::default(),
    };
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_MEDIA_TYPE,
        "config": config_desc,
        "layers": [layer_desc],
    });
    let manifest_desc = store.put_blob(&to_json(&manifest)?, MANIFEST_MEDIA_TYPE)?;
    store.tag(reference, &manifest_desc)?;
    Ok(ImportOutcome {
        image_id: Digest::parse(&config_desc.digest)?,
        manifest_digest: Digest::parse(&manifest_desc.digest)?,
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
