//! Networks, the containers' places on them (endpoints) and their published host ports, in the
//! state store. An address is taken inside one write transaction that reads the addresses
//! already taken, so parallel `run`s on one network never get the same one; the unique
//! constraints back that up. A container's address is let go when it stops (and kept as its
//! preference for its next start); its host ports go with it.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::store::{Store, now, write_tx};
use crate::error::{Error, Result};

/// Version 3: networks, endpoints, published ports.
pub const SCHEMA_3: &str = "
CREATE TABLE networks (
    id        TEXT PRIMARY KEY,
    name      TEXT NOT NULL UNIQUE,
    bridge    TEXT NOT NULL UNIQUE,
    subnet    TEXT NOT NULL,
    gateway   TEXT NOT NULL,
    ip_range  TEXT,
    internal  INTEGER NOT NULL DEFAULT 0,
    mtu       INTEGER,
    labels    TEXT NOT NULL DEFAULT '{}',
    options   TEXT NOT NULL DEFAULT '{}',
    created   TEXT NOT NULL
);
CREATE TABLE endpoints (
    container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
    network_id   TEXT NOT NULL REFERENCES networks(id),
    ip           TEXT,
    last_ip      TEXT,
    requested_ip TEXT,
    mac          TEXT,
    aliases      TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (container_id, network_id),
    UNIQUE (network_id, ip)
);
CREATE TABLE published_ports (
    container_id   TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
    protocol       TEXT NOT NULL,
    host_ip        TEXT NOT NULL,
    host_port      INTEGER NOT NULL,
    container_port INTEGER NOT NULL,
    UNIQUE (protocol, host_ip, host_port)
);
";

/// A network as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkRecord {
    pub id: String,
    pub name: String,
    /// The bridge device (`kist0` for `bridge`, `kist-<id prefix>` for the others).
    pub bridge: String,
    pub subnet: ipnet::Ipv4Net,
    pub gateway: Ipv4Addr,
    pub ip_range: Option<ipnet::Ipv4Net>,
    pub internal: bool,
    pub mtu: Option<u32>,
    /// JSON objects, as given.
    pub labels: String,
    pub options: String,
    pub created: String,
}

impl NetworkRecord {
    pub fn pool(&self) -> Result<kist_net::ipam::Pool> {
        Ok(kist_net::ipam::Pool::new(
            self.subnet,
            Some(self.gateway),
            self.ip_range,
        )?)
    }
}

/// A container's place on a network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub container_id: String,
    pub network_id: String,
    /// The address it holds while it runs.
    pub ip: Option<Ipv4Addr>,
    /// The address it had last: asked for again at its next start.
    pub last_ip: Option<Ipv4Addr>,
    /// `--ip`: always this one.
    pub requested_ip: Option<Ipv4Addr>,
    pub mac: Option<String>,
    pub aliases: Vec<String>,
}

/// A running container's names on a network, and its address there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberNames {
    pub name: String,
    pub hostname: Option<String>,
    pub aliases: Vec<String>,
    pub ip: Ipv4Addr,
}

/// A host port a running container holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedPort {
    pub protocol: String,
    /// Empty: every address of the host.
    pub host_ip: String,
    pub host_port: u16,
    pub container_port: u16,
}

fn network_from_row(row: &Row<'_>) -> rusqlite::Result<NetworkRecord> {
    let parse_net = |s: String| s.parse::<ipnet::Ipv4Net>().ok();
    let subnet: String = row.get("subnet")?;
    let gateway: String = row.get("gateway")?;
    let range: Option<String> = row.get("ip_range")?;
    Ok(NetworkRecord {
        id: row.get("id")?,
        name: row.get("name")?,
        bridge: row.get("bridge")?,
        subnet: parse_net(subnet).unwrap_or_default(),
        gateway: gateway.parse().unwrap_or(Ipv4Addr::UNSPECIFIED),
        ip_range: range.and_then(parse_net),
        internal: row.get::<_, i64>("internal")? != 0,
        mtu: row.get("mtu")?,
        labels: row.get("labels")?,
        options: row.get("options")?,
        created: row.get("created")?,
    })
}

fn endpoint_from_row(row: &Row<'_>) -> rusqlite::Result<Endpoint> {
    let ip = |name: &str| -> rusqlite::Result<Option<Ipv4Addr>> {
        Ok(row
            .get::<_, Option<String>>(name)?
            .and_then(|s| s.parse().ok()))
    };
    let aliases: String = row.get("aliases")?;
    Ok(Endpoint {
        container_id: row.get("container_id")?,
        network_id: row.get("network_id")?,
        ip: ip("ip")?,
        last_ip: ip("last_ip")?,
        requested_ip: ip("requested_ip")?,
        mac: row.get("mac")?,
        aliases: serde_json::from_str(&aliases).unwrap_or_default(),
    })
}

