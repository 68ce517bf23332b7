//! COPY and ADD from the build context: the sources resolved inside the context (no `..` out
//! of it; a symlink named as a source, or on the way to one, followed inside it as BuildKit
//! follows it, never to a file of the host; one met in a copied directory copied as a
//! symlink), `.dockerignore` applied, and the files written as the step's layer, a tar stream
//! straight into the store, with no container. The destination is resolved in the stage's
//! files (`dest.rs`): the directories the step makes on the way get the `--chown` owner, the
//! ones there are kept as they are, and a directory there takes a single file.

use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use kist_image::NewLayer;
use rustix::fs::{Mode, OFlags};
use sha2::{Digest as _, Sha256};

use super::dest::{Dir, Place, append_dirs};
use super::error::BuildError;
use super::matching::{has_wildcards, matches};
use super::stage::{Builder, StageState};
use super::tree::{Entry, Tree, Walk};
use super::{config, owner};
use crate::{CopySource, Heredoc, Lexer, expand};

/// What COPY or ADD copies, and how.
pub(super) struct CopyStep<'a> {
    pub sources: &'a [CopySource],
    pub dest: String,
    pub chown: Option<String>,
    pub chmod: Option<String>,
    /// ADD: a local tar archive is extracted.
    pub add: bool,
    /// The instruction, for messages.
    pub name: &'a str,
}

/// One file or directory to write: its path in the context (resolved), and where it goes.
struct Item {
    source: PathBuf,
    /// A heredoc's body, written as a file named `source` (not read from the tree).
    inline: Option<String>,
    target: String,
    /// The destination as a directory: where an archive ADD extracts goes.
    dest: String,
}

/// A COPY or ADD with its sources found: what it will write.
pub(super) struct Prepared<'a> {
    writer: Writer<'a>,
    /// The directories on the way to the destination.
    parents: Vec<Dir>,
    items: Vec<Item>,
}

/// Finds `step`'s sources in `tree` and what they become.
pub(super) fn prepare<'a>(
    builder: &Builder,
    state: &StageState,
    step: &'a CopyStep,
    tree: &'a Tree,
    vars: &[(String, String)],
) -> Result<Prepared<'a>, BuildError> {
    let name = step.name;
    let in_context = matches!(tree, Tree::Context { .. });
    let mut sources = Vec::new();
    let mut inline = Vec::new();
    for source in step.sources {
        let path = match source {
            CopySource::Path(path) => path,
            CopySource::Heredoc(h) => {
                inline.push((h.name.clone(), heredoc_body(h, vars, name)?));
                continue;
            }
        };
        let path = expand(path, &vars).map_err(BuildError::expand(name))?;
        if step.add && in_context && is_remote(&path) {
            return Err(BuildError::Invalid(format!(
                "{name}: {path} is a remote source, and kist does not fetch remote sources (it builds offline): download it into the context and COPY it"
            )));
        }
        let found = resolve(tree, &path, name)?;
        if found.is_empty() {
            let place = match in_context {
                true => "in the build context (or excluded by .dockerignore)",
                false => "in the --from stage or image",
            };
            return Err(BuildError::Invalid(format!(
                "{name}: {path:?} not found {place}"
            )));
        }
        sources.extend(found);
    }
    let is_dir = |p: &Path| {
        tree.stat(p, name)
            .ok()
            .flatten()
            .is_some_and(|e| e.meta.is_dir())
    };
    let single_file = match (&sources[..], &inline[..]) {
        ([one], []) => !is_dir(&one.rel),
        ([], [_]) => true,
        _ => false,
    };
    // ADD extracts a single archive into the destination, a directory then.
    let archive = match (&sources[..], &inline[..]) {
        ([one], []) if step.add => tree
            .stat(&one.rel, name)?
            .is_some_and(|e| e.meta.is_file() && is_archive(&e.real)),
        _ => false,
    };
    let (dest, into_dir, parents) = destination(builder, state, step, !single_file, archive)?;
    let owner = step
        .chown
        .as_deref()
        .map(|c| expand(c, &vars).map_err(BuildError::expand(name)))
        .transpose()?
        .map(|c| owner::resolve(builder, state, &c, name, &format!("--chown={c}")))
        .transpose()?;
    let mode = step
        .chmod
        .as_deref()
        .map(|m| {
            u32::from_str_radix(m, 8)
                .ok()
                .filter(|m| *m <= 0o7777)
                .ok_or_else(|| {
                    BuildError::Invalid(format!("{name}: --chmod={m}: not an octal mode"))
                })
        })
        .transpose()?;
    let inline = inline
        .into_iter()
        .map(|(n, body)| (PathBuf::from(&n), n, Some(body)));
    let items: Vec<Item> = sources
        .into_iter()
        .map(|s| (s.rel, s.name, None))
        .chain(inline)
        .map(|(source, base, inline)| {
            let target = if into_dir && (inline.is_some() || !is_dir(&source)) {
                format!("{dest}/{base}")
            } else {
                dest.clone()
            };
            Item {
                source,
                inline,
                target,
                dest: dest.clone(),
            }
        })
        .collect();
    let writer = Writer {
        tree,
        zero_mtime: false,
        owner,
        mode,
        add: step.add,
        name,
    };
    Ok(Prepared {
        writer,
        parents,
        items,
    })
}

