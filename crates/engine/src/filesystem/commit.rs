//! `kist commit`: a container's write layer becomes a new image on top of its image. The layer is
//! the overlayfs upper directory only (not a flattened copy), its whiteouts turned into OCI ones;
//! a running container is frozen while it is read, so the layer is one moment of it.

use std::io::Read;

use kist_image::{Digest, LayerCommit, Reference, TreeKind};
use serde_json::{Value, json};

use crate::Engine;
use crate::container::freeze::Freeze;
use crate::error::{Error, Result};
use crate::state::container_dirs::ContainerDirs;
use crate::state::store::{ContainerRecord, ContainerState};

#[derive(Debug, Default, Clone)]
pub struct CommitOptions {
    pub message: Option<String>,
    pub author: Option<String>,
    /// Dockerfile instructions applied to the new image's config (`-c 'CMD ["sh"]'`).
    pub changes: Vec<String>,
    /// Freeze a running container while its layer is read (Docker's default).
    pub pause: bool,
}

/// Commits `c` as a new image, named `reference` if given; returns the image id.
pub fn commit(
    engine: &Engine,
    c: &ContainerRecord,
    reference: Option<&str>,
    opts: &CommitOptions,
) -> Result<Digest> {
    let reference = reference.map(Reference::parse).transpose()?;
    let base = engine
        .images
        .resolve(&c.image_id)
        .map_err(|source| Error::ImageGone {
            container: c.name.clone(),
            image: c.image.clone(),
            source,
        })?;
    let mut config = base
        .config
        .config()
        .as_ref()
        .map(|c| serde_json::to_value(c).unwrap_or_default())
        .unwrap_or_else(|| json!({}));
    apply_container_settings(&mut config, c, &base);
    for change in &opts.changes {
        apply_change(&mut config, change)?;
    }
    let commit = LayerCommit {
        created_by: format!("kist commit {}", c.name),
        comment: opts.message.clone(),
        author: opts.author.clone(),
        config: Some(config),
    };
    let upper = ContainerDirs::of(&engine.layout, &c.id).upper;
    let _frozen: Option<Freeze> = match (opts.pause, c.state == ContainerState::Running) {
        (true, true) => Freeze::of(engine, c, "commit:frozen")?,
        _ => None,
    };
    let (reader, writer) = std::io::pipe().map_err(|e| Error::Io {
        context: "making a pipe for",
        path: upper.clone(),
        source: e,
    })?;
    let outcome = std::thread::scope(|s| {
        // The writer is dropped when the tree is written: the reader's end of file.
        let tar =
            s.spawn(|| kist_image::write_tree(&upper, TreeKind::OverlayUpper, writer).map(drop));
        let stored = kist_image::extend_image(
            &engine.images,
            &base,
            DrainOnDrop(reader),
            &commit,
            reference.as_ref(),
        );
        let written = tar.join().map_err(|_| Error::Panicked {
            what: "layer writer",
        })?;
        // The writer's error says more than the reader's "truncated archive".
        written?;
        stored.map_err(Error::from)
    })?;
    Ok(outcome.image_id)
}

/// A pipe's read end that, dropped early (the store refused the layer), still lets the writer
/// finish instead of blocking on a full pipe.
struct DrainOnDrop(std::io::PipeReader);

