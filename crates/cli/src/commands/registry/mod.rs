//! The registry commands: `kist pull`, `push` (also under `image`), `login`, `logout`; their
//! flags, progress display and Docker's output.

mod login;
mod progress;
mod pull;
mod push;

use anyhow::{Context, Result};
use clap::Args;
use kist_engine::Engine;
use kist_image::registry::{CredentialStore, RegistryOptions};

pub use login::{LoginArgs, LogoutArgs, login, logout};
pub use pull::{PullArgs, PullPolicy, ensure_image, pull};
pub use push::{PushArgs, push};

// --insecure-registry, for every command that talks to a registry.
#[derive(Args)]
pub struct RegistryFlags {
    /// A registry (HOST[:PORT]) that may be reached over plain HTTP (loopback ones may);
    /// repeatable
    #[arg(
        long = "insecure-registry",
        env = "KIST_INSECURE_REGISTRIES",
        value_delimiter = ',',
        value_name = "HOST[:PORT]"
    )]
    insecure: Vec<String>,
}

impl RegistryFlags {
    /// The registries of `KIST_INSECURE_REGISTRIES`, for a command without the flag (`run`).
    pub(super) fn from_env() -> RegistryFlags {
        let list = std::env::var("KIST_INSECURE_REGISTRIES").unwrap_or_default();
        RegistryFlags {
            insecure: list
                .split(',')
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
        }
    }

    /// The flags' registries and those of the store's config file, ROOT/config.json
    /// (`{"insecure-registries": ["HOST[:PORT]"]}`, as in Docker's daemon.json).
    pub(super) fn options(&self, engine: &Engine) -> Result<RegistryOptions> {
        let mut insecure = self.insecure.clone();
        let path = engine.layout.root.join("config.json");
        match std::fs::read(&path) {
            Ok(bytes) => {
                let config: serde_json::Value = serde_json::from_slice(&bytes)
                    .with_context(|| format!("reading {}", path.display()))?;
                if let Some(list) = config["insecure-registries"].as_array() {
                    insecure.extend(list.iter().filter_map(|v| v.as_str().map(String::from)));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        }
        Ok(RegistryOptions { insecure })
    }
}

/// The logins, in ROOT/auth.json.
pub(super) fn credentials(engine: &Engine) -> CredentialStore {
    CredentialStore::new(engine.layout.root.join("auth.json"))
}