/// Where the step writes: the destination resolved in the stage (absolute, without a
/// trailing `/`; empty for the root), whether it is a directory the sources go into, and the
/// directories down to it. `several`: the sources are more than one file.
fn destination(
    builder: &Builder,
    state: &StageState,
    step: &CopyStep,
    several: bool,
    archive: bool,
) -> Result<(String, bool, Vec<Dir>), BuildError> {
    let written = match step.dest.starts_with('/') {
        true => step.dest.clone(),
        false => format!(
            "{}/{}",
            config::workdir(&state.config).trim_end_matches('/'),
            step.dest
        ),
    };
    let place = Place::resolve(builder, state, &written, step.name)?;
    // `.`, `dir/.` and `dir/` name a directory, as do several sources; and, as in Docker, a
    // directory that is there takes a single file too.
    let into_dir = written.ends_with('/') || written.ends_with("/.") || several || place.is_dir();
    if (into_dir || archive) && !place.is_dir() && place.existing().is_some() {
        return Err(BuildError::Invalid(format!(
            "{}: {} is not a directory",
            step.name,
            place.path()
        )));
    }
    let dest = place.path().trim_end_matches('/').to_string();
    Ok((dest, into_dir, place.dirs(into_dir || archive)))
}

impl Prepared<'_> {
    /// The digest of what the step copies, content and metadata (modification times left
    /// out, as BuildKit does): the cache key's part for the sources.
    pub fn digest(&self) -> Result<kist_image::Digest, BuildError> {
        let mut hasher = HashWriter(Sha256::new());
        let writer = Writer {
            zero_mtime: true,
            ..self.writer
        };
        writer.write(&self.parents, &self.items, &mut hasher)?;
        let hex = hex::encode(hasher.0.finalize());
        Ok(kist_image::Digest::parse(&format!("sha256:{hex}"))?)
    }

    /// Writes the layer into the store, on top of the stage's.
    pub fn store(self, builder: &Builder, state: &StageState) -> Result<NewLayer, BuildError> {
        let name = self.writer.name;
        let (writer, parents, items) = (self.writer, self.parents, self.items);
        let store = &builder.engine.images;
        let (reader, pipe) = std::io::pipe().map_err(BuildError::io("making a pipe"))?;
        std::thread::scope(|s| {
            let tar = s.spawn(move || writer.write(&parents, &items, pipe));
            let stored = kist_image::add_layer(store, Drain(reader), state.chain.as_ref());
            let written = tar
                .join()
                .map_err(|_| BuildError::Invalid(format!("{name}: the layer writer panicked")))?;
            written?;
            Ok(stored?)
        })
    }
}

