//! `save` and `load`: images as one tar archive, in Docker's format (`docker-archive`:
//! manifest.json, a config file and an uncompressed layer.tar per layer) or as an OCI image
//! layout (`oci-archive`: oci-layout, index.json, blobs/sha256/…).
//!
//! Loading reads the whole archive into a temporary directory first (members come in any
//! order, and a truncated archive must fail before anything is stored), then stores each image
//! the way an import does: every layer through [`crate::add_layer`], checked against the
//! digests the archive gives, and the name last.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, BufReader, Read, Write};
use std::path::{Component, Path, PathBuf};

use serde::Deserialize;
use serde_json::json;

use crate::compression::Compression;
use crate::digest::Digest;
use crate::error::{Error, IoContext, Result};
use crate::reference::Reference;
use crate::store::{Descriptor, Image, ImageStore, MANIFEST_MEDIA_TYPE};
use crate::temp::{TempDir, TempFile};

/// The formats of `save --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveFormat {
    DockerArchive,
    OciArchive,
}

impl ArchiveFormat {
    pub fn parse(s: &str) -> Result<ArchiveFormat> {
        match s {
            "docker-archive" | "docker" => Ok(ArchiveFormat::DockerArchive),
            "oci-archive" | "oci" => Ok(ArchiveFormat::OciArchive),
            _ => Err(Error::BadArchive(format!(
                "unknown format {s:?}: use docker-archive or oci-archive"
            ))),
        }
    }
}

/// An image to save, with the names to save it under.
pub struct SavedImage {
    pub image: Image,
    pub names: Vec<Reference>,
}

/// Writes `images` to `out` as one archive.
pub fn save<W: Write>(
    store: &ImageStore,
    images: &[SavedImage],
    format: ArchiveFormat,
    out: W,
) -> Result<W> {
    let mut tar = tar::Builder::new(out);
    match format {
        ArchiveFormat::DockerArchive => save_docker(store, images, &mut tar)?,
        ArchiveFormat::OciArchive => save_oci(store, images, &mut tar)?,
    }
    tar.into_inner()
        .map_err(|e| write_err("the end of the archive", e))
}

fn write_err(what: &str, e: io::Error) -> Error {
    Error::Io {
        context: "writing the archive:",
        path: PathBuf::from(what),
        source: e,
    }
}

fn append_bytes<W: Write>(tar: &mut tar::Builder<W>, path: &str, bytes: &[u8]) -> Result<()> {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_mode(0o644);
    h.set_size(bytes.len() as u64);
    tar.append_data(&mut h, path, bytes)
        .map_err(|e| write_err(path, e))
}

fn append_file<W: Write>(tar: &mut tar::Builder<W>, path: &str, file: &Path) -> Result<()> {
    let mut f = File::open(file).ctx("opening", file)?;
    let size = f.metadata().ctx("reading the size of", file)?.len();
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_mode(0o644);
    h.set_size(size);
    tar.append_data(&mut h, path, &mut f)
        .map_err(|e| write_err(path, e))
}

fn save_docker<W: Write>(
    store: &ImageStore,
    images: &[SavedImage],
    tar: &mut tar::Builder<W>,
) -> Result<()> {
    let mut manifest = Vec::new();
    let mut written: Vec<String> = Vec::new();
    for saved in images {
        let image = &saved.image;
        let config = store.read_blob(&image.id, &image.name)?;
        let config_path = format!("{}.json", image.id.hex());
        if !written.contains(&config_path) {
            append_bytes(tar, &config_path, &config)?;
            written.push(config_path.clone());
        }
        let mut layer_paths = Vec::new();
        for (layer, descriptor) in image.layers.iter().zip(store.manifest_layers(image)?) {
            let path = format!("{}/layer.tar", layer.diff_id.hex());
            if !written.contains(&path) {
                store.verify_blob(&Digest::parse(&descriptor.digest)?, &image.name)?;
                // Docker's archive holds layers uncompressed: their digests are the diff ids.
                let blob = store.blob_path(&Digest::parse(&descriptor.digest)?);
                let plain = uncompressed(store, &blob)?;
                append_file(tar, &path, plain.as_ref().map_or(&blob, |t| t.path()))?;
                written.push(path.clone());
            }
            layer_paths.push(path);
        }
        manifest.push(json!({
            "Config": config_path,
            "RepoTags": saved.names.iter().map(Reference::familiar).collect::<Vec<_>>(),
            "Layers": layer_paths,
        }));
    }
    append_bytes(tar, "manifest.json", &to_json(&json!(manifest))?)
}

