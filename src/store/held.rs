//! The connections under one store handle (`Inner`): the database file's,
//! and the in-memory copy that holds the daemon's records while the file
//! cannot be written (locked, disk full, read-only, unchangeable, damaged,
//! written over, deleted). Starting to hold, writing the held rows back
//! with a `store` outage for the span, saving them beside the file at a
//! stop. It must never drop a record nor stop broadcasting for the file:
//! only memory running out is an error; it asks nothing of the as-run log
//! or the ledger beyond copying their rows.

use super::copy_back;
use super::error::{is_damage, StoreError};
use super::file::{self, open_file, set_aside, shm_path, unchangeable, DB_FILE, WRITE_WAIT};
use super::schema::{migrate, next_id, top_id, ts, MIGRATIONS};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The first wait before records held in memory are tried on the file
/// again; it doubles on each failure up to [`HOLD_RETRY_MAX`].
pub const HOLD_RETRY_FIRST: Duration = Duration::from_secs(1);
/// The longest wait between tries.
pub const HOLD_RETRY_MAX: Duration = Duration::from_secs(30);
/// The most the records held in memory may take before the store counts
/// as lost for good.
pub const HOLD_MAX_BYTES: i64 = 256 * 1024 * 1024;

/// The outage subject of a `store` fault.
pub const STORE_SUBJECT: &str = "database";

/// What a store handle works on, behind its lock.
pub(super) struct Inner {
    /// The database file; `None` only while it could not be opened at all
    /// (the records are then held).
    pub(super) disk: Option<Connection>,
    /// Records held in memory while the file cannot be written.
    held: Option<Held>,
    /// Whether this handle may hold records (the daemon's own).
    pub(super) may_hold: bool,
    /// No id in the file is above this: rows made while held without a
    /// copy of the file are numbered above it.
    floor: i64,
    /// The database file, open for reading its header (the daemon's
    /// handle): opened with the connection and never closed before it,
    /// as closing a descriptor drops this process's locks on the file.
    pub(super) head: Option<std::fs::File>,
}

struct Held {
    mem: Connection,
    since: DateTime<Utc>,
    error: String,
    /// Made from an empty database (the file could not be read): the
    /// history is not in memory.
    empty: bool,
    dirty: Arc<Mutex<Dirty>>,
    next_try: Instant,
    wait: Duration,
}

/// The rows changed in memory: what goes back to the file.
#[derive(Default)]
struct Dirty {
    plays: BTreeSet<i64>,
    outages: BTreeSet<i64>,
    meta: BTreeSet<String>,
    good_files: BTreeSet<String>,
}

/// What the daemon's records are waiting for.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HeldState {
    pub since: DateTime<Utc>,
    pub error: String,
    /// Play and outage rows not in the file yet.
    pub rows: usize,
}

/// The records held in memory reached the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Healed {
    pub since: DateTime<Utc>,
    pub rows: usize,
    /// The damaged file set aside, when the file was found written over.
    pub kept: Option<PathBuf>,
}

/// A failed write-back: the message, and whether the file is damaged.
type WriteBackError = (String, bool);

impl Inner {
    /// On an open file at `path`; `may_hold`: the daemon's handle.
    pub(super) fn new(conn: Connection, path: &Path, may_hold: bool) -> Inner {
        // Only the daemon's handle ever numbers rows above the file's.
        let floor = if may_hold {
            top_id(&conn).unwrap_or(0)
        } else {
            0
        };
        Inner {
            head: may_hold.then(|| std::fs::File::open(path).ok()).flatten(),
            disk: Some(conn),
            held: None,
            may_hold,
            floor,
        }
    }

    /// The daemon's handle on a file it could not open at all: it holds
    /// from the start (see [`Inner::hold`]).
    pub(super) fn unopened() -> Inner {
        Inner {
            disk: None,
            held: None,
            may_hold: true,
            floor: 0,
            head: None,
        }
    }

    pub(super) fn is_holding(&self) -> bool {
        self.held.is_some()
    }

