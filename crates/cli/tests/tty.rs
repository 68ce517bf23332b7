//! `-t`: a real terminal, driven here through a pty.

mod common;
use common::*;
use std::io::Read;
use std::os::fd::AsFd;

#[test]
#[ignore = "needs root"]
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
#[ignore = "needs root"]
fn t_without_a_terminal_still_runs_and_keeps_output() {
    let k = Kist::with_busybox();
    let out = k.ok(&["run", "--rm", "-t", "busybox", "sh", "-c", "tty; echo done"]);
    assert!(
        out.contains("/dev/pts/0") && out.contains("done"),
        "{out:?}"
    );
}

#[test]
#[ignore = "needs root"]
fn a_resized_terminal_is_passed_on() {
    let k = Kist::with_busybox();
    let pty = nix::pty::openpty(
        Some(&nix::pty::Winsize {
            ws_row: 20,
            ws_col: 60,
            ws_xpixel: 0,
            ws_ypixel: 0,
        }),
        None,
    )
    .unwrap();
    let slave = || std::process::Stdio::from(pty.slave.try_clone().unwrap());
    let mut child = k
        .command(&["run", "--rm", "-it", "busybox", "sh"])
        .stdin(slave())
        .stdout(slave())
        .stderr(slave())
        .spawn()
        .unwrap();
    let mut master = std::fs::File::from(pty.master);
    let mut seen = String::new();
    let mut read_until = |master: &mut std::fs::File, needle: &str| {
        let mut buf = [0u8; 4096];
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !seen.contains(needle) {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let mut fds = [libc::pollfd {
                fd: std::os::fd::AsRawFd::as_raw_fd(&*master),
                events: libc::POLLIN,
                revents: 0,
            }];
            let left = i32::try_from(left.as_millis()).unwrap_or(i32::MAX);
            // SAFETY: a one-element pollfd array that lives across the call.
            let ready = unsafe { libc::poll(fds.as_mut_ptr(), 1, left) };
            assert!(ready > 0, "no {needle:?} within 10 s: {seen:?}");
            let n = master.read(&mut buf).unwrap();
            assert!(n > 0, "terminal closed before {needle:?}: {seen:?}");
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    };
    use std::io::Write;
    master.write_all(b"stty size\n").unwrap();
    read_until(&mut master, "20 60");
    // Resize kist's terminal, as a terminal emulator does, and tell kist.
    let ws = libc_winsize(33, 111);
    // SAFETY: TIOCSWINSZ reads a winsize, which `ws` is, on the pty's open slave.
    unsafe {
        libc::ioctl(
            std::os::fd::AsRawFd::as_raw_fd(&pty.slave),
            libc::TIOCSWINSZ,
            &ws,
        )
    };
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap()),
        nix::sys::signal::Signal::SIGWINCH,
    )
    .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    master.write_all(b"stty size; exit 4\n").unwrap();
    read_until(&mut master, "33 111");
    assert_eq!(child.wait().unwrap().code(), Some(4));
    drop(pty.slave);
    k.assert_clean();
}

fn libc_winsize(rows: u16, cols: u16) -> libc::winsize {
    libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    }
}

/// A pty's master, read until `needle` shows up (10 s at most); returns what was read.
fn read_until(master: &mut std::fs::File, seen: &mut String, needle: &str) {
    let mut buf = [0u8; 4096];
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !seen.contains(needle) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let mut fds = [libc::pollfd {
            fd: std::os::fd::AsRawFd::as_raw_fd(&*master),
            events: libc::POLLIN,
            revents: 0,
        }];
        let left = i32::try_from(left.as_millis()).unwrap_or(i32::MAX);
        // SAFETY: a one-element pollfd array that lives across the call.
        let ready = unsafe { libc::poll(fds.as_mut_ptr(), 1, left) };
        assert!(ready > 0, "no {needle:?} within 10 s: {seen:?}");
        let n = master.read(&mut buf).unwrap();
        assert!(n > 0, "terminal closed before {needle:?}: {seen:?}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
}

/// kist on a new pty: the child, the master, and the slave (to check its modes after).
fn on_a_pty(k: &Kist, args: &[&str]) -> (std::process::Child, std::fs::File, std::os::fd::OwnedFd) {
    let pty = nix::pty::openpty(Some(&libc_winsize_nix(24, 80)), None).unwrap();
    let slave = || std::process::Stdio::from(pty.slave.try_clone().unwrap());
    let child = k
        .command(args)
        .stdin(slave())
        .stdout(slave())
        .stderr(slave())
        .spawn()
        .unwrap();
    (child, std::fs::File::from(pty.master), pty.slave)
}

fn libc_winsize_nix(rows: u16, cols: u16) -> nix::pty::Winsize {
    nix::pty::Winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    }
}

