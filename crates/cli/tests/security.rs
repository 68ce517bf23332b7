//! A default container cannot touch the host: what an attacker would try from inside, and the
//! kernel's refusal. Every probe asks for permission without doing the harmful thing (NULL or
//! invalid arguments, `access(W_OK)`, read-only opens closed at once), so that a regression
//! shows as a failed test, never as a changed host.

mod common;

use common::{Kist, probe_volume};

/// Docker's 14 default capabilities as /proc/PID/status shows them.
const DOCKER_CAPS: &str = "00000000a80425fb";

fn status_field(status: &str, field: &str) -> String {
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("no {field} in {status}"))
        .trim()
        .to_string()
}

fn own_bounding_set() -> String {
    status_field(
        &std::fs::read_to_string("/proc/self/status").unwrap(),
        "CapBnd",
    )
}

#[test]
#[ignore = "needs root"]
fn a_default_container_has_docker_s_capabilities_seccomp_and_no_more() {
    let k = Kist::with_busybox();
    let status = k.ok(&["run", "--rm", "busybox", "cat", "/proc/self/status"]);
    for set in ["CapBnd", "CapEff", "CapPrm"] {
        assert_eq!(status_field(&status, set), DOCKER_CAPS, "{set}");
    }
    assert_eq!(status_field(&status, "CapInh"), "0000000000000000");
    assert_eq!(status_field(&status, "CapAmb"), "0000000000000000");
    assert_eq!(status_field(&status, "Seccomp"), "2", "a seccomp filter");
    assert_eq!(status_field(&status, "NoNewPrivs"), "0", "Docker's default");

    // Another user: nothing in effect, the same bounding set.
    let status = k.ok(&[
        "run",
        "--rm",
        "-u",
        "1000",
        "busybox",
        "cat",
        "/proc/self/status",
    ]);
    assert_eq!(status_field(&status, "CapEff"), "0000000000000000");
    assert_eq!(status_field(&status, "CapPrm"), "0000000000000000");
    assert_eq!(status_field(&status, "CapBnd"), DOCKER_CAPS);

    let status = k.ok(&[
        "run",
        "--rm",
        "--security-opt",
        "no-new-privileges",
        "busybox",
        "cat",
        "/proc/self/status",
    ]);
    assert_eq!(status_field(&status, "NoNewPrivs"), "1");
    assert_eq!(status_field(&status, "Seccomp"), "2");

    // exec applies the container's sets and filter too.
    let id = k.ok(&[
        "run",
        "-d",
        "--cap-drop",
        "NET_RAW",
        "busybox",
        "sleep",
        "60",
    ]);
    let id = id.trim();
    let status = k.ok(&["exec", id, "cat", "/proc/self/status"]);
    assert_eq!(
        status_field(&status, "CapEff"),
        "00000000a80405fb",
        "NET_RAW dropped"
    );
    assert_eq!(status_field(&status, "Seccomp"), "2");
    k.ok(&["rm", "-f", id]);
}

/// Runs the probe (or a shell line) in a container with `flags`; returns stdout.
fn probe(k: &Kist, flags: &[&str], script: &str) -> String {
    let volume = probe_volume();
    let mut args = vec!["run", "--rm", "-v", &volume];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["busybox", "sh", "-c", script]);
    k.ok(&args)
}

const ATTACKS: &str = r#"
for p in settimeofday keyctl unshare-user unshare-mount mount finit_module; do
  echo "$p $(/probe/probe $p)"
done
mkdir -p /tmp/m
mount -t tmpfs none /tmp/m 2>/dev/null && { umount /tmp/m; echo "tmpfs-mount ok"; } || echo "tmpfs-mount refused"
mount -t cgroup -o memory cgroup /tmp/m 2>/dev/null && { umount /tmp/m; echo "cgroup-mount ok"; } || echo "cgroup-mount refused"
umount /proc/acpi 2>/dev/null && echo "mask-umount ok" || echo "mask-umount refused"
mount -o remount,rw /proc/sys 2>/dev/null && echo "procsys-remount ok" || echo "procsys-remount refused"
echo "core_pattern $(/probe/probe write-access /proc/sys/kernel/core_pattern)"
echo "drop_caches $(/probe/probe write-access /proc/sys/vm/drop_caches)"
mknod /tmp/loop b 7 0 && echo "loop $(/probe/probe open /tmp/loop)"
mknod /tmp/kmsg c 1 11 && echo "kmsg $(/probe/probe open /tmp/kmsg)"
echo "null $(/probe/probe open /dev/null)"
echo "personality-ok $(/probe/probe personality-ok)"
echo "personality-bad $(/probe/probe personality-bad)"
echo "newer-syscall $(/probe/probe newer-syscall)"
"#;

