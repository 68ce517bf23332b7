//! A container's device rules (`linux.resources.devices`) applied to its cgroup as it is made,
//! before any process is in it: on v1 as lines in the devices hierarchy's `devices.allow` and
//! `devices.deny`, in the spec's order as runc writes them; on v2 as an eBPF program attached to
//! the cgroup's directory (v2 has no devices controller). `update` leaves them alone.

use std::io::Write;
use std::os::fd::AsFd;
use std::path::Path;

use oci_spec::runtime::LinuxResources;

use super::device_policy::Policy;
use super::device_rules::{self, Rule};
use super::{bpf, device_program, io_err};
use crate::error::{Error, Result};

/// Checked rules that restrict something.
#[derive(Debug)]
pub(crate) struct DeviceRules {
    rules: Vec<Rule>,
    policy: Policy,
}

impl DeviceRules {
    /// The rules of `resources`, checked; None when they restrict nothing (none, or a
    /// privileged container's allow-all), so that no devices cgroup or program is made: the
    /// container has what kist's own cgroup has, as it would with the rules.
    pub fn of(resources: Option<&LinuxResources>) -> Result<Option<DeviceRules>> {
        let spec = resources
            .and_then(|r| r.devices().as_deref())
            .unwrap_or_default();
        let rules = device_rules::parse(spec)?;
        let policy = Policy::of(&rules)?;
        Ok((!policy.allows_all()).then_some(DeviceRules { rules, policy }))
    }

    /// Writes the rules into a new cgroup directory of the v1 devices hierarchy. It starts
    /// with its parent's rules; the spec's first rule is normally the reset (`a` denied).
    pub fn write_v1(&self, dir: &Path) -> Result<()> {
        // The kernel takes one rule per write(2): each file is opened once, not once a rule
        // (cgroup files are slow to open; Docker's rules are 12 lines).
        let mut open: Vec<(&str, std::fs::File)> = Vec::with_capacity(2);
        for (name, line) in self.rules.iter().filter_map(Rule::v1_line) {
            let path = dir.join(name);
            let i = match open.iter().position(|(n, _)| *n == name) {
                Some(i) => i,
                None => {
                    let f = std::fs::OpenOptions::new()
                        .write(true)
                        .open(&path)
                        .map_err(|e| io_err("opening", &path, e))?;
                    open.push((name, f));
                    open.len() - 1
                }
            };
            open[i]
                .1
                .write_all(line.as_bytes())
                .map_err(|e| io_err(&format!("writing {line:?} to"), &path, e))?;
        }
        Ok(())
    }

