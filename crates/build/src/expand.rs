//! Variable expansion and word splitting as BuildKit's shell lexer does them: `$VAR`, `${VAR}`,
//! the `${VAR:-x}` family, single quotes (literal), double quotes (expanded), and the escape
//! character. The parser never expands (BuildKit does not either); the executor calls
//! [`expand`] or [`expand_words`] per instruction, with the ARG and ENV values then in scope.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

use crate::pattern::Pattern;

/// The variables an expansion can see.
pub trait Env {
    /// The value of `name`, or `None` when it is not set (which differs from set and empty).
    fn get(&self, name: &str) -> Option<&str>;
}

impl<S: BuildHasher> Env for HashMap<String, String, S> {
    fn get(&self, name: &str) -> Option<&str> {
        HashMap::get(self, name).map(String::as_str)
    }
}

impl Env for BTreeMap<String, String> {
    fn get(&self, name: &str) -> Option<&str> {
        BTreeMap::get(self, name).map(String::as_str)
    }
}

/// A list of `(name, value)`, as an environment is built up: the last one of a name wins.
impl Env for [(String, String)] {
    fn get(&self, name: &str) -> Option<&str> {
        self.iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl Env for Vec<(String, String)> {
    fn get(&self, name: &str) -> Option<&str> {
        Env::get(self.as_slice(), name)
    }
}

impl<T: Env + ?Sized> Env for &T {
    fn get(&self, name: &str) -> Option<&str> {
        (**self).get(name)
    }
}

/// Why a word could not be expanded: the input, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("failed to process {input:?}: {kind}")]
pub struct ExpandError {
    pub input: String,
    pub kind: ExpandErrorKind,
}

/// What is wrong with a word; the messages are BuildKit's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpandErrorKind {
    #[error("unexpected end of statement while looking for matching single-quote")]
    UnterminatedSingleQuote,
    #[error("unexpected end of statement while looking for matching double-quote")]
    UnterminatedDoubleQuote,
    #[error("unexpected end of statement while looking for matching {0}")]
    Unterminated(char),
    #[error("syntax error: missing '}}'")]
    MissingBrace,
    #[error("syntax error: missing '/' in ${{}}")]
    MissingSlash,
    #[error("syntax error: bad substitution")]
    BadSubstitution,
    #[error("unsupported modifier ({0}) in substitution")]
    UnsupportedModifier(String),
    /// `${VAR?message}` or `${VAR:?message}` on an unset (or empty) variable.
    #[error("{name}: {message}")]
    Required { name: String, message: String },
    #[error("invalid pattern ({pattern}) in substitution: {why}")]
    BadPattern { pattern: String, why: String },
}

/// Expands `word` as one word (BuildKit's `ProcessWord`): quotes removed, variables
/// substituted, whitespace kept. The escape character is `\`.
pub fn expand(word: &str, env: &impl Env) -> Result<String, ExpandError> {
    Lexer::new('\\').expand(word, env)
}

/// Expands `text` and splits it into words (BuildKit's `ProcessWords`): unquoted whitespace,
/// including whitespace that a variable's value brings in, separates words.
pub fn expand_words(text: &str, env: &impl Env) -> Result<Vec<String>, ExpandError> {
    Lexer::new('\\').expand_words(text, env)
}

/// The shell lexer, with BuildKit's options. [`Lexer::new`] is what `RUN`, `COPY`, `ENV` and the
/// others are expanded with (with the Dockerfile's escape character).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lexer {
    /// `\`, or `` ` `` after `# escape=``.
    pub escape: char,
    /// Keep the quote characters in the output (the quoting still groups words).
    pub raw_quotes: bool,
    /// Keep the escape characters in the output.
    pub raw_escapes: bool,
    /// Quotes are ordinary characters (heredoc bodies are expanded so).
    pub literal_quotes: bool,
    /// Leave a reference to an unset variable as it was written, instead of making it empty.
    pub keep_unset: bool,
}