    /// Runs `f` on the file (its rows number themselves: floor 0), and
    /// keeps the floor above the row it made.
    pub(super) fn on_file<T>(
        &mut self,
        mut f: impl FnMut(&mut Connection, i64) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let disk = self
            .disk
            .as_mut()
            .expect("a store without records held has its file");
        let v = f(disk, 0)?;
        let last = disk.last_insert_rowid();
        self.floor = self.floor.max(last);
        Ok(v)
    }

    /// Runs `f` on the memory copy, numbering new rows above the floor;
    /// an error once the copy outgrows [`HOLD_MAX_BYTES`].
    pub(super) fn on_held<T>(
        &mut self,
        mut f: impl FnMut(&mut Connection, i64) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let floor = self.floor;
        let held = self.held.as_mut().expect("held");
        let v = f(&mut held.mem, floor)?;
        let size: i64 = held
            .mem
            .query_row(
                "SELECT page_count * page_size FROM pragma_page_count, pragma_page_size",
                [],
                |r| r.get(0),
            )
            .unwrap_or(0);
        if size > HOLD_MAX_BYTES {
            return Err(StoreError::MemoryFull(format!(
                "{size} bytes held since {}: {}",
                ts(held.since),
                held.error
            )));
        }
        Ok(v)
    }

    /// Whether the open database file still starts as an SQLite database
    /// does (read through the kept descriptor, never a new one).
    fn head_ok(&self) -> bool {
        file::head_ok(self.head.as_ref())
    }

    /// Starts holding records in memory: a copy of the file when it can
    /// be read, else an empty database numbering new rows above every id
    /// the file can have.
    pub(super) fn hold(&mut self, path: &Path, why: &StoreError) -> Result<(), StoreError> {
        let (mem, copied) = self.memory_copy(path)?;
        mem.pragma_update(None, "foreign_keys", "ON")
            .map_err(|e| StoreError::MemoryFull(e.to_string()))?;
        let dirty = watch(&mem);
        tracing::error!(
            db = %path.display(),
            error = %why,
            "the database cannot be written: broadcasting goes on, and its records are held in memory until it can (check the disk space, and whether another program holds the file)"
        );
        self.held = Some(Held {
            mem,
            since: Utc::now(),
            error: why.to_string(),
            empty: !copied,
            dirty,
            next_try: Instant::now() + HOLD_RETRY_FIRST,
            wait: HOLD_RETRY_FIRST,
        });
        Ok(())
    }

    /// The database to hold records in, and whether it is a copy of the
    /// file (else empty, with the floor raised above the file's ids).
    fn memory_copy(&mut self, path: &Path) -> Result<(Connection, bool), StoreError> {
        let full = |e: rusqlite::Error| StoreError::MemoryFull(e.to_string());
        let mut mem = Connection::open_in_memory().map_err(full)?;
        let copied = match &self.disk {
            Some(d) if !unchangeable(&shm_path(path)) => {
                rusqlite::backup::Backup::new(d, &mut mem)
                    .and_then(|b| b.run_to_completion(1024, Duration::ZERO, None))
                    .is_ok()
                    && mem
                        .pragma_query_value(None, "user_version", |r| r.get::<_, usize>(0))
                        .is_ok_and(|v| v == MIGRATIONS.len())
            }
            _ => false,
        };
        if !copied {
            mem = Connection::open_in_memory().map_err(full)?;
            migrate(&mut mem).map_err(full)?;
            if self.disk.is_none() {
                // Never opened: the highest id in the file, read as it
                // can be, else one no file of this station reaches.
                self.floor =
                    Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                        .and_then(|c| top_id(&c))
                        .unwrap_or_else(|_| Utc::now().timestamp_millis());
            }
        }
        Ok((mem, copied))
    }

    /// Whether records are held in memory, since when and why.
    pub(super) fn state(&self) -> Option<HeldState> {
        self.held.as_ref().map(|h| {
            let d = h.dirty.lock().unwrap_or_else(|p| p.into_inner());
            HeldState {
                since: h.since,
                error: h.error.clone(),
                rows: d.plays.len() + d.outages.len(),
            }
        })
    }

