//! `-e` and `--env-file`: the environment variables a user adds to a container's.

use std::path::Path;

use crate::error::{Error, IoContext, Result};

/// Resolves a `-e` value: `K=V` as is, `K` from kist's own environment (skipped when unset).
pub fn resolve_env(value: &str) -> Result<Option<String>> {
    let key = value.split('=').next().unwrap_or("");
    if key.is_empty() || key.chars().any(char::is_whitespace) {
        return Err(Error::invalid_value(
            "environment variable",
            value,
            "expected KEY=VALUE or KEY",
        ));
    }
    if value.contains('=') {
        Ok(Some(value.to_string()))
    } else {
        Ok(std::env::var(key).ok().map(|v| format!("{key}={v}")))
    }
}

/// Reads an `--env-file`: a `KEY=VALUE` or `KEY` per line, `#` comments and blank lines skipped.
pub fn parse_env_file(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).ctx("reading the env file", path)?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let resolved = resolve_env(line).map_err(|_| {
            Error::invalid_option(
                "--env-file",
                format!(
                    "{}:{}: invalid line {line:?}: expected KEY=VALUE",
                    path.display(),
                    i + 1
                ),
            )
        })?;
        out.extend(resolved);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_values() {
        assert_eq!(resolve_env("A=1").unwrap(), Some("A=1".into()));
        assert_eq!(resolve_env("A=").unwrap(), Some("A=".into()));
        assert!(resolve_env("=1").is_err());
        assert!(resolve_env("A B=1").is_err());
        let path = std::env::var("PATH").unwrap();
        assert_eq!(resolve_env("PATH").unwrap(), Some(format!("PATH={path}")));
        assert_eq!(resolve_env("KIST_TEST_SURELY_UNSET").unwrap(), None);
    }

    #[test]
    fn env_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("env");
        std::fs::write(&p, "# comment\n\nA=1\n  B=two words\n").unwrap();
        assert_eq!(parse_env_file(&p).unwrap(), vec!["A=1", "B=two words"]);
        std::fs::write(&p, "A=1\n=bad\n").unwrap();
        assert!(parse_env_file(&p).unwrap_err().to_string().contains(":2:"));
    }
}
