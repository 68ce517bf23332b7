//! `RUN --mount`: what a step's container gets besides its root, as the engine's volumes.
//! `type=cache`: a directory of the store kept between builds (`ROOT/build-cache-mounts/`, by
//! id, or by target when no id is given); `type=tmpfs`; `type=secret`: a `--secret` file,
//! read-only at `/run/secrets/ID` or its target; `type=bind`: a path of the context,
//! read-only, or (`from=`) of an earlier stage or an image, which is first laid out as one
//! tree in the store's temporary area (hard links to the layers' files when read-only,
//! copies when writable, so that a write never reaches a layer). Nothing mounted lands in
//! the step's layer.

use std::path::{Path, PathBuf};

use kist_engine::VolumeSpec;

use kist_image::TempDir;
use serde_json::{Value, json};

use super::context::{self, CopyStep};
use super::error::BuildError;
use super::stage::{Builder, StageState};
use super::tree::{Entry, Tree};
use crate::{CopySource, Mount, MountSpec, MountType, expand};

/// The volumes of `mounts`, their values expanded with `vars`, and the temporary trees that
/// binds of stages or images show (to keep until the step has run).
pub(super) fn volumes(
    builder: &Builder,
    index: usize,
    mounts: &[MountSpec],
    vars: &[(String, String)],
    step: &str,
) -> Result<(Vec<VolumeSpec>, Vec<TempDir>), BuildError> {
    let invalid = |why: String| BuildError::Invalid(format!("{step}: {why}"));
    let mut volumes = Vec::new();
    let mut copies = Vec::new();
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
            MountType::Bind if m.from.is_some() => {
                let (tree, _) = from_tree(builder, index, &m, step)?;
                let rel = relative(&m, step)?;
                let dir = TempDir::new(builder.engine.images.tmp_dir(), "build-bind")?;
                let root = dir.path().join("root");
                lay_out(&tree, &rel, &root, m.readonly, step)?;
                copies.push(dir);
                VolumeSpec::Bind {
                    source: root,
                    target: target(None)?,
                    read_only: m.readonly,
                    propagation: None,
                }
            }
            MountType::Bind => {
                if !m.readonly {
                    return Err(invalid(
                        "a writable bind mount of the context is not supported (kist would write into your context)".into(),
                    ));
                }
                let (tree, rel) = (context_tree(builder, step)?, relative(&m, step)?);
                let entry = tree
                    .stat(&rel, step)?
                    .ok_or_else(|| invalid(format!("{:?} not found in the build context", rel)))?;
                if entry.meta.file_type().is_symlink() {
                    return Err(invalid(format!(
                        "{:?} is a symlink, which kist does not follow out of its place in the context",
                        rel
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
    Ok((volumes, copies))
}

/// What the bind mounts of a RUN step show, for its cache key: for a path of the context,
/// the digest of its content and metadata (as COPY's sources are keyed); for a stage or an
/// image, the stage's key or the image's id, and the path.
pub(super) fn bind_identities(
    builder: &Builder,
    index: usize,
    state: &StageState,
    mounts: &[MountSpec],
    vars: &[(String, String)],
) -> Result<Vec<Value>, BuildError> {
    let step = "RUN --mount";
    let mut ids = Vec::new();
    for spec in mounts {
        let m = spec
            .resolve(|w| expand(w, &vars))
            .map_err(|e| BuildError::Invalid(format!("{step}={}: {e}", spec.spec)))?;
        if m.kind != MountType::Bind {
            continue;
        }
        let source = m.source.clone().unwrap_or_else(|| "/".into());
        if m.from.is_some() {
            let (_, id) = from_tree(builder, index, &m, step)?;
            ids.push(json!([id, source]));
            continue;
        }
        // The COPY machinery's digest of the path, as though it were copied.
        let tree = context_tree(builder, step)?;
        let sources = [CopySource::Path(source.clone())];
        let copy = CopyStep {
            sources: &sources,
            dest: "/".into(),
            chown: None,
            chmod: None,
            add: false,
            name: step,
        };
        let digest = context::prepare(builder, state, &copy, &tree, vars)?.digest()?;
        ids.push(json!(["context", source, digest.to_string()]));
    }
    Ok(ids)
}

/// The context as a bind mount sees it: every file (`.dockerignore` is for what is copied).
fn context_tree(builder: &Builder, step: &str) -> Result<Tree, BuildError> {
    let root = builder.opts.context.clone().ok_or_else(|| {
        BuildError::Invalid(format!(
            "{step}: there is no build context (kist build -) to bind"
        ))
    })?;
    Ok(Tree::Context {
        root,
        ignore: Default::default(),
    })
}

/// The mount's `source=` as a path inside its tree (no `..`).
fn relative(m: &Mount, step: &str) -> Result<PathBuf, BuildError> {
    let source = m.source.clone().unwrap_or_default();
    let rel: PathBuf = source
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if rel.iter().any(|p| p == "..") {
        return Err(BuildError::Invalid(format!(
            "{step}: {source:?} is outside the tree it is mounted from"
        )));
    }
    Ok(rel)
}

/// The files of the mount's `from=` stage or image, and their identity.
fn from_tree(
    builder: &Builder,
    index: usize,
    m: &Mount,
    step: &str,
) -> Result<(Tree, String), BuildError> {
    let from = m.from.as_deref().unwrap_or_default();
    builder.files_of(from, index, step)
}

/// `rel` of `tree` laid out at `dest`: hard links to the layers' files when `read_only`
/// (then nothing can write through them), copies otherwise.
fn lay_out(
    tree: &Tree,
    rel: &Path,
    dest: &Path,
    read_only: bool,
    step: &str,
) -> Result<(), BuildError> {
    let entry = tree.stat(rel, step)?.ok_or_else(|| {
        BuildError::Invalid(format!("{step}: {:?} not found in the stage or image", rel))
    })?;
    lay_out_entry(tree, rel, &entry, dest, read_only, step)
}

fn lay_out_entry(
    tree: &Tree,
    rel: &Path,
    entry: &Entry,
    dest: &Path,
    read_only: bool,
    step: &str,
) -> Result<(), BuildError> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let fail = |what: &'static str| {
        let dest = dest.display().to_string();
        move |e: std::io::Error| BuildError::Invalid(format!("{step}: {what} {dest}: {e}"))
    };
    let kind = entry.meta.file_type();
    let owner = (Some(entry.meta.uid()), Some(entry.meta.gid()));
    if kind.is_dir() {
        std::fs::create_dir(dest).map_err(fail("making"))?;
        for name in tree.children(rel, step)? {
            let child = rel.join(&name);
            if let Some(e) = tree.child(entry, &child, &name, step)? {
                lay_out_entry(tree, &child, &e, &dest.join(&name), read_only, step)?;
            }
        }
        let mode = std::fs::Permissions::from_mode(entry.meta.mode() & 0o7777);
        std::fs::set_permissions(dest, mode).map_err(fail("setting the mode of"))?;
        std::os::unix::fs::lchown(dest, owner.0, owner.1).map_err(fail("setting the owner of"))?;
    } else if kind.is_symlink() {
        let target = std::fs::read_link(&entry.real).map_err(fail("reading the link for"))?;
        std::os::unix::fs::symlink(target, dest).map_err(fail("making"))?;
        std::os::unix::fs::lchown(dest, owner.0, owner.1).map_err(fail("setting the owner of"))?;
    } else if kind.is_file() {
        let linked = read_only && std::fs::hard_link(&entry.real, dest).is_ok();
        if !linked {
            std::fs::copy(&entry.real, dest).map_err(fail("copying"))?;
            std::os::unix::fs::lchown(dest, owner.0, owner.1)
                .map_err(fail("setting the owner of"))?;
        }
    }
    // Devices, sockets and fifos are left out, as COPY leaves them.
    Ok(())
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
