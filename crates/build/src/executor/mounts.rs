//! `RUN --mount`: what a step's container gets besides its root, as the engine's volumes.
//! `type=cache`: a directory of the store kept between builds (`ROOT/build-cache-mounts/`, by
//! id, or by target when no id is given); `type=tmpfs`; `type=secret`: a `--secret` file,
//! read-only at `/run/secrets/ID` or its target; `type=bind`: a path of the context,
//! read-only. Nothing mounted lands in the step's layer.

use std::path::{Path, PathBuf};

use kist_engine::VolumeSpec;

use super::error::BuildError;
use super::stage::Builder;
use super::tree::Tree;
use crate::{MountSpec, MountType, expand};

/// The volumes of `mounts`, their values expanded with `vars`.
pub(super) fn volumes(
    builder: &Builder,
    mounts: &[MountSpec],
    vars: &[(String, String)],
    step: &str,
) -> Result<Vec<VolumeSpec>, BuildError> {
    let invalid = |why: String| BuildError::Invalid(format!("{step}: {why}"));
    let mut volumes = Vec::new();
    for spec in mounts {
        let m = spec
            .resolve(|w| expand(w, &vars))
            .map_err(|e| invalid(format!("--mount={}: {e}", spec.spec)))?;
        let target = |default: Option<String>| {
            m.target
                .clone()
                .or(default)
                .ok_or_else(|| invalid(format!("--mount={}: a target is required", spec.spec)))
        };
        let volume = match m.kind {
            MountType::Cache => {
                if m.from.is_some() {
                    return Err(invalid(
                        "a cache mount from a stage is not supported yet".into(),
                    ));
                }
                let target = target(None)?;
                let id = m.id.clone().unwrap_or_else(|| target.clone());
                let dir = cache_dir(builder, &id, m.mode, m.uid, m.gid)?;
                VolumeSpec::Bind {
                    source: dir,
                    target,
                    read_only: m.readonly,
                    propagation: None,
                }
            }
            MountType::Tmpfs => {
                let mut options = vec!["rw".to_string(), "nosuid".into(), "nodev".into()];
                if let Some(size) = m.size {
                    options.push(format!("size={size}"));
                }
                VolumeSpec::Tmpfs {
                    target: target(None)?,
                    options,
                }
            }
            MountType::Secret => {
                let id = m.id.clone().or_else(|| m.source.clone()).ok_or_else(|| {
                    invalid(format!("--mount={}: a secret needs an id", spec.spec))
                })?;
                let Some((_, file)) = builder.opts.secrets.iter().find(|(i, _)| *i == id) else {
                    if m.required {
                        return Err(invalid(format!(
                            "secret {id} is required: give it with --secret id={id},src=FILE"
                        )));
                    }
                    continue;
                };
                VolumeSpec::Bind {
                    source: file.clone(),
                    target: target(Some(format!("/run/secrets/{id}")))?,
                    read_only: true,
                    propagation: None,
                }
            }
            MountType::Bind => {
                if m.from.is_some() {
                    return Err(invalid(
                        "a bind mount from a stage or image is not supported yet".into(),
                    ));
                }
                if !m.readonly {
                    return Err(invalid(
                        "a writable bind mount of the context is not supported (kist would write into your context)".into(),
                    ));
                }
                let root = builder.opts.context.clone().ok_or_else(|| {
                    invalid("there is no build context (kist build -) to bind".into())
                })?;
                let source = m.source.clone().unwrap_or_default();
                let rel: PathBuf = source
                    .split('/')
                    .filter(|p| !p.is_empty() && *p != ".")
                    .collect();
                if rel.iter().any(|p| p == "..") {
                    return Err(invalid(format!("{source:?} is outside the build context")));
                }
                let tree = Tree::Context {
                    root,
                    ignore: Default::default(),
                };
                let entry = tree
                    .stat(&rel, step)?
                    .ok_or_else(|| invalid(format!("{source:?} not found in the build context")))?;
                if entry.meta.file_type().is_symlink() {
                    return Err(invalid(format!(
                        "{source:?} is a symlink, which kist does not follow out of its place in the context"
                    )));
                }
                VolumeSpec::Bind {
                    source: entry.real,
                    target: target(None)?,
                    read_only: true,
                    propagation: None,
                }
            }
            MountType::Ssh => return Err(invalid("ssh mounts are not supported".into())),
        };
        volumes.push(volume);
    }
    Ok(volumes)
}

/// The cache mount `id`'s directory, made (with its mode and owner) on first use.
fn cache_dir(
    builder: &Builder,
    id: &str,
    mode: Option<u32>,
    uid: Option<u32>,
    gid: Option<u32>,
) -> Result<PathBuf, BuildError> {
    let name = kist_image::Digest::of_bytes(id.as_bytes());
    let dir = cache_mounts_root(&builder.engine.layout.root).join(name.hex());
    if !dir.is_dir() {
        std::fs::create_dir_all(&dir).map_err(BuildError::io(format!(
            "creating the cache mount {}",
            dir.display()
        )))?;
        use std::os::unix::fs::PermissionsExt;
        let perms = std::fs::Permissions::from_mode(mode.unwrap_or(0o755));
        std::fs::set_permissions(&dir, perms).map_err(BuildError::io(format!(
            "setting the mode of {}",
            dir.display()
        )))?;
        std::os::unix::fs::chown(&dir, Some(uid.unwrap_or(0)), Some(gid.unwrap_or(0))).map_err(
            BuildError::io(format!("setting the owner of {}", dir.display())),
        )?;
    }
    Ok(dir)
}

/// Where cache mounts live in the store.
pub fn cache_mounts_root(root: &Path) -> PathBuf {
    root.join("build-cache-mounts")
}
