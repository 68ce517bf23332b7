//! `kist info` (`kist system info`): the host and the store, in Docker's layout and field
//! names, or as `--format` asks (`{{.ServerVersion}}`, `{{.Containers}}`, `{{json .}}`).

use anyhow::Result;
use clap::Args;
use kist_engine::Engine;
use kist_engine::observe::system_info::{SystemInfo, system_info};
use serde_json::{Value, json};

use crate::{flags, format};

#[derive(Args)]
#[command(mut_arg("format", |a| a.short('f').help("A template such as '{{.ServerVersion}}', or json")))]
pub struct InfoArgs {
    #[command(flatten)]
    format: flags::Format,
}

pub fn info(engine: &Engine, args: &InfoArgs) -> Result<i32> {
    let data = document(&system_info(engine)?);
    let text = match &args.format.value {
        Some(format) => crate::template::Template::parse(format)?.execute(&data)?,
        None => layout(&data),
    };
    outln!("{}", text.trim_end_matches('\n'));
    Ok(0)
}

/// Docker's `Info`, with kist's values: the driver is overlay2 (one overlay over the
/// image's layers, as Docker's overlay2), cgroups are kist's own (cgroupfs).
fn document(i: &SystemInfo) -> Value {
    json!({
        "ID": "",
        "Containers": i.containers.total,
        "ContainersRunning": i.containers.running,
        "ContainersPaused": i.containers.paused,
        "ContainersStopped": i.containers.stopped,
        "Images": i.images,
        "Driver": "overlay2",
        "DriverStatus": [["Backing Filesystem", i.backing_filesystem]],
        "LoggingDriver": "json-file",
        "CgroupDriver": "cgroupfs",
        "CgroupVersion": i.cgroup_version,
        "KernelVersion": i.kernel,
        "OperatingSystem": i.operating_system,
        "OSVersion": i.os_version,
        "OSType": "linux",
        "Architecture": std::env::consts::ARCH,
        "NCPU": i.cpus,
        "MemTotal": i.memory,
        "DockerRootDir": i.root_dir,
        "Name": i.hostname,
        "ServerVersion": env!("CARGO_PKG_VERSION"),
        "DefaultRuntime": "kist",
        "Runtimes": {"kist": {"path": "kist"}},
        "InitBinary": "kist-init",
        "SecurityOptions": ["name=seccomp,profile=builtin"],
        "Debug": false,
        "Experimental": false,
        "LiveRestoreEnabled": false,
    })
}

/// `docker info`'s layout: a Client section, then the Server's lines (kist's "server" is the
/// store and this host).
fn layout(d: &Value) -> String {
    let s = |k: &str| match &d[k] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let backing = d["DriverStatus"][0][1].as_str().unwrap_or_default();
    let memory = format::bytes_size(d["MemTotal"].as_u64().unwrap_or(0));
    let mut lines = vec![
        "Client:".to_string(),
        format!(" Version:    {}", s("ServerVersion")),
        " Context:    default".into(),
        " Debug Mode: false".into(),
        String::new(),
        "Server:".into(),
        format!(" Containers: {}", s("Containers")),
        format!("  Running: {}", s("ContainersRunning")),
        format!("  Paused: {}", s("ContainersPaused")),
        format!("  Stopped: {}", s("ContainersStopped")),
        format!(" Images: {}", s("Images")),
        format!(" Server Version: {}", s("ServerVersion")),
        format!(" Storage Driver: {}", s("Driver")),
        format!("  Backing Filesystem: {backing}"),
        format!(" Logging Driver: {}", s("LoggingDriver")),
        format!(" Cgroup Driver: {}", s("CgroupDriver")),
        format!(" Cgroup Version: {}", s("CgroupVersion")),
        " Runtimes: kist".into(),
        format!(" Default Runtime: {}", s("DefaultRuntime")),
        format!(" Init Binary: {}", s("InitBinary")),
        " Security Options:".into(),
        "  seccomp".into(),
        "   Profile: builtin".into(),
        format!(" Kernel Version: {}", s("KernelVersion")),
        format!(" Operating System: {}", s("OperatingSystem")),
        format!(" OSType: {}", s("OSType")),
        format!(" Architecture: {}", s("Architecture")),
        format!(" CPUs: {}", s("NCPU")),
        format!(" Total Memory: {memory}"),
        format!(" Name: {}", s("Name")),
        format!(" Kist Root Dir: {}", s("DockerRootDir")),
        " Debug Mode: false".into(),
        " Experimental: false".into(),
        " Live Restore Enabled: false".into(),
    ];
    lines.push(String::new());
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use kist_engine::observe::system_info::Counts;

    fn sample() -> SystemInfo {
        SystemInfo {
            containers: Counts {
                total: 3,
                running: 1,
                paused: 1,
                stopped: 1,
            },
            images: 2,
            backing_filesystem: "extfs".into(),
            cgroup_version: "1".into(),
            kernel: "6.1.0-28-amd64".into(),
            operating_system: "Debian GNU/Linux 12 (bookworm)".into(),
            os_version: "12".into(),
            cpus: 2,
            memory: 8 << 30,
            root_dir: "/var/lib/kist".into(),
            hostname: "box".into(),
        }
    }

    #[test]
    fn the_layout_has_docker_s_lines() {
        let text = layout(&document(&sample()));
        for line in [
            "Server:",
            " Containers: 3",
            "  Running: 1",
            "  Paused: 1",
            "  Stopped: 1",
            " Images: 2",
            " Storage Driver: overlay2",
            "  Backing Filesystem: extfs",
            " Cgroup Driver: cgroupfs",
            " Cgroup Version: 1",
            " Kernel Version: 6.1.0-28-amd64",
            " Operating System: Debian GNU/Linux 12 (bookworm)",
            " CPUs: 2",
            " Total Memory: 8GiB",
            " Kist Root Dir: /var/lib/kist",
        ] {
            assert!(text.lines().any(|l| l == line), "{line:?} in:\n{text}");
        }
    }

    #[test]
    fn templates_see_docker_s_field_names() {
        let d = document(&sample());
        let run = |f: &str| {
            crate::template::Template::parse(f)
                .unwrap()
                .execute(&d)
                .unwrap()
        };
        assert_eq!(
            run("{{.Containers}} {{.ContainersRunning}} {{.NCPU}}"),
            "3 1 2"
        );
        assert_eq!(
            run("{{.Driver}} {{.CgroupDriver}} {{.CgroupVersion}}"),
            "overlay2 cgroupfs 1"
        );
        assert_eq!(run("{{.ServerVersion}}"), env!("CARGO_PKG_VERSION"));
        assert!(run("{{json .}}").starts_with("{\""));
    }
}
