//! The names a container on a bridge network resolves: a DNS responder at 127.0.0.11:53 in
//! the container's own namespace (Docker's address), served by the process that already waits
//! for the container (its supervisor, or the foreground `kist run`) on a thread of its own,
//! so that there is no per-network server to keep alive. Names are the containers on the same
//! networks (name, `--network-alias`, `--hostname`, also under `NAME.NETWORK`), read from the
//! state store when it has changed since the last query (a stat of its two files); the rest
//! is forwarded, from kist's own namespace, to the resolvers of the host's /etc/resolv.conf.

use std::cell::RefCell;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use kist_net::NetNs;
use kist_net::dns::{Lookup, Names, Upstreams};

use crate::error::{Error, Result};
use crate::state::networks::NetworkRecord;
use crate::state::store::Store;

/// Docker's address for its embedded DNS server.
pub const ADDRESS: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 11);

/// How long a forwarded query waits for each of the host's resolvers.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(2);

/// A running responder; it stops when dropped (and the container's namespace, which its
/// socket holds, can go).
pub struct Responder {
    socket: Arc<UdpSocket>,
    stop: Arc<AtomicBool>,
}

impl Drop for Responder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // SAFETY: shutdown(2) on a descriptor this value owns; it wakes the serving thread's
        // recv, which then sees `stop`.
        unsafe { libc::shutdown(self.socket.as_raw_fd(), libc::SHUT_RDWR) };
    }
}

/// The responder's socket, bound before the container's program starts (a query waits in it
/// until [`Bound::serve`]); what it serves is worked out then, after the start.
pub struct Bound {
    socket: UdpSocket,
    db: PathBuf,
    container_id: String,
    networks: Vec<NetworkRecord>,
    dns: Vec<String>,
}

/// Binds 127.0.0.11:53 inside `ns` for the container's networks. `dns`: the `--dns` servers
/// to forward to instead of the host's.
pub(crate) fn bind(
    db: &Path,
    ns: &NetNs,
    container_id: String,
    networks: Vec<NetworkRecord>,
    dns: &[String],
) -> Result<Bound> {
    let socket = ns.run_in(|| {
        kist_net::dns::bind_ahead(SocketAddrV4::new(ADDRESS, 53)).map_err(|e| {
            kist_net::Error::Kernel {
                context: format!("binding the DNS responder at {ADDRESS}:53 in the container"),
                source: e,
            }
        })
    })?;
    Ok(Bound {
        socket,
        db: db.to_path_buf(),
        container_id,
        networks,
        dns: dns.to_vec(),
    })
}

impl Bound {
    /// Serves the socket on a thread of its own until the [`Responder`] is dropped.
    pub fn serve(self) -> Result<Responder> {
        serve_bound(self)
    }
}

fn serve_bound(bound: Bound) -> Result<Responder> {
    let Bound {
        socket,
        db,
        container_id,
        networks,
        dns,
    } = bound;
    let socket = Arc::new(socket);
    let stop = Arc::new(AtomicBool::new(false));
    let servers = if dns.is_empty() {
        let host = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
        kist_net::dns::nameservers(&host)
    } else {
        let given: String = dns.iter().map(|d| format!("nameserver {d}\n")).collect();
        kist_net::dns::nameservers(&given)
    };
    let upstreams = Upstreams::new(servers, FORWARD_TIMEOUT);
    let names = StoreNames {
        db,
        container_id,
        networks,
        cache: RefCell::new(None),
    };
    let (serving, stopping) = (socket.clone(), stop.clone());
    std::thread::Builder::new()
        .name("dns".into())
        .stack_size(256 * 1024)
        .spawn(move || serve(&serving, &names, &upstreams, &stopping))
        .map_err(Error::sys("starting the DNS responder's thread"))?;
    Ok(Responder { socket, stop })
}

fn serve(socket: &UdpSocket, names: &StoreNames, upstreams: &Upstreams, stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        match kist_net::dns::serve_one(socket, names, upstreams) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

/// The store's files as last seen: their sizes and times change with every write.
type Stamp = Vec<Option<(u64, SystemTime)>>;

/// The names of the containers on some networks, from the store, cached until it changes.
struct StoreNames {
    db: PathBuf,
    /// The container served: its networks are read again with the names (`network
    /// connect` adds one); those it started with until the store can be read.
    container_id: String,
    networks: Vec<NetworkRecord>,
    cache: RefCell<Option<(Stamp, Names)>>,
}

impl StoreNames {
    fn stamp(&self) -> Stamp {
        let wal = self.db.with_extension("db-wal");
        [self.db.as_path(), wal.as_path()]
            .iter()
            .map(|p| {
                let m = std::fs::metadata(p).ok()?;
                Some((m.len(), m.modified().ok()?))
            })
            .collect()
    }

    fn load(&self) -> Names {
        let mut names = Names::new();
        let Ok(store) = Store::open(&self.db) else {
            return names;
        };
        let mine: Vec<String> = store
            .endpoints_of(&self.container_id)
            .map(|list| list.into_iter().map(|e| e.network_id).collect())
            .unwrap_or_else(|_| self.networks.iter().map(|n| n.id.clone()).collect());
        let networks = store.networks().unwrap_or_else(|_| self.networks.clone());
        for network in networks.iter().filter(|n| mine.contains(&n.id)) {
            names.add_domain(&network.name);
            for m in store.names_on(&network.id).unwrap_or_default() {
                names.insert(&m.name, m.ip);
                if let Some(h) = &m.hostname {
                    names.insert(h, m.ip);
                }
                for a in &m.aliases {
                    names.insert(a, m.ip);
                }
            }
        }
        names
    }
}

impl Lookup for StoreNames {
    fn ipv4(&self, name: &str) -> Option<Vec<Ipv4Addr>> {
        let stamp = self.stamp();
        let mut cache = self.cache.borrow_mut();
        if cache.as_ref().is_none_or(|(seen, _)| *seen != stamp) {
            *cache = Some((stamp, self.load()));
        }
        cache.as_ref().and_then(|(_, names)| names.ipv4(name))
    }
}
