//! `kist run` in the foreground: resolve the image and the options, record the container, build
//! its OCI spec, hand it to the runtime, pass I/O and signals until it exits, record the exit.
//!
//! Everything that can be refused is checked before anything is written. From the moment the
//! container is recorded, a guard undoes all of it if start-up fails; and if kist itself is
//! killed, the record names this process as responsible, so the next command cleans up.

use std::collections::BTreeMap;

use kist_image::Image;
use kist_runtime::process::ProcessStamp;

use crate::Engine;
use crate::container::removal::{RemoveMode, remove_container};
use crate::container::spec::{
    self, BindMount, NamespaceChoice, NamespaceChoices, Shm, SpecInput, TmpfsMount,
};
use crate::container::user::{ResolvedUser, resolve_groups, resolve_user};
use crate::container::{health, hostfiles};
use crate::error::{Error, IoContext, Result};
use crate::filesystem::volumes;
use crate::network::attach::Joining;
use crate::observe::logs::{LogWriter, Stream, log_path};
use crate::options::mounts::{DEFAULT_SHM_SIZE, TMPFS_DEFAULTS, parse_volumes_from};
use crate::options::namespaces::{IpcOwn, JoinedNamespace, Share};
use crate::options::{NetworkMode, RunOptions, VolumeSpec, parse_env_file, resolve_env};
use crate::state::container_dirs::ContainerDirs;
use crate::state::ids::new_container_id;
use crate::state::launch_config::LaunchConfig;
use crate::state::names;
use crate::state::store::{ContainerRecord, ContainerState, now};

const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// How a `run` ended.
#[derive(Debug, PartialEq, Eq)]
pub enum RunOutcome {
    /// A foreground container exited with this code.
    Exited(i32),
    /// A detached container is running under its supervisor; its id.
    Detached(String),
}

/// Runs a container, in the foreground or (`-d`) under a supervisor.
pub fn run(engine: &Engine, opts: RunOptions) -> Result<RunOutcome> {
    // -d, and -it (whose terminal the supervisor shares, so that the user can detach).
    if opts.detach || opts.share_terminal {
        let (id, mut guard) = record_created(engine, &opts)?;
        crate::container::supervisor::launch(engine, &id, opts.share_terminal)?;
        guard.armed = false;
        return Ok(RunOutcome::Detached(id));
    }
    // Before anything else, so that a Ctrl-C from here on is passed to the container (or, before
    // it exists, simply ends the run through the clean-up below) rather than killing kist.
    let signals = kist_runtime::block_forwarded_signals()?;
    // Until the container is recorded, its image must not be removed from under it.
    let image_in_use = engine.images.lock_for_writing()?;
    let (plan, mut guard, dirs, config) = prepare(engine, &opts)?;
    // Docker logs a foreground container's output too; one removed when it exits has no
    // later in which to read it.
    let logged = !opts.remove;
    let (stdio, mut io) = crate::container::stdio::connect_attached(opts.tty, opts.attach, logged)?;
    io.keep_signals = opts.no_sig_proxy;
    if logged {
        let log = LogWriter::open(&log_path(&dirs.dir, &plan.id), opts.log)?;
        io.tee = Some(log_tee(log));
    }
    let mut created = kist_runtime::create(config.launch(&dirs, stdio, plan.seccomp.as_ref()))?;
    // The container's process sets itself up (on another CPU) while it is recorded here. Were
    // kist killed before the record exists, the process dies with it, and what remains is a
    // directory without a record, which `system prune` removes.
    let (record, joining) = match plan.record(engine, &opts, ProcessStamp::of(created.pid())) {
        Ok(r) => r,
        Err(e) => {
            created.abort();
            return Err(e);
        }
    };
    drop(image_in_use);
    guard.recorded = true;
    write_cidfile(&opts, &record.id)?;
    if !saved_early(&opts, &config) {
        // `exec` into it needs it, as long as it runs; written while the container's process
        // sets itself up on another CPU (after the start, it would lengthen a short run).
        config.save(&dirs.dir)?;
    }
    // Only a bridge network has anything to set up (or, after the exit, to take down): the
    // store is not asked otherwise, on the way to the program's start.
    let network = match joining {
        Some(joining) => Some(crate::network::attach::connect_during_setup(
            engine,
            joining,
            &mut created,
        )?),
        None => {
            created.wait_ready()?;
            None
        }
    };
    let io = io.with_console(created.take_console());
    let running = created.start()?;
    let network = network
        .map(crate::network::attach::Connected::serve)
        .transpose()?;
    crate::state::events::container(&engine.layout.root, &record, "start", &[]);
    let health = health::Monitor::start(&engine.layout, &record, config.healthcheck.as_ref());
    let status = kist_runtime::run_foreground(running, io, &signals)?;
    if let Some(network) = network {
        let _ = network.disconnect(engine, &record.id);
    }
    drop(health);
    let code = status.code();
    let oom = crate::container::cgroup::finish(&record);
    crate::container::supervisor::exit_events(&engine.layout.root, &record, code, oom);
    guard.armed = false;
    if opts.remove {
        // This process reaped the container, so it owns the removal: no need to record the
        // exit first. Killed half-way, it leaves an auto-remove record whose monitor is dead,
        // which the next command removes.
        crate::container::removal::discard_finished(engine, &record.id, Some(&record), true)?;
    } else {
        engine.store.set_exited(&record.id, code, None)?;
        if oom {
            engine.store.set_oom_killed(&record.id)?;
        }
    }
    Ok(RunOutcome::Exited(code))
}

