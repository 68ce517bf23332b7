//! `kist inspect`: Docker-shaped JSON for containers and images.

use serde_json::{Value, json};

use crate::Engine;
use crate::error::Result;
use crate::observe::logs::log_path;
use crate::options::RestartPolicy;
use crate::state::launch_config::LaunchConfig;
use crate::state::store::{ContainerRecord, ContainerState};

pub fn container(engine: &Engine, c: &ContainerRecord) -> Result<Value> {
    let dir = engine.layout.container_dir(&c.id);
    let run = engine.layout.container_run_dir(&c.id);
    let launch = LaunchConfig::load(&dir).ok();
    let config: Value = serde_json::from_str(&c.config).unwrap_or_default();
    let lower = launch.as_ref().map(|l| {
        l.lower
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(":")
    });
    let mut mounts = mounts(engine, launch.as_ref(), &run);
    let binds = match config.get("Binds") {
        Some(Value::Array(given)) if given.is_empty() => Value::Null,
        Some(given @ Value::Array(_)) => given.clone(),
        // Kept before kist recorded them: as `-v` took the mounts.
        _ => binds(&mounts),
    };
    mounts.extend(tmpfs_mounts(&config));
    let (entrypoint, cmd) = entrypoint_and_cmd(engine, c, &config);
    let (path, args) = match c.command.split_first() {
        Some((p, a)) => (p.clone(), a.to_vec()),
        None => (String::new(), Vec::new()),
    };
    let mut inspected = json!({
        "Id": c.id,
        "Created": c.created,
        "Path": path,
        "Args": args,
        "State": state(c, crate::container::health::load(&engine.layout, &c.id)),
        "Image": c.image_id,
        "ResolvConfPath": run.join("resolv.conf"),
        "HostnamePath": run.join("hostname"),
        "HostsPath": run.join("hosts"),
        "LogPath": log_path(&dir, &c.id),
        "Name": format!("/{}", c.name),
        "RestartCount": c.restart_count,
        "Driver": "overlay2",
        "Platform": "linux",
        "HostConfig": host_config(c, &config, launch.as_ref(), binds),
        "GraphDriver": {
            "Name": "overlay2",
            "Data": {
                "LowerDir": lower,
                "UpperDir": dir.join("upper"),
                "WorkDir": dir.join("work"),
                "MergedDir": engine.layout.rootfs_mountpoint(),
            },
        },
        "Mounts": mounts,
        "Config": {
            "Hostname": config["Hostname"],
            "Domainname": "",
            "User": config["User"].as_str().unwrap_or_default(),
            "AttachStdin": config["AttachStdin"].as_bool().unwrap_or(false),
            "AttachStdout": config["AttachStdout"].as_bool().unwrap_or(false),
            "AttachStderr": config["AttachStderr"].as_bool().unwrap_or(false),
            "Tty": config["Tty"].as_bool().unwrap_or(false),
            "OpenStdin": config["OpenStdin"].as_bool().unwrap_or(false),
            "Env": config["Env"],
            "ExposedPorts": config.get("ExposedPorts").filter(|e| e.as_object().is_some_and(|o| !o.is_empty())).cloned(),
            "Cmd": cmd,
            "Image": c.image,
            "WorkingDir": config["WorkingDir"],
            "Entrypoint": entrypoint,
            "Labels": config.get("Labels").cloned().unwrap_or_else(|| json!({})),
            "StopSignal": launch.as_ref().and_then(|l| l.stop_signal.clone()),
            // null unless given (Docker leaves it out).
            "StopTimeout": launch.as_ref().and_then(|l| l.stop_timeout),
        },
        "NetworkSettings": crate::network::inspect::network_settings(engine, c)?,
    });
    // Docker leaves it out when there is none.
    if let Some(h) = launch.as_ref().and_then(|l| l.healthcheck.as_ref()) {
        inspected["Config"]["Healthcheck"] = json!(h);
    }
    Ok(inspected)
}

