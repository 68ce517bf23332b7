//! `kist build --progress tty` (the default on a terminal): a live line per running step with
//! its elapsed time (indicatif), each step printed as a plain line with its time once it is
//! done, and the RUN steps' output above the live lines. The containers write to kist's own
//! standard streams, so while the build runs those are a pipe that this module reads and
//! prints above the bars; the bars go to the terminal itself.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle, TermLike};
use kist_build::executor::Event;

/// The live display, from `start` until `finish`.
pub struct Live {
    multi: MultiProgress,
    running: Mutex<HashMap<usize, (ProgressBar, String)>>,
    /// The terminal's stdout and stderr, put back in place by `finish`.
    saved: [OwnedFd; 2],
    /// Told when the pipe has been read to its end.
    drained: Mutex<mpsc::Receiver<()>>,
}

impl Live {
    /// Swaps kist's stdout and stderr for a pipe read onto the terminal above the bars.
    pub fn start() -> Result<Live> {
        crate::output::flush();
        let _ = std::io::stderr().flush();
        let saved = [dup(1)?, dup(2)?];
        let term = Terminal(Mutex::new(File::from(dup(saved[0].as_raw_fd())?)));
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::term_like_with_hz(
            Box::new(term),
            10,
        ));
        let (read, write) = std::io::pipe().context("creating the progress pipe")?;
        let write = OwnedFd::from(write);
        for fd in [1, 2] {
            // SAFETY: dup2 onto the standard descriptors, with a descriptor this owns; the
            // old ones are kept in `saved`.
            if unsafe { libc::dup2(write.as_raw_fd(), fd) } < 0 {
                return Err(std::io::Error::last_os_error()).context("redirecting the output");
            }
        }
        drop(write);
        let (tell, drained) = mpsc::channel();
        let printer = multi.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(read).lines() {
                let Ok(line) = line else { break };
                let _ = printer.println(line);
            }
            let _ = tell.send(());
        });
        Ok(Live {
            multi,
            running: Mutex::new(HashMap::new()),
            saved,
            drained: Mutex::new(drained),
        })
    }

    pub fn event(&self, event: Event) {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        match event {
            Event::Step { n, title } => {
                let bar = self.multi.add(ProgressBar::new_spinner());
                let style = ProgressStyle::with_template("{prefix} {spinner} {wide_msg} {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner());
                bar.set_style(style);
                bar.set_prefix(format!("#{n}"));
                bar.set_message(title.to_string());
                bar.enable_steady_tick(Duration::from_millis(100));
                running.insert(n, (bar, title.to_string()));
            }
            Event::Cached { n } => self.end(&mut running, n, "CACHED".into()),
            Event::Done { n, seconds } => self.end(&mut running, n, format!("DONE {seconds:.1}s")),
            Event::Line(text) => {
                let _ = self.multi.println(text);
            }
        }
    }

    /// Step `n`'s live line replaced by its plain line, `how` it ended.
    fn end(&self, running: &mut HashMap<usize, (ProgressBar, String)>, n: usize, how: String) {
        if let Some((bar, title)) = running.remove(&n) {
            bar.finish_and_clear();
            self.multi.remove(&bar);
            let _ = self.multi.println(format!("#{n} {title}  {how}"));
        }
    }

    /// Puts the terminal back as kist's stdout and stderr, after the last of the pipe.
    pub fn finish(self) {
        let _ = std::io::stderr().flush();
        crate::output::flush();
        for (fd, saved) in [1, 2].into_iter().zip(&self.saved) {
            // SAFETY: dup2 of a descriptor this owns onto a standard one.
            unsafe { libc::dup2(saved.as_raw_fd(), fd) };
        }
        // Every writer's end is closed now, unless a process a step left behind holds one.
        if let Ok(drained) = self.drained.lock() {
            let _ = drained.recv_timeout(Duration::from_secs(2));
        }
        for (_, (bar, _)) in self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain()
        {
            bar.finish_and_clear();
        }
        let _ = self.multi.clear();
    }
}

fn dup(fd: i32) -> Result<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC makes a new descriptor, owned by the OwnedFd alone.
    let new = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    if new < 0 {
        return Err(std::io::Error::last_os_error()).context("duplicating the output");
    }
    // SAFETY: `new` is a descriptor just made and owned by nothing else.
    Ok(unsafe { OwnedFd::from_raw_fd(new) })
}

/// The terminal kist's stdout was, with the escape sequences indicatif draws with.
#[derive(Debug)]
struct Terminal(Mutex<File>);

impl Terminal {
    fn write(&self, text: &str) -> std::io::Result<()> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .write_all(text.as_bytes())
    }
}

impl TermLike for Terminal {
    fn width(&self) -> u16 {
        let file = self.0.lock().unwrap_or_else(|p| p.into_inner());
        // SAFETY: winsize is plain integers, for which zero is a value.
        let mut size: libc::winsize = unsafe { std::mem::zeroed() };
        // SAFETY: TIOCGWINSZ fills the winsize it is given, on a descriptor this owns.
        let ok = unsafe { libc::ioctl(file.as_raw_fd(), libc::TIOCGWINSZ, &mut size) } == 0;
        if ok && size.ws_col > 0 {
            size.ws_col
        } else {
            80
        }
    }

    fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
        if n == 0 {
            Ok(())
        } else {
            self.write(&format!("\x1b[{n}A"))
        }
    }

    fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
        if n == 0 {
            Ok(())
        } else {
            self.write(&format!("\x1b[{n}B"))
        }
    }

    fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
        if n == 0 {
            Ok(())
        } else {
            self.write(&format!("\x1b[{n}C"))
        }
    }

    fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
        if n == 0 {
            Ok(())
        } else {
            self.write(&format!("\x1b[{n}D"))
        }
    }

    fn write_line(&self, s: &str) -> std::io::Result<()> {
        self.write(&format!("{s}\n"))
    }

    fn write_str(&self, s: &str) -> std::io::Result<()> {
        self.write(s)
    }

    fn clear_line(&self) -> std::io::Result<()> {
        self.write("\r\x1b[2K")
    }

    fn flush(&self) -> std::io::Result<()> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).flush()
    }
}
