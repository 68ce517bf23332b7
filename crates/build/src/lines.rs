//! Physical lines and how they join: comments, blank lines, and the escape character at the end
//! of a line that continues an instruction on the next one.

/// The lines of a Dockerfile, each with its line ending, numbered from 1.
pub(crate) struct Lines<'a> {
    rest: &'a str,
    /// The number of the line last returned.
    number: usize,
}

impl<'a> Lines<'a> {
    /// The lines of `text`, without the byte-order mark it may start with.
    pub(crate) fn new(text: &'a str) -> Lines<'a> {
        Lines {
            rest: text.strip_prefix('\u{feff}').unwrap_or(text),
            number: 0,
        }
    }

    /// The number of the line last returned (0 before the first).
    pub(crate) fn number(&self) -> usize {
        self.number
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a str;

    /// The next line, with its `\n` if it has one.
    fn next(&mut self) -> Option<&'a str> {
        if self.rest.is_empty() {
            return None;
        }
        let end = self.rest.find('\n').map_or(self.rest.len(), |i| i + 1);
        let (line, rest) = self.rest.split_at(end);
        self.rest = rest;
        self.number += 1;
        Some(line)
    }
}

/// `line` without its line ending (any `\r` and `\n` at its end).
pub(crate) fn trim_newline(line: &str) -> &str {
    line.trim_end_matches(['\r', '\n'])
}

/// Whether `line` is a comment: `#` first, after any whitespace.
pub(crate) fn is_comment(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

/// `line` without the escape character that continues it on the next line, and whether there
/// was one. That is the last character but blanks, unless it is itself escaped; the character
/// before it stays.
pub(crate) fn strip_continuation(line: &str, escape: char) -> (&str, bool) {
    let body = line.trim_end_matches([' ', '\t']);
    let Some(before) = body.strip_suffix(escape) else {
        return (line, false);
    };
    // An escaped escape character ends the line instead: `\\` is a literal `\`.
    if before.ends_with(escape) {
        return (line, false);
    }
    (before, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_keep_their_endings_and_numbers() {
        let mut lines = Lines::new("\u{feff}a\r\nb\n\nc");
        assert_eq!(lines.next(), Some("a\r\n"));
        assert_eq!(lines.next(), Some("b\n"));
        assert_eq!(lines.next(), Some("\n"));
        assert_eq!(lines.next(), Some("c"));
        assert_eq!(lines.number(), 4);
        assert_eq!(lines.next(), None);
    }

    #[test]
    fn continuations() {
        assert_eq!(strip_continuation("RUN a \\", '\\'), ("RUN a ", true));
        assert_eq!(strip_continuation("RUN a\\  \t", '\\'), ("RUN a", true));
        assert_eq!(strip_continuation("\\", '\\'), ("", true));
        assert_eq!(strip_continuation("a\\\\", '\\'), ("a\\\\", false));
        assert_eq!(strip_continuation("a `", '`'), ("a ", true));
        assert_eq!(strip_continuation("a \\", '`'), ("a \\", false));
        assert_eq!(strip_continuation("a", '\\'), ("a", false));
    }

    #[test]
    fn comments() {
        assert!(is_comment("  # x"));
        assert!(!is_comment("RUN # x"));
        assert!(!is_comment(""));
    }
}
