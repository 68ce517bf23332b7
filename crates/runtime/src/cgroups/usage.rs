//! What a cgroup has used, read from its files the way `docker stats` reports it.

use std::path::Path;

/// Counters of one container's cgroup at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Usage {
    /// CPU time of all its processes, in nanoseconds, since the cgroup was made.
    pub cpu_ns: u64,
    /// Memory in use, less the inactive file cache, as Docker counts it.
    pub memory: u64,
    /// The memory limit, if there is one.
    pub memory_limit: Option<u64>,
    pub pids: u64,
    pub io_read: u64,
    pub io_write: u64,
}

fn read(dir: &Path, file: &str) -> Option<String> {
    std::fs::read_to_string(dir.join(file)).ok()
}

fn number(text: Option<String>) -> u64 {
    text.and_then(|t| t.trim().parse().ok()).unwrap_or(0)
}

/// The value of `key` in a flat-keyed file such as memory.stat or cpu.stat.
fn keyed(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok())?
    })
}

/// A limit file's value, None for "max" or v1's "no limit" (a huge page-rounded number).
fn limit(text: Option<String>) -> Option<u64> {
    let n: u64 = text?.trim().parse().ok()?;
    (n < 1 << 62).then_some(n)
}

/// Reads v1 counters: each from its controller's directory, when that hierarchy is used.
pub(crate) fn v1(dir_of: impl Fn(&str) -> Option<std::path::PathBuf>) -> Usage {
    let mut u = Usage::default();
    if let Some(d) = dir_of("cpuacct") {
        u.cpu_ns = number(read(&d, "cpuacct.usage"));
    }
    if let Some(d) = dir_of("memory") {
        let usage = number(read(&d, "memory.usage_in_bytes"));
        let inactive = read(&d, "memory.stat")
            .and_then(|s| keyed(&s, "total_inactive_file"))
            .unwrap_or(0);
        u.memory = usage.saturating_sub(inactive);
        u.memory_limit = limit(read(&d, "memory.limit_in_bytes"));
    }
    if let Some(d) = dir_of("pids") {
        u.pids = number(read(&d, "pids.current"));
    }
    if let Some(d) = dir_of("blkio") {
        // "8:0 Read 4096" lines, one per device and operation, then a "Total".
        for line in read(&d, "blkio.throttle.io_service_bytes_recursive")
            .unwrap_or_default()
            .lines()
        {
            let mut f = line.split_whitespace();
            let (Some(_device), Some(op), Some(n)) = (f.next(), f.next(), f.next()) else {
                continue;
            };
            let n: u64 = n.parse().unwrap_or(0);
            match op {
                "Read" => u.io_read += n,
                "Write" => u.io_write += n,
                _ => {}
            }
        }
    }
    u
}

/// Reads v2 counters from the container's one directory.
pub(crate) fn v2(dir: &Path) -> Usage {
    let mut u = Usage::default();
    if let Some(stat) = read(dir, "cpu.stat") {
        u.cpu_ns = keyed(&stat, "usage_usec").unwrap_or(0) * 1000;
    }
    let current = number(read(dir, "memory.current"));
    let inactive = read(dir, "memory.stat")
        .and_then(|s| keyed(&s, "inactive_file"))
        .unwrap_or(0);
    u.memory = current.saturating_sub(inactive);
    u.memory_limit = limit(read(dir, "memory.max"));
    u.pids = number(read(dir, "pids.current"));
    // "8:0 rbytes=4096 wbytes=0 rios=1 wios=0 ..." per device.
    for line in read(dir, "io.stat").unwrap_or_default().lines() {
        for field in line.split_whitespace().skip(1) {
            match field.split_once('=') {
                Some(("rbytes", n)) => u.io_read += n.parse::<u64>().unwrap_or(0),
                Some(("wbytes", n)) => u.io_write += n.parse::<u64>().unwrap_or(0),
                _ => {}
            }
        }
    }
    u
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    #[test]
    fn v2_counters_from_a_scratch_hierarchy() {
        let d = scratch(&[
            (
                "cpu.stat",
                "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n",
            ),
            ("memory.current", "10485760\n"),
            (
                "memory.stat",
                "anon 4096\nfile 8192\ninactive_file 2097152\n",
            ),
            ("memory.max", "67108864\n"),
            ("pids.current", "3\n"),
            (
                "io.stat",
                "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n8:16 rbytes=1 wbytes=0 rios=1 wios=0\n",
            ),
        ]);
        assert_eq!(
            v2(d.path()),
            Usage {
                cpu_ns: 1_500_000,
                memory: 8_388_608,
                memory_limit: Some(67_108_864),
                pids: 3,
                io_read: 4097,
                io_write: 8192,
            }
        );
    }

    #[test]
    fn v2_max_is_no_limit() {
        let d = scratch(&[("memory.max", "max\n")]);
        assert_eq!(v2(d.path()).memory_limit, None);
    }

    #[test]
    fn v1_counters_from_each_controller() {
        let d = scratch(&[
            ("cpuacct.usage", "123456789\n"),
            ("memory.usage_in_bytes", "5000000\n"),
            ("memory.stat", "cache 100\ntotal_inactive_file 1000000\n"),
            ("memory.limit_in_bytes", "9223372036854771712\n"),
            ("pids.current", "1\n"),
            (
                "blkio.throttle.io_service_bytes_recursive",
                "8:0 Read 100\n8:0 Write 50\n8:0 Sync 150\n8:0 Total 150\nTotal 150\n",
            ),
        ]);
        let path = d.path().to_path_buf();
        let u = v1(|_| Some(path.clone()));
        assert_eq!(
            u,
            Usage {
                cpu_ns: 123_456_789,
                memory: 4_000_000,
                memory_limit: None,
                pids: 1,
                io_read: 100,
                io_write: 50,
            }
        );
    }
}
