//! Splits a template into tokens: text between actions, and the words inside `{{ }}`.
//!
//! It follows Go's text/template lexer: `{{- ` and ` -}}` trim the whitespace beside them,
//! `{{/* */}}` is a comment, and inside an action come fields, variables, literals and
//! punctuation. Docker's `\t` and `\n` escapes in the text are turned into real characters here,
//! before trimming, as Docker does before parsing.

use super::error::{Pos, TemplateError};

/// One word of a template, and the byte offset where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub kind: Kind,
    pub pos: usize,
    /// Whitespace came right before it (inside an action): `.A .B` is two operands, `.A.B` one.
    pub spaced: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    Text(String),
    Open,
    Close,
    /// `.Name`: a field of what comes before it, or of dot.
    Field(String),
    Dot,
    /// `$` or `$name`, with the `$`.
    Variable(String),
    Ident(String),
    Str(String),
    Char(i64),
    Number(String),
    Pipe,
    LParen,
    RParen,
    Declare,
    Assign,
    Comma,
    Eof,
}

/// Tokenizes `src`; the last token is always `Eof`.
pub(crate) fn lex(src: &str, docker_escapes: bool) -> Result<Vec<Token>, TemplateError> {
    let mut lexer = Lexer {
        src,
        at: 0,
        tokens: Vec::new(),
        docker_escapes,
        trim_next_text: false,
    };
    lexer.run()?;
    Ok(lexer.tokens)
}

struct Lexer<'s> {
    src: &'s str,
    at: usize,
    tokens: Vec<Token>,
    docker_escapes: bool,
    /// The action just closed with ` -}}`: the next text loses its leading whitespace.
    trim_next_text: bool,
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn is_word(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

impl Lexer<'_> {
    fn rest(&self) -> &str {
        &self.src[self.at..]
    }

    fn err(&self, at: usize, msg: impl Into<String>) -> TemplateError {
        TemplateError::parse(self.src, Pos(at), msg)
    }

    fn push(&mut self, kind: Kind, pos: usize, spaced: bool) {
        self.tokens.push(Token { kind, pos, spaced });
    }

    fn run(&mut self) -> Result<(), TemplateError> {
        loop {
            let start = self.at;
            let Some(open) = self.rest().find("{{") else {
                self.text(start, self.src.len(), false);
                self.push(Kind::Eof, self.src.len(), false);
                return Ok(());
            };
            let open = start + open;
            // `{{- ` trims the text before it; `{{-3}}` is a number.
            let trim_left =
                self.src[open + 2..].starts_with('-') && self.src[open + 3..].starts_with(is_space);
            self.text(start, open, trim_left);
            self.at = open + if trim_left { 3 } else { 2 };
            self.action(open)?;
        }
    }

    /// Emits the text `src[from..to]`, trimmed as the markers around it ask.
    fn text(&mut self, from: usize, to: usize, trim_right: bool) {
        let raw = &self.src[from..to];
        let mut text = if self.docker_escapes {
            raw.replace("\\t", "\t").replace("\\n", "\n")
        } else {
            raw.to_string()
        };
        if std::mem::take(&mut self.trim_next_text) {
            text = text.trim_start_matches(is_space).to_string();
        }
        if trim_right {
            text.truncate(text.trim_end_matches(is_space).len());
        }
        if !text.is_empty() {
            self.push(Kind::Text(text), from, false);
        }
    }

    /// Lexes one action after its `{{`, through its `}}`.
    fn action(&mut self, open: usize) -> Result<(), TemplateError> {
        let after_open = self.rest().trim_start_matches(is_space);
        if after_open.starts_with("/*") {
            return self.comment(open);
        }
        self.push(Kind::Open, open, false);
        loop {
            let before = self.at;
            self.at += self.rest().len() - self.rest().trim_start_matches(is_space).len();
            let spaced = self.at > before;
            let rest = self.rest();
            if spaced && rest.starts_with("-}}") {
                self.trim_next_text = true;
                self.push(Kind::Close, self.at, spaced);
                self.at += 3;
                return Ok(());
            }
            if rest.starts_with("}}") {
                self.push(Kind::Close, self.at, spaced);
                self.at += 2;
                return Ok(());
            }
            let Some(c) = rest.chars().next() else {
                return Err(self.err(open, "unclosed action"));
            };
            self.word(c, spaced)?;
        }
    }

    /// `{{/* ... */}}`, with optional trim markers; it leaves no token.
    fn comment(&mut self, open: usize) -> Result<(), TemplateError> {
        let body = self.at + self.rest().find("/*").unwrap_or(0) + 2;
        let Some(end) = self.src[body..].find("*/") else {
            return Err(self.err(open, "unclosed comment"));
        };
        self.at = body + end + 2;
        let rest = self.rest();
        if rest.starts_with("}}") {
            self.at += 2;
        } else if rest.starts_with(" -}}") || rest.starts_with("\t-}}") {
            self.trim_next_text = true;
            self.at += 4;
        } else {
            return Err(self.err(self.at, "comment ends before closing delimiter"));
        }
        Ok(())
    }

    /// One word inside an action, starting with `c`.
    fn word(&mut self, c: char, spaced: bool) -> Result<(), TemplateError> {
        let pos = self.at;
        let next = self.rest()[c.len_utf8()..].chars().next();
        let simple = match c {
            '|' => Some((Kind::Pipe, 1)),
            '(' => Some((Kind::LParen, 1)),
            ')' => Some((Kind::RParen, 1)),
            ',' => Some((Kind::Comma, 1)),
            '=' => Some((Kind::Assign, 1)),
            ':' if next == Some('=') => Some((Kind::Declare, 2)),
            _ => None,
        };
        if let Some((kind, len)) = simple {
            self.at += len;
            self.push(kind, pos, spaced);
            return Ok(());
        }
        let kind = match c {
            '"' => Kind::Str(self.quoted()?),
            '`' => Kind::Str(self.raw()?),
            '\'' => Kind::Char(self.char_literal()?),
            '$' => Kind::Variable(format!("${}", self.name(1))),
            '.' if next.is_some_and(is_word) && !next.is_some_and(|n| n.is_ascii_digit()) => {
                Kind::Field(self.name(1))
            }
            '.' if !next.is_some_and(|n| n.is_ascii_digit()) => {
                self.at += 1;
                Kind::Dot
            }
            '0'..='9' | '.' | '+' | '-' => Kind::Number(self.number()?),
            c if is_word(c) => Kind::Ident(self.name(0)),
            c => return Err(self.err(pos, format!("bad character {c:?}"))),
        };
        self.push(kind, pos, spaced);
        Ok(())
    }

    /// The word characters after `skip` bytes (a `$` or `.`), consumed.
    fn name(&mut self, skip: usize) -> String {
        let rest = &self.rest()[skip..];
        let len = rest.find(|c: char| !is_word(c)).unwrap_or(rest.len());
        let name = rest[..len].to_string();
        self.at += skip + len;
        name
    }

    fn number(&mut self) -> Result<String, TemplateError> {
        let rest = self.rest();
        let mut len = 0;
        for (i, c) in rest.char_indices() {
            let sign_ok = i == 0 || matches!(rest.as_bytes()[i - 1], b'e' | b'E' | b'p' | b'P');
            if c.is_ascii_alphanumeric()
                || c == '_'
                || c == '.'
                || (matches!(c, '+' | '-') && sign_ok)
            {
                len = i + 1;
            } else {
                break;
            }
        }
        let text = rest[..len].to_string();
        if text == "+" || text == "-" {
            return Err(self.err(self.at, format!("bad number syntax: {text:?}")));
        }
        self.at += len;
        Ok(text)
    }

    fn quoted(&mut self) -> Result<String, TemplateError> {
        let start = self.at;
        let body = &self.rest()[1..];
        let Some(end) = closing_quote(body, '"') else {
            return Err(self.err(start, "unterminated quoted string"));
        };
        let text = unquote(&body[..end], '"').map_err(|m| self.err(start, m))?;
        self.at += end + 2;
        Ok(text)
    }

    fn raw(&mut self) -> Result<String, TemplateError> {
        let start = self.at;
        let body = &self.rest()[1..];
        let Some(end) = body.find('`') else {
            return Err(self.err(start, "unterminated raw quoted string"));
        };
        let mut text = body[..end].replace('\r', "");
        if self.docker_escapes {
            text = text.replace("\\t", "\t").replace("\\n", "\n");
        }
        self.at += end + 2;
        Ok(text)
    }

    fn char_literal(&mut self) -> Result<i64, TemplateError> {
        let start = self.at;
        let body = &self.rest()[1..];
        let Some(end) = closing_quote(body, '\'') else {
            return Err(self.err(start, "unterminated character constant"));
        };
        let text = unquote(&body[..end], '\'').map_err(|m| self.err(start, m))?;
        let mut chars = text.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => {
                self.at += end + 2;
                Ok(i64::from(u32::from(c)))
            }
            _ => Err(self.err(start, "malformed character constant")),
        }
    }
}