fn result<'a>(out: &'a str, what: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{what} ")))
        .unwrap_or_else(|| panic!("no {what} in {out}"))
}

#[test]
#[ignore = "needs root"]
fn what_an_attacker_tries_from_a_default_container_is_refused() {
    let k = Kist::with_busybox();
    let out = probe(&k, &[], ATTACKS);
    for denied in [
        "settimeofday",
        "keyctl",
        "unshare-user",
        "unshare-mount",
        "mount",
        "finit_module",
        "loop",
        "kmsg",
        "personality-bad",
    ] {
        assert_eq!(result(&out, denied), "EPERM", "{denied}: {out}");
    }
    for refused in [
        "tmpfs-mount",
        "cgroup-mount",
        "mask-umount",
        "procsys-remount",
    ] {
        assert_eq!(result(&out, refused), "refused", "{refused}: {out}");
    }
    assert_eq!(result(&out, "core_pattern"), "EROFS", "{out}");
    assert_eq!(result(&out, "drop_caches"), "EROFS", "{out}");
    assert_eq!(result(&out, "null"), "ok", "{out}");
    assert_eq!(result(&out, "personality-ok"), "ok", "{out}");
    // A syscall newer than the profile: ENOSYS, so that a libc falls back (moby#42871).
    assert_eq!(result(&out, "newer-syscall"), "ENOSYS", "{out}");
}

#[test]
#[ignore = "needs root"]
fn privileged_and_cap_add_loosen_what_they_should() {
    let k = Kist::with_busybox();
    let out = probe(&k, &["--cap-add", "SYS_ADMIN"], ATTACKS);
    assert_eq!(result(&out, "unshare-mount"), "ok", "{out}");
    assert_eq!(result(&out, "tmpfs-mount"), "ok", "{out}");
    // The kernel saw the mount (and refused the made-up filesystem type).
    assert_eq!(result(&out, "mount"), "ENODEV", "{out}");
    assert_eq!(result(&out, "settimeofday"), "EPERM", "{out}");
    // Devices stay closed without --privileged.
    assert_eq!(result(&out, "kmsg"), "EPERM", "{out}");

    let out = probe(&k, &["--cap-add", "SYS_TIME"], ATTACKS);
    // settimeofday(NULL, NULL) is a permission check that sets nothing.
    assert_eq!(result(&out, "settimeofday"), "ok", "{out}");

    let out = probe(
        &k,
        &["--privileged"],
        &format!(
            "grep -E '^(CapEff|Seccomp):' /proc/self/status\n{ATTACKS}\nls /dev/kmsg\ngrep -c ' /proc/acpi ' /proc/self/mountinfo || true"
        ),
    );
    let status = out.clone();
    assert_eq!(status_field(&status, "CapEff"), own_bounding_set(), "{out}");
    assert_eq!(status_field(&status, "Seccomp"), "0", "{out}");
    assert_eq!(
        result(&out, "core_pattern"),
        "ok",
        "/proc/sys is writable: {out}"
    );
    assert_eq!(result(&out, "kmsg"), "ok", "{out}");
    assert!(out.contains("/dev/kmsg"), "the host's devices: {out}");
    assert!(out.trim_end().ends_with('0'), "no masks: {out}");
}

#[test]
#[ignore = "needs root"]
fn masks_are_the_host_s_null_device_even_under_a_planted_dev() {
    let k = Kist::with_busybox();
    // CVE-2025-31133: a /dev volume whose null points at the host's core_pattern.
    let dev = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("/proc/sys/kernel/core_pattern", dev.path().join("null")).unwrap();
    let volume = format!("{}:/dev", dev.path().display());
    let out = probe(
        &k,
        &["-v", &volume],
        "stat -c '%F %t:%T' /proc/timer_list /proc/keys; wc -c < /proc/timer_list; \
         echo \"write $(/probe/probe write-access /proc/timer_list)\"",
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "character special file 1:3", "{out}");
    assert_eq!(lines[1], "character special file 1:3", "{out}");
    assert_eq!(lines[2].trim(), "0", "{out}");
    // Writable or not, it is /dev/null: never the host's core_pattern.
    assert!(
        std::fs::read_to_string("/proc/sys/kernel/core_pattern").is_ok(),
        "the host's core_pattern is untouched"
    );
}

/// The host path of the kist binary the tests run.
fn host_kist() -> String {
    std::fs::canonicalize(common::KIST)
        .unwrap()
        .display()
        .to_string()
}

