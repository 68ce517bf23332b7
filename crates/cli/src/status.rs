//! A failure whose exit status is Docker's rather than kist's rule (see main's `failure`):
//! `the input device is not a TTY` (1), and `exec`'s refusals, which Docker's daemon gives and
//! its CLI exits 1 for (a paused, stopped or missing container).

/// The message, and the status kist exits with.
#[derive(Debug)]
pub struct ExitWith {
    pub code: i32,
    pub message: String,
}

impl std::fmt::Display for ExitWith {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ExitWith {}

/// Docker's refusal when `-i` and `-t` are asked for but stdin is not a terminal (nothing is
/// created).
pub fn require_terminal_stdin() -> anyhow::Result<()> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        return Ok(());
    }
    Err(ExitWith {
        code: 1,
        message: "the input device is not a TTY".into(),
    }
    .into())
}

/// An engine error as Docker's CLI exits for it when its daemon refuses: 1 for what does not
/// exist or is in the wrong state, the error's own status otherwise (125, 126, 127).
pub fn daemon_refusal(e: kist_engine::Error) -> anyhow::Error {
    use kist_engine::ErrorKind;
    match e.kind() {
        ErrorKind::NotFound | ErrorKind::Conflict => ExitWith {
            code: 1,
            message: e.to_string(),
        }
        .into(),
        _ => e.into(),
    }
}
