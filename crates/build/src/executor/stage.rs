//! One build stage from its FROM to its last instruction: the state each step leaves (the
//! image config, the layers, the ARGs in scope) and the step that comes next.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use kist_engine::Engine;
use kist_image::{Descriptor, Digest, Reference};
use serde_json::{Value, json};

use super::cancel::Cancel;
use super::error::BuildError;
use super::ignore::Ignore;
use super::tree::Tree;
use super::{BuildOptions, Event, Frontend, PullPolicy, cache, config, context, dest, run};
use crate::{CopyInstruction, Dockerfile, Instruction, InstructionKind, expand};

/// What a stage has built so far.
#[derive(Debug, Clone)]
pub(super) struct StageState {
    /// The whole image config (Docker's JSON), as it will be stored.
    pub config: Value,
    pub layers: Vec<Descriptor>,
    /// The chain id of the top layer.
    pub chain: Option<Digest>,
    /// The ARGs in scope and their values (an ARG with no value is not listed).
    pub args: Vec<(String, String)>,
    /// The build cache's key of the last step.
    pub key: Digest,
}

impl StageState {
    /// The variables an instruction's words see: ARGs, then ENV over them.
    pub fn variables(&self) -> Vec<(String, String)> {
        let mut vars = self.args.clone();
        vars.extend(config::env(&self.config));
        vars
    }
}

/// What the stages of a build share, on their threads.
#[derive(Clone, Copy)]
pub(super) struct Shared<'a> {
    /// The build's steps so far.
    pub steps: &'a AtomicUsize,
    /// Set when a stage failed: the others stop.
    pub cancel: &'a Cancel,
}

pub(super) struct Builder<'a> {
    pub engine: &'a Engine,
    pub opts: &'a BuildOptions,
    file: &'a Dockerfile,
    pub frontend: &'a dyn Frontend,
    /// The ARGs before the first FROM, with their values.
    meta_args: Vec<(String, String)>,
    /// Build args an ARG asked for (to warn of the others).
    used_args: Vec<String>,
    /// What the stages building in parallel share.
    pub shared: Shared<'a>,
    /// This step's number.
    pub step: usize,
    /// The stages built so far, by index.
    done: HashMap<usize, StageState>,
}

