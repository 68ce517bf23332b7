//! What `commit` changes in the new image's config: the container's own command and
//! environment, then each `-c` Dockerfile instruction. On oci-spec's typed `Config`, so that a
//! misspelt field does not compile.

use std::collections::HashMap;

use oci_spec::image::Config;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::state::store::ContainerRecord;

/// The container's own command and environment, as Docker's commit keeps them.
pub(crate) fn apply_container_settings(
    config: &mut Config,
    c: &ContainerRecord,
    base: &kist_image::Image,
) {
    // The record's settings are kist's own (Docker-shaped) JSON, not an OCI document.
    let recorded: Value = serde_json::from_str(&c.config).unwrap_or_default();
    let image_env = config.env().clone().unwrap_or_default();
    if let Some(env) = recorded["Env"].as_array() {
        // HOSTNAME and HOME are set for each container, not part of what it was given.
        let env: Vec<String> = env
            .iter()
            .filter_map(|v| v.as_str())
            .filter(|kv| {
                let key = kv.split('=').next().unwrap_or_default();
                !["HOSTNAME", "HOME"].contains(&key) || image_env.iter().any(|e| e == kv)
            })
            .map(String::from)
            .collect();
        config.set_env(Some(env));
    }
    let args: Vec<String> = serde_json::from_value(recorded["Cmd"].clone()).unwrap_or_default();
    let entrypoint = base
        .config
        .config()
        .as_ref()
        .and_then(|c| c.entrypoint().clone())
        .unwrap_or_default();
    let Some((program, rest)) = args.split_first() else {
        return;
    };
    if args.starts_with(&entrypoint) {
        config.set_cmd(Some(args[entrypoint.len()..].to_vec()));
    } else {
        config.set_entrypoint(Some(vec![program.clone()]));
        config.set_cmd(Some(rest.to_vec()));
    }
}

/// Applies one Dockerfile instruction of `commit -c` to an image config.
pub fn apply_change(config: &mut Config, change: &str) -> Result<()> {
    let bad = |why: &str| Error::invalid_value("change", change, why);
    let (instruction, rest) = change
        .trim()
        .split_once(char::is_whitespace)
        .map(|(i, r)| (i.to_ascii_uppercase(), r.trim()))
        .ok_or_else(|| bad("give an instruction and its value, like CMD [\"sh\"]"))?;
    match instruction.as_str() {
        "CMD" => {
            config.set_cmd(Some(command_form(rest)));
        }
        "ENTRYPOINT" => {
            config.set_entrypoint(Some(command_form(rest)));
        }
        "ENV" => {
            let pairs = key_values(rest).ok_or_else(|| bad("use ENV KEY=VALUE"))?;
            for (k, v) in pairs {
                set_env(config, &k, &v);
            }
        }
        "LABEL" => {
            let pairs = key_values(rest).ok_or_else(|| bad("use LABEL KEY=VALUE"))?;
            config
                .labels_mut()
                .get_or_insert_with(HashMap::new)
                .extend(pairs);
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
                let mut ports = config.exposed_ports().clone().unwrap_or_default();
                add_once(&mut ports, port);
                config.set_exposed_ports(Some(ports));
            }
        }
        "VOLUME" => {
            let list = serde_json::from_str::<Vec<String>>(rest)
                .unwrap_or_else(|_| rest.split_whitespace().map(String::from).collect());
            let mut volumes = config.volumes().clone().unwrap_or_default();
            for v in list {
                add_once(&mut volumes, v);
            }
            config.set_volumes(Some(volumes));
        }
        "USER" => {
            config.set_user(Some(rest.to_string()));
        }
        "WORKDIR" => {
            if !rest.starts_with('/') {
                return Err(bad("the working directory must be absolute"));
            }
            config.set_working_dir(Some(rest.to_string()));
        }
        "STOPSIGNAL" => {
            config.set_stop_signal(Some(rest.to_string()));
        }
        other => {
            return Err(bad(&format!(
                "{other} cannot be changed; use CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR or STOPSIGNAL"
            )));
        }
    }
    Ok(())
}

/// Ports and volumes are sets (JSON objects in the config): each at most once.
fn add_once(list: &mut Vec<String>, item: String) {
    if !list.contains(&item) {
        list.push(item);
    }
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

fn set_env(config: &mut Config, key: &str, value: &str) {
    let entry = format!("{key}={value}");
    let prefix = format!("{key}=");
    let mut env = config.env().clone().unwrap_or_default();
    match env.iter_mut().find(|e| e.starts_with(&prefix)) {
        Some(e) => *e = entry,
        None => env.push(entry),
    }
    config.set_env(Some(env));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn changes_like_a_dockerfile() {
        let mut config: Config =
            serde_json::from_value(json!({"Env": ["PATH=/bin", "A=1"]})).unwrap();
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
            apply_change(&mut config, change).unwrap();
        }
        let c = serde_json::to_value(&config).unwrap();
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
        let mut c = Config::default();
        for change in ["RUN make", "CMD", "EXPOSE eighty", "WORKDIR relative"] {
            assert!(apply_change(&mut c, change).is_err(), "{change}");
        }
    }
}
