//! `-a`/`--attach` and `--sig-proxy`: which standard streams a foreground run connects to
//! kist's, and whether the signals kist gets are passed on to the container.

use crate::error::{Error, Result};

/// The streams a foreground container is attached to (`Config.AttachStdin/Stdout/Stderr`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attach {
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
}

/// Docker's default without `-a`: the output streams (stdin too with `-i`, see `parse`).
impl Default for Attach {
    fn default() -> Attach {
        Attach {
            stdin: false,
            stdout: true,
            stderr: true,
        }
    }
}

impl Attach {
    /// The `-a` values (case-insensitive, as Docker takes them); none given means Docker's
    /// default. A detached container is attached to nothing.
    pub fn parse(values: &[String], interactive: bool, detach: bool) -> Result<Attach> {
        if values.is_empty() {
            return Ok(if detach {
                Attach::none()
            } else {
                Attach {
                    stdin: interactive,
                    ..Attach::default()
                }
            });
        }
        if detach {
            return Err(Error::invalid_option(
                "--attach",
                "conflicting options: -a and -d (a detached container is attached to nothing)",
            ));
        }
        let mut a = Attach::none();
        for v in values {
            match v.to_ascii_lowercase().as_str() {
                "stdin" => a.stdin = true,
                "stdout" => a.stdout = true,
                "stderr" => a.stderr = true,
                _ => {
                    return Err(Error::invalid_value(
                        "--attach",
                        v,
                        "valid streams are STDIN, STDOUT and STDERR",
                    ));
                }
            }
        }
        Ok(a)
    }

    fn none() -> Attach {
        Attach {
            stdin: false,
            stdout: false,
            stderr: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn streams_as_docker_attaches_them() {
        let only_out = Attach::parse(&list(&["stdout"]), true, false).unwrap();
        assert!(only_out.stdout && !only_out.stderr && !only_out.stdin);
        let default = Attach::parse(&[], true, false).unwrap();
        assert!(default.stdin && default.stdout && default.stderr);
        assert!(!Attach::parse(&[], false, false).unwrap().stdin);
        assert_eq!(Attach::parse(&[], false, true).unwrap(), Attach::none());
        assert!(
            Attach::parse(&list(&["STDERR"]), false, false)
                .unwrap()
                .stderr
        );
        assert!(Attach::parse(&list(&["stdout"]), false, true).is_err());
        let e = Attach::parse(&list(&["stdtoe"]), false, false).unwrap_err();
        assert!(e.to_string().contains("STDIN, STDOUT and STDERR"), "{e}");
    }
}