impl<'a> Builder<'a> {
    pub fn new(
        engine: &'a Engine,
        opts: &'a BuildOptions,
        file: &'a Dockerfile,
        frontend: &'a dyn Frontend,
        shared: Shared<'a>,
    ) -> Result<Builder<'a>, BuildError> {
        let mut builder = Builder {
            engine,
            opts,
            file,
            frontend,
            meta_args: Vec::new(),
            used_args: Vec::new(),
            shared,
            step: 0,
            done: HashMap::new(),
        };
        let mut meta = Vec::new();
        for instruction in &file.meta_args {
            if let InstructionKind::Arg(decls) = &instruction.kind {
                for decl in decls {
                    if let Some(value) =
                        builder.arg_value(&decl.name, decl.default.as_deref(), &meta)?
                    {
                        meta.push((decl.name.clone(), value));
                    }
                }
            }
        }
        builder.meta_args = meta;
        Ok(builder)
    }

    /// An ARG's value: the build arg given for it, or its default expanded.
    fn arg_value(
        &mut self,
        name: &str,
        default: Option<&str>,
        vars: &[(String, String)],
    ) -> Result<Option<String>, BuildError> {
        self.used_args.push(name.to_string());
        if let Some((_, given)) = self.opts.build_args.iter().rev().find(|(k, _)| k == name) {
            return Ok(given.clone().or_else(|| std::env::var(name).ok()));
        }
        default
            .map(|d| expand(d, &vars).map_err(BuildError::expand("ARG")))
            .transpose()
    }

    /// The next step's number.
    fn next_step(&mut self) {
        self.step = self.shared.steps.fetch_add(1, Ordering::SeqCst) + 1;
    }

    fn show(&mut self, event: Event) {
        self.frontend.event(event);
    }

    /// The stage a FROM or `--from` value names: a stage name, or an index (`--from` only).
    fn stage_named(&self, name: &str, by_index: bool, before: usize) -> Option<usize> {
        if let Some(i) = name.parse::<usize>().ok().filter(|_| by_index) {
            return (i < before).then_some(i);
        }
        self.file
            .stage(name)
            .map(|(i, _)| i)
            .filter(|i| *i < before)
    }

    /// Builds stage `index` after the stages it needs (and only those), each once: in waves
    /// of the stages whose own dependencies are built, those of a wave in parallel.
    pub fn stage(&mut self, index: usize) -> Result<StageState, BuildError> {
        let needed = self.needed(index)?;
        loop {
            if let Some(done) = self.done.get(&index) {
                return Ok(done.clone());
            }
            let mut ready = Vec::new();
            for &i in &needed {
                if !self.done.contains_key(&i)
                    && self
                        .dependencies(i)?
                        .iter()
                        .all(|d| self.done.contains_key(d))
                {
                    ready.push(i);
                }
            }
            if ready.is_empty() {
                return Err(BuildError::Invalid(format!(
                    "stage {index} cannot be built"
                )));
            }
            if let [one] = ready[..] {
                let state = self.build_stage(one)?;
                self.done.insert(one, state);
                continue;
            }
            for (i, state, used) in self.in_parallel(&ready)? {
                self.done.insert(i, state);
                self.used_args.extend(used);
            }
        }
    }

    /// Stage `index` and every stage it needs, directly or not.
    fn needed(&self, index: usize) -> Result<Vec<usize>, BuildError> {
        let mut needed = vec![index];
        let mut at = 0;
        while let Some(&i) = needed.get(at) {
            for d in self.dependencies(i)? {
                if !needed.contains(&d) {
                    needed.push(d);
                }
            }
            at += 1;
        }
        needed.sort_unstable();
        Ok(needed)
    }

    /// Builds `stages` on a thread each, each with an engine of its own (its SQLite
    /// connection is not shared between threads); their states and the build args they used.
    /// The first stage to fail cancels the others (their running RUN containers killed), and
    /// its error is the build's.
    fn in_parallel(
        &self,
        stages: &[usize],
    ) -> Result<Vec<(usize, StageState, Vec<String>)>, BuildError> {
        let layout = &self.engine.layout;
        let cancel = self.shared.cancel;
        let (finished, over) = std::sync::mpsc::channel::<()>();
        std::thread::scope(|s| {
            let handles: Vec<_> = stages
                .iter()
                .map(|&i| {
                    let apart = Apart {
                        opts: self.opts,
                        file: self.file,
                        frontend: self.frontend,
                        shared: self.shared,
                        meta_args: self.meta_args.clone(),
                        done: self.done.clone(),
                    };
                    let finished = Finished {
                        tell: finished.clone(),
                        cancel,
                    };
                    s.spawn(move || {
                        let _finished = finished;
                        let built = apart.build(layout, i);
                        if built.is_err() {
                            cancel.cancel();
                        }
                        built
                    })
                })
                .collect();
            watch(&over, handles.len(), cancel, self.engine);
            let results: Vec<_> = handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(BuildError::Invalid("a stage's builder panicked".into()))
                    })
                })
                .collect();
            first_error(results)
        })
    }

    /// The earlier stages stage `index` uses: its FROM, its `COPY --from`s.
    fn dependencies(&self, index: usize) -> Result<Vec<usize>, BuildError> {
        let stage = &self.file.stages[index];
        let mut deps = Vec::new();
        let image =
            expand(&stage.from.image, &self.meta_args).map_err(BuildError::expand("FROM"))?;
        deps.extend(self.stage_named(&image, false, index));
        for instruction in &stage.instructions {
            if let InstructionKind::Copy(CopyInstruction {
                from: Some(from), ..
            }) = &instruction.kind
            {
                let from = expand(from, &self.meta_args).map_err(BuildError::expand("COPY"))?;
                deps.extend(self.stage_named(&from, true, index));
            }
            if let InstructionKind::Run(run) = &instruction.kind {
                for spec in &run.mounts {
                    let from = spec
                        .resolve(|w| expand(w, &self.meta_args))
                        .ok()
                        .and_then(|m| m.from);
                    if let Some(from) = from {
                        deps.extend(self.stage_named(&from, true, index));
                    }
                }
            }
        }
        Ok(deps)
    }

    fn build_stage(&mut self, index: usize) -> Result<StageState, BuildError> {
        let stage = &self.file.stages[index];
        let total = stage.instructions.len() + 1;
        let image =
            expand(&stage.from.image, &self.meta_args).map_err(BuildError::expand("FROM"))?;
        if let Some(platform) = &stage.from.platform {
            let platform = expand(platform, &self.meta_args).map_err(BuildError::expand("FROM"))?;
            let host = format!("linux/{}", kist_image::oci_architecture());
            if !platform.is_empty() && platform != host {
                return Err(BuildError::Invalid(format!(
                    "FROM --platform={platform}: kist builds for this host's platform ({host}) only"
                )));
            }
        }
        self.next_step();
        let label = self.step_label(index, 1, total);
        let title = format!("{label} FROM {image}");
        self.show(Event::Step {
            n: self.step,
            title: &title,
        });
        let started = std::time::Instant::now();
        let mut state = match self.stage_named(&image, false, index) {
            Some(base) => {
                let mut state = self.done.get(&base).cloned().ok_or_else(|| {
                    BuildError::Invalid(format!("FROM {image}: the stage was not built"))
                })?;
                state.args.clear();
                state
            }
            None => self.from(&image)?,
        };
        self.show(Event::Done {
            n: self.step,
            seconds: started.elapsed().as_secs_f64(),
        });
        let from_label = self.step_label(index, 1, total);
        for trigger in onbuild_triggers(&mut state.config, &image)? {
            self.next_step();
            let text = one_line(&trigger.source.original);
            let title = format!("{from_label} ONBUILD {text}");
            self.show(Event::Step {
                n: self.step,
                title: &title,
            });
            self.shared.cancel.check()?;
            self.step_of(index, &mut state, &trigger)?;
        }
        for (i, instruction) in stage.instructions.iter().enumerate() {
            self.shared.cancel.check()?;
            self.next_step();
            let label = self.step_label(index, i + 2, total);
            let text = one_line(&instruction.source.original);
            let title = format!("{label} {text}");
            self.show(Event::Step {
                n: self.step,
                title: &title,
            });
            self.step_of(index, &mut state, instruction)?;
        }
        Ok(state)
    }

    /// One step: from the cache, or carried out (and then cached).
    fn step_of(
        &mut self,
        index: usize,
        state: &mut StageState,
        instruction: &Instruction,
    ) -> Result<(), BuildError> {
        if let InstructionKind::Run(r) = &instruction.kind {
            run::check_entitlements(r, self.opts, &one_line(&instruction.source.original))?;
        }
        let key = cache::key(&state.key, self.key_parts(index, state, instruction)?);
        let store = &self.engine.images;
        let hit = match self.opts.no_cache {
            true => None,
            false => cache::lookup(store, &key),
        };
        if let Some(hit) = hit {
            *state = hit;
            self.show(Event::Cached { n: self.step });
            return Ok(());
        }
        let started = std::time::Instant::now();
        self.instruction(index, state, instruction)?;
        state.key = key;
        cache::save(store, state)?;
        self.show(Event::Done {
            n: self.step,
            seconds: started.elapsed().as_secs_f64(),
        });
        Ok(())
    }

    fn step_label(&self, index: usize, k: usize, n: usize) -> String {
        let stage = &self.file.stages[index];
        match (&stage.from.name, self.file.stages.len()) {
            (_, 1) => format!("[{k}/{n}]"),
            (Some(name), _) => format!("[{name} {k}/{n}]"),
            (None, _) => format!("[stage-{index} {k}/{n}]"),
        }
    }

    /// The state FROM gives: the image's config and layers, or nothing for `scratch`.
    fn from(&mut self, image: &str) -> Result<StageState, BuildError> {
        if image == "scratch" {
            return Ok(StageState {
                config: config::scratch(),
                layers: Vec::new(),
                chain: None,
                args: Vec::new(),
                key: cache::key(&Digest::of_bytes(b""), json!(["FROM", "scratch"])),
            });
        }
        let store = &self.engine.images;
        let found = self.image(image, &format!("FROM {image}"))?;
        let raw = store.read_blob(&found.id, &found.name)?;
        let config: Value = serde_json::from_slice(&raw).map_err(|e| {
            BuildError::Invalid(format!("FROM {image}: its config is not JSON: {e}"))
        })?;
        Ok(StageState {
            config,
            layers: store.manifest_layers(&found)?,
            chain: found.layers.last().map(|l| l.chain_id.clone()),
            args: Vec::new(),
            key: cache::key(
                &Digest::of_bytes(b""),
                json!(["FROM", found.id.to_string()]),
            ),
        })
    }

    /// The image `name` that `what` (a FROM, a `--from`) uses, pulled first as `--pull`
    /// says: always, or only when it is missing, or never.
    pub(super) fn image(&self, name: &str, what: &str) -> Result<kist_image::Image, BuildError> {
        let store = &self.engine.images;
        let pull = || {
            self.frontend
                .pull(self.engine, name)
                .map_err(|e| BuildError::Invalid(format!("{what}: {e}")))
        };
        if self.opts.pull == PullPolicy::Always {
            pull()?;
        }
        match store.resolve(name) {
            Err(kist_image::Error::ImageNotFound(_)) if self.opts.pull == PullPolicy::Missing => {
                pull()?;
                Ok(store.resolve(name)?)
            }
            Err(kist_image::Error::ImageNotFound(_)) => Err(BuildError::Invalid(format!(
                "{what}: no such image in the store, and --pull=never (kist pull {name} first)"
            ))),
            other => Ok(other?),
        }
    }

    /// What the step's cache key is made of, beside its parent's key.
    fn key_parts(
        &self,
        index: usize,
        state: &StageState,
        instruction: &Instruction,
    ) -> Result<Value, BuildError> {
        let vars = state.variables();
        let mut parts = json!({
            "instruction": instruction.source.original,
            "variables": vars,
        });
        match &instruction.kind {
            InstructionKind::Arg(decls) => {
                let given: Vec<_> = self
                    .opts
                    .build_args
                    .iter()
                    .filter(|(k, _)| decls.iter().any(|d| d.name == *k))
                    .map(|(k, v)| (k.clone(), v.clone().or_else(|| std::env::var(k).ok())))
                    .collect();
                parts["build_args"] = json!(given);
                parts["meta_args"] = json!(self.meta_args);
            }
            InstructionKind::Run(r) => {
                // The bodies are not in the instruction's text.
                if !r.heredocs.is_empty() {
                    let bodies: Vec<&str> = r.heredocs.iter().map(|h| h.content.as_str()).collect();
                    parts["heredocs"] = json!(bodies);
                }
                // What its bind mounts show: a context path's content, a stage's key or an
                // image's id (and the path), so that a change there runs the step again.
                let binds = super::mounts::bind_identities(self, index, state, &r.mounts, &vars)?;
                if !binds.is_empty() {
                    parts["binds"] = json!(binds);
                }
                // The build's `--network` (a step's own is in its text); the default adds
                // nothing, so keys made before the flag existed still match.
                if let Some(mode) = run::network(crate::Network::Default, self.opts.network) {
                    parts["network"] = json!(format!("{mode:?}"));
                }
            }
            InstructionKind::Copy(_) | InstructionKind::Add(_) => {
                let (step, tree) = self.copy_step(index, instruction, &vars)?;
                let digest = context::prepare(self, state, &step, &tree, &vars)?.digest()?;
                parts["sources"] = json!(digest.to_string());
            }
            _ => {}
        }
        Ok(parts)
    }

    /// A COPY or ADD, and the tree it reads from.
    fn copy_step<'i>(
        &self,
        index: usize,
        instruction: &'i Instruction,
        vars: &[(String, String)],
    ) -> Result<(context::CopyStep<'i>, Tree), BuildError> {
        let ex = |name: &str, w: &str| expand(w, &vars).map_err(BuildError::expand(name));
        match &instruction.kind {
            // `--link` is accepted and changes nothing here: BuildKit's link copies into an
            // empty layer of its own instead of over the stage's files, so that the layer
            // does not depend on them. kist's COPY layer is close to that already: it is
            // written from the sources, never from a container of the stage; of the stage it
            // reads only the directories on the way to the destination (symlinks to follow,
            // owners and modes to keep), so the files a container sees are the same with or
            // without it.
            InstructionKind::Copy(c) => {
                let tree = match &c.from {
                    Some(from) => self.tree_from(&ex("COPY", from)?, index)?,
                    None => self.context_tree("COPY")?,
                };
                let step = context::CopyStep {
                    sources: &c.sources,
                    dest: ex("COPY", &c.dest)?,
                    chown: c.chown.clone(),
                    chmod: c.chmod.clone(),
                    add: false,
                    name: "COPY",
                };
                Ok((step, tree))
            }
            InstructionKind::Add(a) => {
                let step = context::CopyStep {
                    sources: &a.sources,
                    dest: ex("ADD", &a.dest)?,
                    chown: a.chown.clone(),
                    chmod: a.chmod.clone(),
                    add: a.unpack != Some(false),
                    name: "ADD",
                };
                Ok((step, self.context_tree("ADD")?))
            }
            _ => Err(BuildError::Invalid("not a COPY or ADD".into())),
        }
    }

    fn instruction(
        &mut self,
        index: usize,
        state: &mut StageState,
        instruction: &Instruction,
    ) -> Result<(), BuildError> {
        let created_by = one_line(&instruction.source.original);
        let vars = state.variables();
        let name = instruction.source.name.to_uppercase();
        let ex = |w: &str| expand(w, &vars).map_err(BuildError::expand(&name));
        match &instruction.kind {
            InstructionKind::Run(r) => {
                let layer = run::run(self, index, state, r, &created_by)?;
                config::add_layer(state, layer, &created_by);
                return Ok(());
            }
            InstructionKind::Copy(_) | InstructionKind::Add(_) => {
                let (step, tree) = self.copy_step(index, instruction, &vars)?;
                let layer =
                    context::prepare(self, state, &step, &tree, &vars)?.store(self, state)?;
                config::add_layer(state, layer, &created_by);
                return Ok(());
            }
            InstructionKind::Arg(decls) => {
                for decl in decls {
                    let inherited = self
                        .meta_args
                        .iter()
                        .rev()
                        .find(|(k, _)| *k == decl.name)
                        .map(|(_, v)| v.clone());
                    let default = decl.default.clone().or(inherited);
                    if let Some(value) = self.arg_value(&decl.name, default.as_deref(), &vars)? {
                        state.args.push((decl.name.clone(), value));
                    }
                }
            }
            InstructionKind::Env(pairs) => {
                for p in pairs {
                    let value = ex(&p.value)?;
                    config::set_env(&mut state.config, &ex(&p.key)?, &value);
                }
            }
            InstructionKind::Label(pairs) => {
                for p in pairs {
                    config::set_label(&mut state.config, &ex(&p.key)?, &ex(&p.value)?);
                }
            }
            InstructionKind::Maintainer(who) => {
                config::set_label(&mut state.config, "maintainer", who);
                state.config["author"] = json!(who);
            }
            InstructionKind::Workdir(path) => {
                let dir = config::join_workdir(&state.config, &ex(path)?);
                config::set(&mut state.config, "WorkingDir", json!(dir));
                // The directory is made at this step, in a layer of its own, as BuildKit
                // makes it; one already there changes no file.
                if let Some(layer) = dest::workdir(self, state, &dir, &name)? {
                    config::add_layer(state, layer, &created_by);
                    return Ok(());
                }
            }
            InstructionKind::User(user) => config::set(&mut state.config, "User", json!(ex(user)?)),
            InstructionKind::Expose(ports) => {
                for port in ports {
                    for p in
                        crate::expand_words(port, &vars).map_err(BuildError::expand("EXPOSE"))?
                    {
                        let key = if p.contains('/') {
                            p.to_lowercase()
                        } else {
                            format!("{p}/tcp")
                        };
                        config::insert(&mut state.config, "ExposedPorts", &key);
                    }
                }
            }
            InstructionKind::Volume(paths) => {
                for p in paths {
                    config::insert(&mut state.config, "Volumes", &ex(p)?);
                }
            }
            InstructionKind::Entrypoint(cmd) => {
                let value = config::command(&state.config, cmd);
                config::set(&mut state.config, "Entrypoint", value);
                // As in Docker, an ENTRYPOINT resets the CMD inherited from the base image.
                config::remove(&mut state.config, "Cmd");
            }
            InstructionKind::Cmd(cmd) => {
                let value = config::command(&state.config, cmd);
                config::set(&mut state.config, "Cmd", value);
            }
            InstructionKind::Shell(shell) => config::set(&mut state.config, "Shell", json!(shell)),
            InstructionKind::Healthcheck(check) => {
                let value = config::healthcheck(check);
                config::set(&mut state.config, "Healthcheck", value);
            }
            InstructionKind::StopSignal(signal) => {
                config::set(&mut state.config, "StopSignal", json!(ex(signal)?));
            }
            InstructionKind::Onbuild(trigger) => {
                config::push(&mut state.config, "OnBuild", json!(trigger.expression));
            }
            InstructionKind::From(_) => {}
        }
        config::add_history(&mut state.config, &created_by, true);
        Ok(())
    }

    /// The build context, as COPY reads it.
    fn context_tree(&self, step: &str) -> Result<Tree, BuildError> {
        let root = self.opts.context.clone().ok_or_else(|| {
            BuildError::Invalid(format!(
                "{step}: there is no build context (kist build -) to copy from"
            ))
        })?;
        // `FILE.dockerignore` beside the Dockerfile first, as BuildKit reads it.
        let own = format!("{}.dockerignore", self.opts.dockerfile_name);
        let text = std::fs::read_to_string(own)
            .or_else(|_| std::fs::read_to_string(root.join(".dockerignore")));
        let ignore = text.map(|t| Ignore::parse(&t)).unwrap_or_default();
        Ok(Tree::Context { root, ignore })
    }

    /// What `COPY --from=from` reads: an earlier stage's files, or an image's.
    fn tree_from(&self, from: &str, index: usize) -> Result<Tree, BuildError> {
        Ok(self.files_of(from, index, "COPY")?.0)
    }

    /// The files of the stage or image `from` that `what` (COPY, RUN --mount) names, and
    /// what identifies them for the cache: the stage's key, or the image's id.
    pub(super) fn files_of(
        &self,
        from: &str,
        index: usize,
        what: &str,
    ) -> Result<(Tree, String), BuildError> {
        let (config, id) = match self.stage_named(from, true, index) {
            Some(i) => self
                .done
                .get(&i)
                .map(|s| (s.config.clone(), s.key.to_string()))
                .ok_or_else(|| {
                    BuildError::Invalid(format!("{what} from={from}: the stage was not built"))
                })?,
            None => {
                let store = &self.engine.images;
                let image = self.image(from, &format!("{what} --from={from}"))?;
                let config = serde_json::from_slice(&store.read_blob(&image.id, &image.name)?)
                    .map_err(|e| BuildError::Invalid(format!("{what} --from={from}: {e}")))?;
                (config, image.id.to_string())
            }
        };
        Ok((Tree::Layers(layer_dirs(self.engine, &config)), id))
    }

    /// Stores stage `state` as the build's image, named by `tags`.
    pub fn finish(
        &mut self,
        mut state: StageState,
        tags: &[Reference],
    ) -> Result<Digest, BuildError> {
        for (k, v) in &self.opts.labels {
            config::set_label(&mut state.config, k, v);
        }
        // The last step's time: a rebuild from the cache gives the same image (and id).
        let created = state
            .config
            .pointer("/history")
            .and_then(Value::as_array)
            .and_then(|h| h.last())
            .and_then(|h| h.get("created"))
            .cloned()
            .unwrap_or_else(|| json!(kist_image::now()));
        state.config["created"] = created;
        let unused: Vec<&str> = self
            .opts
            .build_args
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| !self.used_args.iter().any(|u| u == k))
            .collect();
        if !unused.is_empty() {
            eprintln!(
                "[Warning] One or more build-args [{}] were not consumed",
                unused.join(" ")
            );
        }
        let store = &self.engine.images;
        let outcome = kist_image::write_image(store, &state.config, state.layers, tags.first())?;
        if tags.len() > 1 {
            let image = store.resolve(&outcome.image_id.to_string())?;
            for tag in &tags[1..] {
                store.tag_image(&image, tag)?;
            }
        }
        let id = outcome.image_id;
        self.show(Event::Line(&format!("writing image {id}")));
        for tag in tags {
            self.show(Event::Line(&format!("naming to {tag}")));
        }
        Ok(id)
    }
}

