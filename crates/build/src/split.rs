//! An instruction line's first cut: the instruction's name, the `--flag`s that follow it, and
//! the rest, which each instruction reads its own way.

/// The blanks that separate an instruction's name from its arguments.
pub(crate) fn is_separator(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\x0b' | '\x0c' | '\r')
}

/// An instruction line, cut up.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Split<'a> {
    /// As written (`run`, `RUN`...).
    pub(crate) name: &'a str,
    /// The flags with their quotes and escapes removed: `--mount=type=cache,target=/x`.
    pub(crate) flags: Vec<String>,
    /// What follows the flags, trimmed.
    pub(crate) rest: &'a str,
}

/// Cuts `line` into the instruction's name, its flags and the rest.
pub(crate) fn split_command(line: &str, escape: char) -> Split<'_> {
    let line = line.trim();
    let Some(at) = line.find(is_separator) else {
        return Split {
            name: line,
            flags: Vec::new(),
            rest: "",
        };
    };
    let name = &line[..at];
    let (rest, flags) = extract_flags(line[at..].trim_start_matches(is_separator), escape);
    Split {
        name,
        flags,
        rest: rest.trim(),
    }
}

/// Where the flag reader is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Between,
    Word,
    Quoted(char),
}

/// The leading words of `line` that start with `--`, with quotes and escapes resolved, and the
/// text after them. A bare `--` ends the flags (and is dropped).
fn extract_flags(line: &str, escape: char) -> (&str, Vec<String>) {
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let mut flags = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut phase = Phase::Between;
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        i += 1;
        match phase {
            Phase::Between if c.is_whitespace() => {}
            Phase::Between => {
                if !line[at..].starts_with("--") {
                    return (&line[at..], flags);
                }
                phase = Phase::Word;
                word.push(c);
            }
            Phase::Word if c.is_whitespace() => {
                if word == "--" {
                    return (&line[at..], flags);
                }
                if quoted || !word.is_empty() {
                    flags.push(std::mem::take(&mut word));
                }
                quoted = false;
                phase = Phase::Between;
            }
            Phase::Word if c == '\'' || c == '"' => {
                quoted = true;
                phase = Phase::Quoted(c);
            }
            Phase::Quoted(q) if c == q => phase = Phase::Word,
            Phase::Word | Phase::Quoted(_) => {
                // The escape character takes the next one literally; at the very end, it goes.
                if c == escape {
                    match chars.get(i) {
                        Some(&(_, next)) => {
                            word.push(next);
                            i += 1;
                        }
                        None => phase = Phase::Word,
                    }
                } else {
                    word.push(c);
                }
            }
        }
    }
    if phase != Phase::Between && word != "--" && (quoted || !word.is_empty()) {
        flags.push(word);
    }
    ("", flags)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(line: &str) -> (String, Vec<String>, String) {
        let s = split_command(line, '\\');
        (s.name.to_string(), s.flags, s.rest.to_string())
    }

    fn owned(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn names_flags_and_rest() {
        assert_eq!(
            split("  RUN  echo hi "),
            ("RUN".into(), vec![], "echo hi".into())
        );
        assert_eq!(
            split("HEALTHCHECK"),
            ("HEALTHCHECK".into(), vec![], "".into())
        );
        assert_eq!(
            split("COPY --from=a --chown=\"u g\" x /y"),
            (
                "COPY".into(),
                owned(&["--from=a", "--chown=u g"]),
                "x /y".into()
            )
        );
        assert_eq!(
            split("RUN --mount=type=bind,target=/a\\ b ls"),
            (
                "RUN".into(),
                owned(&["--mount=type=bind,target=/a b"]),
                "ls".into()
            )
        );
    }

    #[test]
    fn a_double_dash_ends_the_flags() {
        assert_eq!(
            split("COPY --a -- --b c"),
            ("COPY".into(), owned(&["--a"]), "--b c".into())
        );
        assert_eq!(
            split("CMD --doit --"),
            ("CMD".into(), owned(&["--doit"]), "".into())
        );
        assert_eq!(split("CMD -x --y"), ("CMD".into(), vec![], "-x --y".into()));
    }

    #[test]
    fn flags_to_the_end() {
        assert_eq!(
            split("RUN --network=none"),
            ("RUN".into(), owned(&["--network=none"]), "".into())
        );
        assert_eq!(
            split("RUN --a=''"),
            ("RUN".into(), owned(&["--a="]), "".into())
        );
        assert_eq!(
            split("RUN --a\\"),
            ("RUN".into(), owned(&["--a"]), "".into())
        );
    }
}
