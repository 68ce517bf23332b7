//! The one error type of parsing, which names the Dockerfile and the line of every problem, as
//! in `Dockerfile:7: unknown instruction: FORM`.

use crate::expand::ExpandError;
use crate::mount::MountError;

/// A Dockerfile that cannot be read: where, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {kind}")]
pub struct ParseError {
    /// The Dockerfile's name, as the caller gave it.
    pub file: String,
    /// The line (from 1) where the instruction at fault starts.
    pub line: usize,
    pub kind: ErrorKind,
}

/// What is wrong. Most messages are BuildKit's, so that they read as users know them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErrorKind {
    #[error("file with no instructions")]
    NoInstructions,
    #[error("only one {0} parser directive can be used")]
    DuplicateDirective(String),
    #[error("invalid escape token '{0}' does not match ` or \\")]
    BadEscapeToken(String),
    #[error("when using JSON array syntax, arrays must be comprised of strings only")]
    JsonNotStrings,
    #[error("{0} must have two arguments")]
    MissingValue(String),
    #[error("Syntax error - can't find = in {0:?}. Must be of the form: name=value")]
    MissingEquals(String),
    #[error("unterminated heredoc {0}")]
    UnterminatedHeredoc(String),
    #[error("heredoc: {0}")]
    Heredoc(ExpandError),
    #[error("unknown instruction: {name}{}", did_you_mean(.suggestion))]
    UnknownInstruction {
        name: String,
        suggestion: Option<String>,
    },
    #[error("unknown flag: --{name}{}", did_you_mean(.suggestion))]
    UnknownFlag {
        name: String,
        suggestion: Option<String>,
    },
    #[error("duplicate flag specified: --{0}")]
    DuplicateFlag(String),
    #[error("missing a value on flag: --{0}")]
    MissingFlagValue(String),
    #[error("expecting boolean value for flag --{flag}, not: {value}")]
    NotBoolean { flag: String, value: String },
    #[error("{0} requires at least one argument")]
    AtLeastOneArgument(&'static str),
    #[error("{0} requires exactly one argument")]
    ExactlyOneArgument(&'static str),
    #[error(
        "{0} requires at least two arguments, but only one was provided. Destination could not be determined"
    )]
    NoDestination(&'static str),
    #[error("{0} names can not be blank")]
    BlankName(&'static str),
    #[error("FROM requires either one or three arguments")]
    FromArguments,
    #[error(
        "invalid name for build stage: {0:?}, name can't start with a number or contain symbols"
    )]
    BadStageName(String),
    #[error("{0} cannot accept a heredoc as a destination")]
    HeredocDestination(&'static str),
    #[error("{0} requires the arguments to be in JSON form")]
    NotJson(&'static str),
    #[error("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")]
    OnbuildOnbuild,
    #[error("{0} isn't allowed as an ONBUILD trigger")]
    OnbuildTrigger(String),
    #[error("HEALTHCHECK NONE takes no arguments")]
    HealthcheckNoneArguments,
    #[error("Missing command after HEALTHCHECK CMD")]
    HealthcheckNoCommand,
    #[error("Unknown type {0:?} in HEALTHCHECK (try CMD)")]
    HealthcheckType(String),
    #[error("Interval {0:?} cannot be less than 1ms")]
    IntervalTooShort(String),
    #[error("--retries cannot be negative ({0})")]
    NegativeRetries(i64),
    #[error("invalid value {value:?} for --{flag}: {why}")]
    BadFlagValue {
        flag: String,
        value: String,
        why: String,
    },
    #[error("invalid network mode {0:?}")]
    BadNetwork(String),
    #[error("security {0:?} is not valid")]
    BadSecurity(String),
    #[error("VOLUME specified can not be an empty string")]
    EmptyVolume,
    #[error("{0}")]
    Mount(MountError),
    /// A word that does not expand: the executor's, at the instruction that holds it.
    #[error("{0}")]
    Expand(ExpandError),
    #[error("no build stage in current context: {0} before the first FROM")]
    NoStage(String),
}

impl From<ExpandError> for ErrorKind {
    fn from(error: ExpandError) -> ErrorKind {
        ErrorKind::Expand(error)
    }
}

impl From<MountError> for ErrorKind {
    fn from(error: MountError) -> ErrorKind {
        ErrorKind::Mount(error)
    }
}

/// The ` (did you mean X?)` that follows an unknown name, when one is close.
fn did_you_mean(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(s) => format!(" (did you mean {s}?)"),
        None => String::new(),
    }
}

impl ErrorKind {
    /// This error, at `line` of `file`.
    pub fn at(self, file: &str, line: usize) -> ParseError {
        ParseError {
            file: file.to_string(),
            line,
            kind: self,
        }
    }
}