fn is_constraint(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation)
}

impl Store {
    /// Records a network; fails if its name is taken.
    pub fn insert_network(&self, n: &NetworkRecord) -> Result<()> {
        let inserted = self.conn.execute(
            "INSERT INTO networks (id, name, bridge, subnet, gateway, ip_range, internal, mtu,
                labels, options, created)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                n.id,
                n.name,
                n.bridge,
                n.subnet.to_string(),
                n.gateway.to_string(),
                n.ip_range.map(|r| r.to_string()),
                n.internal,
                n.mtu,
                n.labels,
                n.options,
                n.created,
            ],
        );
        match inserted {
            Ok(_) => Ok(()),
            Err(e) if is_constraint(&e) => Err(Error::NetworkExists {
                name: n.name.clone(),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// The network named `name` (or with this id, or id prefix), if any.
    pub fn find_network(&self, reference: &str) -> Result<Option<NetworkRecord>> {
        let exact = self
            .conn
            .query_row(
                "SELECT * FROM networks WHERE name = ?1 OR id = ?1 LIMIT 1",
                [reference],
                network_from_row,
            )
            .optional()?;
        if exact.is_some() || reference.len() < 2 {
            return Ok(exact);
        }
        let mut stmt = self
            .conn
            .prepare_cached("SELECT * FROM networks WHERE id LIKE ?1 || '%'")?;
        let found = stmt
            .query_map([reference], network_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(if found.len() == 1 {
            found.into_iter().next()
        } else {
            None
        })
    }

    /// The network with this full id.
    pub fn network_by_id(&self, id: &str) -> Result<Option<NetworkRecord>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT * FROM networks WHERE id = ?1")?;
        Ok(stmt.query_row([id], network_from_row).optional()?)
    }

    pub fn networks(&self) -> Result<Vec<NetworkRecord>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT * FROM networks ORDER BY created")?;
        let rows = stmt.query_map([], network_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Deletes a network unless a container is on it; Err(NetworkInUse) with their names if so.
    pub fn delete_network(&self, n: &NetworkRecord) -> Result<()> {
        let tx = write_tx(&self.conn)?;
        let users: Vec<String> = {
            let mut stmt = tx.prepare_cached(
                "SELECT c.name FROM endpoints e JOIN containers c ON c.id = e.container_id
                  WHERE e.network_id = ?1 ORDER BY c.name",
            )?;
            let rows = stmt.query_map([&n.id], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()?
        };
        if !users.is_empty() {
            return Err(Error::NetworkInUse {
                name: n.name.clone(),
                containers: users,
            });
        }
        tx.execute("DELETE FROM networks WHERE id = ?1", [&n.id])?;
        tx.commit()?;
        Ok(())
    }

    /// Records the container's place on the network (no address yet).
    pub fn insert_endpoint(&self, e: &Endpoint) -> Result<()> {
        insert_endpoint_in(&self.conn, e)
    }

    /// Records a container that runs from now on with its place on `network`, and its address
    /// there, in one write transaction: a foreground `run` writes the store once on its way to
    /// the program, not three times (each commit also grows the WAL that a checkpoint, with its
    /// fsync, empties). Returns the address.
    pub fn insert_running_container_on(
        &self,
        c: &crate::state::store::ContainerRecord,
        volumes: &[String],
        endpoint: &Endpoint,
        network: &NetworkRecord,
    ) -> Result<Ipv4Addr> {
        self.insert_container_with(c, volumes, |tx| {
            insert_endpoint_holding_in(tx, endpoint, network)
        })
    }

    pub fn delete_endpoint(&self, container_id: &str, network_id: &str) -> Result<()> {
        self.conn.execute(
            "DELETE FROM endpoints WHERE container_id = ?1 AND network_id = ?2",
            params![container_id, network_id],
        )?;
        Ok(())
    }

    pub fn endpoints_of(&self, container_id: &str) -> Result<Vec<Endpoint>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT * FROM endpoints WHERE container_id = ?1")?;
        let rows = stmt.query_map([container_id], endpoint_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    pub fn endpoints_on(&self, network_id: &str) -> Result<Vec<Endpoint>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT * FROM endpoints WHERE network_id = ?1")?;
        let rows = stmt.query_map([network_id], endpoint_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Gives the container an address on the network, in one write transaction: `--ip` if it
    /// asked for one (which must be free), else the one it had last if still free, else the
    /// next free one after the newest taken.
    pub fn allocate_address(
        &self,
        container_id: &str,
        network: &NetworkRecord,
    ) -> Result<Ipv4Addr> {
        let tx = write_tx(&self.conn)?;
        let ip = allocate_in(&tx, container_id, network)?;
        tx.commit()?;
        Ok(ip)
    }

    /// The addresses of every container on the network that holds one, with its name.
    pub fn network_members(&self, network_id: &str) -> Result<Vec<(String, Ipv4Addr)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT c.name, e.ip FROM endpoints e JOIN containers c ON c.id = e.container_id
              WHERE e.network_id = ?1 AND e.ip IS NOT NULL",
        )?;
        let rows = stmt.query_map([network_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        Ok(rows
            .filter_map(|r| {
                let (name, ip) = r.ok()?;
                Some((name, ip.parse().ok()?))
            })
            .collect())
    }

    /// What the DNS responder answers for a network: each running container's names.
    pub fn names_on(&self, network_id: &str) -> Result<Vec<MemberNames>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT c.name, c.config, e.aliases, e.ip FROM endpoints e
               JOIN containers c ON c.id = e.container_id
              WHERE e.network_id = ?1 AND e.ip IS NOT NULL",
        )?;
        let rows = stmt.query_map([network_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?;
        Ok(rows
            .filter_map(|r| {
                let (name, config, aliases, ip) = r.ok()?;
                let config: serde_json::Value = serde_json::from_str(&config).unwrap_or_default();
                let hostname = config["Hostname"].as_str().map(String::from);
                let aliases = serde_json::from_str(&aliases).unwrap_or_default();
                Some(MemberNames {
                    name,
                    hostname,
                    aliases,
                    ip: ip.parse().ok()?,
                })
            })
            .collect())
    }

    /// Takes the container's host ports, in one transaction: any port that another container
    /// holds (on the same address or on every address) fails it, naming the port.
    pub fn take_ports(&self, container_id: &str, ports: &[PublishedPort]) -> Result<()> {
        let tx = write_tx(&self.conn)?;
        tx.execute(
            "DELETE FROM published_ports WHERE container_id = ?1",
            [container_id],
        )?;
        for p in ports {
            let holder: Option<String> = tx
                .query_row(
                    "SELECT c.name FROM published_ports p JOIN containers c ON c.id = p.container_id
                      WHERE p.protocol = ?1 AND p.host_port = ?2
                        AND (p.host_ip = ?3 OR p.host_ip = '' OR ?3 = '') LIMIT 1",
                    params![p.protocol, p.host_port, p.host_ip],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(holder) = holder {
                return Err(port_allocated(p, Some(holder)));
            }
            tx.execute(
                "INSERT INTO published_ports (container_id, protocol, host_ip, host_port, container_port)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![container_id, p.protocol, p.host_ip, p.host_port, p.container_port],
            )
            .map_err(|e| {
                if is_constraint(&e) {
                    port_allocated(p, None)
                } else {
                    e.into()
                }
            })?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Every host port some container holds, by protocol.
    pub fn host_ports_taken(&self) -> Result<BTreeSet<(String, u16)>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT protocol, host_port FROM published_ports")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u16>(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<BTreeSet<_>>>()?)
    }

    /// The host ports the container holds.
    pub fn ports_of(&self, container_id: &str) -> Result<Vec<PublishedPort>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT protocol, host_ip, host_port, container_port FROM published_ports
              WHERE container_id = ?1 ORDER BY container_port, protocol, host_port",
        )?;
        let rows = stmt.query_map([container_id], |r| {
            Ok(PublishedPort {
                protocol: r.get(0)?,
                host_ip: r.get(1)?,
                host_port: r.get(2)?,
                container_port: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Lets go of the container's addresses (keeping them as its preference) and host ports:
    /// it no longer runs.
    pub fn release_network(&self, container_id: &str) -> Result<()> {
        let tx = write_tx(&self.conn)?;
        tx.execute(
            "UPDATE endpoints SET ip = NULL WHERE container_id = ?1",
            [container_id],
        )?;
        tx.execute(
            "DELETE FROM published_ports WHERE container_id = ?1",
            [container_id],
        )?;
        tx.commit()?;
        Ok(())
    }
}

fn port_allocated(p: &PublishedPort, holder: Option<String>) -> Error {
    let ip = if p.host_ip.is_empty() {
        "0.0.0.0"
    } else {
        &p.host_ip
    };
    Error::PortAllocated {
        address: format!("{ip}:{}", p.host_port),
        holder,
    }
}

/// A new network's record, stamped now.
pub fn new_network(
    name: &str,
    bridge: String,
    pool: &kist_net::ipam::Pool,
    ip_range: Option<ipnet::Ipv4Net>,
) -> NetworkRecord {
    NetworkRecord {
        id: crate::state::ids::new_container_id(),
        name: name.to_string(),
        bridge,
        subnet: pool.subnet(),
        gateway: pool.gateway(),
        ip_range,
        internal: false,
        mtu: None,
        labels: "{}".into(),
        options: "{}".into(),
        created: now(),
    }
}

/// [`Store::allocate_address`] within the caller's write transaction `tx`.
fn allocate_in(tx: &Connection, container_id: &str, network: &NetworkRecord) -> Result<Ipv4Addr> {
    let (current, last, requested) = tx.query_row(
        "SELECT ip, last_ip, requested_ip FROM endpoints
              WHERE container_id = ?1 AND network_id = ?2",
        params![container_id, network.id],
        |r| {
            let ip = |i: usize| -> rusqlite::Result<Option<Ipv4Addr>> {
                Ok(r.get::<_, Option<String>>(i)?.and_then(|s| s.parse().ok()))
            };
            Ok((ip(0)?, ip(1)?, ip(2)?))
        },
    )?;
    if let Some(ip) = current {
        return Ok(ip);
    }
    let ip = choose_address_in(tx, network, requested, last)?;
    tx.execute(
        "UPDATE endpoints SET ip = ?3, last_ip = ?3 WHERE container_id = ?1 AND network_id = ?2",
        params![container_id, network.id, ip.to_string()],
    )?;
    Ok(ip)
}

/// The address a container gets on `network`: `requested` (`--ip`), which must be free, else
/// `last` (its address before) when free, else the next free one after the address of the
/// newest endpoint. One read of the network's endpoints: a `run` opens the store afresh, so
/// every statement it runs is prepared again, and each one costs.
fn choose_address_in(
    tx: &Connection,
    network: &NetworkRecord,
    requested: Option<Ipv4Addr>,
    last: Option<Ipv4Addr>,
) -> Result<Ipv4Addr> {
    let pool = network.pool()?;
    let mut taken = BTreeSet::new();
    let mut newest = None;
    {
        let mut stmt = tx.prepare_cached(
            "SELECT ip, last_ip FROM endpoints WHERE network_id = ?1 ORDER BY rowid",
        )?;
        let mut rows = stmt.query([&network.id])?;
        while let Some(row) = rows.next()? {
            let ip = |i: usize| -> rusqlite::Result<Option<Ipv4Addr>> {
                Ok(row
                    .get::<_, Option<String>>(i)?
                    .and_then(|s| s.parse().ok()))
            };
            if let Some(ip) = ip(0)? {
                taken.insert(ip);
            }
            if let Some(last) = ip(1)? {
                newest = Some(last);
            }
        }
    }
    Ok(match (requested, last) {
        (Some(ip), _) => pool.request(ip, &taken)?,
        (None, Some(ip)) if pool.request(ip, &taken).is_ok() => ip,
        (None, _) => pool.next_free(&taken, newest)?,
    })
}

/// Records a new endpoint holding its address already: chosen and written in one statement
/// each.
fn insert_endpoint_holding_in(
    tx: &Connection,
    e: &Endpoint,
    network: &NetworkRecord,
) -> Result<Ipv4Addr> {
    let ip = choose_address_in(tx, network, e.requested_ip, e.last_ip)?;
    tx.execute(
        "INSERT INTO endpoints (container_id, network_id, ip, last_ip, requested_ip, mac, aliases)
         VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6)",
        params![
            e.container_id,
            e.network_id,
            ip.to_string(),
            e.requested_ip.map(|i| i.to_string()),
            e.mac,
            serde_json::to_string(&e.aliases).unwrap_or_default(),
        ],
    )?;
    Ok(ip)
}

fn insert_endpoint_in(conn: &Connection, e: &Endpoint) -> Result<()> {
    conn.execute(
        "INSERT INTO endpoints (container_id, network_id, requested_ip, mac, aliases)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            e.container_id,
            e.network_id,
            e.requested_ip.map(|i| i.to_string()),
            e.mac,
            serde_json::to_string(&e.aliases).unwrap_or_default(),
        ],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::store::{ContainerRecord, ContainerState};

    fn container(store: &Store, id: &str) {
        store.insert_container(&record_of(id), &[]).unwrap();
    }

    fn record_of(id: &str) -> ContainerRecord {
        ContainerRecord {
            id: id.into(),
            name: format!("n-{id}"),
            image: "busybox".into(),
            image_id: "sha256:x".into(),
            command: vec![],
            created: now(),
            state: ContainerState::Created,
            process: None,
            monitor: None,
            exit_code: None,
            started_at: None,
            finished_at: None,
            error: None,
            auto_remove: false,
            config: "{}".into(),
            stop_requested: false,
            restart_count: 0,
            oom_killed: false,
        }
    }

    fn endpoint(id: &str, net: &NetworkRecord, requested: Option<Ipv4Addr>) -> Endpoint {
        Endpoint {
            container_id: id.into(),
            network_id: net.id.clone(),
            ip: None,
            last_ip: None,
            requested_ip: requested,
            mac: None,
            aliases: vec![],
        }
    }

    /// A store in `dir` with network `n` on 10.9.0.0/24.
    fn store_with_network(dir: &std::path::Path) -> (Store, NetworkRecord) {
        let store = Store::open(&dir.join("kist.db")).unwrap();
        let pool = kist_net::ipam::Pool::new("10.9.0.0/24".parse().unwrap(), None, None).unwrap();
        let net = new_network("n", "kist-n".into(), &pool, None);
        store.insert_network(&net).unwrap();
        (store, net)
    }

    #[test]
    fn a_running_container_is_recorded_with_its_address_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let (store, net) = store_with_network(dir.path());
        let mut a = record_of("a");
        let given = store
            .insert_running_container_on(&a, &[], &endpoint("a", &net, None), &net)
            .unwrap();
        let recorded = &store.endpoints_of("a").unwrap()[0];
        let ip = recorded.ip;
        assert_eq!(ip, Some("10.9.0.2".parse().unwrap()));
        assert_eq!(
            (Some(given), recorded.last_ip),
            (ip, ip),
            "returned, and kept as last"
        );
        // Asking for the address a holds: refused, and nothing of b is recorded.
        a.id = "b".into();
        a.name = "b".into();
        let taken = store
            .insert_running_container_on(&a, &[], &endpoint("b", &net, ip), &net)
            .unwrap_err();
        assert!(taken.to_string().contains("already in use"), "{taken}");
        assert!(store.find_container("b").is_err());
        assert!(store.endpoints_of("b").unwrap().is_empty());
    }

    #[test]
    fn addresses_are_distinct_kept_across_restarts_and_freed_on_exit() {
        let dir = tempfile::tempdir().unwrap();
        let (store, net) = store_with_network(dir.path());
        for id in ["a", "b", "c"] {
            container(&store, id);
        }
        store.insert_endpoint(&endpoint("a", &net, None)).unwrap();
        store.insert_endpoint(&endpoint("b", &net, None)).unwrap();
        let a = store.allocate_address("a", &net).unwrap();
        let b = store.allocate_address("b", &net).unwrap();
        assert_eq!(
            (a, b),
            ("10.9.0.2".parse().unwrap(), "10.9.0.3".parse().unwrap())
        );
        store.release_network("a").unwrap();
        assert_eq!(store.allocate_address("a", &net).unwrap(), a, "kept");
        store
            .insert_endpoint(&endpoint("c", &net, Some(b)))
            .unwrap();
        let taken = store.allocate_address("c", &net).unwrap_err();
        assert_eq!(
            taken.to_string(),
            "address 10.9.0.3 is already in use on subnet 10.9.0.0/24"
        );
        let e = store.delete_network(&net).unwrap_err();
        assert!(matches!(e, Error::NetworkInUse { .. }), "{e}");
    }

    #[test]
    fn a_host_port_has_one_holder() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("kist.db")).unwrap();
        container(&store, "a");
        container(&store, "b");
        let port = |ip: &str| PublishedPort {
            protocol: "tcp".into(),
            host_ip: ip.into(),
            host_port: 8080,
            container_port: 80,
        };
        store.take_ports("a", &[port("127.0.0.1")]).unwrap();
        let e = store.take_ports("b", &[port("")]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Bind for 0.0.0.0:8080 failed: port is already allocated (by container n-a)"
        );
        assert!(store.ports_of("b").unwrap().is_empty(), "nothing taken");
        store.release_network("a").unwrap();
        store.take_ports("b", &[port("")]).unwrap();
    }
}