#[test]
#[ignore = "needs root"]
fn init_runs_from_a_sealed_binary() {
    let k = Kist::with_busybox();
    let out = k.ok(&[
        "run",
        "--rm",
        "--init",
        "busybox",
        "sh",
        "-c",
        "readlink /proc/1/exe; tr '\\0' ' ' < /proc/1/cmdline; echo; \
         (exec 3<>/proc/1/exe) 2>&1 || true",
    ]);
    let lines: Vec<&str> = out.lines().collect();
    assert_ne!(lines[0], host_kist(), "{out}");
    assert!(!lines[0].contains("/target/"), "{out}");
    assert!(lines[1].starts_with("kist-init -- sh -c"), "{out}");
    assert!(lines[2].contains("Read-only file system"), "{out}");
}

const WATCHER: &str = r#"
while :; do
  for p in /proc/[0-9]*; do
    n=${p#/proc/}
    [ "$n" = 1 ] && continue
    e=$(readlink $p/exe 2>/dev/null) || continue
    case "$e" in /bin/*|/usr/*|"") continue;; esac
    echo "exe $e" >> /tmp/seen
    ls -l $p/fd/ 2>/dev/null | sed 's/^/fd /' >> /tmp/seen
  done
done
"#;

/// Runs a container whose process watches every other process's exe and descriptors while
/// kist execs into it `times` times (stopping early once `enough` holds); what it saw.
fn watch_execs(k: &Kist, flags: &[&str], times: usize, enough: impl Fn(&str) -> bool) -> String {
    let mut args = vec!["run", "-d"];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["busybox", "sh", "-c", WATCHER]);
    let id = k.ok(&args);
    let id = id.trim();
    let mut seen = String::new();
    for i in 1..=times {
        k.ok(&["exec", id, "true"]);
        if i % 20 == 0 {
            seen = k.ok(&["exec", id, "sh", "-c", "cat /tmp/seen 2>/dev/null || true"]);
            if enough(&seen) {
                break;
            }
        }
    }
    k.ok(&["rm", "-f", id]);
    seen
}

/// With CAP_SYS_PTRACE the watcher may look at exec children during their set-up: it sees
/// kist's sealed binary, never a host file, and none of kist's descriptors (store, signalfd,
/// pidfd). Without it (the default), exec children are non-dumpable: it sees nothing.
#[test]
#[ignore = "needs root"]
fn exec_children_show_no_host_binary_and_no_kist_descriptor() {
    let k = Kist::with_busybox();
    let seen = watch_execs(&k, &["--cap-add", "SYS_PTRACE"], 300, |s| {
        s.contains("exe /kist")
    });
    assert!(
        seen.contains("exe /kist"),
        "the watcher never saw an exec child: the test proves nothing ({seen})"
    );
    let host = host_kist();
    for line in seen.lines() {
        assert!(!line.contains(&host), "a host binary: {line}");
        for kists in ["kist.db", "signalfd", "pidfd", "kist-test-"] {
            assert!(!line.contains(kists), "a descriptor of kist's: {line}");
        }
    }
    let seen = watch_execs(&k, &[], 100, |_| false);
    assert!(
        !seen.contains("exe "),
        "a default container saw an exec child: {seen}"
    );
}

#[test]
#[ignore = "needs root"]
fn bad_security_flags_get_one_line_and_create_nothing() {
    let k = Kist::with_busybox();
    let profile = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(profile.path(), "{ not json").unwrap();
    let bad_profile = format!("seccomp={}", profile.path().display());
    for (args, says) in [
        (vec!["--cap-add", "NET_FLY"], "unknown capability"),
        (vec!["--cap-drop", "BOGUS"], "unknown capability"),
        (
            vec!["--security-opt", "seccomp=/no/such.json"],
            "seccomp profile",
        ),
        (
            vec!["--security-opt", &bad_profile],
            "invalid seccomp profile",
        ),
        (vec!["--security-opt", "whatever"], "invalid --security-opt"),
        (
            vec!["--sysctl", "kernel.core_pattern=|/x"],
            "not namespaced",
        ),
        (
            vec!["--sysctl", "net.ipv4.ip_forward=1", "--network", "host"],
            "net.*",
        ),
        (vec!["--device", "/etc/passwd"], "is not a device"),
        (vec!["--device", "/dev/null:/dev/n:rwx"], "permissions"),
        (vec!["--group-add", "nosuchgroup"], "unable to find group"),
    ] {
        let mut full = vec!["run", "--rm"];
        full.extend_from_slice(&args);
        full.extend_from_slice(&["busybox", "true"]);
        let err = k.fails(&full, 125);
        assert!(err.contains(says), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: one line: {err}");
    }
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn sysctls_devices_and_groups_reach_the_container() {
    let k = Kist::with_busybox();
    let out = k.ok(&[
        "run",
        "--rm",
        "--sysctl",
        "net.ipv4.ip_forward=1",
        "--sysctl",
        "kernel.shmmax=123456",
        "--device",
        "/dev/zero:/dev/myzero:r",
        "--group-add",
        "daemon",
        "--group-add",
        "4242",
        "busybox",
        "sh",
        "-c",
        "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax; \
         stat -c '%F %t:%T' /dev/myzero; id -G",
    ]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "1");
    assert_eq!(lines[1], "123456");
    assert_eq!(lines[2], "character special file 1:5");
    assert!(
        lines[3].split(' ').any(|g| g == "1") && lines[3].contains("4242"),
        "{out}"
    );
    // The host's own values are untouched.
    assert_ne!(
        std::fs::read_to_string("/proc/sys/kernel/shmmax")
            .unwrap()
            .trim(),
        "123456"
    );
}

#[test]
#[ignore = "needs root"]
fn inspect_shows_the_security_settings() {
    let k = Kist::with_busybox();
    let id = k.ok(&[
        "run",
        "-d",
        "--cap-add",
        "net_admin",
        "--cap-drop",
        "CAP_CHOWN",
        "--security-opt",
        "no-new-privileges",
        "--device",
        "/dev/null:/dev/n2",
        "busybox",
        "sleep",
        "60",
    ]);
    let id = id.trim();
    let hc = k.ok(&["inspect", "-f", "{{json .HostConfig}}", id]);
    let hc: serde_json::Value = serde_json::from_str(&hc).unwrap();
    assert_eq!(hc["CapAdd"], serde_json::json!(["CAP_NET_ADMIN"]));
    assert_eq!(hc["CapDrop"], serde_json::json!(["CAP_CHOWN"]));
    assert_eq!(hc["Privileged"], false);
    assert_eq!(hc["SecurityOpt"], serde_json::json!(["no-new-privileges"]));
    assert_eq!(hc["Devices"][0]["PathInContainer"], "/dev/n2");
    assert_eq!(hc["Devices"][0]["CgroupPermissions"], "rwm");
    k.ok(&["rm", "-f", id]);
}

#[test]
#[ignore = "needs root"]
fn another_user_of_the_host_reads_no_store_file() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let k = Kist::with_busybox();
    let id = k.ok(&[
        "run",
        "-d",
        "-e",
        "SECRET=hunter2",
        "busybox",
        "sh",
        "-c",
        "echo out; sleep 60",
    ]);
    let id = id.trim();
    let dir = k.path().join("containers").join(id);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(k.path()), 0o700, "the root");
    assert_eq!(mode(&k.path().join("run")), 0o700, "the runtime root");
    for file in [
        k.path().join("kist.db"),
        dir.join("launch.json"),
        dir.join(format!("{id}-json.log")),
    ] {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
        // As nobody: a permission probe, nothing read.
        let readable = std::process::Command::new("test")
            .arg("-r")
            .arg(&file)
            .uid(65534)
            .gid(65534)
            .status()
            .unwrap()
            .success();
        assert!(!readable, "nobody can read {}", file.display());
    }
    k.ok(&["rm", "-f", id]);
}

#[test]
#[ignore = "needs root"]
fn devices_are_confined_by_the_cgroup_on_v1_and_by_a_program_on_v2() {
    let k = Kist::with_busybox();
    let id = k.ok(&["run", "-d", "busybox", "sleep", "60"]);
    let id = id.trim();
    let list = k.cgroup_file("devices", id, "devices.list");
    assert!(!list.contains("a *:* rwm"), "deny all first: {list}");
    assert!(list.lines().any(|l| l == "c 1:3 rwm"), "{list}");
    assert!(list.lines().any(|l| l == "c *:* m"), "{list}");
    k.ok(&["rm", "-f", id]);

    let k2 = Kist::with_busybox().with_env("KIST_CGROUP_VERSION", "2");
    let script = "mknod /tmp/loop b 7 0 && echo \"loop $(/probe/probe open /tmp/loop)\"\n\
                  mknod /tmp/kmsg c 1 11 && echo \"kmsg $(/probe/probe open /tmp/kmsg)\"\n\
                  echo \"null $(/probe/probe open /dev/null)\"";
    let out = probe(&k2, &[], script);
    assert_eq!(result(&out, "loop"), "EPERM", "{out}");
    assert_eq!(result(&out, "kmsg"), "EPERM", "{out}");
    assert_eq!(result(&out, "null"), "ok", "{out}");
}
