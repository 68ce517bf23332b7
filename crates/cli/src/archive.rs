//! Where an archive (`save`, `export`) goes: a file, written whole or not at all, or stdout
//! unless it is a terminal.

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::{Context, Result};

/// Writes an archive to `output` (whole or not at all: a temporary file renamed at the end),
/// or to stdout when it is not a terminal.
pub fn write(
    output: Option<&Path>,
    write: impl FnOnce(Box<dyn Write + Send>) -> Result<Box<dyn Write + Send>>,
) -> Result<i32> {
    match output {
        Some(path) => {
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let temp = tempfile::Builder::new()
                .prefix(".kist-archive-")
                .tempfile_in(dir)
                .with_context(|| format!("creating a file in {}", dir.display()))?;
            let file = temp.reopen()?;
            let mut out = write(Box::new(std::io::BufWriter::new(file)))?;
            out.flush()?;
            drop(out);
            temp.persist(path)
                .with_context(|| format!("writing {}", path.display()))?;
        }
        None => {
            if std::io::stdout().is_terminal() {
                anyhow::bail!(
                    "refusing to write an archive to a terminal: use -o FILE or redirect the output"
                );
            }
            let mut out = write(Box::new(std::io::BufWriter::new(crate::output::Stdout)))?;
            out.flush()?;
        }
    }
    Ok(0)
}