/// What the container writes, into its log as it comes; unfinished lines are written when
/// the copying ends.
fn log_tee(log: LogWriter) -> kist_runtime::Tee {
    struct Flushed(LogWriter);
    impl Drop for Flushed {
        fn drop(&mut self) {
            let _ = self.0.flush();
        }
    }
    let mut log = Flushed(log);
    Box::new(move |stream, data| {
        let stream = match stream {
            kist_runtime::OutputStream::Stdout => Stream::Stdout,
            kist_runtime::OutputStream::Stderr => Stream::Stderr,
        };
        // A full disk must not stop the container's output reaching the user.
        let _ = log.0.write(stream, data);
    })
}

/// `kist create`: a container recorded as Created with everything `start` needs, and no
/// process. Returns its id.
pub fn create(engine: &Engine, opts: RunOptions) -> Result<String> {
    // It will run as a detached one does, under the supervisor `start` launches.
    let opts = RunOptions {
        detach: true,
        ..opts
    };
    let (id, mut guard) = record_created(engine, &opts)?;
    // Nothing runs until `start`: no kist is responsible for it meanwhile, so that
    // reconciliation leaves it alone once this command is gone.
    engine.store.release_created(&id)?;
    guard.armed = false;
    Ok(id)
}

/// Records a container that is to run under a supervisor (`run -d`, `create`), its launch
/// configuration saved; the guard still undoes it all until disarmed.
fn record_created<'a>(engine: &'a Engine, opts: &RunOptions) -> Result<(String, StartGuard<'a>)> {
    // Until the container is recorded, its image must not be removed from under it.
    let image_in_use = engine.images.lock_for_writing()?;
    let (plan, mut guard, _, _) = prepare(engine, opts)?;
    plan.record(engine, opts, None)?;
    drop(image_in_use);
    guard.recorded = true;
    crate::state::crash::point("run:recorded");
    write_cidfile(opts, &plan.id)?;
    Ok((plan.id, guard))
}

/// Everything checked, then the container's volumes, directories and launch configuration
/// made, under a guard that undoes them.
fn prepare<'a>(
    engine: &'a Engine,
    opts: &RunOptions,
) -> Result<(Plan, StartGuard<'a>, ContainerDirs, LaunchConfig)> {
    let plan = Plan::new(engine, opts)?;
    let new_volumes = plan.ensure_volumes(engine)?;
    let guard = StartGuard {
        engine,
        id: plan.id.clone(),
        recorded: false,
        new_volumes: new_volumes.clone(),
        cgroup: cgroup_path(&opts.cgroup_parent, &plan.id),
        cgroup_version: opts.cgroup_version,
        armed: true,
    };
    let dirs = ContainerDirs::of(&engine.layout, &plan.id);
    dirs.create()?;
    let config = plan.launch_config(engine, opts, &dirs, &new_volumes)?;
    if saved_early(opts, &config) {
        config.save(&dirs.dir)?;
    }
    crate::state::crash::point("run:dirs");
    Ok((plan, guard, dirs, config))
}

/// Whether launch.json is written before the container's process exists: what a supervisor
/// and a later `start` read (and `exec`, so a health check). A foreground --rm container has no
/// later: `run` writes it once the process is being set up.
fn saved_early(opts: &RunOptions, config: &LaunchConfig) -> bool {
    opts.detach || opts.share_terminal || !opts.remove || config.healthcheck.is_some()
}

