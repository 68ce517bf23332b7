//! The image store on disk, under kist's root:
//!
//! ```text
//! images/             an OCI image layout: oci-layout, index.json, blobs/sha256/<hex>
//! layers/<chain hex>/ a layer unpacked once: diff/ (the files) and meta.json
//! tmp/                work in progress, made visible only by rename
//! ```
//!
//! Names live in index.json as `org.opencontainers.image.ref.name` annotations holding the full
//! normalized reference; changes to it are made under an `flock` and land by atomic rename.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use oci_spec::image::{ImageConfiguration, ImageManifest};
use rustix::fs::FlockOperation;
use serde::{Deserialize, Serialize};

use crate::digest::{Digest, chain_ids};
use crate::error::{Error, IoContext, Result};
use crate::reference::Reference;
use crate::temp::{self, TempFile};

pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";
const INDEX_MEDIA_TYPE: &str = "application/vnd.oci.image.index.v1+json";

/// A content descriptor, as in the OCI image spec.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Descriptor {
    fn ref_name(&self) -> Option<&str> {
        self.annotations.get(REF_NAME).map(String::as_str)
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Index {
    schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    media_type: Option<String>,
    #[serde(default)]
    pub(crate) manifests: Vec<Descriptor>,
}

/// What kist records next to an unpacked layer.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct LayerMeta {
    pub diff_id: String,
    /// Bytes of file content in the layer.
    pub size: u64,
}

/// One layer of an image, unpacked.
#[derive(Debug, Clone)]
pub struct Layer {
    pub chain_id: Digest,
    pub diff_id: Digest,
    /// The directory holding the layer's files: an overlayfs lower directory.
    pub dir: PathBuf,
}

/// An image resolved from a name or an id.
#[derive(Debug, Clone)]
pub struct Image {
    /// The image id: the digest of its config, as Docker shows it.
    pub id: Digest,
    pub manifest_digest: Digest,
    /// The name it was found by, in its familiar form, or the short id.
    pub name: String,
    pub config: ImageConfiguration,
    /// Docker's `config.Healthcheck`, which the OCI config (and so `config`) does not have;
    /// as the config has it.
    pub healthcheck: Option<serde_json::Value>,
    /// Bottom layer first.
    pub layers: Vec<Layer>,
}

/// A row of `kist images`.
#[derive(Debug, Clone)]
pub struct ImageSummary {
    pub id: Digest,
    pub manifest_digest: Digest,
    /// None for an image that lost its name (`<none>`).
    pub reference: Option<Reference>,
    pub created: Option<SystemTime>,
    /// The sum of its layers' sizes.
    pub size: u64,
    /// Each layer's chain id and size, bottom first: images that share a layer share it on
    /// disk (`system df` counts it once).
    pub layers: Vec<(Digest, u64)>,
}

pub struct ImageStore {
    pub(crate) layout: PathBuf,
    layers: PathBuf,
    tmp: PathBuf,
}

impl ImageStore {
    /// Opens the store under `root`, creating its directories on first use.
    pub fn open(root: &Path) -> Result<ImageStore> {
        let store = ImageStore {
            layout: root.join("images"),
            layers: root.join("layers"),
            tmp: root.join("tmp"),
        };
        if !store.layout.join("oci-layout").exists() {
            for dir in [&store.blob_dir(), &store.layers, &store.tmp] {
                fs::create_dir_all(dir).ctx("creating the image store directory", dir)?;
            }
            let oci_layout = store.layout.join("oci-layout");
            write_atomically(
                &store.tmp,
                &oci_layout,
                br#"{"imageLayoutVersion":"1.0.0"}"#,
            )?;
        }
        Ok(store)
    }

    pub fn tmp_dir(&self) -> &Path {
        &self.tmp
    }

    /// Removes what interrupted imports left behind.
    pub fn remove_abandoned_work(&self) {
        temp::remove_abandoned(&self.tmp);
    }