/// The entrypoint and the command of the container's program, which kist keeps as one list,
/// apart as Docker keeps them: a `--entrypoint` as recorded, else the image's entrypoint if
/// the list begins with it, else none.
fn entrypoint_and_cmd(
    engine: &Engine,
    c: &ContainerRecord,
    config: &Value,
) -> (Value, Vec<String>) {
    let own: Vec<String> = match config.get("Entrypoint") {
        Some(Value::Array(given)) => given
            .iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect(),
        _ => engine
            .images
            .resolve(&c.image_id)
            .ok()
            .and_then(|i| {
                i.config
                    .config()
                    .as_ref()
                    .and_then(|c| c.entrypoint().clone())
            })
            .unwrap_or_default(),
    };
    if own.is_empty() || !c.command.starts_with(&own) {
        return (Value::Null, c.command.clone());
    }
    (json!(own), c.command[own.len()..].to_vec())
}

/// Docker's `HostConfig.Binds`: each bind mount and named volume as `-v` takes it (anonymous
/// volumes are not binds).
fn binds(mounts: &[Value]) -> Value {
    let binds: Vec<String> = mounts
        .iter()
        .filter(|m| !m["Name"].as_str().is_some_and(is_anonymous))
        .map(|m| {
            let source = m["Name"]
                .as_str()
                .or(m["Source"].as_str())
                .unwrap_or_default();
            let destination = m["Destination"].as_str().unwrap_or_default();
            match m["RW"].as_bool() {
                Some(false) => format!("{source}:{destination}:ro"),
                _ => format!("{source}:{destination}"),
            }
        })
        .collect();
    if binds.is_empty() {
        Value::Null
    } else {
        json!(binds)
    }
}