/// Undoes a container that failed to start: its directories, record and new volumes. (Its
/// process is gone: it failed, or was aborted, or dies with its channel to kist.)
struct StartGuard<'a> {
    engine: &'a Engine,
    id: String,
    recorded: bool,
    new_volumes: Vec<String>,
    /// The runtime makes the cgroup with the process, before the container is recorded.
    cgroup: String,
    cgroup_version: kist_runtime::CgroupVersion,
    armed: bool,
}

impl Drop for StartGuard<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        match self.engine.store.find_container(&self.id) {
            Ok(current) if self.recorded => {
                let _ = remove_container(self.engine, &current, RemoveMode::Force, true);
            }
            _ => {
                let _ = crate::state::container_dirs::remove_container_dirs(
                    &self.engine.layout,
                    &self.id,
                );
            }
        }
        drop_volumes(self.engine, &self.new_volumes);
        if let Ok(cgroup) = kist_runtime::Cgroup::resolve_version(&self.cgroup, self.cgroup_version)
        {
            let _ = cgroup.destroy();
        }
    }
}

/// Everything resolved and checked before anything is written.
struct Plan {
    image: Image,
    args: Vec<String>,
    env: Vec<String>,
    cwd: String,
    user: ResolvedUser,
    hostname: String,
    id: String,
    /// `-v` and `--mount`, then what `--volumes-from` brings.
    volumes: Vec<VolumeSpec>,
    seccomp: Option<kist_runtime::seccomp::Filter>,
    healthcheck: Option<crate::options::Healthcheck>,
    namespaces: NamespaceChoices,
    joined: Vec<JoinedNamespace>,
    /// The bridge network it joins, if any.
    network: Option<crate::state::networks::NetworkRecord>,
    /// `--add-host`, `--dns*`.
    extras: hostfiles::Extras,
}

impl Plan {
    fn new(engine: &Engine, opts: &RunOptions) -> Result<Plan> {
        if let Some(name) = &opts.name
            && !crate::options::names::is_valid(name)
        {
            return Err(Error::invalid_value(
                "container name",
                name,
                "use [a-zA-Z0-9][a-zA-Z0-9_.-]+",
            ));
        }
        opts.limits.validate()?;
        if let Some(s) = &opts.stop_signal {
            crate::container::lifecycle::parse_signal(s)?;
        }
        if let Some(path) = &opts.cidfile
            && path.exists()
        {
            return Err(cidfile_found(path));
        }
        let image = engine.images.resolve(&opts.image)?;
        let config = image.config.config().clone().unwrap_or_default();
        let entrypoint: Vec<String> = match &opts.entrypoint {
            Some(e) if e.is_empty() => Vec::new(),
            Some(e) => vec![e.clone()],
            None => config.entrypoint().clone().unwrap_or_default(),
        };
        let cmd = if !opts.command.is_empty() {
            opts.command.clone()
        } else if opts.entrypoint.is_some() {
            Vec::new() // a new entrypoint drops the image's Cmd, as in Docker
        } else {
            config.cmd().clone().unwrap_or_default()
        };
        let args: Vec<String> = entrypoint.into_iter().chain(cmd).collect();
        if args.is_empty() {
            return Err(Error::NoCommand {
                image: image.name.clone(),
            });
        }
        let user_spec = opts.user.clone().or_else(|| config.user().clone());
        let passwd = image
            .read_file("/etc/passwd")
            .map(|b| String::from_utf8_lossy(&b).into_owned());
        let group = image
            .read_file("/etc/group")
            .map(|b| String::from_utf8_lossy(&b).into_owned());
        let mut user = resolve_user(user_spec.as_deref(), passwd.as_deref(), group.as_deref())?;
        for gid in resolve_groups(&opts.security.group_add, group.as_deref())? {
            if !user.additional_gids.contains(&gid) {
                user.additional_gids.push(gid);
            }
        }
        // Compiled (or found compiled) before anything exists: a bad profile creates nothing.
        let seccomp = crate::container::seccomp_cache::filter_for(&engine.layout, &opts.security)?;
        let cwd = opts
            .workdir
            .clone()
            .or_else(|| config.working_dir().clone())
            .filter(|w| !w.is_empty())
            .unwrap_or_else(|| "/".into());
        if !cwd.starts_with('/') {
            return Err(Error::RelativeWorkdir { path: cwd });
        }
        let (namespaces, mut joined) = resolve_namespaces(engine, opts)?;
        let network = crate::network::resolve(engine, opts)?;
        joined.extend(crate::network::network_donor(engine, opts)?);
        let extras = crate::network::extras(opts, network.as_ref())?;
        let id = new_container_id();
        let hostname = match (&opts.hostname, opts.network) {
            (Some(h), _) => h.clone(),
            (None, _) if namespaces.uts == NamespaceChoice::Host => nix_hostname(),
            (None, NetworkMode::Host) => nix_hostname(),
            (None, NetworkMode::Container) => crate::network::donor_hostname(engine, &joined),
            (None, NetworkMode::None | NetworkMode::Bridge) => id[..12].to_string(),
        };
        let env = merge_env(
            config.env().clone().unwrap_or_default(),
            opts,
            &hostname,
            &user,
        )?;
        for v in &opts.volumes {
            if let VolumeSpec::Bind { source, .. } = v
                && source.exists()
                && !source.is_dir()
                && !source.is_file()
            {
                return Err(Error::invalid_option(
                    "--volume",
                    format!(
                        "volume source {} is neither a file nor a directory",
                        source.display()
                    ),
                ));
            }
        }
        let healthcheck = healthcheck(&image, opts)?;
        let volumes = with_volumes_from(engine, opts)?;
        Ok(Plan {
            healthcheck,
            image,
            args,
            env,
            cwd,
            user,
            hostname,
            id,
            volumes,
            seccomp,
            namespaces,
            joined,
            network,
            extras,
        })
    }

