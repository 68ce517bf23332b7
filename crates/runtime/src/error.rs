//! The runtime's errors: each says what was being done and why it failed, and maps to the exit
//! code Docker gives (125 unless the program could not be found or run).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{context} {path}: {source}")]
    Io {
        context: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{context}: {source}")]
    Sys {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// The container's process could not be set up or could not exec; `code` is the exit status
    /// Docker would give (126 cannot execute, 127 not found, 125 otherwise).
    #[error("{message}")]
    Container { code: i32, message: String },
    /// One of the spec's hooks failed (did not run, exited non-zero or outlived its timeout).
    #[error("{kind} hook #{index} ({}) failed: {reason}", path.display())]
    Hook {
        kind: String,
        index: usize,
        path: PathBuf,
        reason: String,
    },
    #[error("invalid runtime spec: {0}")]
    Spec(String),
    #[error(transparent)]
    Seccomp(#[from] crate::seccomp::SeccompError),
}

impl Error {
    /// The exit status a user sees when this error stops a container.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Container { code, .. } => *code,
            _ => 125,
        }
    }

    pub(crate) fn sys(context: impl Into<String>, source: std::io::Error) -> Error {
        Error::Sys {
            context: context.into(),
            source,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// Turns the -1/errno convention of libc into a Result.
pub(crate) fn cvt(ret: libc::c_int) -> std::io::Result<libc::c_int> {
    if ret < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// The same for a raw `syscall(2)`, which widens the kernel's `int` result to a `long`: for
/// the syscalls passed here (a descriptor, a pid or 0 on success) it always fits back.
pub(crate) fn cvt_long(ret: libc::c_long) -> std::io::Result<libc::c_int> {
    if ret < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // Cannot truncate: the kernel returned an int, which syscall(2) only widened.
    #[allow(clippy::cast_possible_truncation)]
    let ret = ret as libc::c_int;
    Ok(ret)
}

pub(crate) trait SysContext<T> {
    fn sys(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T> SysContext<T> for std::io::Result<T> {
    fn sys(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| Error::sys(context(), e))
    }
}

impl<T> SysContext<T> for rustix::io::Result<T> {
    fn sys(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| Error::sys(context(), e.into()))
    }
}
