//! `--format` templates in the subset of Go's text/template that Docker users write:
//! `{{.State.Pid}}`, `{{.Name}}`, `{{json .Config}}`, literal text around them.

use anyhow::{Result, bail};
use serde_json::Value;

/// Renders `template` against `value`.
pub fn render(template: &str, value: &Value) -> Result<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&unescape(&rest[..start]));
        let Some(end) = rest[start..].find("}}") else {
            bail!("template: unclosed action in {template:?}");
        };
        let action = rest[start + 2..start + end].trim();
        out.push_str(&action_value(action, value)?);
        rest = &rest[start + end + 2..];
    }
    out.push_str(&unescape(rest));
    Ok(out)
}

fn unescape(s: &str) -> String {
    s.replace("\\n", "\n").replace("\\t", "\t")
}

fn action_value(action: &str, value: &Value) -> Result<String> {
    let (json, path) = match action.strip_prefix("json ") {
        Some(p) => (true, p.trim()),
        None => (false, action),
    };
    let v = lookup(path, value)?;
    Ok(if json {
        serde_json::to_string(v)?
    } else {
        match v {
            Value::String(s) => s.clone(),
            Value::Null => "<no value>".into(),
            Value::Array(_) | Value::Object(_) => serde_json::to_string(v)?,
            other => other.to_string(),
        }
    })
}

fn lookup<'a>(path: &str, value: &'a Value) -> Result<&'a Value> {
    if path == "." {
        return Ok(value);
    }
    let Some(fields) = path.strip_prefix('.') else {
        bail!("template: {path:?} is not a field path: write it like .State.Pid");
    };
    let mut v = value;
    for field in fields.split('.') {
        v = match v.get(field) {
            Some(next) => next,
            None => bail!("template: no field {field:?} in {path:?}"),
        };
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_json_and_text() {
        let v = json!({"Name": "/web", "State": {"Pid": 42, "Running": true}, "Config": {"Env": ["A=1"]}});
        assert_eq!(render("{{.State.Pid}}", &v).unwrap(), "42");
        assert_eq!(
            render("{{ .Name }} is {{.State.Running}}", &v).unwrap(),
            "/web is true"
        );
        assert_eq!(render("{{json .Config.Env}}", &v).unwrap(), r#"["A=1"]"#);
        assert_eq!(render("{{json .Name}}", &v).unwrap(), r#""/web""#);
        assert!(
            render("{{.State.Nope}}", &v)
                .unwrap_err()
                .to_string()
                .contains("Nope")
        );
        assert!(render("{{.State.Pid", &v).is_err());
        assert!(render("{{State}}", &v).is_err());
    }
}
