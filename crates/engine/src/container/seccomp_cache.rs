//! Compiled seccomp filters, kept in the store (`ROOT/seccomp/<digest>.bpf`, keyed by the
//! digest of the resolved profile): a profile is compiled once, not at every start.

use kist_runtime::seccomp::{DEFAULT_PROFILE_JSON, Filter, Profile, native_arch};

use crate::error::{Error, IoContext, Result};
use crate::options::security::{SeccompChoice, Security};
use crate::state::layout::Layout;

/// The compiled filter for a container with these security settings (None: unconfined).
///
/// The key is what decides the filter: the profile's text, the container's capabilities, the
/// architecture and the kernel release (entries may have a `minKernel`). On a hit nothing is
/// parsed or resolved: the default profile's text is hashed when kist is compiled.
pub fn filter_for(layout: &Layout, security: &Security) -> Result<Option<Filter>> {
    let (profile_hash, custom) = match &security.seccomp {
        SeccompChoice::Unconfined => return Ok(None),
        SeccompChoice::Default => (DEFAULT_PROFILE_HASH, None),
        SeccompChoice::Profile { path, content } => {
            (fnv1a(content.as_bytes()), Some((path, content)))
        }
    };
    let caps = security.capabilities();
    let arch = native_arch();
    let mut key = fnv1a_extend(profile_hash, format!("{arch:?}").as_bytes());
    key = fnv1a_extend(key, kernel_release().as_bytes());
    for c in &caps {
        key = fnv1a_extend(key, c.as_bytes());
        key = fnv1a_extend(key, b",");
    }
    let dir = layout.root.join("seccomp");
    let path = dir.join(format!("{key:016x}.bpf"));
    if let Ok(bytes) = std::fs::read(&path)
        && let Ok(filter) = Filter::from_bytes(&bytes)
    {
        return Ok(Some(filter));
    }
    let parsed;
    let profile = match custom {
        None => Profile::docker_default(),
        Some((path, content)) => {
            parsed =
                Profile::from_json(content).map_err(|source| Error::InvalidSeccompProfile {
                    path: path.clone(),
                    source,
                })?;
            &parsed
        }
    };
    let filter = Filter::for_profile(profile, &caps, arch).map_err(Error::SeccompCompile)?;
    // A cache: a failure to keep it costs only the next compilation.
    let _ = store(&dir, &path, &filter.to_bytes());
    Ok(Some(filter))
}

const DEFAULT_PROFILE_HASH: u64 = fnv1a(DEFAULT_PROFILE_JSON.as_bytes());

/// FNV-1a, 64 bits: a cache key, not a defence (the cache is root's alone).
const fn fnv1a(bytes: &[u8]) -> u64 {
    fnv1a_extend(0xcbf2_9ce4_8422_2325, bytes)
}

const fn fnv1a_extend(mut hash: u64, bytes: &[u8]) -> u64 {
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    hash
}

fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// Written to a temporary name and renamed, so a reader never sees half a program.
fn store(dir: &std::path::Path, path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    std::fs::create_dir_all(dir).ctx("creating", dir)?;
    let temp = dir.join(crate::state::private_file::temp_name("."));
    crate::state::private_file::replace(path, &temp, bytes)
}
