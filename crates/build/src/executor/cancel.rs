//! Stopping the stages that build beside one that failed, as BuildKit cancels them: a flag
//! each stage looks at before every step, and the RUN containers running meanwhile, which
//! are killed, so that the build fails with the first error and does not wait for them.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use kist_engine::Engine;

use super::error::BuildError;

#[derive(Default)]
pub(super) struct Cancel {
    cancelled: AtomicBool,
    /// The steps whose RUN container may be running now (by step number: it names the
    /// container).
    running: Mutex<BTreeSet<usize>>,
}

/// Step `n`'s container, listed as running while this lives.
pub(super) struct Running<'a> {
    cancel: &'a Cancel,
    n: usize,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.cancel.steps().remove(&self.n);
    }
}

impl Cancel {
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }

    /// `Err(Cancelled)` once the build is cancelled: for a stage, before its next step.
    pub fn check(&self) -> Result<(), BuildError> {
        match self.is_cancelled() {
            true => Err(BuildError::Cancelled),
            false => Ok(()),
        }
    }

    /// Lists step `n`'s container as running, until the guard is dropped.
    pub fn running(&self, n: usize) -> Running<'_> {
        self.steps().insert(n);
        Running { cancel: self, n }
    }

    /// Kills (SIGKILL) the RUN containers running now. One not yet recorded, or not yet
    /// started, is not found: the caller tries again until the stages are over.
    pub fn kill_running(&self, engine: &Engine) {
        let steps: Vec<usize> = self.steps().iter().copied().collect();
        let Ok(sigkill) = kist_engine::lifecycle::parse_signal("KILL") else {
            return;
        };
        for n in steps {
            if let Ok(record) = engine
                .store
                .find_container(&kist_engine::build_step_name(n))
            {
                // Gone already, or not running yet: the next round sees it again.
                let _ = kist_engine::lifecycle::kill(engine, &record, sigkill);
            }
        }
    }

    fn steps(&self) -> std::sync::MutexGuard<'_, BTreeSet<usize>> {
        // The set stays whole whatever a panicking holder did.
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }
}