/// A blob decompressed into a temporary file, or None when it is an uncompressed tar already.
fn uncompressed(store: &ImageStore, blob: &Path) -> Result<Option<TempFile>> {
    let mut input = BufReader::new(File::open(blob).ctx("opening the layer", blob)?);
    let compression = Compression::detect(&mut input)?;
    if compression == Compression::None {
        return Ok(None);
    }
    let mut temp = TempFile::new(store.tmp_dir(), "layer-tar")?;
    let mut decoded = compression.decompress(input)?;
    io::copy(&mut decoded, temp.file()).ctx("decompressing the layer", blob)?;
    Ok(Some(temp))
}

fn save_oci<W: Write>(
    store: &ImageStore,
    images: &[SavedImage],
    tar: &mut tar::Builder<W>,
) -> Result<()> {
    append_bytes(tar, "oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    let mut index = Vec::new();
    let mut written: Vec<String> = Vec::new();
    let mut blob = |tar: &mut tar::Builder<W>, digest: &Digest, image: &str| -> Result<()> {
        let path = format!("blobs/sha256/{}", digest.hex());
        if !written.contains(&path) {
            store.verify_blob(digest, image)?;
            append_file(tar, &path, &store.blob_path(digest))?;
            written.push(path);
        }
        Ok(())
    };
    for saved in images {
        let image = &saved.image;
        let manifest = store.read_blob(&image.manifest_digest, &image.name)?;
        blob(tar, &image.manifest_digest, &image.name)?;
        blob(tar, &image.id, &image.name)?;
        for l in store.manifest_layers(image)? {
            blob(tar, &Digest::parse(&l.digest)?, &image.name)?;
        }
        let descriptor = |annotations: BTreeMap<String, String>| {
            json!({
                "mediaType": MANIFEST_MEDIA_TYPE,
                "digest": image.manifest_digest.to_string(),
                "size": manifest.len(),
                "annotations": annotations,
            })
        };
        if saved.names.is_empty() {
            index.push(descriptor(BTreeMap::new()));
        }
        for name in &saved.names {
            index.push(descriptor(BTreeMap::from([
                (crate::store::REF_NAME.to_string(), name.familiar()),
                (CONTAINERD_NAME.to_string(), name.to_string()),
            ])));
        }
    }
    let index = json!({"schemaVersion": 2, "manifests": index});
    append_bytes(tar, "index.json", &to_json(&index)?)
}

/// containerd's annotation for an image's full name in an OCI layout.
const CONTAINERD_NAME: &str = "io.containerd.image.name";

fn to_json(v: &serde_json::Value) -> Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(|e| Error::BadArchive(e.to_string()))
}

/// An image that `load` stored.
#[derive(Debug, Clone)]
pub struct LoadedImage {
    pub id: Digest,
    pub names: Vec<Reference>,
}

/// Stores every image of the archive read from `input`.
pub fn load<R: Read>(store: &ImageStore, input: R) -> Result<Vec<LoadedImage>> {
    let dir = TempDir::new(store.tmp_dir(), "load")?;
    extract(input, dir.path())?;
    let root = dir.path();
    let loaded = {
        let _writing = store.lock_for_writing()?;
        if root.join("manifest.json").is_file() {
            load_docker(store, root)
        } else if root.join("index.json").is_file() {
            load_oci(store, root)
        } else {
            Err(Error::BadArchive(
                "neither a docker-archive (manifest.json) nor an oci-archive (index.json)".into(),
            ))
        }
    };
    if loaded.is_err() {
        // Layers stored before the failure belong to no image.
        let _ = store.collect_garbage();
    }
    loaded
}

