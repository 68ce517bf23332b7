//! The shell patterns of `${VAR#pat}`, `${VAR%pat}` and `${VAR/pat/repl}`: `*` and `?`
//! wildcards and backslash escapes, without bracket expressions, as BuildKit reads them.
//!
//! BuildKit turns these patterns into Go regular expressions, whose `.` does not match a
//! newline: so `*` and `?` do not match one here either.

use crate::expand::ExpandErrorKind;

/// One element of a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// `*`: any run of characters.
    Any,
    /// `?`: exactly one character.
    One,
    Literal(char),
}

/// A compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern {
    tokens: Vec<Token>,
}

impl Pattern {
    /// Compiles `source`, the pattern text with its escapes still in it.
    pub(crate) fn new(source: &str) -> Result<Pattern, ExpandErrorKind> {
        let bad = |why: String| ExpandErrorKind::BadPattern {
            pattern: source.to_string(),
            why,
        };
        let mut tokens = Vec::new();
        let mut chars = source.chars().peekable();
        while let Some(c) = chars.next() {
            let token = match c {
                '*' => Token::Any,
                '?' => Token::One,
                // `}` and `/` are escaped only to get them past the `${...}` syntax: the
                // escape is not part of the pattern.
                '\\' if matches!(chars.peek(), Some('}' | '/')) => continue,
                '\\' => match chars.next() {
                    Some(e @ ('*' | '?' | '\\')) => Token::Literal(e),
                    Some(e) => return Err(bad(format!("invalid escape '\\{e}'"))),
                    None => return Err(bad("invalid escape '\\' at the end".to_string())),
                },
                c => Token::Literal(c),
            };
            tokens.push(token);
        }
        Ok(Pattern { tokens })
    }

    /// Whether the whole of `text` matches.
    fn matches(&self, text: &[char]) -> bool {
        match_tokens(&self.tokens, text)
    }

    /// `value` without its shortest (or, `greedy`, longest) prefix that matches.
    pub(crate) fn trim_prefix(&self, value: &str, greedy: bool) -> String {
        let chars: Vec<char> = value.chars().collect();
        let mut lengths: Vec<usize> = (0..=chars.len()).collect();
        if greedy {
            lengths.reverse();
        }
        match lengths.into_iter().find(|&n| self.matches(&chars[..n])) {
            Some(n) => chars[n..].iter().collect(),
            None => value.to_string(),
        }
    }

    /// `value` without its shortest (or, `greedy`, longest) suffix that matches.
    pub(crate) fn trim_suffix(&self, value: &str, greedy: bool) -> String {
        let chars: Vec<char> = value.chars().collect();
        let mut starts: Vec<usize> = (0..=chars.len()).collect();
        if !greedy {
            starts.reverse();
        }
        match starts.into_iter().find(|&s| self.matches(&chars[s..])) {
            Some(s) => chars[..s].iter().collect(),
            None => value.to_string(),
        }
    }

    /// The first match at or after `from`: the leftmost start, and there the longest match.
    fn find(&self, chars: &[char], from: usize) -> Option<(usize, usize)> {
        (from..=chars.len()).find_map(|start| {
            (start..=chars.len())
                .rev()
                .find(|&end| self.matches(&chars[start..end]))
                .map(|end| (start, end))
        })
    }

    /// `value` with its first match (or, `all`, every match) replaced by `with`. Like Go's
    /// `ReplaceAllString`, an empty match right after another match is not replaced.
    pub(crate) fn replace(&self, value: &str, with: &str, all: bool) -> String {
        let chars: Vec<char> = value.chars().collect();
        let mut out = String::new();
        let mut last_end = 0;
        let mut search = 0;
        while search <= chars.len() {
            let Some((start, end)) = self.find(&chars, search) else {
                break;
            };
            out.extend(&chars[last_end..start]);
            if end > last_end || start == 0 {
                out.push_str(with);
            }
            last_end = end;
            search = if end > search { end } else { search + 1 };
            if !all {
                break;
            }
        }
        out.extend(&chars[last_end.min(chars.len())..]);
        out
    }
}

/// Whether `tokens` match the whole of `text`, by backtracking over the `*`s.
fn match_tokens(tokens: &[Token], text: &[char]) -> bool {
    let Some((first, rest)) = tokens.split_first() else {
        return text.is_empty();
    };
    match first {
        Token::Any => {
            // `*` takes 0, 1, 2... characters, but never across a newline.
            let reach = text.iter().position(|&c| c == '\n').unwrap_or(text.len());
            (0..=reach).any(|n| match_tokens(rest, &text[n..]))
        }
        Token::One => {
            matches!(text.first(), Some(&c) if c != '\n') && match_tokens(rest, &text[1..])
        }
        Token::Literal(l) => text.first() == Some(l) && match_tokens(rest, &text[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(source: &str) -> Pattern {
        Pattern::new(source).expect("a valid pattern")
    }

    #[test]
    fn prefixes_are_trimmed_shortest_or_longest() {
        assert_eq!(pattern("*/").trim_prefix("a/b/c", false), "b/c");
        assert_eq!(pattern("*/").trim_prefix("a/b/c", true), "c");
        assert_eq!(pattern("x*").trim_prefix("a/b/c", true), "a/b/c");
        assert_eq!(pattern("v").trim_prefix("v1.2", false), "1.2");
    }

    #[test]
    fn suffixes_are_trimmed_shortest_or_longest() {
        assert_eq!(
            pattern("/*").trim_suffix("linux/arm/v7", false),
            "linux/arm"
        );
        assert_eq!(pattern("/*").trim_suffix("linux/arm/v7", true), "linux");
        assert_eq!(pattern(".?").trim_suffix("a.b.c", false), "a.b");
    }

    #[test]
    fn escapes_make_wildcards_literal() {
        assert_eq!(pattern("\\*").trim_prefix("*a", false), "a");
        assert_eq!(pattern("\\*").trim_prefix("xa", false), "xa");
        assert_eq!(pattern("a\\}").trim_prefix("a}b", false), "b");
        assert!(Pattern::new("\\x").is_err());
        assert!(Pattern::new("\\").is_err());
    }

    #[test]
    fn wildcards_stop_at_newlines() {
        assert_eq!(pattern("*").trim_prefix("ab\ncd", true), "\ncd");
        assert_eq!(pattern("?").trim_prefix("\nx", false), "\nx");
    }

    #[test]
    fn replacement_takes_the_first_or_every_match() {
        assert_eq!(pattern("o").replace("foo", "0", false), "f0o");
        assert_eq!(pattern("o").replace("foo", "0", true), "f00");
        assert_eq!(pattern("o*").replace("foo bar", "_", false), "f_");
        assert_eq!(pattern("x").replace("foo", "_", true), "foo");
        // Empty matches, as Go's regexp replaces them.
        assert_eq!(pattern("").replace("ab", "-", true), "-a-b-");
        assert_eq!(pattern("").replace("ab", "-", false), "-ab");
    }
}