    /// The container's OCI spec and root layers, with its generated /etc files written.
    fn launch_config(
        &self,
        engine: &Engine,
        opts: &RunOptions,
        dirs: &ContainerDirs,
        new_volumes: &[String],
    ) -> Result<LaunchConfig> {
        let mut binds = self.binds(engine, new_volumes);
        let files = [
            (
                "hostname",
                hostfiles::hostname_file(&self.hostname),
                "/etc/hostname",
            ),
            (
                "hosts",
                hostfiles::hosts_file(&self.hostname, opts.network, &self.extras),
                "/etc/hosts",
            ),
            (
                "resolv.conf",
                hostfiles::resolv_conf(opts.network, &self.extras),
                "/etc/resolv.conf",
            ),
        ];
        // With another container's network go its /etc/hosts and resolv.conf, as Docker does.
        let files = crate::network::donor_files(engine, &self.joined, files);
        for (name, content, target) in files {
            let file = bind_file(dirs, name, &content, target)?;
            // A file the user mounts there wins, as in Docker.
            if !self.volumes.iter().any(|v| v.target() == target) {
                binds.push(file);
            }
        }
        let spec = spec::build(&SpecInput {
            args: &self.args,
            env: &self.env,
            cwd: &self.cwd,
            user: &self.user,
            terminal: opts.tty,
            hostname: &self.hostname,
            read_only: opts.read_only,
            network: opts.network,
            binds,
            tmpfs: self.tmpfs(opts),
            shm: match (&self.namespaces.ipc, opts.namespaces.ipc_own) {
                (NamespaceChoice::Host, _) => Shm::Host,
                (NamespaceChoice::Join(ns), _) => Shm::Of(shm_of(ns)),
                (NamespaceChoice::Own, IpcOwn::None) => Shm::None,
                (NamespaceChoice::Own, _) => {
                    Shm::Own(opts.storage.shm_size.unwrap_or(DEFAULT_SHM_SIZE))
                }
            },
            namespaces: self.namespaces.clone(),
            cgroup_path: &cgroup_path(&opts.cgroup_parent, &self.id),
            cgroup_version: opts.cgroup_version,
            cgroupns_private: opts.cgroupns_private,
            resources: opts.limits.to_spec(),
            rlimits: &opts.limits.ulimits,
            oom_score_adj: opts.limits.oom_score_adj,
            security: &opts.security,
        })?;
        let mut spec = spec;
        let network_donor: Vec<JoinedNamespace> = self
            .joined
            .iter()
            .filter(|j| j.ns == "net")
            .cloned()
            .collect();
        crate::container::joined::point_at_donors(engine, &mut spec, &network_donor)?;
        let mountpoints = crate::state::container_dirs::mountpoints_layer(&engine.layout)?;
        let stop_signal = opts.stop_signal.clone().or_else(|| {
            let config = self.image.config.config().as_ref();
            config.and_then(|c| c.stop_signal().clone())
        });
        Ok(LaunchConfig {
            spec,
            lower: std::iter::once(mountpoints)
                .chain(self.image.layers.iter().rev().map(|l| l.dir.clone()))
                .collect(),
            init: opts.init,
            tty: opts.tty,
            interactive: opts.interactive,
            restart: opts.restart,
            log: opts.log,
            stop_signal,
            stop_timeout: opts.stop_timeout,
            limits: opts.limits.clone(),
            security: opts.security.clone(),
            healthcheck: self.healthcheck.clone(),
            joined: self.joined.clone(),
        })
    }