/// Extracts the regular files of an archive under `dir`; any other kind of member, or a path
/// that would climb out, is refused.
fn extract<R: Read>(input: R, dir: &Path) -> Result<()> {
    let mut archive = tar::Archive::new(input);
    let entries = archive
        .entries()
        .map_err(|e| Error::BadArchive(e.to_string()))?;
    let mut count = 0;
    let mut links: Vec<(PathBuf, PathBuf)> = Vec::new();
    for entry in entries {
        let mut entry = entry.map_err(|e| Error::BadArchive(e.to_string()))?;
        let path = entry
            .path()
            .map_err(|e| Error::BadArchive(e.to_string()))?
            .into_owned();
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            continue;
        }
        let relative = archive_path(&path)?;
        if kind.is_symlink() || kind.is_hard_link() {
            // skopeo links each layer.tar to one copy of the layer.
            let target = entry
                .link_name()
                .map_err(|e| Error::BadArchive(e.to_string()))?
                .ok_or_else(|| Error::BadArchive(format!("{} links nowhere", path.display())))?
                .into_owned();
            let target = if kind.is_symlink() {
                relative.parent().unwrap_or(Path::new("")).join(target)
            } else {
                target
            };
            links.push((relative, target));
            continue;
        }
        if !kind.is_file() {
            return Err(Error::BadArchive(format!(
                "{} is not a regular file; image archives hold only files and links",
                path.display()
            )));
        }
        let dest = dir.join(&relative);
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).ctx("creating", parent)?;
        }
        let mut file = File::create(&dest).ctx("creating", &dest)?;
        io::copy(&mut entry, &mut file).map_err(|e| {
            Error::BadArchive(format!("reading {}: {e} (truncated?)", path.display()))
        })?;
        count += 1;
    }
    if count == 0 {
        return Err(Error::BadArchive("the archive is empty".into()));
    }
    for (link, target) in links {
        let target = dir.join(archive_path(&target)?);
        let link = dir.join(link);
        if let Some(parent) = link.parent() {
            fs::create_dir_all(parent).ctx("creating", parent)?;
        }
        fs::hard_link(&target, &link).map_err(|e| {
            Error::BadArchive(format!(
                "{} links to {}, which the archive lacks: {e}",
                link.display(),
                target.display()
            ))
        })?;
    }
    Ok(())
}

/// A member's path inside the archive, `..` resolved lexically; one that climbs out of the
/// archive (or is absolute) is refused.
fn archive_path(path: &Path) -> Result<PathBuf> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir => {}
            Component::ParentDir if out.pop() => {}
            _ => {
                return Err(Error::BadArchive(format!(
                    "{} climbs out of the archive",
                    path.display()
                )));
            }
        }
    }
    Ok(out)
}

fn read_json<T: serde::de::DeserializeOwned>(root: &Path, rel: &str) -> Result<T> {
    let path = contained(root, rel)?;
    let bytes = fs::read(&path).ctx("reading the archive's", &path)?;
    serde_json::from_slice(&bytes)
        .map_err(|e| Error::BadArchive(format!("{rel} is not valid: {e}")))
}

/// `rel`, a path the archive names, under `root`, refusing one that climbs out.
fn contained(root: &Path, rel: &str) -> Result<PathBuf> {
    let p = Path::new(rel);
    if p.components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(Error::BadArchive(format!(
            "{rel} climbs out of the archive"
        )));
    }
    Ok(root.join(p))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DockerEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

fn load_docker(store: &ImageStore, root: &Path) -> Result<Vec<LoadedImage>> {
    let entries: Vec<DockerEntry> = read_json(root, "manifest.json")?;
    let mut out = Vec::new();
    for entry in entries {
        let config_bytes = fs::read(contained(root, &entry.config)?)
            .ctx("reading the archive's", &entry.config)?;
        let config: oci_spec::image::ImageConfiguration = serde_json::from_slice(&config_bytes)
            .map_err(|e| {
                Error::BadArchive(format!("{} is not an image config: {e}", entry.config))
            })?;
        let diff_ids = crate::store::diff_ids_of(&config)?;
        if diff_ids.len() != entry.layers.len() {
            return Err(Error::BadArchive(format!(
                "{} lists {} layers but its config {}",
                "manifest.json",
                entry.layers.len(),
                diff_ids.len()
            )));
        }
        let mut descriptors = Vec::new();
        let mut parent: Option<Digest> = None;
        for (path, expected) in entry.layers.iter().zip(&diff_ids) {
            let file = File::open(contained(root, path)?).ctx("opening the archive's", path)?;
            let layer = crate::add_layer(store, file, parent.as_ref())?;
            if layer.diff_id != *expected {
                return Err(Error::BadArchive(format!(
                    "layer {path} has digest {} where the config says {expected}",
                    layer.diff_id
                )));
            }
            parent = Some(layer.chain_id);
            descriptors.push(layer.descriptor);
        }
        let config_desc = store.put_blob(&config_bytes, crate::store::CONFIG_MEDIA_TYPE)?;
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": MANIFEST_MEDIA_TYPE,
            "config": config_desc,
            "layers": descriptors,
        });
        let manifest_desc = store.put_blob(&to_json(&manifest)?, MANIFEST_MEDIA_TYPE)?;
        let names = entry
            .repo_tags
            .unwrap_or_default()
            .iter()
            .map(|t| Reference::parse(t))
            .collect::<Result<Vec<_>>>()?;
        record(store, &manifest_desc, &names)?;
        out.push(LoadedImage {
            id: Digest::parse(&config_desc.digest)?,
            names,
        });
    }
    Ok(out)
}