impl Lexer {
    /// The lexer BuildKit expands instructions with, for the escape character `escape`.
    pub fn new(escape: char) -> Lexer {
        Lexer {
            escape,
            raw_quotes: false,
            raw_escapes: false,
            literal_quotes: false,
            keep_unset: false,
        }
    }

    /// Expands `word` as one word: see [`expand`].
    pub fn expand(&self, word: &str, env: &dyn Env) -> Result<String, ExpandError> {
        self.run(word, env).map(|(text, _)| text)
    }

    /// Expands and splits `text` into words: see [`expand_words`].
    pub fn expand_words(&self, text: &str, env: &dyn Env) -> Result<Vec<String>, ExpandError> {
        self.run(text, env).map(|(_, words)| words)
    }

    fn run(&self, input: &str, env: &dyn Env) -> Result<(String, Vec<String>), ExpandError> {
        let mut scan = Scan {
            lexer: self,
            env,
            chars: input.chars().collect(),
            pos: 0,
            raw_escapes: self.raw_escapes,
        };
        scan.until(None, self.raw_escapes)
            .map_err(|kind| ExpandError {
                input: input.to_string(),
                kind,
            })
    }
}

/// Words as they are built: characters from variables split on whitespace, quoted or escaped
/// ones never do.
#[derive(Default)]
struct Words {
    current: String,
    words: Vec<String>,
    in_word: bool,
}

impl Words {
    /// A character that splits words when it is whitespace.
    fn add(&mut self, c: char) {
        if !c.is_whitespace() {
            self.add_raw(c);
        } else if self.in_word && !self.current.is_empty() {
            self.words.push(std::mem::take(&mut self.current));
            self.in_word = false;
        }
    }

    fn add_str(&mut self, s: &str) {
        s.chars().for_each(|c| self.add(c));
    }

    /// A character that is part of the word, whatever it is.
    fn add_raw(&mut self, c: char) {
        self.current.push(c);
        self.in_word = true;
    }

    fn add_raw_str(&mut self, s: &str) {
        self.current.push_str(s);
        self.in_word = true;
    }

    /// The words; an empty last word (from `""`) is dropped, as BuildKit does.
    fn finish(mut self) -> Vec<String> {
        if !self.current.is_empty() {
            self.words.push(self.current);
        }
        self.words
    }
}

/// The state of one expansion: the input and where we are in it.
struct Scan<'a> {
    lexer: &'a Lexer,
    env: &'a dyn Env,
    chars: Vec<char>,
    pos: usize,
    /// Whether escapes are kept right now: `${VAR#pattern}` keeps them for the pattern.
    raw_escapes: bool,
}

type Step<T> = Result<T, ExpandErrorKind>;

