//! The state store: containers, names and volumes in SQLite (WAL mode, so readers never wait for
//! a writer, with a busy timeout so concurrent writers queue instead of failing). Every state
//! change is one statement or one transaction; names are unique by a constraint, which settles
//! races between concurrent `run --name` commands.

use std::path::Path;
use std::time::Duration;

use kist_runtime::process::ProcessStamp;
use rusqlite::{Connection, ErrorCode, OptionalExtension, Row, params};

use crate::error::{Error, Result};

const SCHEMA: &str = "
CREATE TABLE containers (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    image         TEXT NOT NULL,
    image_id      TEXT NOT NULL,
    command       TEXT NOT NULL,
    created       TEXT NOT NULL,
    state         TEXT NOT NULL,
    pid           INTEGER,
    pid_start     INTEGER,
    monitor_pid   INTEGER,
    monitor_start INTEGER,
    exit_code     INTEGER,
    started_at    TEXT,
    finished_at   TEXT,
    error         TEXT,
    auto_remove   INTEGER NOT NULL,
    config        TEXT NOT NULL
);
CREATE TABLE volumes (
    name      TEXT PRIMARY KEY,
    created   TEXT NOT NULL,
    anonymous INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE container_volumes (
    container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
    volume       TEXT NOT NULL REFERENCES volumes(name),
    PRIMARY KEY (container_id, volume)
);
";

/// Version 2: detached containers. A stop asked by a user (not a failure, for restart policies),
/// restarts counted, OOM kills recorded.
const SCHEMA_2: &str = "
ALTER TABLE containers ADD COLUMN stop_requested INTEGER NOT NULL DEFAULT 0;
ALTER TABLE containers ADD COLUMN restart_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE containers ADD COLUMN oom_killed INTEGER NOT NULL DEFAULT 0;
";

fn migrate_to_2(conn: &Connection) -> Result<()> {
    let tx = write_tx(conn)?;
    let v: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if v == 1 {
        tx.execute_batch(SCHEMA_2)?;
        tx.pragma_update(None, "user_version", 2)?;
    }
    tx.commit()?;
    Ok(())
}

fn migrate_to_3(conn: &Connection) -> Result<()> {
    let tx = write_tx(conn)?;
    let v: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if v == 2 {
        tx.execute_batch(crate::state::networks::SCHEMA_3)?;
        tx.pragma_update(None, "user_version", 3)?;
    }
    tx.commit()?;
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerState {
    /// Recorded, its process being set up.
    Created,
    Running,
    Exited,
    /// Being removed; a kist killed half-way leaves it so, and the next one finishes the job.
    Removing,
}

impl ContainerState {
    fn as_str(self) -> &'static str {
        match self {
            ContainerState::Created => "created",
            ContainerState::Running => "running",
            ContainerState::Exited => "exited",
            ContainerState::Removing => "removing",
        }
    }

    fn parse(s: &str) -> ContainerState {
        match s {
            "created" => ContainerState::Created,
            "running" => ContainerState::Running,
            "removing" => ContainerState::Removing,
            _ => ContainerState::Exited,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ContainerRecord {
    pub id: String,
    pub name: String,
    pub image: String,
    pub image_id: String,
    /// The command as run: entrypoint and arguments.
    pub command: Vec<String>,
    pub created: String,
    pub state: ContainerState,
    pub process: Option<ProcessStamp>,
    /// The kist process responsible for the container (a foreground `run`).
    pub monitor: Option<ProcessStamp>,
    pub exit_code: Option<i32>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub error: Option<String>,
    pub auto_remove: bool,
    /// The container's settings as JSON, for later commands (inspect, start).
    pub config: String,
    pub stop_requested: bool,
    pub restart_count: i64,
    pub oom_killed: bool,
}

/// What reconciliation reads of a container that some process is responsible for.
#[derive(Debug, Clone)]
pub struct ActiveContainer {
    pub id: String,
    pub state: ContainerState,
    pub process: Option<ProcessStamp>,
    pub monitor: Option<ProcessStamp>,
    pub auto_remove: bool,
}

impl ContainerRecord {
    /// The 12-character form Docker shows.
    pub fn short_id(&self) -> &str {
        crate::state::ids::short(&self.id)
    }
}

#[derive(Debug, Clone)]
pub struct VolumeRecord {
    pub name: String,
    pub created: String,
    pub anonymous: bool,
}

pub struct Store {
    pub(super) conn: Connection,
}

fn stamp(pid: Option<i32>, start: Option<u64>) -> Option<ProcessStamp> {
    Some(ProcessStamp {
        pid: pid?,
        start_time: start?,
    })
}

/// A container query: its columns named in the order `container_from_row` reads them by
/// index (a lookup by name compares every column's name, which was an eighth of `ps -a`).
macro_rules! select_containers {
    ($rest:literal) => {
        concat!(
            "SELECT id, name, image, image_id, command, created, state, pid, pid_start, ",
            "monitor_pid, monitor_start, exit_code, started_at, finished_at, error, ",
            "auto_remove, config, stop_requested, restart_count, oom_killed FROM containers ",
            $rest
        )
    };
}

fn container_from_row(row: &Row<'_>) -> rusqlite::Result<ContainerRecord> {
    let command: String = row.get(4)?;
    Ok(ContainerRecord {
        id: row.get(0)?,
        name: row.get(1)?,
        image: row.get(2)?,
        image_id: row.get(3)?,
        command: serde_json::from_str(&command).unwrap_or_default(),
        created: row.get(5)?,
        state: ContainerState::parse(&row.get::<_, String>(6)?),
        process: stamp(row.get(7)?, row.get(8)?),
        monitor: stamp(row.get(9)?, row.get(10)?),
        exit_code: row.get(11)?,
        started_at: row.get(12)?,
        finished_at: row.get(13)?,
        error: row.get(14)?,
        auto_remove: row.get::<_, i64>(15)? != 0,
        config: row.get(16)?,
        stop_requested: row.get::<_, i64>(17)? != 0,
        restart_count: row.get(18)?,
        oom_killed: row.get::<_, i64>(19)? != 0,
    })
}

/// Begins a write transaction: IMMEDIATE takes the write lock at once (waiting through the busy
/// timeout), where a deferred transaction that reads first and writes later fails at once with
/// SQLITE_BUSY when another writer committed in between.
pub(super) fn write_tx(conn: &Connection) -> rusqlite::Result<rusqlite::Transaction<'_>> {
    rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)
}

pub fn now() -> String {
    humantime::format_rfc3339_nanos(std::time::SystemTime::now()).to_string()
}

/// Runs `op` again while SQLite says the database is busy or locked, for up to 30 s (what the
/// busy timeout gives other statements).
fn retry_busy<T>(mut op: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        match op() {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if matches!(
                    e.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            other => return other,
        }
    }
}

impl Store {
    pub fn open(path: &Path) -> Result<Store> {
        // The store holds every container's environment (secrets passed with -e): root's alone.
        // SQLite gives its WAL and shared-memory files the database file's mode.
        crate::state::private_file::restrict_file(path)?;
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(30))?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version == 1 {
            migrate_to_2(&conn)?;
        }
        if (1..=2).contains(&version) {
            migrate_to_3(&conn)?;
        }
        if version == 0 {
            // WAL is a property of the file: set once, when the schema is made. Switching
            // needs the file to itself, and SQLite answers "busy" at once rather than wait
            // when another first command holds it: so wait here.
            retry_busy(|| conn.pragma_update(None, "journal_mode", "WAL"))?;
            let tx = write_tx(&conn)?;
            // A concurrent first command may have made the schema while we waited for the lock.
            let again: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
            if again == 0 {
                tx.execute_batch(SCHEMA)?;
                tx.execute_batch(SCHEMA_2)?;
                tx.execute_batch(crate::state::networks::SCHEMA_3)?;
                tx.pragma_update(None, "user_version", 3)?;
            }
            tx.commit()?;
        }
        // Commits need not wait for the disk: WAL keeps the store consistent through a crash.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // kist commands are short-lived. By default the last connection to close checkpoints
        // (writing and syncing the database) and deletes the WAL, which the next command makes
        // anew. Skipping that leaves the WAL for the next opener to recover, which reads all of
        // it: so the WAL is kept short instead, by checkpointing every 64 pages. Measured
        // interleaved with bench/ab, each variant in its own root: 10.54 ms (default) and
        // 10.35 ms (no checkpoint on close, 1000 pages) against 9.23 ms for `run --rm`.
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
            true,
        )?;
        conn.pragma_update(None, "wal_autocheckpoint", 64)?;
        Ok(Store { conn })
    }

    /// Records a new container; fails if its name is taken.
    pub fn insert_container(&self, c: &ContainerRecord, volumes: &[String]) -> Result<()> {
        self.insert_container_with(c, volumes, |_| Ok(()))
    }

    /// As [`Store::insert_container`], with `also` done in the same write transaction.
    pub(crate) fn insert_container_with<T>(
        &self,
        c: &ContainerRecord,
        volumes: &[String],
        also: impl FnOnce(&Connection) -> Result<T>,
    ) -> Result<T> {
        let tx = write_tx(&self.conn)?;
        let inserted = tx.execute(
            "INSERT INTO containers (id, name, image, image_id, command, created, state,
                monitor_pid, monitor_start, auto_remove, config, pid, pid_start, started_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            params![
                c.id,
                c.name,
                c.image,
                c.image_id,
                serde_json::to_string(&c.command).unwrap_or_default(),
                c.created,
                c.state.as_str(),
                c.monitor.map(|m| m.pid),
                c.monitor.map(|m| m.start_time),
                c.auto_remove,
                c.config,
                c.process.map(|p| p.pid),
                c.process.map(|p| p.start_time),
                c.started_at,
            ],
        );
        match inserted {
            Ok(_) => {}
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == ErrorCode::ConstraintViolation =>
            {
                let holder: String = tx
                    .query_row(
                        "SELECT id FROM containers WHERE name = ?1",
                        [&c.name],
                        |r| r.get(0),
                    )
                    .unwrap_or_default();
                return Err(Error::NameInUse {
                    name: c.name.clone(),
                    holder: Some(holder),
                });
            }
            Err(e) => return Err(e.into()),
        }
        for v in volumes {
            tx.execute(
                "INSERT OR IGNORE INTO container_volumes (container_id, volume) VALUES (?1, ?2)",
                params![c.id, v],
            )?;
        }
        let also = also(&tx)?;
        tx.commit()?;
        Ok(also)
    }

    pub fn set_running(&self, id: &str, process: ProcessStamp) -> Result<()> {
        self.conn.execute(
            "UPDATE containers SET state = 'running', pid = ?2, pid_start = ?3, started_at = ?4,
                exit_code = NULL, finished_at = NULL, error = NULL WHERE id = ?1",
            params![id, process.pid, process.start_time, now()],
        )?;
        Ok(())
    }

    /// A new process of an existing container: `start`, or a restart by its supervisor.
    pub fn set_restarted(
        &self,
        id: &str,
        process: ProcessStamp,
        monitor: ProcessStamp,
        restart: bool,
    ) -> Result<()> {
        self.conn.execute(
            "UPDATE containers SET state = 'running', pid = ?2, pid_start = ?3, started_at = ?4,
                monitor_pid = ?5, monitor_start = ?6, exit_code = NULL, finished_at = NULL,
                error = NULL, stop_requested = 0, oom_killed = 0,
                restart_count = restart_count + ?7
             WHERE id = ?1",
            params![
                id,
                process.pid,
                process.start_time,
                now(),
                monitor.pid,
                monitor.start_time,
                restart
            ],
        )?;
        Ok(())
    }

    /// Makes `monitor` the process responsible for the container.
    pub fn set_monitor(&self, id: &str, monitor: ProcessStamp) -> Result<()> {
        self.conn.execute(
            "UPDATE containers SET monitor_pid = ?2, monitor_start = ?3 WHERE id = ?1",
            params![id, monitor.pid, monitor.start_time],
        )?;
        Ok(())
    }

    /// Leaves a created container (`kist create`) in no process's charge until `start`.
    pub fn release_created(&self, id: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE containers SET monitor_pid = NULL, monitor_start = NULL
             WHERE id = ?1 AND state = 'created'",
            [id],
        )?;
        Ok(())
    }

    pub fn set_oom_killed(&self, id: &str) -> Result<()> {
        self.conn
            .execute("UPDATE containers SET oom_killed = 1 WHERE id = ?1", [id])?;
        Ok(())
    }

    /// Records that a user asked the container to stop (so it is not restarted).
    pub fn set_stop_requested(&self, id: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE containers SET stop_requested = 1 WHERE id = ?1",
            [id],
        )?;
        Ok(())
    }

    pub fn rename(&self, id: &str, name: &str) -> Result<()> {
        match self.conn.execute(
            "UPDATE containers SET name = ?2 WHERE id = ?1",
            params![id, name],
        ) {
            Ok(_) => Ok(()),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == ErrorCode::ConstraintViolation =>
            {
                Err(Error::NameInUse {
                    name: name.to_string(),
                    holder: None,
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Marks an orphaned container exited, if the record still names `monitor` (found dead) as
    /// responsible: another command may have handed it to a new monitor meanwhile.
    pub fn set_orphan_exited(
        &self,
        id: &str,
        monitor: Option<ProcessStamp>,
        exit_code: i32,
        error: &str,
    ) -> Result<bool> {
        let n = self.conn.execute(
            "UPDATE containers SET state = 'exited', exit_code = ?2, finished_at = ?3, error = ?4,
                pid = NULL, pid_start = NULL, monitor_pid = NULL, monitor_start = NULL
             WHERE id = ?1 AND state IN ('created', 'running')
               AND monitor_pid IS ?5 AND monitor_start IS ?6",
            params![
                id,
                exit_code,
                now(),
                error,
                monitor.map(|m| m.pid),
                monitor.map(|m| m.start_time)
            ],
        )?;
        if n == 1 {
            self.release_network(id)?;
        }
        Ok(n == 1)
    }

    /// Claims an orphaned container for removal, on the same condition.
    pub fn claim_orphan(&self, id: &str, monitor: Option<ProcessStamp>) -> Result<bool> {
        let n = self.conn.execute(
            "UPDATE containers SET state = 'removing'
             WHERE id = ?1 AND state IN ('created', 'running', 'removing')
               AND monitor_pid IS ?2 AND monitor_start IS ?3",
            params![id, monitor.map(|m| m.pid), monitor.map(|m| m.start_time)],
        )?;
        Ok(n == 1)
    }

    pub fn set_exited(&self, id: &str, exit_code: i32, error: Option<&str>) -> Result<()> {
        self.conn.execute(
            "UPDATE containers SET state = 'exited', exit_code = ?2, finished_at = ?3, error = ?4,
                pid = NULL, pid_start = NULL, monitor_pid = NULL, monitor_start = NULL
             WHERE id = ?1 AND state != 'removing'",
            params![id, exit_code, now(), error],
        )?;
        // Its addresses and host ports are free for others once it no longer runs.
        self.release_network(id)
    }

    /// Moves a container from `from` to `to` if it is still in `from`: the one command that
    /// wins this owns the transition (used to claim a container for removal).
    pub fn transition(&self, id: &str, from: ContainerState, to: ContainerState) -> Result<bool> {
        let changed = self.conn.execute(
            "UPDATE containers SET state = ?3 WHERE id = ?1 AND state = ?2",
            params![id, from.as_str(), to.as_str()],
        )?;
        Ok(changed == 1)
    }

    /// Deletes the container's record and returns the anonymous volumes it used.
    pub fn delete_container(&self, id: &str) -> Result<Vec<String>> {
        let tx = write_tx(&self.conn)?;
        let anonymous = {
            let mut stmt = tx.prepare_cached(
                "SELECT v.name FROM container_volumes cv JOIN volumes v ON v.name = cv.volume
                  WHERE cv.container_id = ?1 AND v.anonymous = 1",
            )?;
            let rows = stmt.query_map([id], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<Vec<String>>>()?
        };
        tx.execute("DELETE FROM containers WHERE id = ?1", [id])?;
        tx.commit()?;
        Ok(anonymous)
    }

    pub fn containers(&self) -> Result<Vec<ContainerRecord>> {
        let mut stmt = self
            .conn
            .prepare_cached(select_containers!("ORDER BY created DESC"))?;
        let rows = stmt.query_map([], container_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The containers whose name begins with `prefix` (no `%` or `_` in it): what every
    /// command's reconciliation looks for without reading every container.
    pub fn containers_named(&self, prefix: &str) -> Result<Vec<ContainerRecord>> {
        let mut stmt = self
            .conn
            .prepare_cached(select_containers!("WHERE substr(name, 1, ?2) = ?1"))?;
        let length = i64::try_from(prefix.len()).unwrap_or(i64::MAX);
        let rows = stmt.query_map(rusqlite::params![prefix, length], container_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Containers that some process was responsible for: the ones a crash may have orphaned.
    /// Every command reads them, so only the columns that judge them (not their configs).
    pub fn active_containers(&self) -> Result<Vec<ActiveContainer>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, state, pid, pid_start, monitor_pid, monitor_start, auto_remove
             FROM containers WHERE state IN ('created', 'running', 'removing')",
        )?;
        let rows = stmt.query_map([], |row| {
            Ok(ActiveContainer {
                id: row.get(0)?,
                state: ContainerState::parse(&row.get::<_, String>(1)?),
                process: stamp(row.get(2)?, row.get(3)?),
                monitor: stamp(row.get(4)?, row.get(5)?),
                auto_remove: row.get::<_, i64>(6)? != 0,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Finds a container by full id, name, or unique id prefix.
    pub fn find_container(&self, reference: &str) -> Result<ContainerRecord> {
        let exact = self
            .conn
            .query_row(
                select_containers!("WHERE id = ?1 OR name = ?1 LIMIT 1"),
                [reference],
                container_from_row,
            )
            .optional()?;
        if let Some(c) = exact {
            return Ok(c);
        }
        let not_found = || Error::NoSuchContainer {
            reference: reference.to_string(),
        };
        if reference.is_empty() || !reference.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(not_found());
        }
        let mut stmt = self
            .conn
            .prepare_cached(select_containers!("WHERE id LIKE ?1 || '%'"))?;
        let found = stmt
            .query_map([reference], container_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        match found.len() {
            0 => Err(not_found()),
            1 => Ok(found.into_iter().next().ok_or_else(not_found)?),
            _ => Err(Error::AmbiguousContainer {
                reference: reference.to_string(),
                matches: found.iter().map(|c| c.short_id().to_string()).collect(),
            }),
        }
    }

    /// Records a volume; true if it is new.
    pub fn create_volume(&self, name: &str, anonymous: bool) -> Result<bool> {
        let n = self.conn.execute(
            "INSERT OR IGNORE INTO volumes (name, created, anonymous) VALUES (?1, ?2, ?3)",
            params![name, now(), anonymous],
        )?;
        Ok(n == 1)
    }

    pub fn volumes(&self) -> Result<Vec<VolumeRecord>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT name, created, anonymous FROM volumes ORDER BY name")?;
        let rows = stmt.query_map([], |r| {
            Ok(VolumeRecord {
                name: r.get(0)?,
                created: r.get(1)?,
                anonymous: r.get::<_, i64>(2)? != 0,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    pub fn volume(&self, name: &str) -> Result<Option<VolumeRecord>> {
        Ok(self.volumes()?.into_iter().find(|v| v.name == name))
    }

    /// The containers that mount the volume.
    pub fn volume_users(&self, name: &str) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT container_id FROM container_volumes WHERE volume = ?1")?;
        let rows = stmt.query_map([name], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Deletes the volume's record unless a container uses it; true if deleted.
    pub fn delete_volume_if_unused(&self, name: &str) -> Result<bool> {
        let n = self.conn.execute(
            "DELETE FROM volumes WHERE name = ?1
               AND NOT EXISTS (SELECT 1 FROM container_volumes WHERE volume = ?1)",
            [name],
        )?;
        Ok(n == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, name: &str) -> ContainerRecord {
        ContainerRecord {
            id: id.into(),
            name: name.into(),
            image: "busybox".into(),
            image_id: "sha256:x".into(),
            command: vec!["sh".into()],
            created: now(),
            state: ContainerState::Created,
            process: None,
            monitor: Some(ProcessStamp::current()),
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

    #[test]
    fn names_are_unique_and_ids_resolve_by_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("kist.db")).unwrap();
        store
            .insert_container(&record("abc123", "web"), &[])
            .unwrap();
        let err = store
            .insert_container(&record("abd456", "web"), &[])
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("already in use by container abc123"),
            "{err}"
        );
        store
            .insert_container(&record("abd456", "db"), &[])
            .unwrap();
        assert_eq!(store.find_container("web").unwrap().id, "abc123");
        assert_eq!(store.find_container("abc").unwrap().id, "abc123");
        assert!(
            store
                .find_container("ab")
                .unwrap_err()
                .to_string()
                .contains("ambiguous")
        );
        assert!(matches!(
            store.find_container("zzz"),
            Err(Error::NoSuchContainer { .. })
        ));
    }

    #[test]
    fn a_used_volume_is_not_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("kist.db")).unwrap();
        assert!(store.create_volume("data", false).unwrap());
        assert!(!store.create_volume("data", false).unwrap());
        store
            .insert_container(&record("c1", "one"), &["data".into()])
            .unwrap();
        assert!(!store.delete_volume_if_unused("data").unwrap());
        store.delete_container("c1").unwrap();
        assert!(store.delete_volume_if_unused("data").unwrap());
    }

    #[test]
    fn only_one_claim_wins() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("kist.db")).unwrap();
        store.insert_container(&record("c1", "one"), &[]).unwrap();
        assert!(
            store
                .transition("c1", ContainerState::Created, ContainerState::Removing)
                .unwrap()
        );
        assert!(
            !store
                .transition("c1", ContainerState::Created, ContainerState::Removing)
                .unwrap()
        );
    }
}