    /// `--mount type=tmpfs` and `--tmpfs`, each with Docker's defaults first.
    fn tmpfs(&self, opts: &RunOptions) -> Vec<TmpfsMount> {
        let from_mounts = self.volumes.iter().filter_map(|v| match v {
            VolumeSpec::Tmpfs { target, options } => Some(TmpfsMount {
                target: target.clone(),
                options: options.clone(),
            }),
            _ => None,
        });
        let from_flag = opts.storage.tmpfs.iter().map(|(target, given)| TmpfsMount {
            target: target.clone(),
            options: TMPFS_DEFAULTS
                .iter()
                .map(|s| s.to_string())
                .chain(given.split(',').filter(|o| !o.is_empty()).map(String::from))
                .collect(),
        });
        from_mounts.chain(from_flag).collect()
    }

    /// Creates missing bind sources and named volumes; returns the names of the new volumes.
    fn ensure_volumes(&self, engine: &Engine) -> Result<Vec<String>> {
        let mut created = Vec::new();
        for (i, v) in self.volumes.iter().enumerate() {
            let result = match v {
                VolumeSpec::Bind { source, .. } if !source.exists() => {
                    std::fs::create_dir_all(source)
                        .ctx("creating the volume's host directory", source)
                }
                VolumeSpec::Bind { .. } | VolumeSpec::Tmpfs { .. } => Ok(()),
                VolumeSpec::Named { name, .. } => {
                    let (name, anonymous) = match name {
                        Some(n) => (n.clone(), false),
                        None => (anonymous_volume_name(&self.id, i), true),
                    };
                    volumes::ensure(engine, &name, anonymous).map(|new| {
                        if new {
                            created.push(name);
                        }
                    })
                }
            };
            if let Err(e) = result {
                drop_volumes(engine, &created);
                return Err(e);
            }
        }
        Ok(created)
    }

    fn volume_names(&self) -> Vec<String> {
        self.volumes
            .iter()
            .enumerate()
            .filter_map(|(i, v)| match v {
                VolumeSpec::Named { name: Some(n), .. } => Some(n.clone()),
                VolumeSpec::Named { name: None, .. } => Some(anonymous_volume_name(&self.id, i)),
                VolumeSpec::Bind { .. } | VolumeSpec::Tmpfs { .. } => None,
            })
            .collect()
    }