/// An anonymous volume's name: 64 hex digits.
fn is_anonymous(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Docker's `State`: a container recorded as running whose process is gone shows as exited.
fn state(c: &ContainerRecord, health: Option<crate::container::health::Health>) -> Value {
    let alive = c.process.is_some_and(|p| p.is_alive());
    let running = c.state == ContainerState::Running && alive;
    let paused = running && crate::container::lifecycle::is_paused(c);
    let status = match c.state {
        ContainerState::Created => "created",
        ContainerState::Running if paused => "paused",
        ContainerState::Running if running => "running",
        ContainerState::Running => "exited",
        ContainerState::Exited => "exited",
        ContainerState::Removing => "removing",
    };
    let mut state = json!({
        "Status": status,
        "Running": running,
        "Paused": paused,
        "Restarting": false,
        "OOMKilled": c.oom_killed,
        "Dead": false,
        "Pid": if running { c.process.map_or(0, |p| p.pid) } else { 0 },
        "ExitCode": c.exit_code.unwrap_or(0),
        "Error": c.error.clone().unwrap_or_default(),
        "StartedAt": c.started_at.clone().unwrap_or_else(|| "0001-01-01T00:00:00Z".into()),
        "FinishedAt": c.finished_at.clone().unwrap_or_else(|| "0001-01-01T00:00:00Z".into()),
    });
    // Only a container with a check has `Health`, as in Docker's JSON.
    if let Some(h) = health {
        state["Health"] = json!(h);
    }
    state
}

/// The user's bind mounts and volumes (the generated /etc files in the container's runtime
/// directory `run` are kist's own; Docker's /dev/shm for `--ipc` is not the user's either).
fn mounts(engine: &Engine, launch: Option<&LaunchConfig>, run: &std::path::Path) -> Vec<Value> {
    launch
        .and_then(|l| l.spec.mounts().clone())
        .unwrap_or_default()
        .iter()
        .filter(|m| m.typ().as_deref() == Some("bind"))
        .filter(|m| {
            let source = m.source().as_deref().unwrap_or(std::path::Path::new(""));
            let ipc_shm = m.destination() == std::path::Path::new("/dev/shm")
                && (source == std::path::Path::new("/dev/shm") || source.starts_with("/proc"));
            !source.starts_with(run) && !ipc_shm
        })
        .map(|m| mount(engine, m))
        .collect()
}

fn mount(engine: &Engine, m: &oci_spec::runtime::Mount) -> Value {
    let source = m.source().clone().unwrap_or_default();
    let volume = source
        .strip_prefix(engine.layout.volumes_dir())
        .ok()
        .and_then(|p| p.components().next())
        .map(|n| n.as_os_str().to_string_lossy().into_owned());
    let options = m.options().as_deref().unwrap_or_default();
    let rw = !options.iter().any(|o| o == "ro");
    let mut v = json!({
        "Type": if volume.is_some() { "volume" } else { "bind" },
        "Source": source,
        "Destination": m.destination(),
        "Mode": if rw { "rw" } else { "ro" },
        "RW": rw,
        "Propagation": options.iter().find(|o| o.ends_with("private") || o.ends_with("slave")).map_or("rprivate", |p| p.as_str()),
    });
    if let Some(name) = volume {
        v["Name"] = json!(name);
        v["Driver"] = json!("local");
        // Docker gives a volume no propagation of its own.
        v["Propagation"] = json!("");
    }
    v
}

/// `--mount type=tmpfs` mounts as Docker lists them in `Mounts` (`--tmpfs` ones it does not).
fn tmpfs_mounts(config: &Value) -> Vec<Value> {
    let volumes: Vec<crate::options::VolumeSpec> =
        serde_json::from_value(config["Volumes"].clone()).unwrap_or_default();
    volumes
        .iter()
        .filter_map(|v| match v {
            crate::options::VolumeSpec::Tmpfs { target, options } => Some(json!({
                "Type": "tmpfs",
                "Source": "",
                "Destination": target,
                "Mode": "",
                "RW": !options.iter().any(|o| o == "ro"),
                "Propagation": "",
            })),
            _ => None,
        })
        .collect()
}

/// Docker's `HostConfig`: the run options as the container keeps them.
fn host_config(
    c: &ContainerRecord,
    config: &Value,
    launch: Option<&LaunchConfig>,
    binds: Value,
) -> Value {
    let restart = launch.map(|l| l.restart).unwrap_or_default();
    let log = launch.map(|l| l.log).unwrap_or_default();
    let limits = launch.map(|l| l.limits.clone()).unwrap_or_default();
    let security = launch.map(|l| l.security.clone()).unwrap_or_default();
    // Cannot truncate: --cpus is checked to be in (0, 1024].
    #[allow(clippy::cast_possible_truncation)]
    let nano_cpus = limits.cpus.map_or(0, |c| (c * 1e9) as i64);
    // Docker shows an empty list as null.
    let list = |v: &[String]| if v.is_empty() { Value::Null } else { json!(v) };
    let mut log_config = json!({});
    if let Some(s) = log.max_size {
        log_config["max-size"] = json!(s.to_string());
        log_config["max-file"] = json!(log.max_file.to_string());
    }
    let (restart_name, retries) = match restart {
        RestartPolicy::No => ("no", 0),
        RestartPolicy::OnFailure(n) => ("on-failure", n),
        RestartPolicy::Always => ("always", 0),
        RestartPolicy::UnlessStopped => ("unless-stopped", 0),
    };
    json!({
        "Binds": binds,
        "AutoRemove": c.auto_remove,
        "RestartPolicy": {"Name": restart_name, "MaximumRetryCount": retries},
        "Runtime": "kist",
        "NetworkMode": match config["NetworkMode"].as_str() {
            Some("Host") => "host".to_string(),
            Some("Bridge") => config["NetworkName"].as_str().unwrap_or("bridge").to_string(),
            Some("Container") => config["NetworkName"].as_str().unwrap_or_default().to_string(),
            _ => "none".to_string(),
        },
        "PortBindings": config.get("PortBindings").cloned().unwrap_or_else(|| json!({})),
        "PublishAllPorts": config["PublishAllPorts"].as_bool().unwrap_or(false),
        "ExtraHosts": config.get("ExtraHosts").filter(|h| h.as_array().is_some_and(|a| !a.is_empty())).cloned(),
        "Dns": config.get("Dns").cloned().unwrap_or_else(|| json!([])),
        "DnsSearch": config.get("DnsSearch").cloned().unwrap_or_else(|| json!([])),
        "DnsOptions": config.get("DnsOptions").cloned().unwrap_or_else(|| json!([])),
        "ReadonlyRootfs": config["ReadonlyRootfs"].as_bool().unwrap_or(false),
        "Init": config["Init"].as_bool().unwrap_or(false),
        "LogConfig": {"Type": "json-file", "Config": log_config},
        "CgroupParent": config["CgroupParent"].as_str().unwrap_or_default(),
        "CgroupnsMode": config["CgroupnsMode"].as_str().unwrap_or("host"),
        "ContainerIDFile": config["ContainerIDFile"].as_str().unwrap_or_default(),
        "Memory": limits.memory.unwrap_or(0),
        "MemorySwap": limits.memory_swap.unwrap_or(0),
        "MemoryReservation": limits.memory_reservation.unwrap_or(0),
        "NanoCpus": nano_cpus,
        "CpuShares": limits.cpu_shares.unwrap_or(0),
        "CpuPeriod": limits.cpu_period.unwrap_or(0),
        "CpuQuota": limits.cpu_quota.unwrap_or(0),
        "CpusetCpus": limits.cpuset_cpus.clone().unwrap_or_default(),
        "CpusetMems": limits.cpuset_mems.clone().unwrap_or_default(),
        "PidsLimit": limits.pids,
        "BlkioWeight": limits.blkio_weight.unwrap_or(0),
        "OomScoreAdj": limits.oom_score_adj.unwrap_or(0),
        "Ulimits": limits.ulimits.iter().map(|(name, soft, hard)| json!({
            "Name": name.trim_start_matches("RLIMIT_").to_ascii_lowercase(),
            "Soft": soft,
            "Hard": hard,
        })).collect::<Vec<_>>(),
        "CapAdd": list(&security.cap_add),
        "CapDrop": list(&security.cap_drop),
        "Privileged": security.privileged,
        "SecurityOpt": list(&security.security_opt),
        "Devices": security.inspect_devices(),
        "GroupAdd": list(&security.group_add),
        "Sysctls": if security.sysctls.is_empty() { Value::Null } else { json!(security.sysctls) },
        "Mounts": config.get("Mounts").filter(|m| m.as_array().is_some_and(|a| !a.is_empty())).cloned().unwrap_or(Value::Null),
        "Tmpfs": config.get("Tmpfs").filter(|m| m.as_object().is_some_and(|o| !o.is_empty())).cloned().unwrap_or(Value::Null),
        "ShmSize": config["ShmSize"].as_u64().unwrap_or(crate::options::mounts::DEFAULT_SHM_SIZE),
        "VolumesFrom": config.get("VolumesFrom").filter(|m| m.as_array().is_some_and(|a| !a.is_empty())).cloned().unwrap_or(Value::Null),
        "PidMode": config["PidMode"].as_str().unwrap_or_default(),
        "IpcMode": config["IpcMode"].as_str().unwrap_or("private"),
        "UTSMode": config["UTSMode"].as_str().unwrap_or_default(),
    })
}

pub fn image(engine: &Engine, reference: &str) -> Result<Value> {
    let image = engine.images.resolve(reference)?;
    let summaries = engine.images.list()?;
    let tags: Vec<String> = summaries
        .iter()
        .filter(|s| s.id == image.id)
        .filter_map(|s| s.reference.as_ref().map(|r| r.familiar()))
        .collect();
    // REPOSITORY@MANIFEST-DIGEST for each repository the image is named in.
    let mut digests: Vec<String> = summaries
        .iter()
        .filter(|s| s.id == image.id)
        .filter_map(|s| {
            s.reference
                .as_ref()
                .map(|r| format!("{}@{}", r.familiar_repository(), s.manifest_digest))
        })
        .collect();
    digests.dedup();
    let size: u64 = summaries
        .iter()
        .find(|s| s.id == image.id)
        .map_or(0, |s| s.size);
    // The config as stored: the typed one has no Healthcheck, OnBuild or Shell (Docker's
    // extensions, which `kist build` writes).
    let config = engine
        .images
        .read_blob(&image.id, &image.name)
        .ok()
        .and_then(|raw| serde_json::from_slice::<serde_json::Value>(&raw).ok())
        .unwrap_or_else(|| serde_json::to_value(&image.config).unwrap_or_default());
    Ok(json!({
        "Id": image.id.to_string(),
        "RepoTags": tags,
        "RepoDigests": digests,
        "Created": config["created"],
        "Architecture": config["architecture"],
        "Os": config["os"],
        "Size": size,
        "Author": config["author"].as_str().unwrap_or_default(),
        "Comment": config["history"].as_array().and_then(|h| h.last()).and_then(|h| h["comment"].as_str()).unwrap_or_default(),
        "Config": config["config"],
        "RootFS": {"Type": "layers", "Layers": config["rootfs"]["diff_ids"]},
        "History": config["history"],
        "Metadata": {"ManifestDigest": image.manifest_digest.to_string()},
    }))
}