impl Scan<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    fn lookup(&self, name: &str) -> Option<String> {
        self.env.get(name).map(str::to_string)
    }

    /// Processes up to `stop` (consumed) or, without one, the end: the text and its words.
    fn until(&mut self, stop: Option<char>, raw_escapes: bool) -> Step<(String, Vec<String>)> {
        let saved = std::mem::replace(&mut self.raw_escapes, raw_escapes);
        let result = self.until_inner(stop);
        self.raw_escapes = saved;
        result
    }

    fn until_inner(&mut self, stop: Option<char>) -> Step<(String, Vec<String>)> {
        let mut text = String::new();
        let mut words = Words::default();
        while let Some(c) = self.peek() {
            if Some(c) == stop {
                self.pos += 1;
                return Ok((text, words.finish()));
            }
            match c {
                '$' => {
                    let value = self.dollar()?;
                    text.push_str(&value);
                    words.add_str(&value);
                }
                '<' => {
                    let value = self.possible_heredoc();
                    text.push_str(&value);
                    words.add_raw_str(&value);
                }
                '\'' | '"' if !self.lexer.literal_quotes => {
                    let value = if c == '\'' {
                        self.single_quoted()?
                    } else {
                        self.double_quoted()?
                    };
                    text.push_str(&value);
                    words.add_raw_str(&value);
                }
                _ => {
                    if !self.plain(&mut text, &mut words) {
                        break;
                    }
                }
            }
        }
        match stop {
            Some(s) => Err(ExpandErrorKind::Unterminated(s)),
            None => Ok((text, words.finish())),
        }
    }

    /// An ordinary character, or the escape character and the one it escapes. False when the
    /// input ends right after an escape character (which is then dropped).
    fn plain(&mut self, text: &mut String, words: &mut Words) -> bool {
        let Some(c) = self.next() else { return false };
        if c != self.lexer.escape {
            words.add(c);
            text.push(c);
            return true;
        }
        if self.raw_escapes {
            words.add_raw(c);
            text.push(c);
        }
        let Some(escaped) = self.next() else {
            return false;
        };
        words.add_raw(escaped);
        text.push(escaped);
        true
    }

    /// `'...'`: everything literal; there is no way to escape a `'`.
    fn single_quoted(&mut self) -> Step<String> {
        let mut out = String::new();
        let open = self.next();
        if self.lexer.raw_quotes {
            out.extend(open);
        }
        loop {
            match self.next() {
                None => return Err(ExpandErrorKind::UnterminatedSingleQuote),
                Some('\'') => {
                    if self.lexer.raw_quotes {
                        out.push('\'');
                    }
                    return Ok(out);
                }
                Some(c) => out.push(c),
            }
        }
    }

    /// `"..."`: variables expand; the escape character escapes only `"`, `$` and itself, and
    /// stays as it is before anything else.
    fn double_quoted(&mut self) -> Step<String> {
        let mut out = String::new();
        let open = self.next();
        if self.lexer.raw_quotes {
            out.extend(open);
        }
        loop {
            match self.peek() {
                None => return Err(ExpandErrorKind::UnterminatedDoubleQuote),
                Some('"') => {
                    self.pos += 1;
                    if self.lexer.raw_quotes {
                        out.push('"');
                    }
                    return Ok(out);
                }
                Some('$') => out.push_str(&self.dollar()?),
                Some(_) => self.double_quoted_char(&mut out),
            }
        }
    }

    fn double_quoted_char(&mut self, out: &mut String) {
        let Some(mut c) = self.next() else { return };
        if c == self.lexer.escape {
            if self.raw_escapes {
                out.push(c);
            }
            match self.peek() {
                // An escape character at the very end is dropped (the quote is then
                // unterminated anyway).
                None => return,
                Some(e) if e == '"' || e == '$' || e == self.lexer.escape => {
                    self.pos += 1;
                    c = e;
                }
                Some(_) => {}
            }
        }
        out.push(c);
    }

    /// `<` or `<<` and the blanks after it, kept together so that `<< EOF` stays one word
    /// (the parser finds heredocs with this).
    fn possible_heredoc(&mut self) -> String {
        self.pos += 1;
        if self.peek() != Some('<') {
            return "<".to_string();
        }
        self.pos += 1;
        let mut out = "<<".to_string();
        while let Some(c @ ('\t' | '\r' | ' ')) = self.peek() {
            out.push(c);
            self.pos += 1;
        }
        out
    }

    /// A name after `$`: a run of digits (a positional parameter), one special parameter
    /// character, or letters, digits and `_`.
    fn name(&mut self) -> String {
        let mut name = String::new();
        match self.peek() {
            Some(c) if c.is_ascii_digit() => {
                while let Some(d) = self.peek().filter(char::is_ascii_digit) {
                    name.push(d);
                    self.pos += 1;
                }
                return name;
            }
            Some(c @ ('@' | '*' | '#' | '?' | '-' | '$' | '!' | '0')) => {
                self.pos += 1;
                return c.to_string();
            }
            _ => {}
        }
        while let Some(c) = self.peek().filter(|c| c.is_alphanumeric() || *c == '_') {
            name.push(c);
            self.pos += 1;
        }
        name
    }

    /// `$NAME`, `${NAME}` or `${NAME<modifier>...}`; a `$` followed by no name is itself.
    fn dollar(&mut self) -> Step<String> {
        self.pos += 1;
        if self.peek() != Some('{') {
            let name = self.name();
            if name.is_empty() {
                return Ok("$".to_string());
            }
            return Ok(match self.lookup(&name) {
                Some(value) => value,
                None if self.lexer.keep_unset => format!("${name}"),
                None => String::new(),
            });
        }
        self.pos += 1;
        match self.peek() {
            None => return Err(ExpandErrorKind::MissingBrace),
            Some('{' | '}' | ':') => return Err(ExpandErrorKind::BadSubstitution),
            Some(_) => {}
        }
        let name = self.name();
        match self.next() {
            Some('}') => Ok(match self.lookup(&name) {
                Some(value) => value,
                None if self.lexer.keep_unset => format!("${{{name}}}"),
                None => String::new(),
            }),
            Some(':') => {
                let op = self.next();
                self.modifier(&name, op, true)
            }
            Some('/') => self.replacement(&name),
            op @ Some('-' | '+' | '?' | '#' | '%') => self.modifier(&name, op, false),
            Some(other) => Err(ExpandErrorKind::UnsupportedModifier(other.to_string())),
            None => Err(ExpandErrorKind::MissingBrace),
        }
    }

    /// `${NAME-word}`, `${NAME+word}`, `${NAME?word}`, `${NAME#pat}`, `${NAME%pat}` and, with
    /// `colon`, the forms that treat an empty value as unset.
    fn modifier(&mut self, name: &str, op: Option<char>, colon: bool) -> Step<String> {
        let spelled = format!(
            "{}{}",
            if colon { ":" } else { "" },
            op.map(String::from).unwrap_or_default()
        );
        let trims = matches!(op, Some('#' | '%'));
        if colon && trims {
            return Err(ExpandErrorKind::UnsupportedModifier(spelled));
        }
        let word = self.word_until('}', trims, ExpandErrorKind::MissingBrace)?;
        let value = self.lookup(name);
        if self.lexer.keep_unset && value.is_none() {
            return Ok(format!("${{{name}{spelled}{word}}}"));
        }
        let null = value.as_deref().is_none_or(|v| colon && v.is_empty());
        match op {
            Some('-') => Ok(if null {
                word
            } else {
                value.unwrap_or_default()
            }),
            Some('+') => Ok(if null { String::new() } else { word }),
            Some('?') => required(name, value, colon, word),
            Some(c @ ('#' | '%')) => trim(value.unwrap_or_default(), c, word),
            _ => Err(ExpandErrorKind::UnsupportedModifier(spelled)),
        }
    }

    /// `${NAME/pattern/replacement}` and `${NAME//pattern/replacement}` (every match).
    fn replacement(&mut self, name: &str) -> Step<String> {
        let all = self.peek() == Some('/');
        if all {
            self.pos += 1;
        }
        let pattern = self.word_until('/', true, ExpandErrorKind::MissingSlash)?;
        let with = self.word_until('}', true, ExpandErrorKind::MissingBrace)?;
        let Some(value) = self.lookup(name) else {
            if self.lexer.keep_unset {
                return Ok(format!("${{{name}/{pattern}/{with}}}"));
            }
            return Ok(String::new());
        };
        Ok(Pattern::new(&pattern)?.replace(&value, &with, all))
    }

    /// The text up to `stop`; `at_end` is the error when the input ends first.
    fn word_until(&mut self, stop: char, raw: bool, at_end: ExpandErrorKind) -> Step<String> {
        match self.until(Some(stop), raw) {
            Ok((text, _)) => Ok(text),
            Err(_) if self.peek().is_none() => Err(at_end),
            Err(e) => Err(e),
        }
    }
}