    /// Records the container and its process, with a generated name when none was given; for
    /// one that runs from now on a bridge network, what joining it there needs.
    fn record(
        &self,
        engine: &Engine,
        opts: &RunOptions,
        process: Option<ProcessStamp>,
    ) -> Result<(ContainerRecord, Option<Joining>)> {
        let config = serde_json::json!({
            "Hostname": self.hostname,
            "User": opts.user,
            "Env": self.env,
            "Cmd": self.args,
            // --entrypoint as given (inspect tells it from the command): null without one.
            "Entrypoint": opts.entrypoint.as_ref().map(|e| if e.is_empty() { vec![] } else { vec![e] }),
            "Image": opts.image,
            "WorkingDir": self.cwd,
            "Tty": opts.tty,
            "OpenStdin": opts.interactive,
            "Init": opts.init,
            "ReadonlyRootfs": opts.read_only,
            "NetworkMode": opts.network,
            "NetworkName": match &self.network {
                Some(n) => Some(n.name.clone()),
                None => crate::network::donor_mode(&self.joined),
            },
            "Volumes": self.volumes,
            "CgroupPath": cgroup_path(&opts.cgroup_parent, &self.id),
            "CgroupVersion": opts.cgroup_version.as_str(),
            "CgroupParent": opts.cgroup_parent,
            "CgroupnsMode": if opts.cgroupns_private { "private" } else { "host" },
            "ContainerIDFile": opts.cidfile,
            "Labels": opts
                .labels
                .iter()
                .map(|l| match l.split_once('=') {
                    Some((k, v)) => (k.to_string(), serde_json::Value::from(v)),
                    None => (l.clone(), serde_json::Value::from("")),
                })
                .collect::<serde_json::Map<_, _>>(),
        });
        let mut config = config;
        let storage = &opts.storage;
        config["Binds"] = serde_json::json!(storage.binds);
        config["Mounts"] = serde_json::json!(storage.mounts);
        config["Tmpfs"] = storage
            .tmpfs
            .iter()
            .map(|(t, o)| (t.clone(), serde_json::Value::from(o.as_str())))
            .collect::<serde_json::Map<_, _>>()
            .into();
        config["ShmSize"] = serde_json::json!(storage.shm_size.unwrap_or(DEFAULT_SHM_SIZE));
        config["VolumesFrom"] = serde_json::json!(storage.volumes_from);
        config["PidMode"] = opts.namespaces.pid_mode().into();
        config["IpcMode"] = opts.namespaces.ipc_mode().into();
        config["UTSMode"] = opts.namespaces.uts_mode().into();
        config["AttachStdin"] = opts.attach.stdin.into();
        config["AttachStdout"] = opts.attach.stdout.into();
        config["AttachStderr"] = opts.attach.stderr.into();
        let image_exposed = self
            .image
            .config
            .config()
            .as_ref()
            .and_then(|c| c.exposed_ports().clone());
        self.extras.to_config(&mut config);
        crate::network::ports::record_config(&mut config, opts, &image_exposed.unwrap_or_default());
        let mut record = ContainerRecord {
            id: self.id.clone(),
            name: opts.name.clone().unwrap_or_else(|| names::generate(0)),
            image: opts.image.clone(),
            image_id: self.image.id.to_string(),
            command: self.args.clone(),
            created: now(),
            state: if process.is_some() {
                ContainerState::Running
            } else {
                ContainerState::Created
            },
            process,
            monitor: Some(ProcessStamp::current()),
            exit_code: None,
            started_at: process.map(|_| now()),
            finished_at: None,
            error: None,
            auto_remove: opts.remove,
            config: config.to_string(),
            stop_requested: false,
            restart_count: 0,
            oom_killed: false,
        };
        let volumes = self.volume_names();
        for attempt in 1..=10 {
            // A container that runs from now on gets its address with its record, in one
            // write; one made for later gets it when it starts.
            let inserted = match (&self.network, process) {
                (Some(network), Some(_)) => {
                    let endpoint = crate::network::endpoint_of(&record.id, network, opts);
                    engine
                        .store
                        .insert_running_container_on(&record, &volumes, &endpoint, network)
                        .map(|address| {
                            Some(Joining::recorded(
                                config.clone(),
                                network.clone(),
                                endpoint,
                                address,
                            ))
                        })
                }
                _ => engine
                    .store
                    .insert_container(&record, &volumes)
                    .map(|()| None),
            };
            match inserted {
                Err(Error::NameInUse { .. }) if opts.name.is_none() => {
                    record.name = names::generate(attempt)
                }
                Err(e) => return Err(e),
                Ok(joining) => {
                    if let (Some(network), None) = (&self.network, process) {
                        crate::network::record_endpoint(engine, &record.id, network, opts)?;
                    }
                    return Ok((created_event(engine, record), joining));
                }
            }
        }
        Err(Error::NoFreeName)
    }

    fn binds(&self, engine: &Engine, new_volumes: &[String]) -> Vec<BindMount> {
        let names = self.volume_names();
        let mut names = names.iter();
        self.volumes
            .iter()
            .filter_map(|v| match v {
                VolumeSpec::Bind {
                    source,
                    target,
                    read_only,
                    propagation,
                } => Some(BindMount {
                    source: source.clone(),
                    target: target.clone(),
                    read_only: *read_only,
                    copy_up: false,
                    propagation: propagation.clone(),
                }),
                VolumeSpec::Named {
                    target,
                    read_only,
                    no_copy,
                    ..
                } => {
                    let name = names.next().cloned().unwrap_or_default();
                    Some(BindMount {
                        source: engine.layout.volume_data(&name),
                        target: target.clone(),
                        read_only: *read_only,
                        copy_up: !no_copy && new_volumes.contains(&name),
                        propagation: None,
                    })
                }
                VolumeSpec::Tmpfs { .. } => None,
            })
            .collect()
    }
}

/// The container's health check: the user's flags over the image config's `Healthcheck`.
fn healthcheck(image: &Image, opts: &RunOptions) -> Result<Option<crate::options::Healthcheck>> {
    use crate::options::Healthcheck;
    // Docker's extension of the OCI config, which the typed config does not keep.
    let from_image = image
        .healthcheck
        .clone()
        .and_then(|v| serde_json::from_value::<Healthcheck>(v).ok());
    let merged = Healthcheck::merge(opts.healthcheck.clone(), from_image);
    if let Some(h) = &merged {
        h.validate()?;
    }
    Ok(merged)
}