#[test]
#[ignore = "needs root"]
fn ctrl_p_ctrl_q_detaches_and_attach_comes_back() {
    use std::io::Write;
    let k = Kist::with_busybox();
    let (mut child, mut master, slave) =
        on_a_pty(&k, &["run", "-it", "--name", "keeper", "busybox", "sh"]);
    let before = nix::sys::termios::tcgetattr(slave.as_fd()).unwrap();
    let mut seen = String::new();
    master.write_all(b"echo ready-$((1+1))\n").unwrap();
    read_until(&mut master, &mut seen, "ready-2");
    // Raw: kist's terminal neither echoes nor takes lines while attached.
    let raw = nix::sys::termios::tcgetattr(slave.as_fd()).unwrap();
    assert!(
        !raw.local_flags
            .contains(nix::sys::termios::LocalFlags::ICANON),
        "the terminal is not raw"
    );
    master.write_all(&[0x10, 0x11]).unwrap(); // Ctrl-P Ctrl-Q
    assert_eq!(child.wait().unwrap().code(), Some(0), "{seen:?}");
    let after = nix::sys::termios::tcgetattr(slave.as_fd()).unwrap();
    assert_eq!(before.local_flags, after.local_flags, "not restored");
    assert_eq!(before.input_flags, after.input_flags, "not restored");
    assert_eq!(
        k.ok(&["ps", "--format", "{{.Names}}"]),
        "keeper\n",
        "it runs on"
    );

    // attach, with other keys (and Docker's words when detaching); a lone Ctrl-P is the
    // container's.
    let (mut child, mut master, _slave) =
        on_a_pty(&k, &["attach", "--detach-keys", "ctrl-x,y", "keeper"]);
    let mut seen = String::new();
    master.write_all(b"echo again-$((2+2))\n").unwrap();
    read_until(&mut master, &mut seen, "again-4");
    master.write_all(&[0x10, 0x11]).unwrap();
    master.write_all(&[0x18, b'y']).unwrap(); // Ctrl-X y
    read_until(&mut master, &mut seen, "read escape sequence");
    assert_eq!(child.wait().unwrap().code(), Some(0), "{seen:?}");
    assert_eq!(k.ok(&["ps", "-q"]).lines().count(), 1, "it runs on");

    // Attached again, the container's exit is attach's.
    let (mut child, mut master, _slave) = on_a_pty(&k, &["attach", "keeper"]);
    let mut seen = String::new();
    master.write_all(b"echo last-$((3+3)); exit 5\n").unwrap();
    read_until(&mut master, &mut seen, "last-6");
    assert_eq!(child.wait().unwrap().code(), Some(5), "{seen:?}");
    assert!(
        k.ok(&["ps", "-a"]).contains("Exited (5)"),
        "{}",
        k.ok(&["ps", "-a"])
    );
    // start -ai: the same terminal from its first output, and the same keys.
    let (mut child, mut master, _slave) = on_a_pty(&k, &["start", "-ai", "keeper"]);
    let mut seen = String::new();
    master.write_all(b"echo back-$((4+4))\n").unwrap();
    read_until(&mut master, &mut seen, "back-8");
    master.write_all(&[0x10, 0x11]).unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0), "{seen:?}");
    assert_eq!(k.ok(&["ps", "-q"]).lines().count(), 1, "it runs on");
    k.ok(&["stop", "-t", "0", "keeper"]);
    let err = k.fails(
        &["run", "-it", "--detach-keys", "ctrl-1", "busybox", "true"],
        125,
    );
    assert!(err.contains("--detach-keys"), "{err}");
    k.ok(&["rm", "keeper"]);
    // A program that cannot run: Docker's status and message, and nothing left.
    let (mut child, mut master, _slave) =
        on_a_pty(&k, &["run", "--rm", "-it", "busybox", "nosuch"]);
    let mut seen = String::new();
    read_until(&mut master, &mut seen, "executable file not found");
    assert_eq!(child.wait().unwrap().code(), Some(127), "{seen:?}");
    k.assert_clean();
}

#[test]
#[ignore = "needs root"]
fn build_on_a_terminal_draws_live_steps_and_prints_each_with_its_time() {
    let k = Kist::with_busybox();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Dockerfile"),
        "FROM busybox\nRUN echo from-the-step && sleep 0.5\nENV A=1\n",
    )
    .unwrap();
    let path = dir.path().to_str().unwrap();
    let (mut child, mut master, slave) = on_a_pty(&k, &["build", "-t", "live", path]);
    // Read as it comes (a full pty would stall kist), until the last line.
    let mut seen = String::new();
    read_until(
        &mut master,
        &mut seen,
        "naming to docker.io/library/live:latest",
    );
    assert!(child.wait().unwrap().success(), "{seen:?}");
    drop(slave);
    // The live lines are redrawn in place; each step then stays as a plain line with its
    // time, and the step's output is shown above the live lines.
    assert!(seen.contains("\x1b[2K"), "{seen:?}");
    assert!(seen.contains("#1 [1/3] FROM busybox  DONE "), "{seen:?}");
    assert!(
        seen.contains("#2 [2/3] RUN echo from-the-step && sleep 0.5  DONE "),
        "{seen:?}"
    );
    assert!(seen.contains("from-the-step"), "{seen:?}");
    assert!(seen.contains("#3 [3/3] ENV A=1  DONE"), "{seen:?}");
    assert!(seen.contains("writing image sha256:"), "{seen:?}");
    // kist's own streams are the terminal again after the build: the id goes there too.
    let (mut child, mut master, slave) = on_a_pty(&k, &["build", "-q", path]);
    let mut seen = String::new();
    read_until(&mut master, &mut seen, "sha256:");
    assert!(child.wait().unwrap().success(), "{seen:?}");
    drop(slave);
    assert!(!seen.contains("\x1b[2K"), "{seen:?}");
    k.assert_clean();
}