/// Hashes what is written.
struct HashWriter(Sha256);

impl Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A COPY heredoc's body, its variables expanded unless its terminator was quoted (only
/// `$` expansions: quotes and backslashes stay as written).
fn heredoc_body(h: &Heredoc, vars: &[(String, String)], step: &str) -> Result<String, BuildError> {
    let body = h.body().into_owned();
    if !h.expand {
        return Ok(body);
    }
    let mut lexer = Lexer::new('\\');
    lexer.raw_quotes = true;
    lexer.raw_escapes = true;
    let vars = vars.to_vec();
    lexer.expand(&body, &vars).map_err(BuildError::expand(step))
}

fn is_remote(path: &str) -> bool {
    ["http://", "https://", "git@", "git://", "ssh://"]
        .iter()
        .any(|p| path.starts_with(p))
}

/// A source found: where it is in the tree (resolved: no symlink on its way) and the name
/// it was given, which its copy takes (a symlink's own name, not its target's).
struct Source {
    rel: PathBuf,
    name: String,
    /// The path as written (wildcards matched), for `.dockerignore`.
    written: PathBuf,
}

/// The sources `pattern` names in `tree`: itself, or what its wildcards match (Go's rules, one
/// path element at a time). A symlink on the way, or named as the source, is followed as
/// BuildKit follows it, inside the tree (an absolute target starts from its root); one whose
/// target is not there fails the step. No `..` leaves the tree.
fn resolve(tree: &Tree, pattern: &str, name: &str) -> Result<Vec<Source>, BuildError> {
    let mut parts = Vec::new();
    for part in pattern.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(BuildError::Invalid(format!(
                        "{name}: {pattern:?} is outside the build context"
                    )));
                }
            }
            p => parts.push(p.to_string()),
        }
    }
    let mut found = vec![Source {
        rel: PathBuf::new(),
        name: String::new(),
        written: PathBuf::new(),
    }];
    for part in &parts {
        let mut next = Vec::new();
        for dir in &found {
            let names = match has_wildcards(part) {
                true if !tree.stat(&dir.rel, name)?.is_some_and(|e| e.meta.is_dir()) => continue,
                true => tree
                    .children(&dir.rel, name)?
                    .into_iter()
                    .filter(|n| matches(part, n))
                    .collect(),
                false => vec![part.clone()],
            };
            for n in names {
                next.extend(follow(tree, dir, &n, pattern, name)?);
            }
        }
        found = next;
    }
    found.retain(|s| !tree.excludes(&s.written) && !tree.excludes(&s.rel));
    Ok(found)
}

/// The entry `n` of the directory `dir`, followed if it is a symlink; `None` when there is
/// no such entry.
fn follow(
    tree: &Tree,
    dir: &Source,
    n: &str,
    pattern: &str,
    step: &str,
) -> Result<Option<Source>, BuildError> {
    let here = dir.rel.join(n);
    let source = |at: Vec<String>| Source {
        rel: at.iter().collect(),
        name: n.to_string(),
        written: dir.written.join(n),
    };
    match tree.walk(&here, true) {
        Walk::Found { at, .. } => Ok(Some(source(at))),
        _ => match tree.stat(&here, step)? {
            Some(e) if e.meta.file_type().is_symlink() => {
                let target = fs::read_link(&e.real).map_err(BuildError::io(format!(
                    "{step}: reading the link {pattern}"
                )))?;
                let place = match tree {
                    Tree::Context { .. } => "the build context",
                    Tree::Layers(_) => "the --from stage or image",
                };
                Err(BuildError::Invalid(format!(
                    "{step}: {:?} is a symlink to {:?}, which is not in {place} (a symlink is followed inside it only, never to a file of the host)",
                    dir.written.join(n),
                    target
                )))
            }
            _ => Ok(None),
        },
    }
}

