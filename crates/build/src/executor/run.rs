//! RUN: the step's command in a container made from the stage so far, with `kist run`'s
//! hardened defaults (privileged for `--security=insecure`, which, as `--network=host`, is an
//! entitlement the build must be given with `--allow`); its write layer becomes the step's
//! layer through the commit machinery, and the container is removed whether the command
//! succeeds or not.

use kist_engine::security::SeccompChoice;
use kist_engine::{NetworkMode, RemoveMode, RunOptions, RunOutcome};
use kist_image::NewLayer;

use super::config;
use super::error::BuildError;
use super::stage::{Builder, StageState};
use crate::{CommandLine, Heredoc, Network, RunInstruction, Security, parse_marker};

pub(super) fn run(
    builder: &mut Builder,
    index: usize,
    state: &StageState,
    step: &RunInstruction,
    created_by: &str,
) -> Result<NewLayer, BuildError> {
    // `_copies` holds what binds of a stage or image show until the step is over.
    let (volumes, _copies) =
        super::mounts::volumes(builder, index, &step.mounts, &state.variables(), created_by)?;
    let engine = builder.engine;
    let store = &engine.images;
    let argv = match &step.command {
        CommandLine::Exec(args) => args.clone(),
        CommandLine::Shell(text) if !step.heredocs.is_empty() => {
            let script = heredoc_script(text, &step.heredocs, created_by)?;
            config::argv(&state.config, &CommandLine::Shell(script))
        }
        CommandLine::Shell(_) => config::argv(&state.config, &step.command),
    };
    // The container's image: the stage so far, removed after the step (but for the entry that
    // was there already, when nothing changed since FROM).
    let bytes = serde_json::to_vec(&state.config)
        .map_err(|e| BuildError::Invalid(format!("{created_by}: {e}")))?;
    let listed_before = store
        .resolve(&kist_image::Digest::of_bytes(&bytes).to_string())
        .is_ok();
    // Named after the build, so that the next command removes it if the build is killed.
    let name = kist_image::Reference::parse(&kist_engine::build_step_image(builder.step))?;
    let parent = kist_image::write_image(store, &state.config, state.layers.clone(), Some(&name))?;
    let outcome = in_container(
        builder,
        state,
        &parent.image_id.to_string(),
        argv.clone(),
        volumes,
        (step.network, step.security),
    );
    store.untag(&name)?;
    if !listed_before {
        store.remove_image(&parent.image_id)?;
    }
    // A stage cancelled meanwhile (its container killed, or stopped in its set-up) stops
    // here: the failure is the other stage's.
    let cancelled = builder.shared.cancel.is_cancelled();
    let (name, code) = match outcome {
        Err(_) if cancelled => return Err(BuildError::Cancelled),
        other => other?,
    };
    let record = engine.store.find_container(&name)?;
    let layer = match code {
        0 => kist_engine::commit::with_write_layer(engine, &record, |reader| {
            kist_image::add_layer(store, reader, state.chain.as_ref())
        })
        .map_err(BuildError::from),
        code => Err(BuildError::RunFailed {
            step: created_by.to_string(),
            command: argv.join(" "),
            code,
        }),
    };
    kist_engine::remove_container(engine, &record, RemoveMode::Force, true)?;
    match code != 0 && cancelled {
        true => Err(BuildError::Cancelled),
        false => layer,
    }
}

/// The shell script of a RUN with heredocs, as BuildKit makes it: a command that is only a
/// heredoc runs its body; any other is given to the shell with its heredocs after it, which
/// the shell reads as it reads any heredoc (so `<<-` and quoting keep their meaning).
fn heredoc_script(text: &str, heredocs: &[Heredoc], step: &str) -> Result<String, BuildError> {
    let only_a_heredoc = parse_marker(text.trim()).ok().flatten().is_some();
    if let ([only], true) = (heredocs, only_a_heredoc) {
        let body = only.body();
        if body.starts_with("#!") {
            return Err(BuildError::Invalid(format!(
                "{step}: a heredoc run by its #! interpreter is not supported yet"
            )));
        }
        return Ok(body.into_owned());
    }
    let mut script = format!("{text}\n");
    for h in heredocs {
        script.push_str(&h.content);
        if !h.content.is_empty() && !h.content.ends_with('\n') {
            script.push('\n');
        }
        script.push_str(&h.name);
        script.push('\n');
    }
    Ok(script)
}

/// The network of a RUN step other than the template's (kist's default): its own
/// `--network`, else the build's.
pub(super) fn network(step: Network, build: Option<NetworkMode>) -> Option<NetworkMode> {
    match step {
        Network::None => Some(NetworkMode::None),
        Network::Host => Some(NetworkMode::Host),
        Network::Default => build,
    }
}

/// Refuses a step that needs an entitlement the build was not given, as BuildKit does
/// (before it runs, or is taken from the cache).
pub(super) fn check_entitlements(
    step: &RunInstruction,
    opts: &super::BuildOptions,
    created_by: &str,
) -> Result<(), BuildError> {
    let host_network = opts.allow.network_host || opts.network == Some(NetworkMode::Host);
    let needed = match (step.security, step.network) {
        (Security::Insecure, _) if !opts.allow.security_insecure => "security.insecure",
        (_, Network::Host) if !host_network => "network.host",
        _ => return Ok(()),
    };
    Err(BuildError::Invalid(format!(
        "{created_by}: {needed} is not allowed: pass --allow {needed} to kist build"
    )))
}

/// Runs `argv` in a container of `image`; its name and exit code.
fn in_container(
    builder: &Builder,
    state: &StageState,
    image: &str,
    argv: Vec<String>,
    volumes: Vec<kist_engine::VolumeSpec>,
    (network, security): (Network, Security),
) -> Result<(String, i32), BuildError> {
    let name = kist_engine::build_step_name(builder.step);
    // The ARGs reach the command as variables, and are not kept in the image.
    let env = state.args.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut opts = RunOptions {
        image: image.to_string(),
        command: argv,
        name: Some(name.clone()),
        entrypoint: Some(String::new()),
        remove: false,
        env,
        labels: vec!["kist.build.step=true".into()],
        volumes,
        ..builder.opts.run_template.clone()
    };
    // `--security=insecure`: what `kist run --privileged` gives (every capability, no
    // seccomp filter, the host's devices, /sys writable), as BuildKit's insecure mode.
    if security == Security::Insecure {
        opts.security.privileged = true;
        opts.security.seccomp = SeccompChoice::Unconfined;
    }
    if let Some(mode) = self::network(network, builder.opts.network) {
        opts.network = mode;
        opts.networking = kist_engine::Networking::default();
    }
    if builder.opts.quiet {
        opts.attach.stdout = false;
        opts.attach.stderr = false;
    }
    // Listed while it may run, for a cancelled build to kill; cancelled already, it is not
    // started.
    let _running = builder.shared.cancel.running(builder.step);
    builder.shared.cancel.check()?;
    match kist_engine::run(builder.engine, opts)? {
        RunOutcome::Exited(code) => Ok((name, code)),
        RunOutcome::Detached(_) => Err(BuildError::Invalid("a RUN step ran detached".into())),
    }
}
