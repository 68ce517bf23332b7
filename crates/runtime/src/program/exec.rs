//! Finding the program on the container's PATH and executing it, directly or under a minimal
//! init; failures carry Docker's exit codes (127 not found, 126 cannot execute).

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use oci_spec::runtime::Process;

use crate::error::{Error, Result};

pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// A program ready to exec: everything allocated up front.
pub struct Program {
    path: CString,
    argv: Vec<CString>,
    envp: Vec<CString>,
}

#[cfg(test)]
impl Program {
    /// A program that was never looked up, for tests that only pass one around.
    pub(crate) fn for_test(path: &str) -> Program {
        let path = CString::new(path).expect("a test path has no NUL byte");
        Program {
            argv: vec![path.clone()],
            envp: Vec::new(),
            path,
        }
    }
}

fn not_found(message: String) -> Error {
    Error::Container { code: 127, message }
}

fn cannot_execute(message: String) -> Error {
    Error::Container { code: 126, message }
}

fn cstring(s: &[u8]) -> Result<CString> {
    CString::new(s)
        .map_err(|_| Error::Spec(format!("{:?} holds a NUL byte", String::from_utf8_lossy(s))))
}

/// Looks the program up inside the container (after `pivot_root`), as the container's user.
pub fn resolve(process: &Process) -> Result<Program> {
    resolve_command(
        process.args().as_deref().unwrap_or_default(),
        process.env().as_deref().unwrap_or_default(),
    )
}

/// Looks `args[0]` up on the `PATH` of `env` (or the default one).
pub fn resolve_command(args: &[String], env: &[String]) -> Result<Program> {
    let name = args.first().ok_or_else(|| {
        Error::Spec(
            "no command to run: the image has no Cmd or Entrypoint, and none was given".into(),
        )
    })?;
    let search = env
        .iter()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or(DEFAULT_PATH);
    let path = find_executable(name, search)?;
    Ok(Program {
        path: cstring(path.as_os_str().as_bytes())?,
        argv: args
            .iter()
            .map(|a| cstring(a.as_bytes()))
            .collect::<Result<_>>()?,
        envp: env
            .iter()
            .map(|e| cstring(e.as_bytes()))
            .collect::<Result<_>>()?,
    })
}

fn find_executable(name: &str, search: &str) -> Result<PathBuf> {
    if name.is_empty() {
        return Err(not_found("exec: the command is empty".into()));
    }
    if name.contains('/') {
        let p = PathBuf::from(name);
        return match check(&p) {
            Check::Ok => Ok(p),
            Check::Missing => Err(not_found(format!(
                "exec: {name:?}: no such file or directory"
            ))),
            Check::NotExecutable(why) => Err(cannot_execute(format!("exec: {name:?}: {why}"))),
        };
    }
    let mut unusable = None;
    for dir in search.split(':') {
        let dir = if dir.is_empty() { "." } else { dir };
        let candidate = Path::new(dir).join(name);
        match check(&candidate) {
            Check::Ok => return Ok(candidate),
            Check::Missing => {}
            Check::NotExecutable(why) => {
                unusable.get_or_insert((candidate, why));
            }
        }
    }
    match unusable {
        Some((p, why)) => Err(cannot_execute(format!(
            "exec: {:?}: {why}",
            p.display().to_string()
        ))),
        None => Err(not_found(format!(
            "exec: {name:?}: executable file not found in $PATH"
        ))),
    }
}

enum Check {
    Ok,
    Missing,
    NotExecutable(&'static str),
}

fn check(p: &Path) -> Check {
    match std::fs::metadata(p) {
        Err(_) => Check::Missing,
        Ok(m) if m.is_dir() => Check::NotExecutable("is a directory"),
        Ok(_) => {
            let Ok(c) = CString::new(p.as_os_str().as_bytes()) else {
                return Check::Missing;
            };
            // SAFETY: valid string.
            if unsafe { libc::access(c.as_ptr(), libc::X_OK) } == 0 {
                Check::Ok
            } else {
                Check::NotExecutable("permission denied")
            }
        }
    }
}

/// Replaces this process with the program; returns only on failure.
pub fn exec(program: &Program) -> Error {
    let argv: Vec<*const libc::c_char> = program
        .argv
        .iter()
        .map(|a| a.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();
    let envp: Vec<*const libc::c_char> = program
        .envp
        .iter()
        .map(|a| a.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();
    // SAFETY: NUL-terminated arrays of valid strings.
    unsafe { libc::execve(program.path.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
    let e = std::io::Error::last_os_error();
    let message = format!("exec {:?}: {e}", program.path);
    match e.raw_os_error() {
        Some(libc::ENOENT) => not_found(message),
        _ => cannot_execute(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_follows_docker_exit_codes() {
        let err = |r: Result<PathBuf>| r.err().map(|e| e.exit_code());
        assert!(find_executable("sh", "/bin:/usr/bin").is_ok());
        assert_eq!(
            err(find_executable("no-such-program-kist", "/bin:/usr/bin")),
            Some(127)
        );
        assert_eq!(err(find_executable("/no/such/file", "/bin")), Some(127));
        assert_eq!(err(find_executable("/etc", "/bin")), Some(126));
        assert_eq!(err(find_executable("/etc/passwd", "/bin")), Some(126));
        assert_eq!(err(find_executable("passwd", "/etc")), Some(126));
    }
}