/// Writes the items as a tar stream.
#[derive(Clone, Copy)]
struct Writer<'a> {
    tree: &'a Tree,
    /// For the cache key: times left out.
    zero_mtime: bool,
    owner: Option<(u32, u32)>,
    mode: Option<u32>,
    add: bool,
    name: &'a str,
}

impl Writer<'_> {
    fn write(&self, parents: &[Dir], items: &[Item], out: impl Write) -> Result<(), BuildError> {
        let mut tar = tar::Builder::new(out);
        tar.follow_symlinks(false);
        let owner = self.owner.unwrap_or((0, 0));
        append_dirs(&mut tar, parents, owner, self.zero_mtime, self.name)?;
        for item in items {
            if let Some(body) = &item.inline {
                self.inline(&mut tar, body, &item.target)?;
                continue;
            }
            let Some(found) = self.tree.stat(&item.source, self.name)? else {
                continue;
            };
            if found.meta.is_dir() {
                self.directory(&mut tar, &item.source, &found, &item.target, true)?;
            } else if self.add && found.meta.is_file() && is_archive(&found.real) {
                self.extract(&mut tar, &found.real, &item.dest)?;
            } else {
                self.entry(&mut tar, &found, &item.target)?;
            }
        }
        tar.finish()
            .map_err(BuildError::io(format!("{}: writing the layer", self.name)))
    }

    /// A heredoc's body as a file (0644 unless --chmod, as BuildKit makes it).
    fn inline<W: Write>(
        &self,
        tar: &mut tar::Builder<W>,
        body: &str,
        target: &str,
    ) -> Result<(), BuildError> {
        let mut header = tar::Header::new_gnu();
        let (uid, gid) = self.owner.unwrap_or((0, 0));
        header.set_uid(u64::from(uid));
        header.set_gid(u64::from(gid));
        header.set_mode(self.mode.unwrap_or(0o644));
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(body.len() as u64);
        tar.append_data(&mut header, target.trim_start_matches('/'), body.as_bytes())
            .map_err(BuildError::io(format!("{}: writing {target}", self.name)))
    }

    /// A directory's contents under `target` (and, but for the top one, which is among the
    /// destination's directories, the directory itself). `dir` is the directory's entry,
    /// found at `source`.
    fn directory<W: Write>(
        &self,
        tar: &mut tar::Builder<W>,
        source: &Path,
        dir: &Entry,
        target: &str,
        top: bool,
    ) -> Result<(), BuildError> {
        if !top {
            self.entry(tar, dir, target)?;
        }
        for n in self.tree.children(source, self.name)? {
            let child = source.join(&n);
            if self.tree.excludes(&child) {
                continue;
            }
            let target = format!("{target}/{n}");
            match self.tree.child(dir, &child, &n, self.name)? {
                Some(e) if e.meta.is_dir() => self.directory(tar, &child, &e, &target, false)?,
                Some(e) => self.entry(tar, &e, &target)?,
                None => {}
            }
        }
        Ok(())
    }

    /// One file, directory or symlink (never followed); other kinds are left out.
    fn entry<W: Write>(
        &self,
        tar: &mut tar::Builder<W>,
        found: &Entry,
        target: &str,
    ) -> Result<(), BuildError> {
        let Entry { real: path, meta } = found;
        let fail = || BuildError::io(format!("{}: copying {}", self.name, path.display()));
        let mut header = tar::Header::new_gnu();
        let (uid, gid) = self.owner.unwrap_or((0, 0));
        header.set_uid(u64::from(uid));
        header.set_gid(u64::from(gid));
        let mtime = if self.zero_mtime { 0 } else { meta.mtime() };
        header.set_mtime(u64::try_from(mtime).unwrap_or(0));
        header.set_mode(self.mode.unwrap_or(meta.permissions().mode() & 0o7777));
        let name = target.trim_start_matches('/');
        let kind = meta.file_type();
        if kind.is_symlink() {
            header.set_entry_type(tar::EntryType::Symlink);
            header.set_size(0);
            header.set_mode(0o777);
            let link = fs::read_link(path).map_err(fail())?;
            tar.append_link(&mut header, name, link).map_err(fail())
        } else if kind.is_dir() {
            header.set_entry_type(tar::EntryType::Directory);
            header.set_size(0);
            tar.append_data(&mut header, format!("{name}/"), std::io::empty())
                .map_err(fail())
        } else if kind.is_file() {
            header.set_entry_type(tar::EntryType::Regular);
            header.set_size(meta.len());
            // Not through a symlink put in its place since it was found.
            let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
            let file = rustix::fs::open(path, flags, Mode::empty())
                .map(File::from)
                .map_err(|e| fail()(e.into()))?;
            tar.append_data(&mut header, name, file).map_err(fail())
        } else {
            Ok(())
        }
    }

    /// ADD of a local archive: its entries under `target`, with their own owners and modes.
    fn extract<W: Write>(
        &self,
        tar: &mut tar::Builder<W>,
        path: &Path,
        target: &str,
    ) -> Result<(), BuildError> {
        let fail = || BuildError::io(format!("{}: extracting {}", self.name, path.display()));
        let mut archive = tar::Archive::new(open_archive(path).map_err(fail())?);
        let prefix = target.trim_start_matches('/').trim_end_matches('/');
        for entry in archive.entries().map_err(fail())? {
            let mut entry = entry.map_err(fail())?;
            let inner = entry.path().map_err(fail())?.to_string_lossy().into_owned();
            let inner: Vec<&str> = inner
                .split('/')
                .filter(|p| !p.is_empty() && *p != "." && *p != "..")
                .collect();
            let name = match (prefix.is_empty(), inner.is_empty()) {
                (_, true) => continue,
                (true, false) => inner.join("/"),
                (false, false) => format!("{prefix}/{}", inner.join("/")),
            };
            let mut header = entry.header().clone();
            match header.entry_type() {
                tar::EntryType::Symlink => {
                    let link = entry
                        .link_name()
                        .map_err(fail())?
                        .unwrap_or_default()
                        .into_owned();
                    tar.append_link(&mut header, &name, link).map_err(fail())?;
                }
                tar::EntryType::Link => {
                    let link = entry
                        .link_name()
                        .map_err(fail())?
                        .unwrap_or_default()
                        .to_string_lossy()
                        .into_owned();
                    let link = link
                        .trim_start_matches('/')
                        .trim_start_matches("./")
                        .to_string();
                    let link = if prefix.is_empty() {
                        link
                    } else {
                        format!("{prefix}/{link}")
                    };
                    tar.append_link(&mut header, &name, link).map_err(fail())?;
                }
                _ => tar
                    .append_data(&mut header, &name, &mut entry)
                    .map_err(fail())?,
            }
        }
        Ok(())
    }
}

/// The file, decompressed if it is gzip.
fn open_archive(path: &Path) -> std::io::Result<Box<dyn Read>> {
    let mut file = BufReader::new(File::open(path)?);
    let head = file.fill_buf()?;
    if head.starts_with(&[0x1f, 0x8b]) {
        return Ok(Box::new(flate2::read::GzDecoder::new(file)));
    }
    Ok(Box::new(file))
}

/// Whether ADD extracts the file: a tar archive, plain or gzip.
fn is_archive(path: &Path) -> bool {
    let Ok(mut reader) = open_archive(path) else {
        return false;
    };
    let mut block = [0u8; 512];
    let mut read = 0;
    while read < block.len() {
        match reader.read(&mut block[read..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => read += n,
        }
    }
    read == block.len() && &block[257..262] == b"ustar"
}

/// A pipe's read end that, dropped early (the store refused the layer), lets the writer end.
struct Drain(std::io::PipeReader);

impl Read for Drain {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

impl Drop for Drain {
    fn drop(&mut self) {
        let _ = std::io::copy(&mut self.0, &mut std::io::sink());
    }
}
