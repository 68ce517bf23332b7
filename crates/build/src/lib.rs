//! kist's Dockerfile frontend: it reads a Dockerfile as BuildKit's frontend does, into typed
//! instructions that `kist build` executes.

mod expand;
mod pattern;

pub use expand::{Env, ExpandError, ExpandErrorKind, Lexer, expand, expand_words};