    pub(crate) fn blob_dir(&self) -> PathBuf {
        self.layout.join("blobs").join("sha256")
    }

    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.blob_dir().join(digest.hex())
    }

    pub(crate) fn layer_path(&self, chain_id: &Digest) -> PathBuf {
        self.layers.join(chain_id.hex())
    }

    /// Stores `bytes` as a blob (a no-op when it is already there) and describes it.
    pub fn put_blob(&self, bytes: &[u8], media_type: &str) -> Result<Descriptor> {
        let digest = Digest::of_bytes(bytes);
        let dest = self.blob_path(&digest);
        if !dest.exists() {
            let mut tmp = TempFile::new(&self.tmp, "blob")?;
            tmp.file().write_all(bytes).ctx("writing a blob", &dest)?;
            tmp.persist(&dest)?;
        }
        Ok(Descriptor {
            media_type: media_type.to_string(),
            digest: digest.to_string(),
            size: bytes.len() as u64,
            annotations: BTreeMap::new(),
        })
    }

    /// Reads a blob and checks it against its digest; `image` names the image for the error.
    pub fn read_blob(&self, digest: &Digest, image: &str) -> Result<Vec<u8>> {
        let path = self.blob_path(digest);
        let bytes = fs::read(&path).ctx("reading the blob", &path)?;
        if Digest::of_bytes(&bytes) != *digest {
            return Err(Error::CorruptBlob {
                image: image.to_string(),
                digest: digest.to_string(),
            });
        }
        Ok(bytes)
    }

    /// Checks a blob, read in a stream, against its digest; `image` names the image for the
    /// error.
    pub fn verify_blob(&self, digest: &Digest, image: &str) -> Result<()> {
        let path = self.blob_path(digest);
        let file = File::open(&path).ctx("reading the blob", &path)?;
        let mut hashing = crate::digest::HashingReader::new(file);
        std::io::copy(&mut hashing, &mut std::io::sink()).ctx("reading the blob", &path)?;
        if hashing.finish().0 != *digest {
            return Err(Error::CorruptBlob {
                image: image.to_string(),
                digest: digest.to_string(),
            });
        }
        Ok(())
    }

    fn read_index(&self) -> Result<Index> {
        let path = self.layout.join("index.json");
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::BadImage {
                image: path.display().to_string(),
                what: format!("the index is not valid JSON: {e}"),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Index {
                schema_version: 2,
                media_type: Some(INDEX_MEDIA_TYPE.into()),
                manifests: Vec::new(),
            }),
            Err(e) => Err(e).ctx("reading the image index", path),
        }
    }

    /// Changes the index under its lock; the change lands atomically or not at all.
    pub(crate) fn update_index(&self, change: impl FnOnce(&mut Index)) -> Result<()> {
        let lock_path = self.layout.join("index.json.lock");
        let lock = File::create(&lock_path).ctx("creating the index lock", &lock_path)?;
        rustix::fs::flock(lock.as_fd(), FlockOperation::LockExclusive)
            .ctx("locking the image index", &lock_path)?;
        let mut index = self.read_index()?;
        change(&mut index);
        let bytes = serde_json::to_vec_pretty(&index).map_err(|e| Error::BadImage {
            image: "index".into(),
            what: e.to_string(),
        })?;
        write_atomically(&self.tmp, &self.layout.join("index.json"), &bytes)
    }

    /// Points `reference` at the manifest `manifest`. An image that loses its last name stays,
    /// nameless, as Docker's `<none>` images do.
    pub fn tag(&self, reference: &Reference, manifest: &Descriptor) -> Result<()> {
        let name = reference.to_string();
        self.update_index(|index| {
            for d in index.manifests.iter_mut() {
                if d.ref_name() == Some(name.as_str()) {
                    d.annotations.remove(REF_NAME);
                }
            }
            let mut named = manifest.clone();
            named.annotations.insert(REF_NAME.into(), name.clone());
            index.manifests.push(named);
            dedup_nameless(&mut index.manifests);
        })
    }

    /// Gives `image` the name `reference` (taken from whatever image had it).
    pub fn tag_image(&self, image: &Image, reference: &Reference) -> Result<()> {
        let bytes = fs::metadata(self.blob_path(&image.manifest_digest)).ctx(
            "reading the manifest of",
            self.blob_path(&image.manifest_digest),
        )?;
        let manifest = Descriptor {
            media_type: MANIFEST_MEDIA_TYPE.into(),
            digest: image.manifest_digest.to_string(),
            size: bytes.len(),
            annotations: BTreeMap::new(),
        };
        self.tag(reference, &manifest)
    }

    /// Lists the manifest `manifest` without a name (unless it has one already).
    pub fn add_nameless(&self, manifest: &Descriptor) -> Result<()> {
        self.update_index(|index| {
            index.manifests.push(manifest.clone());
            dedup_nameless(&mut index.manifests);
        })
    }

    /// Finds an image as Docker does: by name (`busybox`, `busybox:1.36`, a full reference), by
    /// repository digest (`busybox@sha256:...`, the manifest's digest, as `RepoDigests` shows
    /// it), or by image id (`sha256:<hex>`) or a prefix of one. A prefix that fits several
    /// images is refused.
    pub fn resolve(&self, name_or_id: &str) -> Result<Image> {
        let index = self.read_index()?;
        if let Ok(reference) = Reference::parse(name_or_id) {
            let full = reference.to_string();
            if let Some(d) = index
                .manifests
                .iter()
                .find(|d| d.ref_name() == Some(full.as_str()))
            {
                return self.load(d, reference.familiar());
            }
            if let Some(digest) = &reference.digest {
                return match by_repo_digest(&index, &reference, digest) {
                    Some(d) => self.load(d, reference.familiar()),
                    None => Err(Error::ImageNotFound(name_or_id.to_string())),
                };
            }
        }
        self.resolve_id(&index, name_or_id)
    }

    /// An image by its id or a prefix of it, with or without `sha256:`.
    fn resolve_id(&self, index: &Index, id_or_prefix: &str) -> Result<Image> {
        let prefix = id_or_prefix.strip_prefix("sha256:").unwrap_or(id_or_prefix);
        if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::ImageNotFound(id_or_prefix.to_string()));
        }
        let prefix = prefix.to_ascii_lowercase();
        let mut found: Vec<(Digest, &Descriptor)> = Vec::new();
        for d in &index.manifests {
            let manifest = self.manifest(d, id_or_prefix)?;
            let id = Digest::parse(manifest.config().digest().as_ref())?;
            if id.hex().starts_with(&prefix) && !found.iter().any(|(f, _)| *f == id) {
                found.push((id, d));
            }
        }
        match found.as_slice() {
            [] => Err(Error::ImageNotFound(id_or_prefix.to_string())),
            [(id, d)] => self.load(d, id.short().to_string()),
            many => Err(Error::AmbiguousImage {
                prefix: id_or_prefix.to_string(),
                count: many.len(),
                candidates: many
                    .iter()
                    .map(|(id, _)| id.short())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    fn manifest(&self, d: &Descriptor, image: &str) -> Result<ImageManifest> {
        let digest = Digest::parse(&d.digest)?;
        let bytes = self.read_blob(&digest, image)?;
        serde_json::from_slice(&bytes).map_err(|e| Error::BadImage {
            image: image.to_string(),
            what: format!("manifest {digest} is not valid: {e}"),
        })
    }

    fn config(
        &self,
        manifest: &ImageManifest,
        image: &str,
    ) -> Result<(Digest, ImageConfiguration)> {
        let (digest, bytes) = self.config_blob(manifest, image)?;
        Ok((digest.clone(), parse_config(&bytes, &digest, image)?))
    }

    fn config_blob(&self, manifest: &ImageManifest, image: &str) -> Result<(Digest, Vec<u8>)> {
        let digest = Digest::parse(manifest.config().digest().as_ref())?;
        let bytes = self.read_blob(&digest, image)?;
        Ok((digest, bytes))
    }

    fn load(&self, d: &Descriptor, name: String) -> Result<Image> {
        let manifest = self.manifest(d, &name)?;
        let (id, bytes) = self.config_blob(&manifest, &name)?;
        let config = parse_config(&bytes, &id, &name)?;
        let healthcheck = docker_healthcheck(&bytes);
        let diff_ids = diff_ids_of(&config)?;
        let mut layers = Vec::with_capacity(diff_ids.len());
        for (chain_id, diff_id) in chain_ids(&diff_ids).into_iter().zip(diff_ids) {
            let dir = self.layer_path(&chain_id).join("diff");
            if !dir.is_dir() {
                return Err(Error::BadImage {
                    image: name,
                    what: format!(
                        "layer {chain_id} is missing from the store; remove the image and import or pull it again"
                    ),
                });
            }
            layers.push(Layer {
                chain_id,
                diff_id,
                dir,
            });
        }
        Ok(Image {
            id,
            manifest_digest: Digest::parse(&d.digest)?,
            name,
            config,
            healthcheck,
            layers,
        })
    }

    /// The layer descriptors of an image's manifest, bottom first.
    pub fn manifest_layers(&self, image: &Image) -> Result<Vec<Descriptor>> {
        let bytes = self.read_blob(&image.manifest_digest, &image.name)?;
        #[derive(Deserialize)]
        struct Layers {
            layers: Vec<Descriptor>,
        }
        let m: Layers = serde_json::from_slice(&bytes).map_err(|e| Error::BadImage {
            image: image.name.clone(),
            what: format!("manifest {} is not valid: {e}", image.manifest_digest),
        })?;
        Ok(m.layers)
    }

    /// Every image, one row a name, nameless images once.
    pub fn list(&self) -> Result<Vec<ImageSummary>> {
        let index = self.read_index()?;
        let mut out = Vec::with_capacity(index.manifests.len());
        for d in &index.manifests {
            let label = d.ref_name().unwrap_or(&d.digest).to_string();
            let manifest = self.manifest(d, &label)?;
            let (id, config) = self.config(&manifest, &label)?;
            let diff_ids = diff_ids_of(&config)?;
            let layers: Vec<(Digest, u64)> = chain_ids(&diff_ids)
                .into_iter()
                .map(|c| {
                    let size = self.layer_size(&c);
                    (c, size)
                })
                .collect();
            out.push(ImageSummary {
                id,
                manifest_digest: Digest::parse(&d.digest)?,
                reference: d.ref_name().and_then(|n| Reference::parse(n).ok()),
                created: config
                    .created()
                    .as_deref()
                    .and_then(|c| humantime::parse_rfc3339_weak(c).ok()),
                size: layers.iter().map(|(_, s)| s).sum(),
                layers,
            });
        }
        Ok(out)
    }

    pub(crate) fn layer_size(&self, chain_id: &Digest) -> u64 {
        fs::read(self.layer_path(chain_id).join("meta.json"))
            .ok()
            .and_then(|b| serde_json::from_slice::<LayerMeta>(&b).ok())
            .map_or(0, |m| m.size)
    }

    /// The blobs (hex digests) and layers (chain id hex) that the index's images reach.
    pub(crate) fn reachable(
        &self,
    ) -> Result<(
        std::collections::HashSet<String>,
        std::collections::HashSet<String>,
    )> {
        let mut blobs = std::collections::HashSet::new();
        let mut layers = std::collections::HashSet::new();
        for d in &self.read_index()?.manifests {
            let label = d.ref_name().unwrap_or(&d.digest).to_string();
            let manifest = self.manifest(d, &label)?;
            blobs.insert(Digest::parse(&d.digest)?.hex().to_string());
            let (config_digest, config) = self.config(&manifest, &label)?;
            blobs.insert(config_digest.hex().to_string());
            for l in manifest.layers() {
                blobs.insert(Digest::parse(l.digest().as_ref())?.hex().to_string());
            }
            let diff_ids = diff_ids_of(&config)?;
            for c in chain_ids(&diff_ids) {
                layers.insert(c.hex().to_string());
            }
        }
        Ok((blobs, layers))
    }

    /// The size of each of an image's layers (file content), bottom first.
    pub fn layer_sizes(&self, image: &Image) -> Vec<u64> {
        image
            .layers
            .iter()
            .map(|l| self.layer_size(&l.chain_id))
            .collect()
    }

    /// The directories of the layers, so a caller can stat them.
    pub fn layers_root(&self) -> &Path {
        &self.layers
    }
}

/// The entry of the manifest `digest` named in `reference`'s repository (under any tag), as
/// `REPOSITORY@DIGEST` finds it in Docker.
fn by_repo_digest<'a>(
    index: &'a Index,
    reference: &Reference,
    digest: &str,
) -> Option<&'a Descriptor> {
    index.manifests.iter().find(|d| {
        d.digest == digest
            && d.ref_name()
                .and_then(|n| Reference::parse(n).ok())
                .is_some_and(|r| {
                    r.registry == reference.registry && r.repository == reference.repository
                })
    })
}

