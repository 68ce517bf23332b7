//! `kist system df`: Docker's table of what images, containers and volumes take on disk, and
//! how much of it is not in use.

use anyhow::Result;
use kist_engine::observe::tree_size;
use kist_engine::{ContainerRecord, ContainerState, Engine, VolumeRecord};
use kist_image::ImageSummary;

use crate::format;

/// One row of the table.
struct Usage {
    kind: &'static str,
    total: usize,
    active: usize,
    size: u64,
    reclaimable: u64,
}

impl Usage {
    fn cells(&self) -> Vec<String> {
        vec![
            self.kind.to_string(),
            self.total.to_string(),
            self.active.to_string(),
            format::human_size(self.size),
            format::human_size(self.reclaimable),
        ]
    }
}

pub fn df(engine: &Engine) -> Result<i32> {
    let images = engine.images.list()?;
    let containers = engine.store.containers()?;
    let volumes = kist_engine::volumes::list(engine)?;
    let rows = [
        images_usage(&images, &containers),
        containers_usage(engine, &containers),
        volumes_usage(engine, &volumes),
    ];
    format::print_table(
        &["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"],
        &rows.iter().map(Usage::cells).collect::<Vec<_>>(),
    );
    Ok(0)
}

/// An image is active when a container uses it; the list has one entry per name, the counts
/// one per image.
fn images_usage(images: &[ImageSummary], containers: &[ContainerRecord]) -> Usage {
    let used: Vec<&str> = containers.iter().map(|c| c.image_id.as_str()).collect();
    let mut ids: Vec<String> = images.iter().map(|i| i.id.to_string()).collect();
    ids.dedup();
    Usage {
        kind: "Images",
        total: ids.len(),
        active: ids.iter().filter(|id| used.contains(&id.as_str())).count(),
        size: images.iter().map(|i| i.size).sum(),
        reclaimable: images
            .iter()
            .filter(|i| !used.contains(&i.id.as_str()))
            .map(|i| i.size)
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
