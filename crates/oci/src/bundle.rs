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
        check_version(spec.version())?;
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
        let mut warnings = unsupported(&spec)?;
        warnings.extend(drop_unraisable_ambient(&mut spec));
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

/// The spec's `ociVersion` must be a version of the runtime spec kist implements (1.x.y, as
/// semver writes it): the spec says a runtime MUST refuse values it cannot honour, and a
/// config.json of another major version (or no version) means fields kist would misread.
fn check_version(version: &str) -> Result<()> {
    let core = version.split(['-', '+']).next().unwrap_or_default();
    let parts: Vec<&str> = core.split('.').collect();
    let numeric = parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if numeric && parts[0] == "1" {
        Ok(())
    } else {
        bail!(
            "config.json's ociVersion {version:?} is not a runtime-spec version kist-runtime supports (1.x.y)"
        )
    }
}

/// What the spec asks for and kist does not do: refused when ignoring it would change what
/// the program sees (Intel RDT, a 32-bit personality, time offsets); a warning for security
/// labels on a host without SELinux or AppArmor, where no runtime could apply them.
fn unsupported(spec: &Spec) -> Result<Vec<String>> {
    let mut warnings = Vec::new();
    if let Some(linux) = spec.linux() {
        if linux.intel_rdt().is_some() {
            bail!("linux.intelRdt is not supported by kist-runtime: remove it from config.json");
        }
        if let Some(p) = linux.personality() {
            let plain = p.domain() == oci_spec::runtime::LinuxPersonalityDomain::PerLinux
                && p.flags().as_ref().is_none_or(|f| f.is_empty());
            if !plain {
                bail!("linux.personality other than LINUX is not supported by kist-runtime");
            }
        }
        if linux.time_offsets().as_ref().is_some_and(|t| !t.is_empty()) {
            bail!("linux.timeOffsets (a time namespace) is not supported by kist-runtime");
        }
        if linux.mount_label().as_ref().is_some_and(|l| !l.is_empty()) {
            warnings.push(selinux_warning("linux.mountLabel")?);
        }
    }
    if let Some(process) = spec.process() {
        if process
            .selinux_label()
            .as_ref()
            .is_some_and(|l| !l.is_empty())
        {
            warnings.push(selinux_warning("process.selinuxLabel")?);
        }
        if process
            .apparmor_profile()
            .as_ref()
            .is_some_and(|l| !l.is_empty())
        {
            warnings.push(
                "process.apparmorProfile is not applied: kist-runtime has no AppArmor support"
                    .into(),
            );
        }
    }
    Ok(warnings)
}

/// Without SELinux on the host a label means nothing and is ignored; with it, kist cannot
/// apply it and says so rather than run the container unlabelled.
fn selinux_warning(field: &str) -> Result<String> {
    if Path::new("/sys/fs/selinux/enforce").exists() {
        bail!("{field} is not applied by kist-runtime, and this host runs SELinux");
    }
    Ok(format!("{field} ignored: this host has no SELinux"))
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
    use super::{check_version, systemd_path, unsupported};

    #[test]
    fn only_runtime_spec_1_versions_are_accepted() {
        for ok in ["1.0.0", "1.0.2-dev", "1.1.0", "1.2.0+build.1", "1.0.0-rc5"] {
            assert!(check_version(ok).is_ok(), "{ok}");
        }
        for bad in ["invalid", "", "2.0.0", "1.0", "1.x.0", "0.5.0"] {
            let e = check_version(bad).unwrap_err().to_string();
            assert!(e.contains("ociVersion"), "{e}");
        }
    }

    fn spec(extra: serde_json::Value) -> oci_spec::runtime::Spec {
        let mut v = serde_json::json!({
            "ociVersion": "1.0.2",
            "root": {"path": "rootfs"},
            "process": {"user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/"},
            "linux": {}
        });
        for (k, x) in extra.as_object().unwrap() {
            v["linux"][k] = x.clone();
        }
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn what_kist_does_not_do_is_refused_not_ignored() {
        let e = unsupported(&spec(serde_json::json!({"intelRdt": {"closID": "x"}}))).unwrap_err();
        assert!(e.to_string().contains("intelRdt"), "{e}");
        let e = unsupported(&spec(
            serde_json::json!({"personality": {"domain": "LINUX32"}}),
        ))
        .unwrap_err();
        assert!(e.to_string().contains("personality"), "{e}");
        let plain = spec(serde_json::json!({"personality": {"domain": "LINUX"}}));
        assert!(unsupported(&plain).unwrap().is_empty());
        let e = unsupported(&spec(
            serde_json::json!({"timeOffsets": {"monotonic": {"secs": 1}}}),
        ))
        .unwrap_err();
        assert!(e.to_string().contains("timeOffsets"), "{e}");
    }

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
