//! OCI mount options (`ro`, `nosuid`, `rbind`, `mode=755`, ...) turned into mount(2) arguments.

use libc::c_ulong;

/// What a spec mount's option list asks of mount(2).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct MountOptions {
    /// MS_* flags for the mount itself (MS_RDONLY, MS_NOSUID, ...).
    pub flags: c_ulong,
    /// MS_PRIVATE, MS_SLAVE, ... (with MS_REC), applied by a separate call.
    pub propagation: c_ulong,
    /// Filesystem-specific options, comma-separated (`mode=755,size=65536k`).
    pub data: String,
    pub bind: bool,
    pub recursive: bool,
    /// Seed an empty bind source from the image: see `crate::COPY_UP_OPTION`.
    pub copy_up: bool,
}

impl MountOptions {
    pub fn parse(options: &[String], typ: Option<&str>) -> MountOptions {
        let mut out = MountOptions {
            bind: typ == Some("bind"),
            ..Default::default()
        };
        let mut data = Vec::new();
        for opt in options {
            let o = opt.as_str();
            if let Some((set, flag)) = flag_of(o) {
                if set {
                    out.flags |= flag;
                } else {
                    out.flags &= !flag;
                }
                continue;
            }
            if let Some(p) = propagation_of(o) {
                out.propagation |= p;
                continue;
            }
            match o {
                "bind" => out.bind = true,
                "rbind" => {
                    out.bind = true;
                    out.recursive = true;
                }
                crate::COPY_UP_OPTION => out.copy_up = true,
                _ => data.push(o),
            }
        }
        out.data = data.join(",");
        out
    }
}

fn flag_of(o: &str) -> Option<(bool, c_ulong)> {
    Some(match o {
        "ro" => (true, libc::MS_RDONLY),
        "rw" => (false, libc::MS_RDONLY),
        "nosuid" => (true, libc::MS_NOSUID),
        "suid" => (false, libc::MS_NOSUID),
        "nodev" => (true, libc::MS_NODEV),
        "dev" => (false, libc::MS_NODEV),
        "noexec" => (true, libc::MS_NOEXEC),
        "exec" => (false, libc::MS_NOEXEC),
        "sync" => (true, libc::MS_SYNCHRONOUS),
        "async" => (false, libc::MS_SYNCHRONOUS),
        "noatime" => (true, libc::MS_NOATIME),
        "atime" => (false, libc::MS_NOATIME),
        "nodiratime" => (true, libc::MS_NODIRATIME),
        "diratime" => (false, libc::MS_NODIRATIME),
        "relatime" => (true, libc::MS_RELATIME),
        "norelatime" => (false, libc::MS_RELATIME),
        "strictatime" => (true, libc::MS_STRICTATIME),
        "nostrictatime" => (false, libc::MS_STRICTATIME),
        "mand" => (true, libc::MS_MANDLOCK),
        "nomand" => (false, libc::MS_MANDLOCK),
        "dirsync" => (true, libc::MS_DIRSYNC),
        "remount" => (true, libc::MS_REMOUNT),
        "defaults" => (false, 0),
        _ => return None,
    })
}

fn propagation_of(o: &str) -> Option<c_ulong> {
    Some(match o {
        "private" => libc::MS_PRIVATE,
        "rprivate" => libc::MS_PRIVATE | libc::MS_REC,
        "shared" => libc::MS_SHARED,
        "rshared" => libc::MS_SHARED | libc::MS_REC,
        "slave" => libc::MS_SLAVE,
        "rslave" => libc::MS_SLAVE | libc::MS_REC,
        "unbindable" => libc::MS_UNBINDABLE,
        "runbindable" => libc::MS_UNBINDABLE | libc::MS_REC,
        _ => return None,
    })
}

/// The propagation named by `linux.rootfsPropagation`.
pub fn rootfs_propagation(name: Option<&str>) -> c_ulong {
    name.and_then(propagation_of)
        .unwrap_or(libc::MS_PRIVATE | libc::MS_REC)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(list: &[&str], typ: Option<&str>) -> MountOptions {
        MountOptions::parse(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>(), typ)
    }

    #[test]
    fn flags_data_and_binds() {
        let o = opts(
            &["nosuid", "strictatime", "mode=755", "size=65536k"],
            Some("tmpfs"),
        );
        assert_eq!(o.flags, libc::MS_NOSUID | libc::MS_STRICTATIME);
        assert_eq!(o.data, "mode=755,size=65536k");
        assert!(!o.bind);

        let o = opts(&["rbind", "ro", "rprivate"], None);
        assert!(o.bind && o.recursive);
        assert_eq!(o.flags, libc::MS_RDONLY);
        assert_eq!(o.propagation, libc::MS_PRIVATE | libc::MS_REC);

        let o = opts(&["ro", "rw", crate::COPY_UP_OPTION], Some("bind"));
        assert!(o.bind && o.copy_up && !o.recursive);
        assert_eq!(o.flags, 0);
        assert_eq!(o.data, "");
    }

    #[test]
    fn root_propagation_defaults_to_rprivate() {
        assert_eq!(rootfs_propagation(None), libc::MS_PRIVATE | libc::MS_REC);
        assert_eq!(
            rootfs_propagation(Some("rslave")),
            libc::MS_SLAVE | libc::MS_REC
        );
    }
}
