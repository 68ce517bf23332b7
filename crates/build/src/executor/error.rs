//! Why a build failed: the Dockerfile (parse, expansion, a missing file or image), a RUN step
//! that failed, or the engine or the store beneath.

use crate::{ExpandError, ParseError};

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// An instruction that cannot be carried out; the message names it.
    #[error("{0}")]
    Invalid(String),
    /// A RUN step whose command failed (BuildKit's words).
    #[error("{step}: process {command:?} did not complete successfully: exit code: {code}")]
    RunFailed {
        step: String,
        command: String,
        code: i32,
    },
    /// A stage stopped because another one, building beside it, failed (that one's error
    /// is the build's).
    #[error("cancelled: a stage building at the same time failed")]
    Cancelled,
    #[error(transparent)]
    Engine(#[from] kist_engine::Error),
    #[error(transparent)]
    Image(#[from] kist_image::Error),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
}

impl BuildError {
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> BuildError {
        let context = context.into();
        move |source| BuildError::Io { context, source }
    }

    pub(crate) fn expand(step: &str) -> impl FnOnce(ExpandError) -> BuildError + '_ {
        move |e| BuildError::Invalid(format!("{step}: {e}"))
    }
}