    /// Notes a meta key or good file changed while records are held.
    pub(super) fn touched(&self, meta: Option<&str>, good_file: Option<&str>) {
        if let Some(h) = &self.held {
            let mut d = h.dirty.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(k) = meta {
                d.meta.insert(k.to_string());
            }
            if let Some(f) = good_file {
                d.good_files.insert(f.to_string());
            }
        }
    }

    /// See [`super::Store::check_written_over`].
    pub(super) fn check_written_over(&mut self, path: &Path) -> bool {
        if self.held.is_some() || !self.may_hold || self.head_ok() {
            return false;
        }
        let e = StoreError::Sqlite {
            path: path.to_path_buf(),
            source: rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_NOTADB),
                Some("the file was written over".into()),
            ),
        };
        if self.hold(path, &e).is_ok() {
            if let Some(h) = self.held.as_mut() {
                h.next_try = Instant::now();
            }
        }
        true
    }

    /// See [`super::Store::retry`].
    pub(super) fn retry(
        &mut self,
        path: &Path,
        now: DateTime<Utc>,
        force: bool,
    ) -> Option<Result<Healed, String>> {
        let held = self.held.as_ref()?;
        if !force && Instant::now() < held.next_try {
            return None;
        }
        let r = self.write_back(path, now);
        match &r {
            Ok(_) => {
                self.held = None;
            }
            Err(e) => {
                let h = self.held.as_mut().expect("held");
                h.error = e.clone();
                h.wait = (h.wait * 2).min(HOLD_RETRY_MAX);
                h.next_try = Instant::now() + h.wait;
            }
        }
        Some(r)
    }

    /// See [`super::Store::save_held`].
    pub(super) fn save(&self, path: &Path) -> Result<PathBuf, String> {
        let Some(h) = &self.held else {
            return Err("nothing held".into());
        };
        let name = format!("{DB_FILE}.held-{}", Utc::now().format("%Y%m%dT%H%M%SZ"));
        let mut last = String::new();
        for dir in [
            path.parent().map(Path::to_path_buf),
            Some(std::env::temp_dir()),
        ]
        .into_iter()
        .flatten()
        {
            let to = dir.join(&name);
            match h.mem.backup(rusqlite::MAIN_DB, &to, None) {
                Ok(()) => return Ok(to),
                Err(e) => last = format!("{}: {e}", to.display()),
            }
        }
        Err(last)
    }

    /// Writes the held records to the file in one transaction, with a
    /// closed `store` outage for the span. A file found damaged (written
    /// over) is set aside, kept, and the records go to a new one.
    fn write_back(&mut self, path: &Path, now: DateTime<Utc>) -> Result<Healed, String> {
        match self.write_back_once(path, now) {
            Err((_, true)) => {
                let kept = set_aside(path, now).map_err(|e| e.to_string())?;
                tracing::error!(kept = %kept.display(), "the database was damaged while running: it is kept beside for inspection, and a new one is started");
                self.disk = None;
                self.head = None;
                let mut healed = self.write_back_once(path, now).map_err(|(e, _)| e)?;
                healed.kept = Some(kept);
                Ok(healed)
            }
            r => r.map_err(|(e, _)| e),
        }
    }

    /// One try of [`Inner::write_back`].
    fn write_back_once(
        &mut self,
        path: &Path,
        now: DateTime<Utc>,
    ) -> Result<Healed, WriteBackError> {
        self.writable(path)?;
        let deleted = self.open_for_write_back(path)?;
        let held = self.held.as_ref().expect("held");
        let disk = self.disk.as_mut().expect("opened");
        let dirty = held.dirty.lock().unwrap_or_else(|p| p.into_inner());
        let rows = dirty.plays.len() + dirty.outages.len();
        let detail = format!("records held in memory: {}", held.error);
        let e = |e: rusqlite::Error| (e.to_string(), is_damage(&e));
        if deleted && !held.empty {
            rusqlite::backup::Backup::new(&held.mem, disk)
                .and_then(|b| b.run_to_completion(1024, Duration::ZERO, None))
                .map_err(e)?;
        } else {
            let tx = disk
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(e)?;
            copy_rows(&held.mem, &tx, &dirty).map_err(e)?;
            tx.commit().map_err(e)?;
        }
        let id = next_id(disk, "outages", self.floor).map_err(e)?;
        disk.execute(
            "INSERT INTO outages (id, kind, subject, started_at, ended_at, detail) VALUES (?1, 'store', ?2, ?3, ?4, ?5)",
            params![id, STORE_SUBJECT, ts(held.since), ts(now), detail],
        )
        .map_err(e)?;
        let healed = Healed {
            since: held.since,
            rows,
            kept: None,
        };
        drop(dirty);
        Ok(healed)
    }

    /// Whether the file can take the held records now: not made
    /// unchangeable, and still a database (else damage).
    fn writable(&self, path: &Path) -> Result<(), WriteBackError> {
        let shm = shm_path(path);
        if unchangeable(&shm) {
            return Err((StoreError::Unchangeable { path: shm }.to_string(), false));
        }
        if !self.head_ok() {
            return Err((
                "the database file was written over: not a database".into(),
                true,
            ));
        }
        if unchangeable(path) {
            return Err((
                StoreError::Unchangeable {
                    path: path.to_path_buf(),
                }
                .to_string(),
                false,
            ));
        }
        Ok(())
    }

    /// Opens the file for the write-back when there is no connection to
    /// it, or it was deleted meanwhile (a new file). Returns whether it
    /// was deleted: a full copy then goes back whole.
    fn open_for_write_back(&mut self, path: &Path) -> Result<bool, WriteBackError> {
        let dir = path.parent().unwrap_or(Path::new("."));
        let deleted = !path.exists();
        if deleted {
            self.disk = None;
        }
        if self.disk.is_none() {
            let (c, _) = open_file(dir).map_err(|e| (e.to_string(), e.is_damage()))?;
            let _ = c.busy_timeout(WRITE_WAIT);
            self.disk = Some(c);
            self.head = std::fs::File::open(path).ok();
        }
        Ok(deleted)
    }
}