/// `--cidfile`: the id, in a file that must not exist yet (another container's, perhaps).
fn write_cidfile(opts: &RunOptions, id: &str) -> Result<()> {
    let Some(path) = &opts.cidfile else {
        return Ok(());
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|source| match source.kind() {
            std::io::ErrorKind::AlreadyExists => cidfile_found(path),
            _ => Error::Io {
                context: "writing the container ID file",
                path: path.clone(),
                source,
            },
        })?;
    std::io::Write::write_all(&mut file, id.as_bytes()).ctx("writing the container ID file", path)
}

/// Docker's words for a `--cidfile` that exists.
fn cidfile_found(path: &std::path::Path) -> Error {
    Error::invalid_option(
        "--cidfile",
        format!(
            "container ID file found, make sure the other container isn't running or delete {}",
            path.display()
        ),
    )
}

/// Whether a sysctl belongs to the IPC namespace.
fn is_ipc_sysctl(key: &str) -> bool {
    key.starts_with("kernel.shm")
        || key.starts_with("kernel.msg")
        || key == "kernel.sem"
        || key.starts_with("fs.mqueue.")
}

/// The /dev/shm of the process whose IPC namespace is `/proc/PID/ns/ipc`.
pub(crate) fn shm_of(ipc_namespace: &std::path::Path) -> std::path::PathBuf {
    let process = ipc_namespace
        .parent()
        .and_then(std::path::Path::parent)
        .unwrap_or(std::path::Path::new("/proc/self"));
    process.join("root/dev/shm")
}

/// Whose namespaces the container is in, with the other containers' checked to be running
/// (and, for IPC, shareable); and the combinations that cannot be, refused.
fn resolve_namespaces(
    engine: &Engine,
    opts: &RunOptions,
) -> Result<(NamespaceChoices, Vec<JoinedNamespace>)> {
    let ns = &opts.namespaces;
    if ns.uts == Share::Host && opts.hostname.is_some() {
        return Err(Error::invalid_option(
            "--hostname",
            "conflicting options: --hostname and --uts host (the container has the host's name)",
        ));
    }
    if opts.storage.shm_size.is_some() && (ns.ipc != Share::Own || ns.ipc_own == IpcOwn::None) {
        return Err(Error::invalid_option(
            "--shm-size",
            format!(
                "--shm-size cannot be used with --ipc {}: the container has no /dev/shm of its own",
                ns.ipc_mode()
            ),
        ));
    }
    if ns.ipc != Share::Own
        && let Some(key) = opts.security.sysctls.keys().find(|k| is_ipc_sysctl(k))
    {
        return Err(Error::invalid_option(
            "--sysctl",
            format!(
                "--sysctl {key} cannot be used with --ipc {}: it would change the IPC namespace the container shares",
                ns.ipc_mode()
            ),
        ));
    }
    let mut joined = Vec::new();
    let mut choice = |share: &Share, name: &str| -> Result<NamespaceChoice> {
        Ok(match share {
            Share::Own => NamespaceChoice::Own,
            Share::Host => NamespaceChoice::Host,
            Share::Container(reference) => {
                let (donor, path) = crate::container::joined::donor(engine, reference, name)?;
                joined.push(JoinedNamespace {
                    ns: name.into(),
                    container: donor.id,
                });
                NamespaceChoice::Join(path)
            }
        })
    };
    let choices = NamespaceChoices {
        pid: choice(&ns.pid, "pid")?,
        ipc: choice(&ns.ipc, "ipc")?,
        uts: if ns.uts == Share::Host {
            NamespaceChoice::Host
        } else {
            NamespaceChoice::Own
        },
    };
    Ok((choices, joined))
}

/// The user's mounts, then those of the `--volumes-from` containers (with their anonymous
/// volumes by name) at paths the user did not mount; a path mounted twice is refused.
fn with_volumes_from(engine: &Engine, opts: &RunOptions) -> Result<Vec<VolumeSpec>> {
    let mut volumes = opts.volumes.clone();
    let mut targets: Vec<String> = volumes.iter().map(|v| v.target().to_string()).collect();
    targets.extend(opts.storage.tmpfs.iter().map(|(t, _)| t.clone()));
    let mut seen = std::collections::BTreeSet::new();
    if let Some(twice) = targets
        .iter()
        .find(|t| !seen.insert(t.trim_end_matches('/')))
    {
        return Err(Error::invalid_option(
            "--volume",
            format!("duplicate mount point: {twice}"),
        ));
    }
    for value in &opts.storage.volumes_from {
        let (reference, read_only) = parse_volumes_from(value)?;
        let donor = engine.store.find_container(reference)?;
        let config: serde_json::Value = serde_json::from_str(&donor.config).unwrap_or_default();
        let theirs: Vec<VolumeSpec> =
            serde_json::from_value(config["Volumes"].clone()).unwrap_or_default();
        for (i, v) in theirs.into_iter().enumerate() {
            let v = match v {
                VolumeSpec::Tmpfs { .. } => continue,
                VolumeSpec::Named {
                    name: None,
                    target,
                    read_only,
                    ..
                } => VolumeSpec::Named {
                    name: Some(anonymous_volume_name(&donor.id, i)),
                    target,
                    read_only,
                    no_copy: true,
                },
                other => other,
            };
            if targets.iter().any(|t| t == v.target()) {
                continue;
            }
            targets.push(v.target().to_string());
            volumes.push(match read_only {
                Some(ro) => v.with_read_only(ro),
                None => v,
            });
        }
    }
    Ok(volumes)
}

