//! Template errors as Go words them: one line that names the place in the template.
//!
//! Parse errors read `template: :LINE:COL: MESSAGE`, COL counting bytes from 0 as Go does; execution errors add what was running,
//! `template: :LINE:COL: executing "NAME" at <.Field>: MESSAGE`.

use std::fmt;

/// A byte offset into the template source.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct Pos(pub usize);

/// What went wrong, and where.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateError {
    line: usize,
    col: usize,
    /// The template being executed and the text of the failing action, for execution errors.
    context: Option<(String, String)>,
    message: String,
}

impl TemplateError {
    pub(crate) fn parse(src: &str, pos: Pos, message: impl Into<String>) -> Self {
        let (line, col) = line_col(src, pos);
        TemplateError {
            line,
            col,
            context: None,
            message: message.into(),
        }
    }

    pub(crate) fn exec(src: &str, span: (usize, usize), name: &str, message: String) -> Self {
        let (line, col) = line_col(src, Pos(span.0));
        let end = span.1.min(src.len());
        let text = src.get(span.0..end).unwrap_or_default().to_string();
        TemplateError {
            line,
            col,
            context: Some((name.to_string(), text)),
            message,
        }
    }
}

/// The line (from 1) and, as Go counts it, the byte offset in that line (from 0) of `pos`.
fn line_col(src: &str, pos: Pos) -> (usize, usize) {
    let at = pos.0.min(src.len());
    let before = src.get(..at).unwrap_or(src);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, at - line_start)
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "template: :{}:{}: ", self.line, self.col)?;
        if let Some((name, text)) = &self.context {
            write!(f, "executing {name:?} at <{text}>: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for TemplateError {}
