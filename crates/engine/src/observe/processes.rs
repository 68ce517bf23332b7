//! `kist top`: a running container's processes, found as those in its cgroup and PID
//! namespace, or only its cgroup when it shares the namespace (`--pid host`, `--pid
//! container:X`).

use crate::error::{IoContext, Result};

use crate::state::store::ContainerRecord;

/// The processes of a running container, as rows of UID, PID, PPID, CMD (host PIDs, as
/// Docker shows them).
pub fn top(c: &ContainerRecord) -> Result<Vec<[String; 4]>> {
    let pid = crate::container::lifecycle::running_process(c)?.pid;
    let config: serde_json::Value = serde_json::from_str(&c.config).unwrap_or_default();
    let shares_pid = config["PidMode"].as_str().is_some_and(|m| !m.is_empty());
    // What its processes have in common: its cgroup (as runc's `ps` finds them), and its PID
    // namespace unless that is shared (a joiner's processes are in it, but not its own).
    let mark = |p: i32| -> Option<String> {
        let cgroup = std::fs::read_to_string(format!("/proc/{p}/cgroup")).ok()?;
        if shares_pid {
            return Some(cgroup);
        }
        let ns = std::fs::read_link(format!("/proc/{p}/ns/pid")).ok()?;
        Some(format!("{}\n{cgroup}", ns.display()))
    };
    let ns = mark(pid).ok_or_else(|| {
        crate::error::Error::sys("reading the namespace and cgroup of the container's process")(
            std::io::Error::from_raw_os_error(libc::ESRCH),
        )
    })?;
    let mut rows = Vec::new();
    for entry in std::fs::read_dir("/proc")
        .ctx("listing", "/proc")?
        .flatten()
    {
        let Some(p) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        if mark(p).as_ref() != Some(&ns) {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
            continue;
        };
        let after = &stat[stat.rfind(')').map_or(0, |i| i + 1)..];
        let ppid = after.split_whitespace().nth(1).unwrap_or("0").to_string();
        let uid = std::fs::read_to_string(format!("/proc/{p}/status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("Uid:"))
                    .and_then(|l| l.split_whitespace().nth(1).map(String::from))
            })
            .unwrap_or_default();
        let cmd = std::fs::read(format!("/proc/{p}/cmdline"))
            .map(|c| {
                String::from_utf8_lossy(&c)
                    .split('\0')
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default();
        rows.push([uid, p.to_string(), ppid, cmd]);
    }
    rows.sort_by_key(|r| r[1].parse::<i32>().unwrap_or(0));
    Ok(rows)
}
