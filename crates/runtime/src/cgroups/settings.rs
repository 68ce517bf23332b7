//! What the spec's `linux.resources` means as cgroup files, for v1 and for v2: pure
//! translation, so it is tested without a kernel.

use oci_spec::runtime::LinuxResources;

/// One value for one cgroup file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Setting {
    /// The controller that owns the file (on v1, the hierarchy it is found in).
    pub controller: &'static str,
    /// The files that can hold the value, the first that exists wins: kernels differ
    /// (`blkio.bfq.weight` where BFQ schedules, `blkio.weight` where CFQ did).
    pub files: &'static [&'static str],
    pub value: String,
    /// A kernel without the file (swap accounting off) skips the setting instead of failing.
    pub optional: bool,
}

fn setting(controller: &'static str, files: &'static [&'static str], value: String) -> Setting {
    Setting {
        controller,
        files,
        value,
        optional: false,
    }
}

/// "max" for the spec's unlimited (-1 or any negative), else the number.
fn limit_or_max(n: i64) -> String {
    if n < 0 { "max".into() } else { n.to_string() }
}

/// The cgroup v1 files for `r`.
pub(crate) fn v1(r: &LinuxResources) -> Vec<Setting> {
    let mut out = Vec::new();
    if let Some(m) = r.memory() {
        if let Some(limit) = m.limit() {
            out.push(setting(
                "memory",
                &["memory.limit_in_bytes"],
                limit.to_string(),
            ));
        }
        if let Some(swap) = m.swap() {
            // Docker's --memory-swap is memory plus swap, as memsw is; absent without swap
            // accounting.
            out.push(Setting {
                optional: true,
                ..setting("memory", &["memory.memsw.limit_in_bytes"], swap.to_string())
            });
        }
        if let Some(reservation) = m.reservation() {
            out.push(setting(
                "memory",
                &["memory.soft_limit_in_bytes"],
                reservation.to_string(),
            ));
        }
        // v1 alone has these two (v2 has no per-cgroup swappiness nor a way to turn the OOM
        // killer off). Kernel memory limits are not set: Linux 6.x takes no kmem limit.
        if let Some(swappiness) = m.swappiness() {
            out.push(setting(
                "memory",
                &["memory.swappiness"],
                swappiness.to_string(),
            ));
        }
        if m.disable_oom_killer() == Some(true) {
            out.push(setting("memory", &["memory.oom_control"], "1".into()));
        }
    }
    if let Some(cpu) = r.cpu() {
        if let Some(shares) = cpu.shares() {
            out.push(setting("cpu", &["cpu.shares"], shares.to_string()));
        }
        if let Some(period) = cpu.period() {
            out.push(setting("cpu", &["cpu.cfs_period_us"], period.to_string()));
        }
        if let Some(quota) = cpu.quota() {
            out.push(setting("cpu", &["cpu.cfs_quota_us"], quota.to_string()));
        }
        if let Some(cpus) = cpu.cpus() {
            out.push(setting("cpuset", &["cpuset.cpus"], cpus.clone()));
        }
        if let Some(mems) = cpu.mems() {
            out.push(setting("cpuset", &["cpuset.mems"], mems.clone()));
        }
    }
    if let Some(p) = r.pids() {
        out.push(setting("pids", &["pids.max"], limit_or_max(p.limit())));
    }
    if let Some(weight) = r.block_io().as_ref().and_then(|b| b.weight()) {
        out.push(setting(
            "blkio",
            &["blkio.bfq.weight", "blkio.weight"],
            weight.to_string(),
        ));
    }
    out
}

/// cgroup v2's cpu.weight (1-10000) for v1's cpu.shares (2-262144), as runc converts.
pub(crate) fn shares_to_weight(shares: u64) -> u64 {
    if shares == 0 {
        return 100;
    }
    1 + (shares.clamp(2, 262_144) - 2) * 9999 / 262_142
}

/// cgroup v2's io.weight (1-10000) for v1's blkio.weight (10-1000).
pub(crate) fn blkio_to_io_weight(weight: u16) -> u64 {
    1 + (u64::from(weight.clamp(10, 1000)) - 10) * 9999 / 990
}

/// The cgroup v2 files for `r`.
pub(crate) fn v2(r: &LinuxResources) -> Vec<Setting> {
    let mut out = Vec::new();
    if let Some(m) = r.memory() {
        if let Some(limit) = m.limit() {
            out.push(setting("memory", &["memory.max"], limit_or_max(limit)));
        }
        // v2 counts swap apart from memory: memory.swap.max is the swap alone.
        if let Some(swap) = m.swap() {
            let value = match m.limit() {
                _ if swap < 0 => "max".to_string(),
                Some(limit) if limit >= 0 => (swap - limit).max(0).to_string(),
                _ => "max".to_string(),
            };
            out.push(Setting {
                optional: true,
                ..setting("memory", &["memory.swap.max"], value)
            });
        }
        if let Some(reservation) = m.reservation() {
            out.push(setting("memory", &["memory.low"], reservation.to_string()));
        }
    }
    if let Some(cpu) = r.cpu() {
        if let Some(shares) = cpu.shares() {
            out.push(setting(
                "cpu",
                &["cpu.weight"],
                shares_to_weight(shares).to_string(),
            ));
        }
        if cpu.quota().is_some() || cpu.period().is_some() {
            let quota = match cpu.quota() {
                Some(q) if q > 0 => q.to_string(),
                _ => "max".into(),
            };
            let period = cpu.period().unwrap_or(100_000);
            out.push(setting("cpu", &["cpu.max"], format!("{quota} {period}")));
        }
        if let Some(cpus) = cpu.cpus() {
            out.push(setting("cpuset", &["cpuset.cpus"], cpus.clone()));
        }
        if let Some(mems) = cpu.mems() {
            out.push(setting("cpuset", &["cpuset.mems"], mems.clone()));
        }
    }
    if let Some(p) = r.pids() {
        out.push(setting("pids", &["pids.max"], limit_or_max(p.limit())));
    }
    if let Some(weight) = r.block_io().as_ref().and_then(|b| b.weight()) {
        out.push(setting(
            "io",
            &["io.weight"],
            format!("default {}", blkio_to_io_weight(weight)),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resources(json: serde_json::Value) -> LinuxResources {
        serde_json::from_value(json).unwrap()
    }

    fn files(settings: &[Setting]) -> Vec<(&str, String)> {
        settings
            .iter()
            .map(|s| (s.files[0], s.value.clone()))
            .collect()
    }

    #[test]
    fn v1_files_take_docker_units_as_they_are() {
        let r = resources(serde_json::json!({
            "memory": {"limit": 67108864, "swap": 134217728, "reservation": 33554432,
                       "swappiness": 10, "disableOOMKiller": true},
            "cpu": {"shares": 512, "period": 50000, "quota": 25000, "cpus": "0-1", "mems": "0"},
            "pids": {"limit": 20},
            "blockIO": {"weight": 300},
        }));
        assert_eq!(
            files(&v1(&r)),
            vec![
                ("memory.limit_in_bytes", "67108864".into()),
                ("memory.memsw.limit_in_bytes", "134217728".into()),
                ("memory.soft_limit_in_bytes", "33554432".into()),
                ("memory.swappiness", "10".into()),
                ("memory.oom_control", "1".into()),
                ("cpu.shares", "512".into()),
                ("cpu.cfs_period_us", "50000".into()),
                ("cpu.cfs_quota_us", "25000".into()),
                ("cpuset.cpus", "0-1".into()),
                ("cpuset.mems", "0".into()),
                ("pids.max", "20".into()),
                ("blkio.bfq.weight", "300".into()),
            ]
        );
    }

    #[test]
    fn v2_files_convert_weights_and_split_swap() {
        let r = resources(serde_json::json!({
            "memory": {"limit": 67108864, "swap": 134217728, "reservation": 33554432},
            "cpu": {"shares": 1024, "period": 100000, "quota": 50000, "cpus": "0"},
            "pids": {"limit": -1},
            "blockIO": {"weight": 500},
        }));
        assert_eq!(
            files(&v2(&r)),
            vec![
                ("memory.max", "67108864".into()),
                ("memory.swap.max", "67108864".into()),
                ("memory.low", "33554432".into()),
                ("cpu.weight", "39".into()),
                ("cpu.max", "50000 100000".into()),
                ("cpuset.cpus", "0".into()),
                ("pids.max", "max".into()),
                ("io.weight", "default 4950".into()),
            ]
        );
    }

    #[test]
    fn v2_unlimited_values_are_max() {
        let r = resources(serde_json::json!({
            "memory": {"limit": -1, "swap": -1},
            "cpu": {"period": 100000},
        }));
        assert_eq!(
            files(&v2(&r)),
            vec![
                ("memory.max", "max".into()),
                ("memory.swap.max", "max".into()),
                ("cpu.max", "max 100000".into()),
            ]
        );
    }

    #[test]
    fn weight_conversions_match_the_ends_of_the_ranges() {
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(262_144), 10_000);
        assert_eq!(blkio_to_io_weight(10), 1);
        assert_eq!(blkio_to_io_weight(1000), 10_000);
    }
}