/// Notes which play and outage rows change in `mem` from now on.
fn watch(mem: &Connection) -> Arc<Mutex<Dirty>> {
    let dirty = Arc::new(Mutex::new(Dirty::default()));
    let seen = dirty.clone();
    mem.update_hook(Some(
        move |_: rusqlite::hooks::Action, _: &str, table: &str, id: i64| {
            let mut d = seen.lock().unwrap_or_else(|p| p.into_inner());
            match table {
                "plays" => {
                    d.plays.insert(id);
                }
                "outages" => {
                    d.outages.insert(id);
                }
                _ => {}
            }
        },
    ));
    dirty
}

/// Copies the rows changed in memory to the file.
fn copy_rows(mem: &Connection, disk: &Connection, dirty: &Dirty) -> Result<(), rusqlite::Error> {
    copy_back::outages(mem, disk, &dirty.outages)?;
    copy_back::plays(mem, disk, &dirty.plays)?;
    copy_back::meta(mem, disk, &dirty.meta)?;
    copy_back::good_files(mem, disk, &dirty.good_files)
}

#[cfg(test)]
mod tests {
    use crate::store::{NewPlay, OutageKind, PlayFilter, Status, Store, Trigger, DB_FILE};
    use chrono::{DateTime, Utc};
    use rusqlite::Connection;

    fn row(s: &Store, name: &str, t: DateTime<Utc>) -> i64 {
        s.insert_play(&NewPlay {
            broadcast: name,
            scheduled_at: t,
            started_at: Some(t),
            ended_at: None,
            status: Status::Playing,
            reason: None,
            trigger: Trigger::Schedule,
            priority: "normal",
            files: &[],
        })
        .unwrap()
        .unwrap()
    }

