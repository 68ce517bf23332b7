//! Heredocs: `RUN <<EOF`, `COPY <<EOF /file`, `<<-EOF` (leading tabs stripped), `<<"EOF"`
//! (not expanded), `3<<EOF` (another file descriptor), several in one instruction, each body
//! read from the lines after the instruction up to its terminator.

use std::borrow::Cow;

use crate::expand::{ExpandError, Lexer};
use crate::lines::{Lines, trim_newline};

/// A heredoc and its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    /// The terminator, with its quotes removed: also the file name `COPY` gives the body.
    pub name: String,
    /// The file descriptor before `<<` (`3<<EOF`); 0 when none is given.
    pub fd: u32,
    /// False when any part of the terminator was quoted: the body is then not expanded.
    pub expand: bool,
    /// `<<-`: leading tabs are stripped from the body's lines (and the terminator's).
    pub chomp: bool,
    /// The body as written, line endings included, before any stripping.
    pub content: String,
}

impl Heredoc {
    /// The body, with leading tabs stripped from each line for `<<-`.
    pub fn body(&self) -> Cow<'_, str> {
        if self.chomp {
            Cow::Owned(strip_leading_tabs(&self.content))
        } else {
            Cow::Borrowed(&self.content)
        }
    }
}

/// `text` with the tabs at the start of each of its lines removed.
fn strip_leading_tabs(text: &str) -> String {
    text.split_inclusive('\n')
        .map(|line| line.trim_start_matches('\t'))
        .collect()
}

/// Whether `c` is whitespace as a heredoc marker allows it after `<<` (`\s` in BuildKit).
fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0c' | '\r')
}

/// The heredoc that `word` opens (`<<EOF`, `2<<-"END"`...), without its body yet; `None` when
/// `word` is not a heredoc marker.
pub fn parse_marker(word: &str) -> Result<Option<Heredoc>, ExpandError> {
    let digits = word.len() - word.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let Some(after) = word[digits..].strip_prefix("<<") else {
        return Ok(None);
    };
    let (chomp, after) = match after.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, after),
    };
    let rest = after.trim_start_matches(is_blank);
    if rest.is_empty() || rest.contains('<') {
        return Ok(None);
    }
    // The terminator is `rest` with its quotes removed; if removing them changes the quote
    // count, some part was quoted, and the body is kept as it is.
    let env: Vec<(String, String)> = Vec::new();
    let mut lexer = Lexer {
        keep_unset: true,
        ..Lexer::new('\\')
    };
    let words = lexer.expand_words(rest, &env)?;
    let [name] = words.as_slice() else {
        return Ok(None);
    };
    lexer.raw_quotes = true;
    let raw = lexer.expand_words(rest, &env)?;
    let quotes = |s: &str| s.chars().filter(|&c| c == '\'' || c == '"').count();
    Ok(Some(Heredoc {
        name: name.clone(),
        // An out of range descriptor reads as 0, as BuildKit's does.
        fd: word[..digits].parse().unwrap_or(0),
        expand: raw.first().map(|r| quotes(r)) == Some(quotes(name)),
        chomp,
        content: String::new(),
    }))
}

/// The heredocs an instruction line opens, in order. The line is split as a shell would, so
/// that a quoted `"<<EOF"` opens none; a line the shell lexer cannot split opens none.
pub(crate) fn markers_in_line(line: &str) -> Result<Vec<Heredoc>, ExpandError> {
    let env: Vec<(String, String)> = Vec::new();
    let lexer = Lexer {
        raw_quotes: true,
        raw_escapes: true,
        keep_unset: true,
        ..Lexer::new('\\')
    };
    let Ok(words) = lexer.expand_words(line, &env) else {
        return Ok(Vec::new());
    };
    let mut heredocs = Vec::new();
    for word in &words {
        heredocs.extend(parse_marker(word)?);
    }
    Ok(heredocs)
}

/// Reads `heredoc`'s body from `lines`, through its terminator line. False if the file ends
/// first.
pub(crate) fn read_body(heredoc: &mut Heredoc, lines: &mut Lines<'_>) -> bool {
    for line in lines.by_ref() {
        let mut candidate = trim_newline(line);
        if heredoc.chomp {
            candidate = candidate.trim_start_matches('\t');
        }
        if candidate == heredoc.name {
            return true;
        }
        heredoc.content.push_str(line);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marker(word: &str) -> Heredoc {
        parse_marker(word)
            .expect("a valid marker")
            .unwrap_or_else(|| panic!("{word} is a heredoc"))
    }

    #[test]
    fn markers() {
        for word in [
            "<<EOF",
            "<<'EOF'",
            "<<\"EOF\"",
            "<<-EOF",
            "<<-'EOF'",
            "<<EO\"F\"",
            "<< EOF",
            "<<- EOF",
        ] {
            assert_eq!(marker(word).name, "EOF", "{word}");
        }
        for word in ["", "EOF", "<<", "<<-", "<EOF", "<<<EOF", "<<EOF sh"] {
            assert_eq!(parse_marker(word), Ok(None), "{word}");
        }
        for word in ["<<'EOF", "<<\"EOF", "<<EOF'", "<<EOF\""] {
            assert!(parse_marker(word).is_err(), "{word}");
        }
    }

    #[test]
    fn quoting_disables_expansion() {
        assert!(marker("<<EOF").expand);
        assert!(!marker("<<'EOF'").expand);
        assert!(!marker("<<eo'f'").expand);
        assert_eq!(marker("<<eo\\'f").name, "eo'f");
        assert!(marker("<<eo\\'f").expand);
        assert!(!marker("<<'e'o\\'f").expand);
        assert_eq!(marker("<<$EOF").name, "$EOF");
        let fd = marker("3<<-X");
        assert_eq!((fd.fd, fd.chomp), (3, true));
    }

    #[test]
    fn markers_in_lines() {
        let names = |line: &str| -> Vec<String> {
            markers_in_line(line)
                .expect("markers")
                .into_iter()
                .map(|h| h.name)
                .collect()
        };
        assert_eq!(names("RUN <<EOF"), ["EOF"]);
        // The shell lexer keeps only blanks right after `<<` with it: `<<-` then `EOF` are two
        // words, and neither opens a heredoc (BuildKit's own behaviour).
        assert!(names("RUN <<- EOF").is_empty());
        assert_eq!(names("RUN <<  EOF  > foo"), ["EOF"]);
        assert_eq!(names("RUN << -EOF"), ["-EOF"]);
        assert_eq!(names("RUN 4<<EOF"), ["EOF"]);
        assert_eq!(names("RUN <<EOF <<EOF2"), ["EOF", "EOF2"]);
        assert_eq!(names("COPY <<FILE1 <<FILE2 /dest"), ["FILE1", "FILE2"]);
        assert!(names("RUN '<<EOF'").is_empty());
        assert!(names("RUN \"<<EOF\"").is_empty());
        assert!(names("RUN \"unterminated <<EOF").is_empty());
    }

    #[test]
    fn bodies() {
        let mut lines = Lines::new("\tone\n\ttwo\n\tEND\nafter\n");
        let mut heredoc = marker("<<-END");
        assert!(read_body(&mut heredoc, &mut lines));
        assert_eq!(heredoc.content, "\tone\n\ttwo\n");
        assert_eq!(heredoc.body(), "one\ntwo\n");
        assert_eq!(lines.next(), Some("after\n"));
        let mut unterminated = marker("<<X");
        assert!(!read_body(&mut unterminated, &mut Lines::new("a\nb\n")));
    }
}