/// `${NAME?message}`: the value, or the message as an error.
fn required(name: &str, value: Option<String>, colon: bool, message: String) -> Step<String> {
    let default = match value.as_deref() {
        None => "is not allowed to be unset",
        Some("") if colon => "is not allowed to be empty",
        Some(_) => return Ok(value.unwrap_or_default()),
    };
    Err(ExpandErrorKind::Required {
        name: name.to_string(),
        message: if message.is_empty() {
            default.to_string()
        } else {
            message
        },
    })
}

/// `${NAME#pat}` and `${NAME%pat}`; doubled (`##`, `%%`), the longest match goes.
fn trim(value: String, op: char, word: String) -> Step<String> {
    let (greedy, pattern) = match word.strip_prefix(op) {
        Some(rest) => (true, rest),
        None => (false, word.as_str()),
    };
    let pattern = Pattern::new(pattern)?;
    Ok(if op == '%' {
        pattern.trim_suffix(&value, greedy)
    } else {
        pattern.trim_prefix(&value, greedy)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Vec<(String, String)> {
        [
            ("A", "a b"),
            ("EMPTY", ""),
            ("P", "linux/arm/v7"),
            ("V", "v1.2.3"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    fn one(word: &str) -> String {
        expand(word, &env()).unwrap_or_else(|e| panic!("{word}: {e}"))
    }

    #[test]
    fn the_default_alternative_and_required_forms() {
        assert_eq!(one("${EMPTY:-d}"), "d");
        assert_eq!(one("${EMPTY-d}"), "");
        assert_eq!(one("${UNSET-d}"), "d");
        assert_eq!(one("${EMPTY:+x}"), "");
        assert_eq!(one("${EMPTY+x}"), "x");
        assert_eq!(one("${A:?}"), "a b");
        let err = expand("${EMPTY:?must be set}", &env()).expect_err("empty");
        assert_eq!(
            err.to_string(),
            "failed to process \"${EMPTY:?must be set}\": EMPTY: must be set"
        );
        assert!(expand("${EMPTY?}", &env()).is_ok());
        assert!(expand("${UNSET?}", &env()).is_err());
    }

    #[test]
    fn the_pattern_forms() {
        assert_eq!(one("${P#*/}"), "arm/v7");
        assert_eq!(one("${P##*/}"), "v7");
        assert_eq!(one("${P%/*}"), "linux/arm");
        assert_eq!(one("${P%%/*}"), "linux");
        assert_eq!(one("${V#v}"), "1.2.3");
        assert_eq!(one("${V/./-}"), "v1-2.3");
        assert_eq!(one("${V//./-}"), "v1-2-3");
        assert!(expand("${V:#v}", &env()).is_err());
        assert!(expand("${V/x", &env()).is_err());
    }

    #[test]
    fn words_split_on_unquoted_whitespace_only() {
        let words = expand_words("x$A \"$A\" 'q r' s\\ t", &env()).expect("words");
        assert_eq!(words, ["xa", "b", "a b", "q r", "s t"]);
        assert_eq!(
            expand_words("a ${A:-z}b", &env()).expect("words"),
            ["a", "a", "bb"]
        );
    }

    #[test]
    fn the_backtick_escape() {
        let lexer = Lexer::new('`');
        assert_eq!(lexer.expand("a`$A\\", &env()).expect("word"), "a$A\\");
    }

    #[test]
    fn unset_variables_can_be_kept() {
        let lexer = Lexer {
            keep_unset: true,
            ..Lexer::new('\\')
        };
        let kept = lexer.expand("$X ${Y} ${Z:-d} $A", &env()).expect("word");
        assert_eq!(kept, "$X ${Y} ${Z:-d} a b");
    }

    #[test]
    fn literal_quotes_for_heredoc_bodies() {
        let lexer = Lexer {
            literal_quotes: true,
            ..Lexer::new('\\')
        };
        assert_eq!(
            lexer.expand("'$A' \"x\"", &env()).expect("word"),
            "'a b' \"x\""
        );
    }
}
