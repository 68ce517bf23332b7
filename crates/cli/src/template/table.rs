//! Docker's `table` output: a header row made from the template itself, then one row per
//! value, in columns aligned as Go's tabwriter aligns them (`\t` parts cells; minimum width
//! 10, padding 3, as docker/cli sets it).

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Write;

use anyhow::{Context, Result};
use serde_json::Value;

use super::{MissingKey, Template};

/// docker/cli's `tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)`.
const MIN_WIDTH: usize = 10;
const PADDING: usize = 3;

/// Renders a `--format` for a list of rows, each ending in a newline, as Docker's formatter
/// does. A `table` format gets a header row first, named from `headers` (field path to column
/// name, such as `.ID` → `CONTAINER ID`), and aligned columns. A field a row lacks is an
/// error, as it is for Docker's rows.
pub fn render_table(
    template: &str,
    rows: &[Value],
    headers: &HashMap<&str, &str>,
) -> Result<String> {
    let t = Template::parse(template)?.missing_key(MissingKey::Error);
    let mut body = String::new();
    for row in rows {
        body.push_str(&t.execute(row)?);
        body.push('\n');
    }
    if !t.is_table() {
        return Ok(body);
    }
    let mut text = t.execute_header(headers);
    text.push('\n');
    text.push_str(&body);
    align(&text)
}

/// A bare `table` asks for the command's usual columns: `default` is that table's format.
pub fn resolve_table_default<'f>(format: &'f str, default: &'f str) -> Cow<'f, str> {
    if format.trim_matches(' ') == "table" {
        Cow::Borrowed(default)
    } else {
        Cow::Borrowed(format)
    }
}

/// Go's tabwriter over `text`: every tab-terminated cell padded to its column's width.
fn align(text: &str) -> Result<String> {
    // Go widens a column to max(minwidth, text + padding); this crate to max(minwidth, text) +
    // padding. Taking the padding off the minimum makes the two the same.
    let mut tw = tabwriter::TabWriter::new(Vec::new())
        .minwidth(MIN_WIDTH - PADDING)
        .padding(PADDING);
    tw.write_all(text.as_bytes())?;
    tw.flush()?;
    let bytes = tw.into_inner().context("aligning the table")?;
    String::from_utf8(bytes).context("the aligned table is not UTF-8")
}