/// The offset of the quote that closes `body`, skipping escaped ones; a newline ends the search.
fn closing_quote(body: &str, quote: char) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        match c {
            '\n' => return None,
            '\\' if !escaped => escaped = true,
            c if c == quote && !escaped => return Some(i),
            _ => escaped = false,
        }
    }
    None
}

/// Go's escapes in a quoted string or character literal (without its quotes).
pub(crate) fn unquote(body: &str, quote: char) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = chars.next() else {
            return Err("bad escape at end of string".into());
        };
        let simple = match e {
            'a' => Some('\x07'),
            'b' => Some('\x08'),
            'f' => Some('\x0c'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'v' => Some('\x0b'),
            '\\' => Some('\\'),
            q if q == quote => Some(q),
            _ => None,
        };
        if let Some(s) = simple {
            out.push(s);
            continue;
        }
        let (digits, radix) = match e {
            'x' => (2, 16),
            'u' => (4, 16),
            'U' => (8, 16),
            '0'..='7' => (3, 8),
            _ => return Err(format!("unknown escape sequence \\{e}")),
        };
        let mut code = String::new();
        if radix == 8 {
            code.push(e);
        }
        while code.len() < digits {
            code.push(chars.next().ok_or("short escape sequence")?);
        }
        let n = u32::from_str_radix(&code, radix).map_err(|_| format!("bad escape \\{e}{code}"))?;
        // Go's `\xNN` and octal escapes are bytes; above 0x7f they stand for Latin-1 here.
        out.push(
            char::from_u32(n).ok_or_else(|| format!("escape \\{e}{code} is not a character"))?,
        );
    }
    Ok(out)
}