    /// The main file deleted (its log and index left at the path), with a
    /// second connection open on it as the heartbeat has: after the
    /// restore, what the store writes is seen by a new reader of the
    /// path. (Were the old connections to close after the new one opened,
    /// the last of them would remove the new file's log by name, and a
    /// reader would see the file without the rows still in the log.)
    #[test]
    fn a_restored_database_keeps_its_log_where_readers_look() {
        for sides in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let db = dir.path().join(DB_FILE);
            let t = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
            let (s, _) = Store::open_holding(dir.path(), t).unwrap();
            row(&s, "删之前", t);
            let beat = s.heartbeat_handle().unwrap();
            beat.beat(t, t).unwrap();
            std::fs::remove_file(&db).unwrap();
            if sides {
                for side in ["-wal", "-shm"] {
                    let _ = std::fs::remove_file(dir.path().join(format!("{DB_FILE}{side}")));
                }
            }
            drop(beat);
            assert!(s.restore_if_deleted().unwrap());
            let after = row(&s, "删之后", t + chrono::Duration::minutes(1));
            let reader =
                Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                    .unwrap();
            let n: i64 = reader
                .query_row("SELECT count(*) FROM plays WHERE id = ?1", [after], |r| {
                    r.get(0)
                })
                .unwrap();
            assert_eq!(n, 1, "sides deleted too: {sides}");
            assert!(s.held().is_none());
        }
    }

    /// Another program holds the write lock: the daemon's handle holds its
    /// records in memory (no error), and writes them — same ids, links
    /// kept, with a `store` outage for the span — once the lock is gone.
    #[test]
    fn records_wait_in_memory_while_the_file_is_locked() {
        let dir = tempfile::tempdir().unwrap();
        let t = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let (s, kept) = Store::open_holding(dir.path(), t).unwrap();
        assert!(kept.is_none());
        let before = row(&s, "锁之前", t);
        let other = Connection::open(dir.path().join(DB_FILE)).unwrap();
        other.execute_batch("BEGIN EXCLUSIVE").unwrap();
        // Written while locked: held, not an error.
        let during = row(&s, "锁住时", t + chrono::Duration::minutes(1));
        let held = s.held().expect("held");
        assert!(held.error.contains("locked"), "{}", held.error);
        assert!(during > before);
        let (o, new) = s
            .open_outage(OutageKind::Output, "card", t, "gone")
            .unwrap();
        assert!(new);
        s.link_outage(during, o).unwrap();
        s.update(before, Status::Played, Some(t), None).unwrap();
        s.set_meta("k", "v").unwrap();
        // Reads see what is held.
        assert!(s
            .exists("锁住时", t + chrono::Duration::minutes(1))
            .unwrap());
        // Not yet: the lock is still held.
        assert!(matches!(s.retry(t, true), Some(Err(_))));
        assert!(s.held().is_some());
        other.execute_batch("COMMIT").unwrap();
        let healed = s
            .retry(t + chrono::Duration::minutes(2), true)
            .unwrap()
            .unwrap();
        assert_eq!(healed.rows, 3, "{healed:?}");
        assert!(s.held().is_none());
        // Ids the daemon holds still point at the same rows.
        s.update(during, Status::Played, Some(t), None).unwrap();
        let r = Store::open_existing(dir.path()).unwrap();
        let plays = r.plays(&PlayFilter::default()).unwrap();
        assert_eq!(plays.len(), 2);
        assert!(
            plays.iter().all(|p| p.status == Status::Played),
            "{plays:?}"
        );
        assert_eq!(plays[1].id, during);
        assert_eq!(plays[1].outage_id, Some(o));
        assert_eq!(r.meta("k").unwrap().as_deref(), Some("v"));
        let all = r.outages(false, None).unwrap();
        let store = all.iter().find(|o| o.kind == OutageKind::Store).unwrap();
        assert_eq!(store.ended_at, Some(t + chrono::Duration::minutes(2)));
        assert!(all
            .iter()
            .any(|x| x.id == o && x.kind == OutageKind::Output));
        assert_eq!(r.integrity_check().unwrap(), "ok");
    }

    /// A file that is not a database is set aside, never deleted, and a
    /// new one started.
    #[test]
    fn a_damaged_file_is_kept_beside_a_new_one() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(DB_FILE), vec![0x5a; 64 * 1024]).unwrap();
        let t = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let (s, kept) = Store::open_holding(dir.path(), t).unwrap();
        let kept = kept.expect("set aside");
        assert_eq!(std::fs::read(&kept).unwrap(), vec![0x5a; 64 * 1024]);
        assert!(s.held().is_none());
        row(&s, "新库", t);
        assert_eq!(s.integrity_check().unwrap(), "ok");
    }
}
