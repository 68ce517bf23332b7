//! Everything kist prints goes through here, so that a reader that goes away (`kist ps | head
//! -1`, `kist logs C | head -1`) ends kist quietly instead of with a panic or a "Broken pipe".
//!
//! Rust ignores SIGPIPE, so a write to a closed pipe fails with EPIPE; `println!` would panic
//! on it. Here EPIPE ends kist at once with status 0: the reader had what it wanted and nothing
//! failed. (Docker's Go CLI dies of SIGPIPE instead, which a shell reports as 141, and so does
//! `set -o pipefail`; a quiet 0 never fails a script that worked with Docker.) Any other write
//! error (a full disk behind `>`) is one line on stderr and status 1. `outln!`/`out!` stand for
//! `println!`/`print!`, which clippy's `print_stdout` keeps out of the crate.

use std::io::{self, Write};

/// `println!` to stdout, ending kist quietly if the reader went away.
macro_rules! outln {
    () => {
        $crate::output::print("\n")
    };
    ($($arg:tt)*) => {
        $crate::output::print_line(format_args!($($arg)*))
    };
}

/// `print!` to stdout, ending kist quietly if the reader went away.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::print_fmt(format_args!($($arg)*))
    };
}

pub fn print(text: &str) {
    write_out(text.as_bytes());
}

pub fn print_line(args: std::fmt::Arguments) {
    let mut out = io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.write_all(b"\n")) {
        gone(&e, "stdout");
    }
}

pub fn print_fmt(args: std::fmt::Arguments) {
    if let Err(e) = io::stdout().lock().write_fmt(args) {
        gone(&e, "stdout");
    }
}

/// Bytes to stdout as they are (a log's lines).
pub fn write_out(bytes: &[u8]) {
    if let Err(e) = io::stdout().lock().write_all(bytes) {
        gone(&e, "stdout");
    }
}

/// Bytes to stdout for a caller that must clean up before kist ends (a terminal in raw mode):
/// a failed write is its error to handle, never an exit.
pub fn write_out_checked(bytes: &[u8]) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(bytes).and_then(|()| out.flush())
}

/// Bytes to stderr as they are (a log's stderr lines: `kist logs C 2>&1 | head -1`).
pub fn write_err(bytes: &[u8]) {
    if let Err(e) = io::stderr().lock().write_all(bytes) {
        gone(&e, "stderr");
    }
}

/// What is still buffered, before kist exits.
pub fn flush() {
    if let Err(e) = io::stdout().lock().flush() {
        gone(&e, "stdout");
    }
}

/// stdout as a writer (an archive streamed out), with the same end when the reader goes.
pub struct Stdout;

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match io::stdout().lock().write(buf) {
            Err(e) if e.kind() != io::ErrorKind::Interrupted => gone(&e, "stdout"),
            result => result,
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stdout().lock().flush().map_err(|e| gone(&e, "stdout"))
    }
}

/// Ends kist: quietly if the reader went away, with a line and status 1 for any other error.
fn gone(e: &io::Error, stream: &str) -> ! {
    if e.kind() != io::ErrorKind::BrokenPipe {
        let _ = writeln!(io::stderr(), "kist: writing to {stream}: {e}");
        std::process::exit(1);
    }
    std::process::exit(0)
}
