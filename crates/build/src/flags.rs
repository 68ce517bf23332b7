//! An instruction's `--flags`, checked against the ones it takes: `--link` or `--link=false`
//! for booleans, `--from=x` for strings, `--mount=...` as often as wanted for lists. Unknown,
//! repeated or valueless flags are errors, with BuildKit's messages.

use crate::error::ErrorKind;
use crate::suggest::closest;

/// What a flag takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `--flag`, `--flag=true`, `--flag=false`.
    Bool,
    /// `--flag=value`, once.
    String,
    /// `--flag=value`, any number of times.
    List,
}

/// The flags given to an instruction, by name.
#[derive(Debug, Default)]
pub(crate) struct Flags {
    values: Vec<(&'static str, String)>,
}

impl Flags {
    /// Reads `given` (`--name=value` each) for an instruction that takes `known`.
    pub(crate) fn parse(
        given: &[String],
        known: &[(&'static str, Kind)],
    ) -> Result<Flags, ErrorKind> {
        let mut flags = Flags::default();
        for flag in given {
            let flag = flag.strip_prefix("--").unwrap_or(flag);
            let (name, value) = match flag.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None => (flag, None),
            };
            let Some(&(name, kind)) = known.iter().find(|(k, _)| *k == name) else {
                let names: Vec<&str> = known.iter().map(|(k, _)| *k).collect();
                return Err(ErrorKind::UnknownFlag {
                    name: name.to_string(),
                    suggestion: closest(name, &names).map(|s| format!("--{s}")),
                });
            };
            if kind != Kind::List && flags.has(name) {
                return Err(ErrorKind::DuplicateFlag(name.to_string()));
            }
            flags.values.push((name, flag_value(name, kind, value)?));
        }
        Ok(flags)
    }

    fn has(&self, name: &str) -> bool {
        self.values.iter().any(|(n, _)| *n == name)
    }

    /// A string flag's value, if given.
    pub(crate) fn string(&self, name: &str) -> Option<String> {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
    }

    /// A boolean flag's value, if given.
    pub(crate) fn bool_if_given(&self, name: &str) -> Option<bool> {
        self.string(name).map(|v| v == "true")
    }

    /// A boolean flag's value, false if not given.
    pub(crate) fn bool(&self, name: &str) -> bool {
        self.bool_if_given(name).unwrap_or(false)
    }

    /// Every value of a list flag, in order.
    pub(crate) fn list(&self, name: &str) -> Vec<String> {
        self.values
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// The value of flag `name` of `kind` given as `value` (`None` without `=`); booleans become
/// `true` or `false`.
fn flag_value(name: &str, kind: Kind, value: Option<&str>) -> Result<String, ErrorKind> {
    let missing = || ErrorKind::MissingFlagValue(name.to_string());
    match kind {
        Kind::Bool => match value.map(str::to_ascii_lowercase).as_deref() {
            None | Some("true") => Ok("true".to_string()),
            Some("false") => Ok("false".to_string()),
            Some("") => Err(missing()),
            Some(_) => Err(ErrorKind::NotBoolean {
                flag: name.to_string(),
                value: value.unwrap_or_default().to_string(),
            }),
        },
        Kind::String | Kind::List => value.map(str::to_string).ok_or_else(missing),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COPY: &[(&str, Kind)] = &[
        ("from", Kind::String),
        ("link", Kind::Bool),
        ("exclude", Kind::List),
    ];

    fn parse(given: &[&str]) -> Result<Flags, ErrorKind> {
        let given: Vec<String> = given.iter().map(|s| s.to_string()).collect();
        Flags::parse(&given, COPY)
    }

    #[test]
    fn values() {
        let flags = parse(&["--from=a", "--link", "--exclude=x", "--exclude=y"]).expect("flags");
        assert_eq!(flags.string("from").as_deref(), Some("a"));
        assert!(flags.bool("link"));
        assert_eq!(flags.list("exclude"), ["x", "y"]);
        assert_eq!(
            parse(&["--link=FALSE"])
                .expect("flags")
                .bool_if_given("link"),
            Some(false)
        );
        assert_eq!(parse(&[]).expect("flags").bool_if_given("link"), None);
    }

    #[test]
    fn errors() {
        let unknown = parse(&["--form=a"]).expect_err("unknown");
        assert_eq!(
            unknown.to_string(),
            "unknown flag: --form (did you mean --from?)"
        );
        assert_eq!(
            parse(&["--from=a", "--from=b"]).err(),
            Some(ErrorKind::DuplicateFlag("from".into()))
        );
        assert_eq!(
            parse(&["--from"]).err(),
            Some(ErrorKind::MissingFlagValue("from".into()))
        );
        assert_eq!(
            parse(&["--link="]).err(),
            Some(ErrorKind::MissingFlagValue("link".into()))
        );
        assert!(matches!(
            parse(&["--link=yes"]),
            Err(ErrorKind::NotBoolean { .. })
        ));
    }
}
