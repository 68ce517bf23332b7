//! How each instruction's arguments are split at parse time, BuildKit's way: JSON or a shell
//! string (`RUN`, `CMD`...), JSON or words (`COPY`, `VOLUME`...), name-value pairs (`ENV`,
//! `LABEL`), words with their quotes (`ARG`), one string (`USER`...), and `ONBUILD`'s
//! instruction. Unknown instructions parse to no arguments; typing them refuses them.

use crate::error::ErrorKind;
use crate::json::parse_json;
use crate::node::{Args, Node, Pair};
use crate::split::{is_separator, split_command};
use crate::words::parse_words;

/// The node for one instruction line (its lines, heredocs and comments are the caller's).
pub(crate) fn node_from_line(line: &str, escape: char) -> Result<Node, ErrorKind> {
    let split = split_command(line, escape);
    let rest = split.rest;
    let keyword = split.name.to_ascii_lowercase();
    let (args, json) = match keyword.as_str() {
        "add" | "copy" | "volume" => json_or_words(rest)?,
        "arg" => (Args::Words(parse_words(rest, escape)), false),
        "cmd" | "entrypoint" | "run" | "shell" => {
            let (words, json) = json_or_string(rest)?;
            (Args::Words(words), json)
        }
        "env" => (name_values(rest, "ENV", escape)?, false),
        "label" => (name_values(rest, "LABEL", escape)?, false),
        "expose" | "from" => (Args::Words(blank_separated(rest)), false),
        "healthcheck" => healthcheck(rest)?,
        "maintainer" | "stopsignal" | "user" | "workdir" => (one_string(rest), false),
        "onbuild" if rest.is_empty() => (Args::Words(Vec::new()), false),
        "onbuild" => (Args::Sub(Box::new(node_from_line(rest, escape)?)), false),
        _ => (Args::Words(Vec::new()), false),
    };
    Ok(Node {
        name: split.name.to_string(),
        flags: split.flags,
        args,
        json,
        heredocs: Vec::new(),
        original: line.to_string(),
        start_line: 0,
        end_line: 0,
        comments: Vec::new(),
    })
}

/// The whole rest as one argument (none if empty).
fn one_string(rest: &str) -> Args {
    Args::Words(if rest.is_empty() {
        Vec::new()
    } else {
        vec![rest.to_string()]
    })
}

/// Words separated by blanks, quotes not considered.
fn blank_separated(rest: &str) -> Vec<String> {
    rest.split(is_separator)
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// A JSON array, or else the rest as one shell-form string; and whether it was JSON.
fn json_or_string(rest: &str) -> Result<(Vec<String>, bool), ErrorKind> {
    if rest.is_empty() {
        return Ok((Vec::new(), false));
    }
    Ok(match parse_json(rest)? {
        Some(words) => (words, true),
        None => (vec![rest.to_string()], false),
    })
}

/// A JSON array, or else blank-separated words.
fn json_or_words(rest: &str) -> Result<(Args, bool), ErrorKind> {
    Ok(match parse_json(rest)? {
        Some(words) => (Args::Words(words), true),
        None => (Args::Words(blank_separated(rest)), false),
    })
}

/// `HEALTHCHECK`: a type word (`CMD`, `NONE`...), then a JSON array or a shell string.
fn healthcheck(rest: &str) -> Result<(Args, bool), ErrorKind> {
    let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    if end == 0 {
        return Ok((Args::Words(Vec::new()), false));
    }
    let (kind, command) = (&rest[..end], rest[end..].trim_start());
    let (words, json) = json_or_string(command)?;
    let args = std::iter::once(kind.to_string()).chain(words).collect();
    Ok((Args::Words(args), json))
}

/// `ENV`/`LABEL` pairs: `name=value ...`, or the old `name value` with everything after the
/// name as the value, which is the form as soon as the first word has no `=`.
fn name_values(rest: &str, instruction: &str, escape: char) -> Result<Args, ErrorKind> {
    let words = parse_words(rest, escape);
    let Some(first) = words.first() else {
        return Ok(Args::Pairs(Vec::new()));
    };
    if !first.contains('=') {
        let Some((key, value)) = rest.split_once(is_separator) else {
            return Err(ErrorKind::MissingValue(instruction.to_string()));
        };
        return Ok(Args::Pairs(vec![Pair {
            key: key.to_string(),
            value: value.trim_start_matches(is_separator).to_string(),
            equals: false,
        }]));
    }
    let pairs = words
        .iter()
        .map(|word| match word.split_once('=') {
            Some((key, value)) => Ok(Pair {
                key: key.to_string(),
                value: value.to_string(),
                equals: true,
            }),
            None => Err(ErrorKind::MissingEquals(word.clone())),
        })
        .collect::<Result<_, _>>()?;
    Ok(Args::Pairs(pairs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dump(line: &str) -> String {
        node_from_line(line, '\\').expect("a node").dump()
    }

    #[test]
    fn each_instruction_splits_its_way() {
        assert_eq!(dump("RUN echo  hi"), r#"run "echo  hi""#);
        assert_eq!(dump("RUN [\"a\", \"b\"]"), r#"run "a" "b""#);
        assert_eq!(dump("COPY a  b"), r#"copy "a" "b""#);
        assert_eq!(dump("ENV a b  c"), r#"env "a" "b  c" """#);
        assert_eq!(
            dump("ENV a=b c=\"d e\""),
            r#"env "a" "b" "=" "c" "\"d e\"" "=""#
        );
        assert_eq!(dump("ARG a=1 b"), r#"arg "a=1" "b""#);
        assert_eq!(dump("USER a b"), r#"user "a b""#);
        assert_eq!(dump("ONBUILD RUN x"), r#"onbuild (run "x")"#);
        assert_eq!(
            dump("HEALTHCHECK --retries=3 CMD [\"x\"]"),
            r#"healthcheck ["--retries=3"] "CMD" "x""#
        );
    }

    #[test]
    fn pair_errors() {
        assert_eq!(
            node_from_line("ENV PATH", '\\').map(|n| n.dump()),
            Err(ErrorKind::MissingValue("ENV".into()))
        );
        assert_eq!(
            node_from_line("LABEL a=b c", '\\').map(|n| n.dump()),
            Err(ErrorKind::MissingEquals("c".into()))
        );
    }
}
