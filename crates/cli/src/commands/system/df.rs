//! `kist system df`: Docker's table of what images, containers and volumes take on disk, and
//! how much of it is not in use.

use std::collections::{BTreeMap, HashSet};

use anyhow::Result;
use clap::Args;
use kist_engine::observe::tree_size;
use kist_engine::{ContainerRecord, ContainerState, Engine, VolumeRecord};
use kist_image::ImageSummary;
use serde_json::{Value, json};

use crate::{flags, format};

#[derive(Args)]
#[command(mut_arg("format", |a| a.help("A template per row, such as '{{.Type}} {{.Size}}'")))]
pub struct DfArgs {
    #[command(flatten)]
    format: flags::Format,
}

/// One row of the table.
#[derive(Debug, PartialEq)]
struct Usage {
    kind: &'static str,
    total: usize,
    active: usize,
    size: u64,
    reclaimable: u64,
}

impl Usage {
    /// The row as `--format` sees it (Docker's field names).
    fn row(&self) -> Value {
        let mut reclaimable = format::human_size(self.reclaimable);
        if let Some(percent) = (100 * self.reclaimable).checked_div(self.size) {
            reclaimable.push_str(&format!(" ({percent}%)"));
        }
        json!({
            "Type": self.kind,
            "TotalCount": self.total.to_string(),
            "Active": self.active.to_string(),
            "Size": format::human_size(self.size),
            "Reclaimable": reclaimable,
        })
    }
}

/// Docker's default table, and the column name of each field.
const TABLE: &str = "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}";
const HEADERS: [(&str, &str); 5] = [
    ("Type", "TYPE"),
    ("TotalCount", "TOTAL"),
    ("Active", "ACTIVE"),
    ("Size", "SIZE"),
    ("Reclaimable", "RECLAIMABLE"),
];

pub fn df(engine: &Engine, args: &DfArgs) -> Result<i32> {
    let images = engine.images.list()?;
    let containers = engine.store.containers()?;
    let volumes = kist_engine::volumes::list(engine)?;
    let rows = [
        images_usage(&images, &containers),
        containers_usage(engine, &containers),
        volumes_usage(engine, &volumes),
    ];
    let rows: Vec<Value> = rows.iter().map(Usage::row).collect();
    format::print_rows(args.format.value.as_deref(), TABLE, &rows, &HEADERS)?;
    Ok(0)
}

/// An image is active when a container uses it; the list has one entry per name, the counts
/// one per image. A layer that several images share is on disk once, so it counts once, and
/// is reclaimable only if no active image has it.
fn images_usage(images: &[ImageSummary], containers: &[ContainerRecord]) -> Usage {
    let used: HashSet<&str> = containers.iter().map(|c| c.image_id.as_str()).collect();
    let ids: HashSet<String> = images.iter().map(|i| i.id.to_string()).collect();
    let mut layers: BTreeMap<String, u64> = BTreeMap::new();
    let mut in_use: HashSet<String> = HashSet::new();
    for image in images {
        let active = used.contains(image.id.to_string().as_str());
        for (chain_id, size) in &image.layers {
            layers.insert(chain_id.to_string(), *size);
            if active {
                in_use.insert(chain_id.to_string());
            }
        }
    }
    Usage {
        kind: "Images",
        total: ids.len(),
        active: ids.iter().filter(|id| used.contains(id.as_str())).count(),
        size: layers.values().sum(),
        reclaimable: layers
            .iter()
            .filter(|(id, _)| !in_use.contains(*id))
            .map(|(_, s)| s)
            .sum(),
    }
}

/// A container takes its write layer; a stopped one's could be reclaimed.
fn containers_usage(engine: &Engine, containers: &[ContainerRecord]) -> Usage {
    let upper = |c: &ContainerRecord| tree_size(&engine.layout.container_dir(&c.id).join("upper"));
    let running = |c: &&ContainerRecord| c.state == ContainerState::Running;
    Usage {
        kind: "Containers",
        total: containers.len(),
        active: containers.iter().filter(running).count(),
        size: containers.iter().map(upper).sum(),
        reclaimable: containers.iter().filter(|c| !running(c)).map(upper).sum(),
    }
}

/// A volume is active when a container mounts it.
fn volumes_usage(engine: &Engine, volumes: &[VolumeRecord]) -> Usage {
    let size = |v: &VolumeRecord| tree_size(&engine.layout.volume_data(&v.name));
    let used: Vec<&str> = volumes
        .iter()
        .filter(|v| {
            !engine
                .store
                .volume_users(&v.name)
                .unwrap_or_default()
                .is_empty()
        })
        .map(|v| v.name.as_str())
        .collect();
    Usage {
        kind: "Local Volumes",
        total: volumes.len(),
        active: used.len(),
        size: volumes.iter().map(size).sum(),
        reclaimable: volumes
            .iter()
            .filter(|v| !used.contains(&v.name.as_str()))
            .map(size)
            .sum(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kist_image::Digest;

    fn digest(c: char) -> Digest {
        Digest::parse(&format!("sha256:{}", c.to_string().repeat(64))).unwrap()
    }

    fn image(id: char, layers: &[(char, u64)]) -> ImageSummary {
        let layers: Vec<(Digest, u64)> = layers.iter().map(|(c, s)| (digest(*c), *s)).collect();
        ImageSummary {
            id: digest(id),
            manifest_digest: digest(id),
            reference: None,
            created: None,
            size: layers.iter().map(|(_, s)| s).sum(),
            layers,
        }
    }

    #[test]
    fn a_shared_layer_counts_once() {
        // Two images on one 100-byte base, each with a layer of its own.
        let images = [
            image('a', &[('1', 100), ('2', 10)]),
            image('b', &[('1', 100), ('3', 20)]),
        ];
        let usage = images_usage(&images, &[]);
        assert_eq!((usage.total, usage.size, usage.reclaimable), (2, 130, 130));
        assert_eq!(usage.row()["Reclaimable"], "130B (100%)");
    }
}
