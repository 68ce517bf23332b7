//! The image config as Docker writes it (JSON with Docker's field names), changed by the
//! instructions: `config.Env`, `Cmd`, `Healthcheck`... and `history` and `rootfs`. Kept as
//! JSON rather than oci-spec's typed config, which has no `Healthcheck`, `OnBuild` or `Shell`.

use serde_json::{Map, Value, json};

use super::stage::StageState;
use crate::{CommandLine, Healthcheck};
use kist_image::NewLayer;

const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The config of `FROM scratch`: no layer, the default PATH (as BuildKit gives).
pub(super) fn scratch() -> Value {
    json!({
        "architecture": kist_image::oci_architecture(),
        "os": "linux",
        "config": {"Env": [DEFAULT_PATH]},
        "rootfs": {"type": "layers", "diff_ids": []},
        "history": [],
    })
}

/// `config`'s `config` object, made if missing.
fn settings(config: &mut Value) -> &mut Map<String, Value> {
    if !config.get("config").is_some_and(Value::is_object) {
        config["config"] = json!({});
    }
    match config.get_mut("config") {
        Some(Value::Object(map)) => map,
        // Made an object just above.
        _ => unreachable!("config.config is an object"),
    }
}

fn get<'v>(config: &'v Value, key: &str) -> Option<&'v Value> {
    config.get("config").and_then(|c| c.get(key))
}

pub(super) fn set(config: &mut Value, key: &str, value: Value) {
    settings(config).insert(key.to_string(), value);
}

pub(super) fn remove(config: &mut Value, key: &str) {
    settings(config).remove(key);
}

/// Adds `key` to the set-like object `field` (`ExposedPorts`, `Volumes`).
pub(super) fn insert(config: &mut Value, field: &str, key: &str) {
    let map = settings(config);
    let entry = map.entry(field).or_insert_with(|| json!({}));
    if !entry.is_object() {
        *entry = json!({});
    }
    entry[key] = json!({});
}

pub(super) fn push(config: &mut Value, field: &str, value: Value) {
    let map = settings(config);
    let entry = map.entry(field).or_insert_with(|| json!([]));
    match entry {
        Value::Array(items) => items.push(value),
        other => *other = json!([value]),
    }
}

/// `config.Env` as pairs.
pub(super) fn env(config: &Value) -> Vec<(String, String)> {
    get(config, "Env")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (kv.to_string(), String::new()),
        })
        .collect()
}

/// Sets `key=value` in `config.Env`, in place of an earlier value.
pub(super) fn set_env(config: &mut Value, key: &str, value: &str) {
    let mut pairs = env(config);
    match pairs.iter().position(|(k, _)| k == key) {
        Some(i) => pairs[i].1 = value.to_string(),
        None => pairs.push((key.to_string(), value.to_string())),
    }
    let list: Vec<Value> = pairs
        .iter()
        .map(|(k, v)| json!(format!("{k}={v}")))
        .collect();
    set(config, "Env", Value::Array(list));
}

pub(super) fn set_label(config: &mut Value, key: &str, value: &str) {
    let map = settings(config);
    let labels = map.entry("Labels").or_insert_with(|| json!({}));
    if !labels.is_object() {
        *labels = json!({});
    }
    labels[key] = json!(value);
}

/// WORKDIR `path`, relative to the current one.
pub(super) fn join_workdir(config: &Value, path: &str) -> String {
    if path.starts_with('/') {
        return path.to_string();
    }
    let current = workdir(config);
    format!("{}/{path}", current.trim_end_matches('/'))
}

/// The working directory (`/` when none is set).
pub(super) fn workdir(config: &Value) -> String {
    get(config, "WorkingDir")
        .and_then(Value::as_str)
        .filter(|w| !w.is_empty())
        .unwrap_or("/")
        .to_string()
}

/// The USER in force (empty when none is set).
pub(super) fn user(config: &Value) -> String {
    get(config, "User")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// The stage's shell: SHELL's, or `/bin/sh -c`.
pub(super) fn shell(config: &Value) -> Vec<String> {
    get(config, "Shell")
        .and_then(Value::as_array)
        .map(|s| {
            s.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .filter(|s: &Vec<String>| !s.is_empty())
        .unwrap_or_else(|| vec!["/bin/sh".into(), "-c".into()])
}

/// A command line as the config keeps it: exec form as it is, shell form through the shell.
pub(super) fn argv(config: &Value, cmd: &CommandLine) -> Vec<String> {
    match cmd {
        CommandLine::Exec(args) => args.clone(),
        CommandLine::Shell(text) => {
            let mut args = shell(config);
            args.push(text.clone());
            args
        }
    }
}

pub(super) fn command(config: &Value, cmd: &CommandLine) -> Value {
    json!(argv(config, cmd))
}

/// HEALTHCHECK as Docker's config keeps it (durations in nanoseconds).
pub(super) fn healthcheck(check: &Healthcheck) -> Value {
    let Healthcheck::Command(c) = check else {
        return json!({"Test": ["NONE"]});
    };
    let test = match &c.command {
        CommandLine::Exec(args) => {
            let mut test = vec!["CMD".to_string()];
            test.extend(args.iter().cloned());
            test
        }
        CommandLine::Shell(text) => vec!["CMD-SHELL".to_string(), text.clone()],
    };
    let mut value = json!({"Test": test});
    let nanos = |d: &std::time::Duration| json!(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    for (key, d) in [
        ("Interval", &c.interval),
        ("Timeout", &c.timeout),
        ("StartPeriod", &c.start_period),
        ("StartInterval", &c.start_interval),
    ] {
        if let Some(d) = d {
            value[key] = nanos(d);
        }
    }
    if let Some(r) = c.retries {
        value["Retries"] = json!(r);
    }
    value
}

/// One more history entry.
pub(super) fn add_history(config: &mut Value, created_by: &str, empty_layer: bool) {
    let mut entry = json!({
        "created": kist_image::now(),
        "created_by": created_by,
        "comment": "kist build",
    });
    if empty_layer {
        entry["empty_layer"] = json!(true);
    }
    match config.get_mut("history") {
        Some(Value::Array(h)) => h.push(entry),
        _ => config["history"] = json!([entry]),
    }
}

/// A step's new layer on top of the stage, with its history entry.
pub(super) fn add_layer(state: &mut StageState, layer: NewLayer, created_by: &str) {
    match state.config.pointer_mut("/rootfs/diff_ids") {
        Some(Value::Array(ids)) => ids.push(json!(layer.diff_id.to_string())),
        _ => {
            state.config["rootfs"] =
                json!({"type": "layers", "diff_ids": [layer.diff_id.to_string()]})
        }
    }
    add_history(&mut state.config, created_by, false);
    state.layers.push(layer.descriptor);
    state.chain = Some(layer.chain_id);
}