/// The record, once its "create" event is written.
fn created_event(engine: &Engine, record: ContainerRecord) -> ContainerRecord {
    crate::state::events::container(&engine.layout.root, &record, "create", &[]);
    record
}

fn anonymous_volume_name(container_id: &str, index: usize) -> String {
    format!("{}{:02x}", &container_id[..62], index % 256)
}

fn drop_volumes(engine: &Engine, names: &[String]) {
    for n in names {
        let _ = volumes::remove(engine, n);
    }
}

/// The image's environment, then `--env-file`s, then `-e`, later ones winning; then Docker's
/// defaults for what is still unset.
pub(crate) fn merge_env(
    image_env: Vec<String>,
    opts: &RunOptions,
    hostname: &str,
    user: &ResolvedUser,
) -> Result<Vec<String>> {
    let mut env = EnvList::default();
    for e in image_env {
        env.set(&e);
    }
    for f in &opts.env_files {
        for e in parse_env_file(f)? {
            env.set(&e);
        }
    }
    for raw in &opts.env {
        if let Some(e) = resolve_env(raw)? {
            env.set(&e);
        }
    }
    env.set_default(DEFAULT_PATH);
    env.set_default(&format!("HOSTNAME={hostname}"));
    env.set_default(&format!("HOME={}", user.home));
    if opts.tty {
        env.set_default("TERM=xterm");
    }
    Ok(env.into_vec())
}

/// An environment that keeps the order in which variables first appeared.
#[derive(Default)]
struct EnvList {
    order: Vec<String>,
    values: BTreeMap<String, String>,
}

impl EnvList {
    fn set(&mut self, kv: &str) {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        if self.values.insert(k.to_string(), v.to_string()).is_none() {
            self.order.push(k.to_string());
        }
    }

    fn set_default(&mut self, kv: &str) {
        let k = kv.split('=').next().unwrap_or_default();
        if !self.values.contains_key(k) {
            self.set(kv);
        }
    }

    fn into_vec(self) -> Vec<String> {
        self.order
            .iter()
            .map(|k| format!("{k}={}", self.values[k]))
            .collect()
    }
}

/// The container's cgroup path: `<parent>/<id>`.
fn cgroup_path(parent: &str, id: &str) -> String {
    format!("{}/{id}", parent.trim_end_matches('/'))
}

/// Writes a container's generated /etc files again if its runtime directory lost them (after a
/// reboot, which empties /run).
pub(crate) fn restore_runtime_files(engine: &Engine, c: &ContainerRecord) -> Result<()> {
    let dirs = ContainerDirs::of(&engine.layout, &c.id);
    if dirs.run.join("hosts").exists() {
        return Ok(());
    }
    let config: serde_json::Value = serde_json::from_str(&c.config).unwrap_or_default();
    let hostname = config["Hostname"]
        .as_str()
        .unwrap_or(c.short_id())
        .to_string();
    let network: NetworkMode =
        serde_json::from_value(config["NetworkMode"].clone()).unwrap_or_default();
    std::fs::create_dir_all(&dirs.run).ctx("creating", &dirs.run)?;
    dirs.write_file("hostname", &hostfiles::hostname_file(&hostname))?;
    let extras = hostfiles::Extras::from_config(&config);
    dirs.write_file("hosts", &hostfiles::hosts_file(&hostname, network, &extras))?;
    dirs.write_file("resolv.conf", &hostfiles::resolv_conf(network, &extras))?;
    Ok(())
}

fn bind_file(dirs: &ContainerDirs, name: &str, content: &str, target: &str) -> Result<BindMount> {
    Ok(BindMount {
        source: dirs.write_file(name, content)?,
        target: target.into(),
        read_only: false,
        copy_up: false,
        propagation: None,
    })
}

fn nix_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}