/// What a stage's thread gets of its builder: everything but the engine, which it opens.
struct Apart<'a> {
    opts: &'a BuildOptions,
    file: &'a Dockerfile,
    frontend: &'a dyn Frontend,
    shared: Shared<'a>,
    meta_args: Vec<(String, String)>,
    done: HashMap<usize, StageState>,
}

impl Apart<'_> {
    /// Stage `i`, its state and the build args it used.
    fn build(
        self,
        layout: &kist_engine::Layout,
        i: usize,
    ) -> Result<(usize, StageState, Vec<String>), BuildError> {
        let engine = Engine::open_quietly(&layout.root, Some(&layout.run))?;
        let mut child = Builder {
            engine: &engine,
            opts: self.opts,
            file: self.file,
            frontend: self.frontend,
            meta_args: self.meta_args,
            used_args: Vec::new(),
            shared: self.shared,
            step: 0,
            done: self.done,
        };
        let state = child.build_stage(i)?;
        Ok((i, state, child.used_args))
    }
}

/// Tells the stages' watcher that a stage's thread is over, however it ends; a panic
/// cancels the others as a failure does.
struct Finished<'a> {
    tell: std::sync::mpsc::Sender<()>,
    cancel: &'a Cancel,
}

impl Drop for Finished<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.cancel.cancel();
        }
        let _ = self.tell.send(());
    }
}

