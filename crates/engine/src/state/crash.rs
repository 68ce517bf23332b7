//! Crash points for tests: at each named point of its work, kist kills itself with SIGKILL if
//! `KIST_CRASH_AT` names that point, exactly as a `kill -9` or a power cut would, so that tests
//! can check what the next command makes of every half-done state. Unset, it costs a getenv.

pub const ENV: &str = "KIST_CRASH_AT";

pub fn point(name: &str) {
    if std::env::var_os(ENV).is_some_and(|v| v == name) {
        // SAFETY: signalling ourselves.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
    }
}
