//! The spec's hooks the runtime runs in its own namespaces, in their order: `prestart` then
//! `createRuntime` while the container's process waits before its `pivot_root` (its namespaces
//! and mounts made), `poststart` after `start`, `poststop` in `delete`. The container's own
//! process runs `createContainer` (right after createRuntime, before its pivot) and
//! `startContainer` (in `start`, before its program), with the runtime core's same runner.

use anyhow::Result;
use oci_spec::runtime::{Hook, Hooks};

/// The hooks kist runs (`features` lists these).
pub const SUPPORTED: &[&str] = &[
    "prestart",
    "createRuntime",
    "createContainer",
    "startContainer",
    "poststart",
    "poststop",
];

/// Runs `hooks` in order with `state` on their stdin, stopping at the first that fails.
pub fn run_all(kind: &str, hooks: Option<&Vec<Hook>>, state: &serde_json::Value) -> Result<()> {
    let bytes = serde_json::to_vec(state)?;
    let hooks = hooks.map(Vec::as_slice).unwrap_or_default();
    Ok(kist_runtime::hooks::run_all(kind, hooks, &bytes)?)
}

/// Runs every hook of `hooks` whatever the others do (poststart, poststop: the runtime spec
/// has each failure a warning and the rest go on).
pub fn warn_each(
    kind: &str,
    hooks: Option<&Vec<Hook>>,
    state: &serde_json::Value,
    logger: &crate::log::Logger,
) {
    let hooks = hooks.map(Vec::as_slice).unwrap_or_default();
    if hooks.is_empty() {
        return;
    }
    match serde_json::to_vec(state) {
        Ok(bytes) => {
            for e in kist_runtime::hooks::run_each(kind, hooks, &bytes) {
                logger.warn(&e.to_string());
            }
        }
        Err(e) => logger.warn(&format!("{kind} hooks not run: {e}")),
    }
}

/// Whether the container's process must stop before its pivot for hooks: any of those the
/// spec puts at that point (prestart, createRuntime, createContainer) or after it in the
/// container (startContainer, whose state it is sent then).
pub fn pause_before_pivot(hooks: Option<&Hooks>) -> bool {
    let Some(h) = hooks else {
        return false;
    };
    #[allow(deprecated)]
    let prestart = h.prestart();
    [
        prestart,
        h.create_runtime(),
        h.create_container(),
        h.start_container(),
    ]
    .iter()
    .any(|set| set.as_ref().is_some_and(|s| !s.is_empty()))
}
