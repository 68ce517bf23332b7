//! The one way these tests touch the kernel's networking: inside a network namespace that
//! the test has just created for itself, on a thread of its own, never in the namespace the
//! test process started in. Every helper here checks that first and refuses otherwise; the
//! namespace (and every link, address, route and rule in it) dies with its last thread and
//! descriptor, whether the test passed or failed.

use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;
use std::process::Command;
use std::sync::OnceLock;

use kist_net::{LOOPBACK_INDEX, NetNs, Netlink};
use rustix::thread::{LinkNameSpaceType, UnshareFlags, move_into_link_name_space, unshare_unsafe};

/// Fails the calling test unless it runs as root (the tests marked `#[ignore = "needs root"]`).
pub fn assert_root() {
    assert!(
        rustix::process::geteuid().is_root(),
        "this test makes network namespaces, links and nftables rules: run it as root"
    );
}

/// The namespace the test process started in: its main thread's, which no test moves (every
/// sandbox runs on a thread it spawns).
fn start_inode() -> u64 {
    static START: OnceLock<u64> = OnceLock::new();
    *START.get_or_init(|| inode("/proc/self/ns/net"))
}

fn inode(path: &str) -> u64 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("reading {path}: {e}"))
        .ino()
}

/// Panics unless the calling thread is outside the namespace the tests started in.
pub fn refuse_host_namespace() {
    let here = inode("/proc/thread-self/ns/net");
    assert_ne!(
        here,
        start_inode(),
        "refusing a network operation in the namespace the tests started in"
    );
}

/// Runs `test` on a new thread in a new network namespace with `lo` up.
pub fn in_sandbox<T: Send>(test: impl FnOnce(&Sandbox) -> T + Send) -> T {
    assert_root();
    start_inode();
    std::thread::scope(|scope| {
        let thread = scope.spawn(|| {
            new_namespace();
            let mut netlink = Sandbox.netlink();
            netlink
                .set_up(LOOPBACK_INDEX)
                .expect("lo up in the sandbox");
            test(&Sandbox)
        });
        thread
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// Moves the calling thread into a new, empty network namespace and checks that it did.
fn new_namespace() {
    // SAFETY: only CLONE_NEWNET: the thread keeps sharing the process's descriptor table and
    // memory with every other thread, so no descriptor or pointer becomes invalid.
    unsafe { unshare_unsafe(UnshareFlags::NEWNET) }.expect("unshare(CLONE_NEWNET)");
    refuse_host_namespace();
}

/// A test's namespace; its methods run only there.
pub struct Sandbox;

impl Sandbox {
    /// A route netlink socket in the sandbox.
    pub fn netlink(&self) -> Netlink {
        refuse_host_namespace();
        Netlink::open().expect("route netlink socket")
    }

    /// A new namespace standing for a container's (another namespace of this test), with `lo`
    /// up as kist's runtime leaves a container's before its network is attached.
    pub fn container(&self) -> NetNs {
        refuse_host_namespace();
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    new_namespace();
                    Netlink::open()
                        .and_then(|mut inside| inside.set_up(LOOPBACK_INDEX))
                        .expect("lo up in the new namespace");
                    NetNs::current().expect("the new namespace's descriptor")
                })
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }

    /// Runs `f` on a thread inside `ns`, which must not be the tests' starting namespace.
    pub fn run_in<T: Send>(&self, ns: &NetNs, f: impl FnOnce() -> T + Send) -> T {
        refuse_host_namespace();
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    move_into_link_name_space(ns.as_fd(), Some(LinkNameSpaceType::Network))
                        .expect("setns into a test namespace");
                    refuse_host_namespace();
                    f()
                })
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }

    /// Output of a checking command (`ip`, `nft`) run in the calling thread's namespace
    /// (a child process starts in the namespace of the thread that forks it).
    pub fn check(&self, program: &str, args: &[&str]) -> String {
        refuse_host_namespace();
        let out = Command::new(program)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("running {program}: {e}"));
        assert!(
            out.status.success(),
            "{program} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `check` inside `ns`.
    pub fn check_in(&self, ns: &NetNs, program: &str, args: &[&str]) -> String {
        self.run_in(ns, || self.check(program, args))
    }
}
