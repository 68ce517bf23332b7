//! Where errors go: stderr always, and `--log FILE` as runc writes it (a line of text, or one
//! JSON object a line with `level`, `msg` and `time`, which containerd's shim reads back).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

/// An error as one line: its contexts and causes joined by ": ", a cause left out when the
/// text before it already ends with it (the runtime's errors show their source themselves).
pub fn one_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if line.ends_with(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

pub struct Logger {
    file: Option<File>,
    format: LogFormat,
    debug: bool,
}

impl Logger {
    /// A logger writing to `path` (appended to); a log that cannot be opened is said once on
    /// stderr and the command goes on, as an unwritable log must not fail a container.
    pub fn open(path: Option<&Path>, format: LogFormat, debug: bool) -> Logger {
        let file = path.and_then(|p| {
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .map_err(|e| eprintln!("kist-runtime: cannot open the log {}: {e}", p.display()))
                .ok()
        });
        Logger {
            file,
            format,
            debug,
        }
    }

    pub fn error(&self, msg: &str) {
        eprintln!("kist-runtime: {msg}");
        self.write("error", msg);
    }

    pub fn warn(&self, msg: &str) {
        eprintln!("kist-runtime: warning: {msg}");
        self.write("warning", msg);
    }

    pub fn debug(&self, msg: &str) {
        if self.debug {
            self.write("debug", msg);
        }
    }

    fn write(&self, level: &str, msg: &str) {
        let Some(mut file) = self.file.as_ref() else {
            return;
        };
        let line = line(self.format, level, msg, &crate::time::now_rfc3339());
        // One write per line, so that lines of concurrent commands do not interleave.
        let _ = file.write_all(line.as_bytes());
    }
}

fn line(format: LogFormat, level: &str, msg: &str, time: &str) -> String {
    match format {
        LogFormat::Json => {
            let v = serde_json::json!({"level": level, "msg": msg, "time": time});
            format!("{v}\n")
        }
        LogFormat::Text => format!("time=\"{time}\" level={level} msg={msg:?}\n"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_cause_already_said_is_not_said_twice() {
        let io = std::io::Error::from_raw_os_error(libc::EINVAL);
        let runtime = kist_runtime::Error::Sys {
            context: "creating the process".into(),
            source: io,
        };
        let e = anyhow::Error::from(runtime).context("cannot create c1");
        assert_eq!(
            one_line(&e),
            "cannot create c1: creating the process: Invalid argument (os error 22)"
        );
    }

    use super::*;

    #[test]
    fn a_json_line_is_one_object_with_runcs_keys() {
        let l = line(LogFormat::Json, "error", "no \"x\"", "2026-01-02T03:04:05Z");
        assert!(l.ends_with('\n') && l.matches('\n').count() == 1);
        let v: serde_json::Value = serde_json::from_str(&l).unwrap();
        assert_eq!(v["level"], "error");
        assert_eq!(v["msg"], "no \"x\"");
        assert_eq!(v["time"], "2026-01-02T03:04:05Z");
    }
}
