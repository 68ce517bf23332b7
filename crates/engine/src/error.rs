//! The engine's errors, one case per thing that can go wrong, so that a caller can tell "no such
//! container" from "name in use" without reading the text. Each message is the one line a user
//! sees; [`Error::exit_code`] is the status the CLI exits with and [`Error::kind`] the class of
//! the failure, both decided here for every case.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    // What the user asked for cannot be.
    /// A value that cannot be used, named as the user wrote it: `invalid ulimit "x": why`.
    #[error("invalid {what} {value:?}: {reason}")]
    InvalidValue {
        what: &'static str,
        value: String,
        reason: String,
    },
    /// A flag, or a combination of flags, that cannot be used; `flag` names it (`--cpus`).
    #[error("{reason}")]
    InvalidOption { flag: &'static str, reason: String },
    /// A command's argument that cannot be used; `argument` names it (`COMMAND`, `SRC_PATH`).
    #[error("{reason}")]
    InvalidArgument {
        argument: &'static str,
        reason: String,
    },
    #[error("the working directory {path:?} must be an absolute path")]
    RelativeWorkdir { path: String },
    #[error(
        "no command specified: image {image} has no Cmd or Entrypoint; give a command after the image name"
    )]
    NoCommand { image: String },
    #[error("unable to find user {name}: no matching entries in the image's /etc/passwd")]
    NoSuchUser { name: String },
    #[error("unable to find group {name}: no matching entries in the image's /etc/group")]
    NoSuchGroup { name: String },
    #[error("opening seccomp profile {}: {source}", path.display())]
    UnreadableSeccompProfile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid seccomp profile {}: {source}", path.display())]
    InvalidSeccompProfile {
        path: PathBuf,
        #[source]
        source: kist_runtime::Error,
    },

    // What was named does not exist.
    #[error("no such container: {reference}")]
    NoSuchContainer { reference: String },
    #[error("container reference {reference:?} is ambiguous: it matches {}", matches.join(", "))]
    AmbiguousContainer {
        reference: String,
        /// The short ids of the containers it matches.
        matches: Vec<String>,
    },
    #[error("no such volume: {name}")]
    NoSuchVolume { name: String },

    // It exists, but its state forbids this now.
    /// Another container has the name; `holder` is its id, when known.
    #[error("the container name \"/{name}\" is already in use{}", in_use_by(holder.as_deref()))]
    NameInUse {
        name: String,
        holder: Option<String>,
    },
    #[error("could not find a free container name; give one with --name")]
    NoFreeName,
    /// `rm` without `-f` of a running container.
    #[error("cannot remove container {name}: it is running; stop it first or use 'kist rm -f'")]
    ContainerRunning { name: String },
    #[error("container {name} is not running")]
    ContainerNotRunning { name: String },
    /// `--pid`/`--ipc container:X` (`what`: "PID", "IPC") of a container not running; Docker's
    /// words, with its id.
    #[error("cannot join {what} of a non running container: {id}")]
    CannotJoin { what: &'static str, id: String },
    /// `--ipc container:X` of a container whose IPC namespace is private.
    #[error(
        "cannot join IPC of container {name}: non-shareable IPC (hint: use IpcMode:shareable for the donor container)"
    )]
    IpcNotShareable { name: String },
    #[error("container {name} is being removed")]
    BeingRemoved { name: String },
    #[error("container {name} cannot be started again: it was made to be removed when it exited")]
    NotRestartable { name: String },
    #[error("container {name} is removed when it exits (--rm): it cannot have a restart policy")]
    RestartPolicyWithRm { name: String },
    #[error("container {name} did not stop in time")]
    StopTimedOut { name: String },
    #[error("container {name} has no cgroup to freeze")]
    NoCgroup { name: String },
    #[error("container {name} is already paused")]
    AlreadyPaused { name: String },
    /// Docker's words (scripts match them), with the container's id as Docker gives it.
    #[error("Container {id} is paused, unpause the container before exec")]
    PausedExec { id: String },
    #[error("container {name} is not paused")]
    NotPaused { name: String },
    #[error(
        "volume {name} is in use by container {}: remove the container first",
        containers.join(", ")
    )]
    VolumeInUse {
        name: String,
        /// The short ids of the containers that mount it.
        containers: Vec<String>,
    },
    /// `rmi` by id of an image with several names, without `-f`.
    #[error(
        "unable to delete {image} (must be forced): image is referenced in multiple repositories ({})",
        names.join(", ")
    )]
    ImageHasNames { image: String, names: Vec<String> },
    /// `rmi` by id of an image a running container uses: even `-f` cannot.
    #[error(
        "unable to delete {image} (cannot be forced): image is being used by running container {container}"
    )]
    ImageUsedByRunning { image: String, container: String },
    /// `rmi` without `-f` of an image a container uses.
    #[error(
        "unable to remove {reference} (must be forced): the {} container {container} uses image {image}",
        if *running { "running" } else { "stopped" }
    )]
    ImageInUse {
        reference: String,
        image: String,
        container: String,
        running: bool,
    },
    #[error(
        "container {container}'s image {image} is gone, so its layer has nothing to go on: {source}"
    )]
    ImageGone {
        container: String,
        image: String,
        #[source]
        source: kist_image::Error,
    },

    // Something failed on the way.
    #[error(transparent)]
    Image(#[from] kist_image::Error),
    #[error(transparent)]
    Runtime(#[from] kist_runtime::Error),
    #[error("state store: {0}")]
    Store(#[from] rusqlite::Error),
    #[error("{context} {path}: {source}")]
    Io {
        context: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// An I/O error on something that has no path: a pipe, a standard stream, a namespace.
    #[error("{context}: {source}")]
    Sys {
        context: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// A file kist wrote that no longer reads back (launch.json).
    #[error("{}: {source}", path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("saving the launch configuration: {0}")]
    Unsaved(#[source] serde_json::Error),
    #[error("container {name} has no process settings")]
    NoProcessSettings { name: String },
    /// A part of the runtime spec that cannot be built from what the container keeps.
    #[error("building the runtime spec ({part}): {reason}")]
    Spec { part: &'static str, reason: String },
    #[error("compiling the seccomp profile: {0}")]
    SeccompCompile(#[source] kist_runtime::Error),
    #[error("updating the limits of container {name}: {source}")]
    UpdateLimits {
        name: String,
        #[source]
        source: kist_runtime::Error,
    },
    #[error("the supervisor of container {id} ended without starting it")]
    SupervisorSilent { id: String },
    #[error("the container's process vanished during start-up")]
    ProcessVanished,

    // Networks.
    #[error("network {name} not found")]
    NoSuchNetwork { name: String },
    #[error("network with name {name} already exists")]
    NetworkExists { name: String },
    #[error("network {name} has active endpoints ({}): stop or remove those containers first", containers.join(", "))]
    NetworkInUse {
        name: String,
        containers: Vec<String>,
    },
    #[error("container {container} is already connected to network {network}")]
    AlreadyConnected { container: String, network: String },
    #[error("container {container} is not connected to network {network}")]
    NotConnected { container: String, network: String },
    #[error("{name} is a pre-defined network and cannot be {what}")]
    PredefinedNetwork { name: String, what: &'static str },
    #[error("Bind for {address} failed: port is already allocated{}", holder.as_ref().map(|h| format!(" (by container {h})")).unwrap_or_default())]
    PortAllocated {
        address: String,
        holder: Option<String>,
    },
    /// What the network crate refused or the kernel failed to do.
    #[error(transparent)]
    Net(#[from] kist_net::Error),
    /// A thread of kist's own panicked (`what`: "layer writer", "export thread").
    #[error("the {what} panicked")]
    Panicked { what: &'static str },
}

/// A network refusal is the user's to fix; a kernel failure is not.
fn net_kind(e: &kist_net::Error) -> ErrorKind {
    use kist_net::Error::*;
    match e {
        Config(_) | OutsideSubnet { .. } | AddressReserved { .. } | Dns(_) => {
            ErrorKind::InvalidInput
        }
        AddressInUse { .. } | Overlap { .. } | NoFreeAddress { .. } | PoolsExhausted => {
            ErrorKind::Conflict
        }
        Kernel { .. } | NftablesUnavailable { .. } => ErrorKind::Failed,
    }
}

fn in_use_by(holder: Option<&str>) -> String {
    match holder {
        Some(id) => {
            format!(" by container {id}: remove (or rename) that container to reuse the name")
        }
        None => String::new(),
    }
}

/// What kind of failure an error is, as Docker's API classes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The user asked for something that cannot be: a bad flag, name or argument.
    InvalidInput,
    /// What was named does not exist.
    NotFound,
    /// It exists, but its state forbids this now: running, in use, name taken.
    Conflict,
    /// Something failed on the way: the filesystem, the kernel, the store, the program.
    Failed,
}

impl Error {
    /// The exit status a user sees: 126/127 when the program cannot run, 125 for kist's own.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Runtime(e) => e.exit_code(),
            _ => 125,
        }
    }

    pub fn kind(&self) -> ErrorKind {
        use Error::*;
        match self {
            InvalidValue { .. }
            | InvalidOption { .. }
            | InvalidArgument { .. }
            | RelativeWorkdir { .. }
            | NoCommand { .. }
            | NoSuchUser { .. }
            | NoSuchGroup { .. }
            | UnreadableSeccompProfile { .. }
            | InvalidSeccompProfile { .. }
            | AmbiguousContainer { .. } => ErrorKind::InvalidInput,
            NoSuchContainer { .. } | NoSuchVolume { .. } | NoSuchNetwork { .. } => {
                ErrorKind::NotFound
            }
            Net(e) => net_kind(e),
            NameInUse { .. }
            | NoFreeName
            | ContainerRunning { .. }
            | ContainerNotRunning { .. }
            | CannotJoin { .. }
            | IpcNotShareable { .. }
            | BeingRemoved { .. }
            | NotRestartable { .. }
            | RestartPolicyWithRm { .. }
            | StopTimedOut { .. }
            | NoCgroup { .. }
            | AlreadyPaused { .. }
            | PausedExec { .. }
            | NotPaused { .. }
            | VolumeInUse { .. }
            | ImageHasNames { .. }
            | ImageUsedByRunning { .. }
            | ImageInUse { .. }
            | ImageGone { .. }
            | NetworkExists { .. }
            | NetworkInUse { .. }
            | PredefinedNetwork { .. }
            | AlreadyConnected { .. }
            | NotConnected { .. }
            | PortAllocated { .. } => ErrorKind::Conflict,
            Image(e) => image_kind(e),
            Runtime(_)
            | Store(_)
            | Io { .. }
            | Sys { .. }
            | Unreadable { .. }
            | Unsaved(_)
            | NoProcessSettings { .. }
            | Spec { .. }
            | SeccompCompile(_)
            | UpdateLimits { .. }
            | SupervisorSilent { .. }
            | ProcessVanished
            | Panicked { .. } => ErrorKind::Failed,
        }
    }

    /// `invalid WHAT "VALUE": REASON`.
    pub(crate) fn invalid_value(
        what: &'static str,
        value: impl Into<String>,
        reason: impl Into<String>,
    ) -> Error {
        Error::InvalidValue {
            what,
            value: value.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn invalid_option(flag: &'static str, reason: impl Into<String>) -> Error {
        Error::InvalidOption {
            flag,
            reason: reason.into(),
        }
    }

    pub(crate) fn sys(context: &'static str) -> impl FnOnce(std::io::Error) -> Error {
        move |source| Error::Sys { context, source }
    }
}

fn image_kind(e: &kist_image::Error) -> ErrorKind {
    match e {
        kist_image::Error::ImageNotFound(_) => ErrorKind::NotFound,
        kist_image::Error::BadReference { .. } | kist_image::Error::AmbiguousImage { .. } => {
            ErrorKind::InvalidInput
        }
        _ => ErrorKind::Failed,
    }
}

pub type Result<T> = std::result::Result<T, Error>;

pub(crate) trait IoContext<T> {
    fn ctx(self, context: &'static str, path: impl Into<PathBuf>) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn ctx(self, context: &'static str, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|source| Error::Io {
            context,
            path: path.into(),
            source,
        })
    }
}

impl<T> IoContext<T> for rustix::io::Result<T> {
    fn ctx(self, context: &'static str, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|e| Error::Io {
            context,
            path: path.into(),
            source: e.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_the_lines_users_see() {
        let taken = Error::NameInUse {
            name: "web".into(),
            holder: Some("abc123".into()),
        };
        assert_eq!(
            taken.to_string(),
            "the container name \"/web\" is already in use by container abc123: remove (or rename) that container to reuse the name"
        );
        let renamed = Error::NameInUse {
            name: "web".into(),
            holder: None,
        };
        assert_eq!(
            renamed.to_string(),
            "the container name \"/web\" is already in use"
        );
        assert_eq!(
            Error::invalid_value("ulimit", "x", "why").to_string(),
            "invalid ulimit \"x\": why"
        );
        let busy = Error::VolumeInUse {
            name: "data".into(),
            containers: vec!["abc".into(), "def".into()],
        };
        assert_eq!(
            busy.to_string(),
            "volume data is in use by container abc, def: remove the container first"
        );
    }

    #[test]
    fn kinds_and_exit_codes() {
        let missing = Error::NoSuchContainer {
            reference: "x".into(),
        };
        assert_eq!(missing.kind(), ErrorKind::NotFound);
        assert_eq!(missing.exit_code(), 125);
        let image = Error::Image(kist_image::Error::ImageNotFound("busybox".into()));
        assert_eq!(image.kind(), ErrorKind::NotFound);
        let not_found = Error::Runtime(kist_runtime::Error::Container {
            code: 127,
            message: "not found".into(),
        });
        assert_eq!(not_found.exit_code(), 127);
        assert_eq!(
            Error::ContainerNotRunning { name: "a".into() }.kind(),
            ErrorKind::Conflict
        );
    }
}
