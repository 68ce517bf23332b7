//! The documents a registry serves: image manifests (OCI and Docker schema 2), and the indexes
//! (OCI image index, Docker manifest list) that choose one per platform.

use serde::Deserialize;

use super::error::{Error, Result};
use crate::store::Descriptor;

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

/// What kist asks for: every kind it can read.
pub const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    #[serde(default)]
    pub media_type: Option<String>,
    pub config: Descriptor,
    #[serde(default)]
    pub layers: Vec<Descriptor>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    #[serde(default)]
    pub manifests: Vec<IndexEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexEntry {
    pub digest: String,
    #[serde(default)]
    pub platform: Option<Platform>,
}

/// The part of an image config a pull needs.
#[derive(Debug, Deserialize)]
pub struct Config {
    pub rootfs: RootFs,
    #[serde(default)]
    pub os: Option<String>,
    #[serde(default)]
    pub architecture: Option<String>,
    #[serde(default)]
    pub variant: Option<String>,
}

impl Config {
    pub fn platform(&self) -> Option<Platform> {
        Some(Platform {
            os: self.os.clone()?,
            architecture: self.architecture.clone()?,
            variant: self.variant.clone(),
        })
    }
}

#[derive(Debug, Deserialize)]
pub struct RootFs {
    #[serde(default)]
    pub diff_ids: Vec<String>,
}

/// Whether a document (by its media type, or by its shape when the registry gives none) is an
/// index rather than a manifest.
pub fn is_index(media_type: &str, body: &[u8]) -> bool {
    match media_type {
        OCI_INDEX | DOCKER_LIST => true,
        OCI_MANIFEST | DOCKER_MANIFEST => false,
        _ => {
            #[derive(Deserialize)]
            struct Shape {
                manifests: Option<serde_json::Value>,
            }
            serde_json::from_slice::<Shape>(body).is_ok_and(|s| s.manifests.is_some())
        }
    }
}

/// A platform, as images name them: `linux/amd64`, `linux/arm/v7`.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    #[serde(default)]
    pub variant: Option<String>,
}

impl Platform {
    /// This machine.
    pub fn host() -> Platform {
        Platform {
            os: "linux".into(),
            architecture: crate::import::oci_architecture().into(),
            variant: None,
        }
    }

    pub fn parse(s: &str) -> Result<Platform> {
        let parts: Vec<&str> = s.split('/').collect();
        let ok =
            |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        match parts.as_slice() {
            [os, arch] if ok(os) && ok(arch) => Ok(Platform {
                os: os.to_string(),
                architecture: arch.to_string(),
                variant: None,
            }),
            [os, arch, variant] if ok(os) && ok(arch) && ok(variant) => Ok(Platform {
                os: os.to_string(),
                architecture: arch.to_string(),
                variant: Some(variant.to_string()),
            }),
            _ => Err(Error::BadPlatform(s.to_string())),
        }
    }

    /// Whether an image for `self` serves a user who wants `wanted`: the variant counts only
    /// when asked for (arm64 without a variant is v8).
    pub fn serves(&self, wanted: &Platform) -> bool {
        let variant = |p: &Platform| match (p.architecture.as_str(), p.variant.as_deref()) {
            ("arm64", None) => Some("v8".to_string()),
            (_, v) => v.map(str::to_string),
        };
        self.os == wanted.os
            && self.architecture == wanted.architecture
            && (wanted.variant.is_none() || variant(self) == variant(wanted))
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// The entry of `index` for `wanted`, or an error that lists what the index has.
pub fn choose<'a>(index: &'a Index, wanted: &Platform, reference: &str) -> Result<&'a IndexEntry> {
    let images = || {
        index
            .manifests
            .iter()
            // Attestations and the like are "unknown/unknown": not images to run.
            .filter(|m| m.platform.as_ref().is_some_and(|p| p.os != "unknown"))
    };
    images()
        .find(|m| m.platform.as_ref().is_some_and(|p| p.serves(wanted)))
        .ok_or_else(|| Error::NoMatchingPlatform {
            reference: reference.to_string(),
            wanted: wanted.to_string(),
            available: {
                let list: Vec<String> = images()
                    .filter_map(|m| m.platform.as_ref().map(|p| p.to_string()))
                    .collect();
                if list.is_empty() {
                    "none".to_string()
                } else {
                    list.join(", ")
                }
            },
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_parse_and_match() {
        let arm = Platform::parse("linux/arm64").unwrap();
        assert_eq!(arm.to_string(), "linux/arm64");
        assert!(Platform::parse("linux").is_err());
        assert!(Platform::parse("linux/arm/v7/x").is_err());
        let v8 = Platform::parse("linux/arm64/v8").unwrap();
        assert!(arm.serves(&v8));
        assert!(v8.serves(&arm));
        let v7 = Platform::parse("linux/arm/v7").unwrap();
        let v6 = Platform::parse("linux/arm/v6").unwrap();
        assert!(!v6.serves(&v7));
        assert!(v6.serves(&Platform::parse("linux/arm").unwrap()));
    }

    #[test]
    fn choosing_lists_what_there_is() {
        let index: Index = serde_json::from_str(
            r#"{"manifests":[
                {"mediaType":"m","digest":"d1","size":1,"platform":{"os":"linux","architecture":"arm64","variant":"v8"}},
                {"mediaType":"m","digest":"d2","size":1,"platform":{"os":"unknown","architecture":"unknown"}},
                {"mediaType":"m","digest":"d3","size":1,"platform":{"os":"linux","architecture":"s390x"}}]}"#,
        )
        .unwrap();
        let amd = Platform::parse("linux/amd64").unwrap();
        let e = choose(&index, &amd, "x").unwrap_err().to_string();
        assert!(
            e.contains("linux/amd64") && e.contains("linux/arm64/v8, linux/s390x"),
            "{e}"
        );
        let arm = Platform::parse("linux/arm64").unwrap();
        assert_eq!(choose(&index, &arm, "x").unwrap().digest, "d1");
    }
}