fn record(store: &ImageStore, manifest: &Descriptor, names: &[Reference]) -> Result<()> {
    if names.is_empty() {
        return store.add_nameless(manifest);
    }
    for name in names {
        store.tag(name, manifest)?;
    }
    Ok(())
}

#[derive(Deserialize)]
struct OciIndex {
    manifests: Vec<Descriptor>,
}

fn load_oci(store: &ImageStore, root: &Path) -> Result<Vec<LoadedImage>> {
    let index: OciIndex = read_json(root, "index.json")?;
    let blob_path = |d: &str| -> Result<PathBuf> {
        let digest = Digest::parse(d)?;
        contained(root, &format!("blobs/sha256/{}", digest.hex()))
    };
    let verified = |d: &str| -> Result<Vec<u8>> {
        let path = blob_path(d)?;
        let bytes = fs::read(&path).ctx("reading the archive's", &path)?;
        if Digest::of_bytes(&bytes).to_string() != d {
            return Err(Error::BadArchive(format!(
                "blob {d} does not match its digest"
            )));
        }
        Ok(bytes)
    };
    let mut out: Vec<LoadedImage> = Vec::new();
    for entry in &index.manifests {
        let manifest_bytes = verified(&entry.digest)?;
        let manifest: oci_spec::image::ImageManifest = serde_json::from_slice(&manifest_bytes)
            .map_err(|e| {
                Error::BadArchive(format!(
                    "{} is not an image manifest (indexes of several platforms are not loaded): {e}",
                    entry.digest
                ))
            })?;
        let config_digest = manifest.config().digest().to_string();
        let config_bytes = verified(&config_digest)?;
        let config: oci_spec::image::ImageConfiguration = serde_json::from_slice(&config_bytes)
            .map_err(|e| Error::BadArchive(format!("config {config_digest} is not valid: {e}")))?;
        let expected = crate::store::diff_ids_of(&config)?;
        let mut parent: Option<Digest> = None;
        for (l, diff_id) in manifest.layers().iter().zip(&expected) {
            let digest = l.digest().to_string();
            let file = File::open(blob_path(&digest)?).ctx("opening the archive's", &digest)?;
            let layer = crate::add_layer(store, file, parent.as_ref())?;
            if layer.descriptor.digest != digest || layer.diff_id != *diff_id {
                return Err(Error::BadArchive(format!(
                    "layer {digest} does not match its digest or the config's diff id"
                )));
            }
            parent = Some(layer.chain_id);
        }
        store.put_blob(&config_bytes, crate::store::CONFIG_MEDIA_TYPE)?;
        let manifest_desc = store.put_blob(&manifest_bytes, &entry.media_type)?;
        let names: Vec<Reference> = entry
            .annotations
            .get(CONTAINERD_NAME)
            .or_else(|| {
                entry
                    .annotations
                    .get(crate::store::REF_NAME)
                    .filter(|n| n.contains(':') || n.contains('/'))
            })
            .and_then(|n| Reference::parse(n).ok())
            .into_iter()
            .collect();
        record(store, &manifest_desc, &names)?;
        let id = Digest::parse(&config_digest)?;
        match out.iter_mut().find(|o| o.id == id) {
            Some(o) => o.names.extend(names),
            None => out.push(LoadedImage { id, names }),
        }
    }
    Ok(out)
}
