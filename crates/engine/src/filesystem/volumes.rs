//! Named volumes: directories under `<root>/volumes/NAME/_data`, recorded in the store, created
//! on first use, kept until removed, and never removed while a container uses them.

use std::fs;

use crate::Engine;
use crate::error::{Error, IoContext, Result};
use crate::state::store::VolumeRecord;

/// Docker's rule for volume names.
pub fn is_valid_name(name: &str) -> bool {
    crate::options::names::is_valid(name)
}

/// Creates the volume if it does not exist; true if it is new (and so may be seeded).
pub fn ensure(engine: &Engine, name: &str, anonymous: bool) -> Result<bool> {
    if !is_valid_name(name) {
        return Err(Error::invalid_value(
            "volume name",
            name,
            "use letters, digits, '_', '.' and '-', starting with a letter or digit",
        ));
    }
    let data = engine.layout.volume_data(name);
    // The directory first: a record without its directory would be a lie.
    fs::create_dir_all(&data).ctx("creating volume directory", &data)?;
    let new = engine.store.create_volume(name, anonymous)?;
    if new {
        crate::state::events::volume(&engine.layout.root, "create", name);
    }
    Ok(new)
}

pub fn list(engine: &Engine) -> Result<Vec<VolumeRecord>> {
    engine.store.volumes()
}

pub fn inspect(engine: &Engine, name: &str) -> Result<serde_json::Value> {
    let v = engine
        .store
        .volume(name)?
        .ok_or_else(|| Error::NoSuchVolume {
            name: name.to_string(),
        })?;
    Ok(serde_json::json!({
        "CreatedAt": v.created,
        "Driver": "local",
        "Labels": {},
        "Mountpoint": engine.layout.volume_data(name),
        "Name": v.name,
        "Options": {},
        "Scope": "local",
    }))
}

/// Removes a volume; refuses one that a container uses.
pub fn remove(engine: &Engine, name: &str) -> Result<()> {
    if engine.store.volume(name)?.is_none() {
        return Err(Error::NoSuchVolume {
            name: name.to_string(),
        });
    }
    if !engine.store.delete_volume_if_unused(name)? {
        let users = engine.store.volume_users(name)?;
        return Err(Error::VolumeInUse {
            name: name.to_string(),
            containers: users
                .iter()
                .map(|u| u[..12.min(u.len())].to_string())
                .collect(),
        });
    }
    let dir = engine.layout.volumes_dir().join(name);
    fs::remove_dir_all(&dir).ctx("removing volume directory", dir)?;
    crate::state::events::volume(&engine.layout.root, "destroy", name);
    Ok(())
}

/// Removes every anonymous volume no container uses (with `all`, the named ones too); returns
/// their names.
pub fn prune(engine: &Engine, all: bool) -> Result<Vec<String>> {
    let mut removed = Vec::new();
    for v in engine
        .store
        .volumes()?
        .into_iter()
        .filter(|v| all || v.anonymous)
    {
        if engine.store.delete_volume_if_unused(&v.name)? {
            let dir = engine.layout.volumes_dir().join(&v.name);
            fs::remove_dir_all(&dir).ctx("removing volume directory", dir)?;
            crate::state::events::volume(&engine.layout.root, "destroy", &v.name);
            removed.push(v.name);
        }
    }
    Ok(removed)
}
