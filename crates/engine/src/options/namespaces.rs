//! `--pid`, `--ipc` and `--uts`: which of a container's namespaces are its own, the host's or
//! another container's.

use crate::error::{Error, Result};

/// Whose namespace of one type a container is in.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Share {
    /// Its own (Docker's `private`, and for IPC also `shareable`).
    #[default]
    Own,
    /// The host's.
    Host,
    /// That of another container, by the reference the user gave.
    Container(String),
}

/// `--ipc`'s modes beyond whose namespace it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum IpcOwn {
    /// `private`: others may not join it (Docker's default).
    #[default]
    Private,
    /// `shareable`: `--ipc container:THIS` may join it.
    Shareable,
    /// `none`: its own, without /dev/shm.
    None,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Namespaces {
    pub pid: Share,
    pub ipc: Share,
    /// With `ipc: Own`, what kind.
    pub ipc_own: IpcOwn,
    pub uts: Share,
}

fn container_ref<'a>(flag: &'static str, value: &'a str) -> Result<Option<&'a str>> {
    match value.strip_prefix("container:") {
        Some("") => Err(Error::invalid_value(
            flag,
            value,
            "name the container: container:NAME|ID",
        )),
        other => Ok(other),
    }
}

impl Namespaces {
    /// Parses the three flags as Docker takes them (empty: the default).
    pub fn parse(pid: &str, ipc: &str, uts: &str) -> Result<Namespaces> {
        let pid = match (pid, container_ref("--pid", pid)?) {
            ("" | "private", _) => Share::Own,
            ("host", _) => Share::Host,
            (_, Some(c)) => Share::Container(c.to_string()),
            _ => {
                return Err(Error::invalid_value(
                    "--pid",
                    pid,
                    "use host or container:NAME|ID",
                ));
            }
        };
        let (ipc, ipc_own) = match (ipc, container_ref("--ipc", ipc)?) {
            ("" | "private", _) => (Share::Own, IpcOwn::Private),
            ("shareable", _) => (Share::Own, IpcOwn::Shareable),
            ("none", _) => (Share::Own, IpcOwn::None),
            ("host", _) => (Share::Host, IpcOwn::Private),
            (_, Some(c)) => (Share::Container(c.to_string()), IpcOwn::Private),
            _ => {
                return Err(Error::invalid_value(
                    "--ipc",
                    ipc,
                    "use private, shareable, none, host or container:NAME|ID",
                ));
            }
        };
        let uts = match uts {
            "" | "private" => Share::Own,
            "host" => Share::Host,
            _ => return Err(Error::invalid_value("--uts", uts, "use host")),
        };
        Ok(Namespaces {
            pid,
            ipc,
            ipc_own,
            uts,
        })
    }

    /// `HostConfig.PidMode`: "" for its own, as Docker shows it.
    pub fn pid_mode(&self) -> String {
        mode(&self.pid, "")
    }

    /// `HostConfig.IpcMode`: `private` by default, as Docker 20.10+ shows it.
    pub fn ipc_mode(&self) -> String {
        let own = match self.ipc_own {
            IpcOwn::Private => "private",
            IpcOwn::Shareable => "shareable",
            IpcOwn::None => "none",
        };
        mode(&self.ipc, own)
    }

    pub fn uts_mode(&self) -> String {
        mode(&self.uts, "")
    }
}

fn mode(share: &Share, own: &str) -> String {
    match share {
        Share::Own => own.to_string(),
        Share::Host => "host".into(),
        Share::Container(c) => format!("container:{c}"),
    }
}

/// A namespace of another container's that this one joins.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct JoinedNamespace {
    /// `pid` or `ipc`, as `/proc/PID/ns/` names it.
    pub ns: String,
    /// The other container's id.
    pub container: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_and_show_as_docker_does() {
        let ns = Namespaces::parse("host", "container:db", "host").unwrap();
        assert_eq!(ns.pid, Share::Host);
        assert_eq!(ns.ipc, Share::Container("db".into()));
        assert_eq!(
            (ns.pid_mode(), ns.ipc_mode(), ns.uts_mode()),
            ("host".into(), "container:db".into(), "host".into())
        );
        let d = Namespaces::parse("", "", "").unwrap();
        assert_eq!((d.pid_mode(), d.ipc_mode()), ("".into(), "private".into()));
        assert_eq!(
            Namespaces::parse("", "shareable", "").unwrap().ipc_mode(),
            "shareable"
        );
        for (p, i, u) in [
            ("bogus", "", ""),
            ("container:", "", ""),
            ("", "bogus", ""),
            ("", "", "container:x"),
        ] {
            assert!(Namespaces::parse(p, i, u).is_err(), "{p} {i} {u}");
        }
    }
}
