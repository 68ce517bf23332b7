//! `-t`: a real terminal, driven here through a pty.

mod common;
use common::*;
use std::io::Read;
use std::os::fd::AsFd;

#[test]
fn a_terminal_with_the_size_passed_on_and_restored_after() {
    let k = Kist::with_busybox();
    let pty = nix::pty::openpty(
        Some(&nix::pty::Winsize {
            ws_row: 31,
            ws_col: 97,
            ws_xpixel: 0,
            ws_ypixel: 0,
        }),
        None,
    )
    .unwrap();
    let before = nix::sys::termios::tcgetattr(pty.slave.as_fd()).unwrap();
    let slave = || std::process::Stdio::from(pty.slave.try_clone().unwrap());
    let mut child = k
        .command(&[
            "run",
            "--rm",
            "-it",
            "busybox",
            "sh",
            "-c",
            "tty; stty size; test -t 0 && echo stdin-is-a-tty",
        ])
        .stdin(slave())
        .stdout(slave())
        .stderr(slave())
        .spawn()
        .unwrap();
    let status = child.wait().unwrap();
    let after = nix::sys::termios::tcgetattr(pty.slave.as_fd()).unwrap();
    drop(pty.slave);
    let mut out = String::new();
    let mut master = std::fs::File::from(pty.master);
    let mut buf = [0u8; 4096];
    while let Ok(n) = master.read(&mut buf) {
        if n == 0 {
            break;
        }
        out.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert!(status.success(), "{out}");
    assert!(out.contains("/dev/pts/0"), "{out:?}");
    assert!(out.contains("31 97"), "{out:?}");
    assert!(out.contains("stdin-is-a-tty"), "{out:?}");
    assert_eq!(
        before.local_flags, after.local_flags,
        "the terminal was not restored"
    );
    assert_eq!(
        before.input_flags, after.input_flags,
        "the terminal was not restored"
    );
    k.assert_clean();
}

#[test]
fn t_without_a_terminal_still_runs_and_keeps_output() {
    let k = Kist::with_busybox();
    let out = k.ok(&["run", "--rm", "-t", "busybox", "sh", "-c", "tty; echo done"]);
    assert!(
        out.contains("/dev/pts/0") && out.contains("done"),
        "{out:?}"
    );
}
