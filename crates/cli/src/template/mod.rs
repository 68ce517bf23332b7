//! `--format` templates: Go's text/template as Docker's CLI has it, run on JSON data.
//!
//! The whole language (pipelines, variables, `if`/`with`/`range` with `else`, `break` and
//! `continue`, `define`/`template`/`block`, trim markers, comments), Go's functions with its
//! fmt verbs, Docker's functions (`json`, `join`, `split`, `upper`, `pad`, ...), and Docker's
//! `table` directive with a header row and aligned columns. Values print as Go prints decoded
//! JSON: `[a b]`, `map[k:v]`, `<no value>`, floats in Go's shortest form.

mod ast;
mod builtins;
mod compare;
mod docker;
mod error;
mod escape;
mod exec;
mod float;
mod fmt;
mod json;
mod lex;
mod parse;
mod quote;
mod table;
mod value;

#[cfg(test)]
mod tests;

use std::collections::HashMap;

use anyhow::Result;
use serde_json::Value;

pub use error::TemplateError;
pub use exec::MissingKey;
pub use table::{render_table, resolve_table_default};

use exec::Exec;
use parse::Tree;
use value::Val;

/// A parsed template, ready to run on any number of values.
#[derive(Debug, Clone)]
pub struct Template {
    src: String,
    tree: Tree,
    table: bool,
    missing: MissingKey,
}

impl Template {
    /// Parses a `--format` string as Docker's formatter does: a leading `table` asks for a
    /// header and aligned columns, `json` alone means `{{json .}}`, surrounding spaces go, and
    /// `\t` and `\n` written out become a tab and a newline.
    pub fn parse(format: &str) -> Result<Template, TemplateError> {
        let (table, body) = match format.strip_prefix("table") {
            Some(rest) => (true, rest),
            None if format == "json" => (false, "{{json .}}"),
            None => (false, format),
        };
        let mut t = Template::compile(body.trim_matches(' '), true)?;
        t.table = table;
        Ok(t)
    }

    #[cfg_attr(not(test), allow(dead_code))]
    /// Parses Go template text exactly as Go's text/template would, with Docker's functions.
    pub fn parse_go(text: &str) -> Result<Template, TemplateError> {
        Template::compile(text, false)
    }

    fn compile(src: &str, docker_escapes: bool) -> Result<Template, TemplateError> {
        let tokens = lex::lex(src, docker_escapes)?;
        let tree = parse::parse(src, tokens, &exec::is_func)?;
        Ok(Template {
            src: src.to_string(),
            tree,
            table: false,
            missing: MissingKey::default(),
        })
    }

    /// What a missing map key does: `<no value>` (Go's default) or an error.
    pub fn missing_key(mut self, missing: MissingKey) -> Template {
        self.missing = missing;
        self
    }

    /// The format began with `table`.
    pub fn is_table(&self) -> bool {
        self.table
    }

    /// Runs the template with `data` as dot.
    pub fn execute(&self, data: &Value) -> Result<String, TemplateError> {
        let mut exec = Exec::new(&self.tree, &self.src, self.missing, None);
        exec.run(Val::Ref(data))?;
        Ok(exec.out)
    }

    /// The header row of a table: the template run with each field standing for its column
    /// name from `headers` (keyed by field path, `ID` or `.ID`; unknown ones are blank) and
    /// Docker's string functions leaving names alone. As in Docker, a header that fails part
    /// way keeps what it printed.
    pub fn execute_header(&self, headers: &HashMap<&str, &str>) -> String {
        let names: HashMap<String, String> = headers
            .iter()
            .map(|(k, v)| (k.trim_start_matches('.').to_string(), v.to_string()))
            .collect();
        let root = Value::Object(
            names
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        );
        let mut exec = Exec::new(&self.tree, &self.src, self.missing, Some(&names));
        let _partial_is_fine = exec.run(Val::Ref(&root));
        exec.out
    }
}
