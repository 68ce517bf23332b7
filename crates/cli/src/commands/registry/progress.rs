//! The progress of a pull or push: a bar per layer on a terminal, a line per finished layer
//! otherwise, and Docker's words for each step.

use std::io::IsTerminal;
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use kist_image::registry::{LayerEvent, Progress};
use kist_image::{Descriptor, Digest};

/// Which transfer the events are of: Docker words some of them differently.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Pull,
    Push,
}

/// Where Docker's lines about a transfer go: stdout for `pull` and `push`, stderr when `run`
/// or `create` pulls (their stdout is the container's, or its id).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Stdout,
    Stderr,
}

impl Screen {
    pub fn line(self, text: std::fmt::Arguments) {
        match self {
            Screen::Stdout => crate::output::print_line(text),
            Screen::Stderr => crate::output::write_err(format!("{text}\n").as_bytes()),
        }
    }

    fn is_terminal(self) -> bool {
        match self {
            Screen::Stdout => std::io::stdout().is_terminal(),
            Screen::Stderr => std::io::stderr().is_terminal(),
        }
    }
}

/// Progress: a bar per layer on a terminal, a line per finished layer otherwise.
pub struct Display {
    quiet: bool,
    verb: Verb,
    screen: Screen,
    bars: Option<Bars>,
}

struct Bars {
    multi: MultiProgress,
    /// Bottom layer first.
    by_digest: Mutex<Vec<(Digest, ProgressBar)>>,
}

impl Display {
    pub fn new(quiet: bool, verb: Verb) -> Display {
        Display::on(quiet, verb, Screen::Stdout)
    }

    /// Progress on `screen`; the bars themselves are drawn on stderr's terminal.
    pub fn on(quiet: bool, verb: Verb, screen: Screen) -> Display {
        let bars = (!quiet && screen.is_terminal()).then(|| Bars {
            multi: MultiProgress::new(),
            by_digest: Mutex::new(Vec::new()),
        });
        Display {
            quiet,
            verb,
            screen,
            bars,
        }
    }

    /// Replaces the bars with one plain line per layer, as Docker's screen ends.
    pub fn finish(&self) {
        let Some(b) = &self.bars else { return };
        let _ = b.multi.clear();
        let map = b.by_digest.lock().unwrap_or_else(|p| p.into_inner());
        for (_, bar) in map.iter() {
            self.screen
                .line(format_args!("{}: {}", bar.prefix(), bar.message()));
        }
    }

    fn message(&self, event: LayerEvent) -> Option<&'static str> {
        Some(match (event, self.verb) {
            (LayerEvent::AlreadyExists, Verb::Pull) => "Already exists",
            (LayerEvent::AlreadyExists, Verb::Push) => "Layer already exists",
            (LayerEvent::PullComplete, _) => "Pull complete",
            (LayerEvent::Pushed, _) => "Pushed",
            (LayerEvent::Transferring { .. }, _) => return None,
        })
    }
}

impl Progress for Display {
    fn layers(&self, layers: &[Descriptor]) {
        let Some(b) = &self.bars else { return };
        let style =
            ProgressStyle::with_template("{prefix}: {msg:<12} [{bar:30}] {bytes}/{total_bytes}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
        let mut map = b.by_digest.lock().unwrap_or_else(|p| p.into_inner());
        for l in layers {
            let Ok(d) = Digest::parse(&l.digest) else {
                continue;
            };
            let bar = b.multi.add(ProgressBar::new(l.size));
            bar.set_style(style.clone());
            bar.set_prefix(d.short().to_string());
            bar.set_message("Waiting");
            map.push((d, bar));
        }
    }

    fn layer(&self, digest: &Digest, event: LayerEvent) {
        if self.quiet {
            return;
        }
        let Some(b) = &self.bars else {
            if let Some(m) = self.message(event) {
                self.screen.line(format_args!("{}: {m}", digest.short()));
            }
            return;
        };
        let map = b.by_digest.lock().unwrap_or_else(|p| p.into_inner());
        let Some((_, bar)) = map.iter().find(|(d, _)| d == digest) else {
            return;
        };
        match (event, self.message(event)) {
            (LayerEvent::Transferring { done, .. }, _) => {
                bar.set_message("Downloading");
                bar.set_position(done);
            }
            (_, Some(m)) => {
                bar.finish_with_message(m);
            }
            _ => {}
        }
    }
}
