//! Stored logins: ROOT/auth.json, in Docker's config.json shape (`{"auths": {HOST: {"auth":
//! base64(user:password)}}}`), readable by its owner only (mode 0600).

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::auth::Credential;
use super::error::{Error, Result};
use crate::error::IoContext;

#[derive(Default, Serialize, Deserialize)]
struct AuthFile {
    #[serde(default)]
    auths: BTreeMap<String, Entry>,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    auth: String,
}

pub struct CredentialStore {
    path: PathBuf,
}

impl CredentialStore {
    pub fn new(path: impl Into<PathBuf>) -> CredentialStore {
        CredentialStore { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The login stored for `registry`, if any.
    pub fn get(&self, registry: &str) -> Result<Option<Credential>> {
        let file = self.read()?;
        let Some(entry) = file.auths.get(registry) else {
            return Ok(None);
        };
        Credential::decode(&entry.auth)
            .map(Some)
            .ok_or_else(|| Error::BadCredentials {
                path: self.path.clone(),
                what: format!("the entry for {registry} is not base64 of user:password"),
            })
    }

    pub fn store(&self, registry: &str, credential: &Credential) -> Result<()> {
        let mut file = self.read()?;
        file.auths.insert(
            registry.to_string(),
            Entry {
                auth: credential.encoded(),
            },
        );
        self.write(&file)
    }

    /// Forgets the login for `registry`; false when there was none. The file goes with its
    /// last entry.
    pub fn remove(&self, registry: &str) -> Result<bool> {
        let mut file = self.read()?;
        if file.auths.remove(registry).is_none() {
            return Ok(false);
        }
        if file.auths.is_empty() {
            fs::remove_file(&self.path).ctx("removing", &self.path)?;
            return Ok(true);
        }
        self.write(&file)?;
        Ok(true)
    }

    fn read(&self) -> Result<AuthFile> {
        match fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::BadCredentials {
                path: self.path.clone(),
                what: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(AuthFile::default()),
            Err(e) => Ok(Err(e).ctx("reading", &self.path)?),
        }
    }

    /// Writes through a private temporary file and a rename: the secret is never readable by
    /// others, not even for a moment, and a crash leaves the old file or the new one.
    fn write(&self, file: &AuthFile) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(file).map_err(|e| Error::BadCredentials {
            path: self.path.clone(),
            what: e.to_string(),
        })?;
        let tmp = self
            .path
            .with_extension(format!("tmp-{}", crate::temp::random_hex()));
        let result = (|| {
            let mut f = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            fs::rename(&tmp, &self.path)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        Ok(result.ctx("writing", &self.path)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn stores_privately_and_removes_the_file_with_the_last_login() {
        let dir = tempfile::tempdir().unwrap();
        let store = CredentialStore::new(dir.path().join("auth.json"));
        let c = Credential {
            username: "u".into(),
            password: "p".into(),
        };
        assert_eq!(store.get("r:5000").unwrap(), None);
        store.store("r:5000", &c).unwrap();
        let mode = fs::metadata(store.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(store.get("r:5000").unwrap(), Some(c));
        assert!(store.remove("r:5000").unwrap());
        assert!(!store.path().exists());
        assert!(!store.remove("r:5000").unwrap());
    }
}