/// The diff ids of an image config's layers, bottom first.
pub(crate) fn diff_ids_of(config: &ImageConfiguration) -> Result<Vec<Digest>> {
    config
        .rootfs()
        .diff_ids()
        .iter()
        .map(|s| Digest::parse(s))
        .collect()
}

/// Keeps one nameless entry per digest, and none for a digest that still has a name.
pub(crate) fn dedup_nameless(manifests: &mut Vec<Descriptor>) {
    let named: Vec<String> = manifests
        .iter()
        .filter(|d| d.ref_name().is_some())
        .map(|d| d.digest.clone())
        .collect();
    let mut seen = Vec::new();
    manifests.retain(|d| {
        if d.ref_name().is_some() {
            return true;
        }
        if named.contains(&d.digest) || seen.contains(&d.digest) {
            return false;
        }
        seen.push(d.digest.clone());
        true
    });
}

/// Writes `bytes` to `dest` through a synced temporary file and a rename.
fn parse_config(bytes: &[u8], digest: &Digest, image: &str) -> Result<ImageConfiguration> {
    serde_json::from_slice(bytes).map_err(|e| Error::BadImage {
        image: image.to_string(),
        what: format!("config {digest} is not valid: {e}"),
    })
}

/// `config.Healthcheck` of an image config, read from the same bytes as the typed config
/// (which has no such field): what `run` needs of it without reading the blob again.
fn docker_healthcheck(config_json: &[u8]) -> Option<serde_json::Value> {
    #[derive(serde::Deserialize)]
    struct Config {
        config: Option<Inner>,
    }
    #[derive(serde::Deserialize)]
    struct Inner {
        #[serde(rename = "Healthcheck")]
        healthcheck: Option<serde_json::Value>,
    }
    let config: Config = serde_json::from_slice(config_json).ok()?;
    config.config?.healthcheck
}

pub(crate) fn write_atomically(tmp_root: &Path, dest: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = TempFile::new(tmp_root, "write")?;
    tmp.file().write_all(bytes).ctx("writing", dest)?;
    tmp.persist(dest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desc(digest: &str, name: Option<&str>) -> Descriptor {
        let mut annotations = BTreeMap::new();
        if let Some(n) = name {
            annotations.insert(REF_NAME.to_string(), n.to_string());
        }
        Descriptor {
            media_type: MANIFEST_MEDIA_TYPE.into(),
            digest: digest.into(),
            size: 1,
            annotations,
        }
    }

    #[test]
    fn nameless_entries_are_kept_once_and_only_without_a_name() {
        let mut m = vec![
            desc("a", Some("x")),
            desc("a", None),
            desc("b", None),
            desc("b", None),
        ];
        dedup_nameless(&mut m);
        assert_eq!(m, vec![desc("a", Some("x")), desc("b", None)]);
    }
}
