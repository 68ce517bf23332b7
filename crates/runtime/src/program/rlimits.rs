//! The spec's `process.rlimits` (`--ulimit`), by their OCI names.

use crate::error::{Error, Result, SysContext, cvt};

/// The spec's rlimits (`--ulimit`), set while still root: raising a hard limit needs it.
pub(crate) fn set_rlimits(process: &oci_spec::runtime::Process) -> Result<()> {
    for r in process.rlimits().as_deref().unwrap_or_default() {
        let name = serde_json::to_value(r.typ())
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        let resource = match name.as_str() {
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
        };
        let limit = libc::rlimit {
            rlim_cur: r.soft(),
            rlim_max: r.hard(),
        };
        // SAFETY: setrlimit with a valid struct.
        cvt(unsafe { libc::setrlimit(resource, &limit) }).sys(|| format!("setting {name}"))?;
    }
    Ok(())
}