/// Waits for `stages` threads to be over; once the build is cancelled, kills the RUN
/// containers still running, again at each round (one may be starting when a round looks).
fn watch(over: &std::sync::mpsc::Receiver<()>, stages: usize, cancel: &Cancel, engine: &Engine) {
    let mut left = stages;
    while left > 0 {
        match over.recv_timeout(std::time::Duration::from_millis(20)) {
            Ok(()) => left -= 1,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
        }
        if cancel.is_cancelled() {
            cancel.kill_running(engine);
        }
    }
}

/// The stages' states, or the first real error: a stage that failed, not one it cancelled.
fn first_error<T>(results: Vec<Result<T, BuildError>>) -> Result<Vec<T>, BuildError> {
    let mut cancelled = None;
    let mut states = Vec::new();
    for result in results {
        match result {
            Ok(state) => states.push(state),
            Err(BuildError::Cancelled) => cancelled = Some(BuildError::Cancelled),
            Err(e) => return Err(e),
        }
    }
    match cancelled {
        Some(e) => Err(e),
        None => Ok(states),
    }
}

/// The base's ONBUILD triggers, typed, taken out of the new image's config (they run in this
/// build, the child's, and are not passed on), as Docker does.
fn onbuild_triggers(config: &mut Value, image: &str) -> Result<Vec<Instruction>, BuildError> {
    let triggers: Vec<String> = config
        .pointer("/config/OnBuild")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(String::from)
        .collect();
    if let Some(Value::Object(c)) = config.get_mut("config") {
        c.remove("OnBuild");
    }
    let mut typed = Vec::new();
    for trigger in triggers {
        let file = crate::parse(
            &format!("ONBUILD of {image}"),
            &format!("FROM scratch\n{trigger}\n"),
        )?;
        typed.extend(file.stages.into_iter().flat_map(|s| s.instructions));
    }
    Ok(typed)
}

/// The directories of the layers of the image `config`, topmost first.
pub(super) fn layer_dirs(engine: &Engine, config: &Value) -> Vec<std::path::PathBuf> {
    let root = engine.images.layers_root();
    layer_chain(config)
        .iter()
        .rev()
        .map(|c| root.join(c.hex()).join("diff"))
        .collect()
}

/// The chain ids of the image `config`'s layers, bottom first.
pub(super) fn layer_chain(config: &Value) -> Vec<Digest> {
    let ids: Vec<Digest> = config
        .pointer("/rootfs/diff_ids")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(|d| Digest::parse(d).ok())
        .collect();
    kist_image::chain_ids(&ids)
}

/// Continuation lines joined onto one.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