impl Read for DrainOnDrop {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

impl Drop for DrainOnDrop {
    fn drop(&mut self) {
        let _ = std::io::copy(&mut self.0, &mut std::io::sink());
    }
}

/// The container's own command and environment, as Docker's commit keeps them.
fn apply_container_settings(config: &mut Value, c: &ContainerRecord, base: &kist_image::Image) {
    let recorded: Value = serde_json::from_str(&c.config).unwrap_or_default();
    let image_env: Vec<String> = config["Env"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    if let Some(env) = recorded["Env"].as_array() {
        // HOSTNAME and HOME are set for each container, not part of what it was given.
        let env: Vec<Value> = env
            .iter()
            .filter(|v| {
                let kv = v.as_str().unwrap_or_default();
                let key = kv.split('=').next().unwrap_or_default();
                !["HOSTNAME", "HOME"].contains(&key) || image_env.iter().any(|e| e == kv)
            })
            .cloned()
            .collect();
        config["Env"] = Value::Array(env);
    }
    let args: Vec<String> = serde_json::from_value(recorded["Cmd"].clone()).unwrap_or_default();
    let entrypoint = base
        .config
        .config()
        .as_ref()
        .and_then(|c| c.entrypoint().clone())
        .unwrap_or_default();
    if args.is_empty() {
        return;
    }
    if args.starts_with(&entrypoint) {
        config["Cmd"] = json!(args[entrypoint.len()..]);
    } else {
        config["Entrypoint"] = json!([args[0]]);
        config["Cmd"] = json!(args[1..]);
    }
}

/// Applies one Dockerfile instruction of `commit -c` to an image config.
pub fn apply_change(config: &mut Value, change: &str) -> Result<()> {
    let bad = |why: &str| Error::invalid_value("change", change, why);
    let (instruction, rest) = change
        .trim()
        .split_once(char::is_whitespace)
        .map(|(i, r)| (i.to_ascii_uppercase(), r.trim()))
        .ok_or_else(|| bad("give an instruction and its value, like CMD [\"sh\"]"))?;
    match instruction.as_str() {
        "CMD" | "ENTRYPOINT" => {
            let key = if instruction == "CMD" {
                "Cmd"
            } else {
                "Entrypoint"
            };
            config[key] = json!(command_form(rest));
        }
        "ENV" => {
            let pairs = key_values(rest).ok_or_else(|| bad("use ENV KEY=VALUE"))?;
            for (k, v) in pairs {
                set_env(config, &k, &v);
            }
        }
        "LABEL" => {
            let pairs = key_values(rest).ok_or_else(|| bad("use LABEL KEY=VALUE"))?;
            for (k, v) in pairs {
                config["Labels"][k] = json!(v);
            }
        }
        "EXPOSE" => {
            for port in rest.split_whitespace() {
                let port = if port.contains('/') {
                    port.to_string()
                } else {
                    format!("{port}/tcp")
                };
                let number = port.split('/').next().unwrap_or_default();
                if number.parse::<u16>().is_err() {
                    return Err(bad("a port is a number, like 80 or 53/udp"));
                }
                config["ExposedPorts"][port] = json!({});
            }
        }
        "VOLUME" => {
            let list = serde_json::from_str::<Vec<String>>(rest)
                .unwrap_or_else(|_| rest.split_whitespace().map(String::from).collect());
            for v in list {
                config["Volumes"][v] = json!({});
            }
        }
        "USER" => config["User"] = json!(rest),
        "WORKDIR" => {
            if !rest.starts_with('/') {
                return Err(bad("the working directory must be absolute"));
            }
            config["WorkingDir"] = json!(rest);
        }
        "STOPSIGNAL" => config["StopSignal"] = json!(rest),
        other => {
            return Err(bad(&format!(
                "{other} cannot be changed; use CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR or STOPSIGNAL"
            )));
        }
    }
    Ok(())
}

/// `["a", "b"]` (exec form) as it is, anything else (shell form) through `/bin/sh -c`.
fn command_form(value: &str) -> Vec<String> {
    if value.starts_with('[')
        && let Ok(list) = serde_json::from_str::<Vec<String>>(value)
    {
        return list;
    }
    vec!["/bin/sh".into(), "-c".into(), value.into()]
}

/// `K=V K2="V 2"` or the old `K V` form.
fn key_values(value: &str) -> Option<Vec<(String, String)>> {
    if !value.contains('=') {
        let (k, v) = value.split_once(char::is_whitespace)?;
        return Some(vec![(k.to_string(), v.trim().to_string())]);
    }
    let mut out = Vec::new();
    let mut rest = value.trim();
    while !rest.is_empty() {
        let (k, after) = rest.split_once('=')?;
        let (v, next) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"')?;
            (&quoted[..end], &quoted[end + 1..])
        } else {
            match after.find(char::is_whitespace) {
                Some(i) => (&after[..i], &after[i..]),
                None => (after, ""),
            }
        };
        if k.is_empty() || k.contains(char::is_whitespace) {
            return None;
        }
        out.push((k.to_string(), v.to_string()));
        rest = next.trim_start();
    }
    Some(out)
}

fn set_env(config: &mut Value, key: &str, value: &str) {
    let entry = json!(format!("{key}={value}"));
    let env = config["Env"].as_array_mut();
    match env {
        Some(list) => {
            let prefix = format!("{key}=");
            match list
                .iter_mut()
                .find(|e| e.as_str().is_some_and(|s| s.starts_with(&prefix)))
            {
                Some(e) => *e = entry,
                None => list.push(entry),
            }
        }
        None => config["Env"] = json!([entry]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_like_a_dockerfile() {
        let mut c = json!({"Env": ["PATH=/bin", "A=1"]});
        for change in [
            r#"CMD ["echo", "hi"]"#,
            "ENTRYPOINT /bin/run --now",
            "ENV A=2 B=\"two words\"",
            "ENV C 3",
            "LABEL version=1.0",
            "EXPOSE 80 53/udp",
            "USER nobody",
            "WORKDIR /srv",
            "VOLUME /data",
        ] {
            apply_change(&mut c, change).unwrap();
        }
        assert_eq!(c["Cmd"], json!(["echo", "hi"]));
        assert_eq!(c["Entrypoint"], json!(["/bin/sh", "-c", "/bin/run --now"]));
        assert_eq!(c["Env"], json!(["PATH=/bin", "A=2", "B=two words", "C=3"]));
        assert_eq!(c["Labels"]["version"], "1.0");
        assert_eq!(c["ExposedPorts"], json!({"80/tcp": {}, "53/udp": {}}));
        assert_eq!(c["User"], "nobody");
        assert_eq!(c["WorkingDir"], "/srv");
        assert_eq!(c["Volumes"], json!({"/data": {}}));
    }

    #[test]
    fn bad_changes_are_refused() {
        let mut c = json!({});
        for change in ["RUN make", "CMD", "EXPOSE eighty", "WORKDIR relative"] {
            assert!(apply_change(&mut c, change).is_err(), "{change}");
        }
    }
}
