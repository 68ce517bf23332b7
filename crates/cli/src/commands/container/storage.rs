//! The mount flags of `run` besides `-v` (`--mount`, `--tmpfs`, `--shm-size`, `--volumes-from`)
//! and the namespace flags (`--pid`, `--ipc`, `--uts`), handed to the engine's parsers.

use anyhow::Result;
use clap::Args;
use kist_engine::VolumeSpec;
use kist_engine::mounts::{Storage, bind_as_shown, parse_mount, parse_shm_size, parse_tmpfs};
use kist_engine::namespaces::Namespaces;

// `run` flattens this after its own flags.
#[derive(Args)]
pub struct StorageArgs {
    /// Attach a filesystem mount: type=bind|volume|tmpfs,source=...,target=...[,readonly]
    #[arg(long, value_name = "MOUNT")]
    mount: Vec<String>,
    /// Mount a tmpfs directory: PATH[:OPTIONS] (like /run:size=64m,mode=1777)
    #[arg(long, value_name = "PATH[:OPTIONS]")]
    tmpfs: Vec<String>,
    /// Size of /dev/shm (like 128m) [default: 64m]
    #[arg(long = "shm-size", value_name = "SIZE")]
    shm_size: Option<String>,
    /// Mount the volumes of another container: CONTAINER[:ro|rw]
    #[arg(long = "volumes-from", value_name = "CONTAINER")]
    volumes_from: Vec<String>,
}

#[derive(Args)]
pub struct NamespaceArgs {
    /// The PID namespace: host, or container:NAME|ID to share another's [default: its own]
    #[arg(long, value_name = "MODE", default_value = "")]
    pid: String,
    /// The IPC namespace: private, shareable, none, host or container:NAME|ID [default: private]
    #[arg(long, value_name = "MODE", default_value = "")]
    ipc: String,
    /// The UTS namespace (host name): host [default: its own]
    #[arg(long, value_name = "MODE", default_value = "")]
    uts: String,
}

impl NamespaceArgs {
    pub fn namespaces(&self) -> Result<Namespaces> {
        Ok(Namespaces::parse(&self.pid, &self.ipc, &self.uts)?)
    }
}

impl StorageArgs {
    /// The mounts in order (`-v`, then `--mount`), and the rest as inspect shows it. Warns
    /// once when a `-v` asks for an SELinux label, which kist does not apply.
    pub fn mounts(&self, volumes: &[String]) -> Result<(Vec<VolumeSpec>, Storage)> {
        let mut specs = Vec::new();
        let mut storage = Storage::default();
        for v in volumes {
            let spec = kist_engine::parse_volume(v)?;
            storage.binds.extend(bind_as_shown(v, &spec));
            specs.push(spec);
        }
        if volumes.iter().any(|v| kist_engine::asks_relabel(v)) {
            warn_relabel();
        }
        for m in &self.mount {
            let (spec, shown) = parse_mount(m)?;
            specs.push(spec);
            storage.mounts.push(shown);
        }
        storage.tmpfs = self
            .tmpfs
            .iter()
            .map(|t| parse_tmpfs(t))
            .collect::<std::result::Result<_, _>>()?;
        storage.shm_size = self
            .shm_size
            .as_deref()
            .map(parse_shm_size)
            .transpose()?
            .flatten();
        storage.volumes_from = self.volumes_from.clone();
        Ok((specs, storage))
    }
}

/// `:z` and `:Z` relabel a volume for SELinux; without SELinux there is nothing to relabel.
fn warn_relabel() {
    if std::path::Path::new("/sys/fs/selinux/enforce").exists() {
        eprintln!("kist: warning: :z/:Z ignored, kist does not relabel volumes for SELinux");
    } else {
        eprintln!("kist: warning: :z/:Z ignored, this host has no SELinux");
    }
}