    /// Loads the policy's program and attaches it to the v2 cgroup directory `dir`. The
    /// cgroup keeps it (and frees it when removed); the descriptors are closed here.
    pub fn attach_v2(&self, dir: &Path) -> Result<()> {
        let program = device_program::program(&self.policy);
        let loaded = bpf::load_device_program(&program).map_err(|r| {
            let verifier = r
                .verifier
                .map(|v| format!(" (the verifier: {v})"))
                .unwrap_or_default();
            Error::sys(
                format!(
                    "loading the device rules' eBPF program for the cgroup {}{verifier}",
                    dir.display()
                ),
                r.error,
            )
        })?;
        let cgroup = rustix::fs::open(
            dir,
            rustix::fs::OFlags::RDONLY
                | rustix::fs::OFlags::DIRECTORY
                | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .map_err(|e| io_err("opening the cgroup", dir, e.into()))?;
        bpf::attach_device_program(loaded.as_fd(), cgroup.as_fd()).map_err(|e| {
            Error::sys(
                format!(
                    "attaching the device rules' eBPF program to the cgroup {}",
                    dir.display()
                ),
                e,
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::CString;
    use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};

    use super::*;
    use crate::cgroups::{Cgroup, Version};
    use crate::sys::clone::{Forked, fork_into_namespaces};

    fn assert_root() {
        crate::testing::assert_root("makes cgroups and device nodes");
    }

    /// A cgroup a test made below this process's own, removed when dropped, even when the test
    /// fails (with whatever of the test's own still runs in it).
    struct Scratch(Cgroup);

    impl Scratch {
        fn new(name: &str, version: Version, resources: &LinuxResources) -> Scratch {
            let path = format!("kist-unit-devices-{name}-{}", std::process::id());
            let cgroup = Cgroup::resolve_version(&path, version).unwrap();
            assert!(
                cgroup.dirs().all(|d| !d.exists()),
                "{path} exists already: not ours to use"
            );
            let scratch = Scratch(cgroup);
            scratch.0.create(Some(resources)).unwrap();
            scratch
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = self.0.destroy();
        }
    }

    /// One thing a process in the cgroup tries, prepared before the fork (the child of a
    /// threaded test process may not allocate).
    enum Step {
        Open(CString),
        Mknod(CString, libc::mode_t, u32, u32),
    }

    fn open(path: &Path) -> Step {
        Step::Open(CString::new(path.as_os_str().as_encoded_bytes()).unwrap())
    }

    fn mknod(path: &Path, kind: libc::mode_t, major: u32, minor: u32) -> Step {
        let path = CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        Step::Mknod(path, kind, major, minor)
    }

    /// The errno of each step (0: it worked), as a process of `cgroup` meets them: born in it
    /// on v2, moved in before it starts on v1. Opens are read-only and closed at once, so that
    /// nothing is harmed should the rules not hold.
    fn probe(cgroup: &Cgroup, steps: &[Step]) -> Vec<i32> {
        assert!(steps.len() <= 16);
        let pipe = || {
            let mut fds = [0; 2];
            // SAFETY: pipe2 fills the array with two new descriptors, owned below.
            assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
            // SAFETY: the two descriptors just made, owned by nothing else.
            unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
        };
        let ((go_r, go_w), (out_r, out_w)) = (pipe(), pipe());
        let born_in = cgroup.open_for_clone().unwrap();
        match fork_into_namespaces(0, born_in.as_ref().map(|f| f.as_fd())).unwrap() {
            Forked::Child => {
                let mut results = [0i32; 16];
                let mut go = 0u8;
                // SAFETY: reads a byte into a local; the parent writes it once we are placed.
                if unsafe { libc::read(go_r.as_raw_fd(), (&raw mut go).cast(), 1) } == 1 {
                    for (i, step) in steps.iter().enumerate() {
                        results[i] = run_step(step);
                    }
                }
                // SAFETY: writes the local array; _exit skips the parent's destructors.
                unsafe {
                    libc::write(
                        out_w.as_raw_fd(),
                        results.as_ptr().cast(),
                        std::mem::size_of_val(&results),
                    );
                    libc::_exit(0)
                }
            }
            Forked::Parent { pid, pidfd: _ } => {
                drop((go_r, out_w));
                if born_in.is_none() {
                    cgroup.add(pid).unwrap();
                }
                rustix::io::write(&go_w, &[1]).unwrap();
                let mut buf = [0u8; 64];
                let mut got = 0;
                while got < buf.len() {
                    match rustix::io::read(&out_r, &mut buf[got..]).unwrap() {
                        0 => break,
                        n => got += n,
                    }
                }
                let mut status = 0;
                // SAFETY: our own child.
                unsafe { libc::waitpid(pid, &mut status, 0) };
                assert_eq!(got, buf.len(), "the child died: status {status}");
                buf.chunks(4)
                    .take(steps.len())
                    .map(|c| i32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
                    .collect()
            }
        }
    }

    /// In the child: raw system calls only.
    fn run_step(step: &Step) -> i32 {
        let errno = || std::io::Error::last_os_error().raw_os_error().unwrap_or(-1);
        match step {
            Step::Open(path) => {
                let flags = libc::O_RDONLY | libc::O_CLOEXEC | libc::O_NOCTTY;
                // SAFETY: a NUL-terminated path; the descriptor is closed at once.
                let fd = unsafe { libc::open(path.as_ptr(), flags) };
                if fd < 0 {
                    return errno();
                }
                // SAFETY: the descriptor just opened.
                unsafe { libc::close(fd) };
                0
            }
            Step::Mknod(path, kind, major, minor) => {
                let dev = libc::makedev(*major, *minor);
                // SAFETY: a NUL-terminated path in the test's own temporary directory.
                if unsafe { libc::mknod(path.as_ptr(), *kind | 0o600, dev) } < 0 {
                    return errno();
                }
                0
            }
        }
    }

    fn docker_resources() -> LinuxResources {
        let mut r = LinuxResources::default();
        r.set_devices(Some(device_rules::docker_default_devices()));
        r
    }

    /// Docker's rules, as a process in the cgroup meets them.
    fn check_dockers_defaults(cgroup: &Cgroup) {
        let tmp = tempfile::tempdir().unwrap();
        let t = |n: &str| tmp.path().join(n);
        let steps = [
            open(Path::new("/dev/null")),
            mknod(&t("null"), libc::S_IFCHR, 1, 3),
            open(&t("null")), // device nodes work in this directory: the denials are the rules'
            mknod(&t("kmsg"), libc::S_IFCHR, 1, 11),
            open(&t("kmsg")),
            open(Path::new("/dev/kmsg")),
            mknod(&t("loop0"), libc::S_IFBLK, 7, 0),
            open(&t("loop0")),
            open(Path::new("/dev/loop-control")),
        ];
        let got = probe(cgroup, &steps);
        let eperm = libc::EPERM;
        assert_eq!(got, [0, 0, 0, 0, eperm, eperm, 0, eperm, eperm]);
    }

    /// Without `m`, mknod is denied too.
    fn check_no_mknod(cgroup: &Cgroup) {
        let tmp = tempfile::tempdir().unwrap();
        let steps = [
            open(Path::new("/dev/null")),
            open(Path::new("/dev/zero")),
            mknod(&tmp.path().join("null"), libc::S_IFCHR, 1, 3),
        ];
        assert_eq!(probe(cgroup, &steps), [0, libc::EPERM, libc::EPERM]);
    }

    fn null_only() -> LinuxResources {
        let rules: Vec<oci_spec::runtime::LinuxDeviceCgroup> =
            serde_json::from_value(serde_json::json!([
                {"allow": false, "access": "rwm"},
                {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rw"},
            ]))
            .unwrap();
        let mut r = LinuxResources::default();
        r.set_devices(Some(rules));
        r
    }

    #[test]
    #[ignore = "needs root"]
    fn v1_devices_cgroup_enforces_dockers_defaults() {
        assert_root();
        let scratch = Scratch::new("v1", Version::V1, &docker_resources());
        let dir = scratch.0.has("devices").unwrap();
        let list = std::fs::read_to_string(dir.join("devices.list")).unwrap();
        assert_eq!(
            list,
            "c *:* m\nb *:* m\nc 1:3 rwm\nc 1:5 rwm\nc 1:7 rwm\nc 1:8 rwm\nc 1:9 rwm\n\
             c 5:0 rwm\nc 5:1 rwm\nc 5:2 rwm\nc 136:* rwm\n"
        );
        check_dockers_defaults(&scratch.0);
        let scratch = Scratch::new("v1-nomknod", Version::V1, &null_only());
        check_no_mknod(&scratch.0);
    }

    #[test]
    #[ignore = "needs root"]
    fn v2_device_program_enforces_dockers_defaults() {
        assert_root();
        let scratch = Scratch::new("v2", Version::V2, &docker_resources());
        check_dockers_defaults(&scratch.0);
        let scratch = Scratch::new("v2-nomknod", Version::V2, &null_only());
        check_no_mknod(&scratch.0);
    }

    #[test]
    #[ignore = "needs root"]
    fn no_rules_make_no_devices_cgroup() {
        assert_root();
        let scratch = Scratch::new("none", Version::V1, &LinuxResources::default());
        assert!(!scratch.0.has("devices").unwrap().exists());
        assert!(scratch.0.has("memory").unwrap().is_dir());
    }
}
