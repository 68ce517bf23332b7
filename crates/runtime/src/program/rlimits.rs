//! The spec's `process.rlimits` (`--ulimit`), read by their OCI names before any is set.

use crate::error::{Error, Result};

/// One of the spec's rlimits, ready for setrlimit(2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rlimit {
    /// Its OCI name (`RLIMIT_NOFILE`), for errors.
    pub name: String,
    pub resource: libc::__rlimit_resource_t,
    pub soft: libc::rlim_t,
    pub hard: libc::rlim_t,
}

/// The spec's rlimits, each checked to be one the kernel has.
pub(crate) fn of(process: &oci_spec::runtime::Process) -> Result<Vec<Rlimit>> {
    process
        .rlimits()
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(|r| {
            let name = serde_json::to_value(r.typ())
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default();
            Ok(Rlimit {
                resource: resource(&name)?,
                soft: r.soft(),
                hard: r.hard(),
                name,
            })
        })
        .collect()
}

fn resource(name: &str) -> Result<libc::__rlimit_resource_t> {
    Ok(match name {
        "RLIMIT_NOFILE" => libc::RLIMIT_NOFILE,
        "RLIMIT_NPROC" => libc::RLIMIT_NPROC,
        "RLIMIT_CORE" => libc::RLIMIT_CORE,
        "RLIMIT_STACK" => libc::RLIMIT_STACK,
        "RLIMIT_MEMLOCK" => libc::RLIMIT_MEMLOCK,
        "RLIMIT_FSIZE" => libc::RLIMIT_FSIZE,
        "RLIMIT_CPU" => libc::RLIMIT_CPU,
        "RLIMIT_DATA" => libc::RLIMIT_DATA,
        "RLIMIT_AS" => libc::RLIMIT_AS,
        "RLIMIT_LOCKS" => libc::RLIMIT_LOCKS,
        "RLIMIT_SIGPENDING" => libc::RLIMIT_SIGPENDING,
        "RLIMIT_MSGQUEUE" => libc::RLIMIT_MSGQUEUE,
        "RLIMIT_NICE" => libc::RLIMIT_NICE,
        "RLIMIT_RTPRIO" => libc::RLIMIT_RTPRIO,
        "RLIMIT_RTTIME" => libc::RLIMIT_RTTIME,
        "RLIMIT_RSS" => libc::RLIMIT_RSS,
        other => return Err(Error::Spec(format!("unknown rlimit {other:?}"))),
    })
}
