//! An OCI bundle: its `config.json` parsed into the runtime's `Spec`, and its root filesystem.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use oci_spec::runtime::Spec;

pub struct Bundle {
    /// Absolute, as the state reports it.
    pub dir: PathBuf,
    pub spec: Spec,
    pub rootfs: PathBuf,
    /// What was changed in the spec, for the log.
    pub warnings: Vec<String>,
}

impl Bundle {
    pub fn load(dir: &Path) -> Result<Bundle> {
        let dir = std::fs::canonicalize(dir)
            .with_context(|| format!("the bundle {} does not exist", dir.display()))?;
        let config = dir.join("config.json");
        let text = std::fs::read(&config).with_context(|| {
            format!(
                "cannot read the bundle's config.json ({})",
                config.display()
            )
        })?;
        let mut spec: Spec = serde_json::from_slice(&text)
            .map_err(|e| anyhow!("invalid config.json in {}: {e}", dir.display()))?;
        let root = spec
            .root()
            .as_ref()
            .ok_or_else(|| anyhow!("config.json has no root.path"))?;
        let rootfs = dir.join(root.path());
        if !rootfs.is_dir() {
            bail!(
                "the root filesystem {} is not a directory",
                rootfs.display()
            );
        }
        if spec.process().is_none() {
            bail!("config.json has no process");
        }
        allow_standard_devices(&mut spec);
        map_systemd_cgroups_path(&mut spec)?;
        let warnings = drop_unraisable_ambient(&mut spec);
        Ok(Bundle {
            dir,
            spec,
            rootfs,
            warnings,
        })
    }

    pub fn terminal(&self) -> bool {
        self.spec
            .process()
            .as_ref()
            .and_then(|p| p.terminal())
            .unwrap_or(false)
    }
}

/// As runc does, the devices every container's /dev has (null, zero, full, random, urandom,
/// tty, console, ptmx, pseudo-terminals; mknod of any) are allowed after the spec's own
/// rules, which alone would deny the runtime the nodes it makes in /dev.
fn allow_standard_devices(spec: &mut Spec) {
    let Some(mut linux) = spec.linux().clone() else {
        return;
    };
    let Some(mut resources) = linux.resources().clone() else {
        return;
    };
    let Some(mut devices) = resources.devices().clone() else {
        return;
    };
    devices.extend(
        kist_runtime::docker_default_devices()
            .into_iter()
            .filter(|r| r.allow()),
    );
    resources.set_devices(Some(devices));
    linux.set_resources(Some(resources));
    spec.set_linux(Some(linux));
}

/// An ambient capability the kernel refuses to raise (one not also inheritable and permitted)
/// is dropped with a warning, as runc does, instead of failing the start.
fn drop_unraisable_ambient(spec: &mut Spec) -> Vec<String> {
    let Some(mut process) = spec.process().clone() else {
        return Vec::new();
    };
    let Some(mut caps) = process.capabilities().clone() else {
        return Vec::new();
    };
    let Some(ambient) = caps.ambient().clone() else {
        return Vec::new();
    };
    let inheritable = caps.inheritable().clone().unwrap_or_default();
    let permitted = caps.permitted().clone().unwrap_or_default();
    let (kept, dropped): (std::collections::HashSet<_>, std::collections::HashSet<_>) = ambient
        .into_iter()
        .partition(|c| inheritable.contains(c) && permitted.contains(c));
    let warnings = dropped
        .iter()
        .map(|c| {
            format!(
                "cannot raise the ambient capability {c} (not inheritable and permitted): dropped"
            )
        })
        .collect();
    caps.set_ambient(Some(kept));
    process.set_capabilities(Some(caps));
    spec.set_process(Some(process));
    warnings
}

/// A systemd-style `linux.cgroupsPath` (`slice:prefix:name`, what callers pass with
/// `--systemd-cgroup`) becomes the cgroupfs path systemd would give that unit: kist manages
/// cgroups through cgroupfs, on hosts without systemd too.
fn map_systemd_cgroups_path(spec: &mut Spec) -> Result<()> {
    let Some(mut linux) = spec.linux().clone() else {
        return Ok(());
    };
    let Some(path) = linux.cgroups_path().clone() else {
        return Ok(());
    };
    let text = path.to_string_lossy();
    if text.starts_with('/') || text.matches(':').count() != 2 {
        return Ok(());
    }
    let mapped = systemd_path(&text)?;
    linux.set_cgroups_path(Some(mapped.into()));
    spec.set_linux(Some(linux));
    Ok(())
}

/// `slice:prefix:name` → `/a.slice/a-b.slice/prefix-name.scope`, as systemd lays units out.
fn systemd_path(text: &str) -> Result<String> {
    let mut parts = text.splitn(3, ':');
    let (slice, prefix, name) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let slice = if slice.is_empty() {
        "system.slice"
    } else {
        slice
    };
    let Some(stem) = slice.strip_suffix(".slice") else {
        bail!("invalid systemd slice {slice:?} in cgroupsPath {text:?}: it must end in .slice");
    };
    if name.is_empty() {
        bail!("invalid cgroupsPath {text:?}: use slice:prefix:name");
    }
    let mut out = String::new();
    if stem != "-" {
        let mut acc = String::new();
        for piece in stem.split('-') {
            if piece.is_empty() {
                bail!("invalid systemd slice {slice:?} in cgroupsPath {text:?}");
            }
            if !acc.is_empty() {
                acc.push('-');
            }
            acc.push_str(piece);
            out.push('/');
            out.push_str(&acc);
            out.push_str(".slice");
        }
    }
    let unit = if name.ends_with(".slice") {
        name.to_string()
    } else if prefix.is_empty() {
        format!("{name}.scope")
    } else {
        format!("{prefix}-{name}.scope")
    };
    out.push('/');
    out.push_str(&unit);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::systemd_path;

    #[test]
    fn systemd_paths_map_as_systemd_lays_units_out() {
        assert_eq!(
            systemd_path("system.slice:docker:abc").unwrap(),
            "/system.slice/docker-abc.scope"
        );
        assert_eq!(
            systemd_path("kubepods-besteffort-pod1.slice:cri-containerd:c1").unwrap(),
            "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/cri-containerd-c1.scope"
        );
        assert_eq!(systemd_path(":p:n").unwrap(), "/system.slice/p-n.scope");
        assert_eq!(systemd_path("-.slice:p:n").unwrap(), "/p-n.scope");
        assert!(systemd_path("notaslice:p:n").is_err());
    }
}
