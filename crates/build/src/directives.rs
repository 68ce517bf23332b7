//! Parser directives: `# syntax=`, `# escape=` and `# check=` comments, recognized only at the
//! very top of a Dockerfile. Like BuildKit, the first line that is not one (an instruction, a
//! blank line, any other comment, even an unknown `# key=value`) ends them for good.

use crate::error::ErrorKind;

/// A directive's value and the line it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    pub value: String,
    pub line: usize,
}

/// The directives of a Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directives {
    /// `# syntax=`: the frontend image the file asks for, as written.
    pub syntax: Option<Directive>,
    /// `# check=`: build-check settings, as written (`skip=...;error=true`).
    pub check: Option<Directive>,
    /// `# escape=`, if given.
    pub escape_directive: Option<Directive>,
    /// The escape character in force: `\`, or `` ` `` after `# escape=``.
    pub escape: char,
    /// Whether directives are no longer recognized.
    done: bool,
}

impl Default for Directives {
    fn default() -> Directives {
        Directives {
            syntax: None,
            check: None,
            escape_directive: None,
            escape: '\\',
            done: false,
        }
    }
}

/// Whitespace as the directive syntax means it (`\s` in BuildKit's regular expression).
fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0c' | '\r')
}

impl Directives {
    /// Looks at `line` (line `number`), the next line of the file as the parser sees it.
    /// True when it was a directive.
    pub(crate) fn scan(&mut self, line: &str, number: usize) -> Result<bool, ErrorKind> {
        if self.done {
            return Ok(false);
        }
        let Some((name, value)) = line.strip_prefix('#').and_then(key_value) else {
            self.done = true;
            return Ok(false);
        };
        let name = name.to_ascii_lowercase();
        let slot = match name.as_str() {
            "syntax" => &mut self.syntax,
            "check" => &mut self.check,
            "escape" => &mut self.escape_directive,
            _ => {
                self.done = true;
                return Ok(false);
            }
        };
        if slot.is_some() {
            return Err(ErrorKind::DuplicateDirective(name));
        }
        *slot = Some(Directive {
            value: value.to_string(),
            line: number,
        });
        if name == "escape" {
            self.escape = escape_token(value)?;
        }
        Ok(true)
    }
}

/// `key=value` in a comment's text: a key of ASCII letters and digits (a letter first), blanks
/// around `=` and at the end ignored, and a value of at least one character.
fn key_value(comment: &str) -> Option<(&str, &str)> {
    let text = comment.trim_start();
    let key_end = text
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())))
        .map_or(text.len(), |(i, _)| i);
    if key_end == 0 {
        return None;
    }
    let (key, rest) = text.split_at(key_end);
    let after = rest.trim_start_matches(is_blank).strip_prefix('=')?;
    let value = after
        .trim_start_matches(is_blank)
        .trim_end_matches(is_blank);
    if !value.is_empty() {
        return Some((key, value));
    }
    // A value of blanks only: BuildKit's pattern then backtracks to take the last blank as the
    // value (which no directive accepts, but an escape directive must then fail).
    let last = after.char_indices().next_back()?.0;
    Some((key, &after[last..]))
}

/// The escape character a `# escape=` value names.
fn escape_token(value: &str) -> Result<char, ErrorKind> {
    match value {
        "\\" => Ok('\\'),
        "`" => Ok('`'),
        _ => Err(ErrorKind::BadEscapeToken(value.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_all(lines: &[&str]) -> Result<Directives, ErrorKind> {
        let mut directives = Directives::default();
        for (i, line) in lines.iter().enumerate() {
            directives.scan(line, i + 1)?;
        }
        Ok(directives)
    }

    #[test]
    fn directives_at_the_top() {
        let d = scan_all(&[
            "# syntax = docker/dockerfile:1 ",
            "#ESCAPE=`",
            "#check=skip=all",
        ])
        .expect("directives");
        assert_eq!(
            d.syntax.map(|s| s.value).as_deref(),
            Some("docker/dockerfile:1")
        );
        assert_eq!(d.escape, '`');
        assert_eq!(
            d.check.map(|c| (c.value, c.line)),
            Some(("skip=all".to_string(), 3))
        );
    }

    #[test]
    fn anything_else_ends_them() {
        for first in ["", "# a comment", "# unknown=x", "FROM x", "#!/bin/sh"] {
            let d = scan_all(&[first, "# escape=`"]).expect("directives");
            assert_eq!(d.escape, '\\', "after {first:?}");
        }
    }

    #[test]
    fn bad_directives() {
        assert_eq!(
            scan_all(&["# escape=\\", "# escape=`"]),
            Err(ErrorKind::DuplicateDirective("escape".to_string()))
        );
        assert!(matches!(
            scan_all(&["# escape=x"]),
            Err(ErrorKind::BadEscapeToken(_))
        ));
        assert!(matches!(
            scan_all(&["# escape=  "]),
            Err(ErrorKind::BadEscapeToken(_))
        ));
        // Without a value, it is only a comment, and the end of the directives.
        assert_eq!(
            scan_all(&["# escape=", "# escape=`"]).map(|d| d.escape),
            Ok('\\')
        );
    }
}
