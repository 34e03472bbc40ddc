//! The event store, the one owner of SQL: the as-run log (`plays`), the
//! outage ledger, the daemon's own state (`meta`) and the schedules' last
//! good versions, in SQLite. WAL mode with `synchronous = FULL`: a row is
//! on disk before the action it records is reported, and a power cut at
//! any instant leaves a database that passes `PRAGMA integrity_check`.
//!
//! This file holds the handle ([`Store`]): opening, running work on the
//! file or on the records held in memory, and the file as a whole. The
//! tables' queries live one concern a file beside it; nothing outside
//! this folder writes SQL, and nothing here decides what goes on air.

mod copy_back;
mod error;
mod file;
mod good_files;
mod held;
mod meta;
mod outages;
mod plays;
mod schema;

pub use crate::plan::Trigger;
pub use error::StoreError;
pub use file::{DB_FILE, WRITER_BUSY_TIMEOUT, WRITE_WAIT};
pub use held::{
    Healed, HeldState, HOLD_MAX_BYTES, HOLD_RETRY_FIRST, HOLD_RETRY_MAX, STORE_SUBJECT,
};
pub use meta::keys;
pub use outages::{OutageKind, OutageRow};
pub use plays::{NewPlay, PlayFilter, PlayRow, Status};
pub use schema::ts;

use chrono::{DateTime, Utc};
use held::Inner;
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// The store handle; cheap to clone. Blocking: async callers go through
/// [`Store::call`], which runs the work on tokio's blocking pool.
///
/// The daemon's handle ([`Store::open_holding`]) never stops broadcasting
/// for its file: when the file cannot be used (locked by another program,
/// disk full, read-only, unchangeable, damaged), its records are held in
/// an in-memory copy of the database, and [`Store::retry`] writes them to
/// the file once it can, with a `store` outage for the span.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Mutex<Inner>>,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    fn with(conn: Connection, path: PathBuf, may_hold: bool) -> Store {
        Store {
            inner: Arc::new(Mutex::new(Inner::new(conn, &path, may_hold))),
            path,
        }
    }

    /// Opens (creating if needed) the database in `data_dir` and runs the
    /// migrations.
    ///
    /// # Errors
    /// When the folder or database cannot be created or migrated.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        let (conn, path) = file::open_file(data_dir)?;
        Ok(Store::with(conn, path, false))
    }

    /// The daemon's handle: as [`Store::open`], but a file that cannot be
    /// opened or written never stops it — the records are held in memory
    /// (see [`Store::held`]) until [`Store::retry`] writes them. A damaged
    /// file (not a database) is moved aside, kept for inspection, and a
    /// new one started beside it: the name it was given is returned.
    ///
    /// # Errors
    /// Only when the data folder cannot be created.
    pub fn open_holding(
        data_dir: &Path,
        now: DateTime<Utc>,
    ) -> Result<(Store, Option<PathBuf>), StoreError> {
        file::create_folder(data_dir)?;
        let path = data_dir.join(DB_FILE);
        let mut kept = None;
        let opened = match file::open_file(data_dir) {
            Err(e) if e.is_damage() => match file::set_aside(&path, now) {
                Ok(aside) => {
                    kept = Some(aside);
                    file::open_file(data_dir)
                }
                Err(_) => Err(e),
            },
            r => r,
        };
        let store = match opened {
            Ok((conn, path)) => {
                let _ = conn.busy_timeout(WRITE_WAIT);
                Store::with(conn, path, true)
            }
            Err(e) => {
                let s = Store {
                    inner: Arc::new(Mutex::new(Inner::unopened())),
                    path,
                };
                s.lock().hold(&s.path, &e)?;
                s
            }
        };
        Ok((store, kept))
    }

    /// Opens an existing database for reading (the CLI while the daemon runs).
    ///
    /// # Errors
    /// When the database is missing or unreadable.
    pub fn open_existing(data_dir: &Path) -> Result<Store, StoreError> {
        let path = data_dir.join(DB_FILE);
        if !path.exists() {
            return Err(StoreError::Missing { path });
        }
        file::changeable(&path)?;
        let sq = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let conn = Connection::open(&path).map_err(sq)?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(sq)?;
        let version: usize = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(sq)?;
        if version == 0 {
            // Being created right now by the daemon: not ready to read.
            return Err(StoreError::NotReady { path: path.clone() });
        }
        if version < schema::MIGRATIONS.len() {
            // Written by an older cunxiang: migrate (safe against a
            // daemon doing the same at once).
            drop(conn);
            return Store::open(data_dir);
        }
        Ok(Store::with(conn, path, false))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs blocking database work off the async runtime.
    ///
    /// # Errors
    /// What the work returns, or a task failure.
    pub async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || f(&this))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on the file, or on the memory copy while records are held.
    /// A fault of the file on the daemon's handle starts holding and runs
    /// `f` on the copy; anything else is returned.
    ///
    /// `f` is given the floor for new ids (see `schema::next_id`).
    fn run<T>(
        &self,
        mut f: impl FnMut(&mut Connection, i64) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut g = self.lock();
        if !g.is_holding() {
            let e = match file::changeable(&self.path).and_then(|()| g.on_file(&mut f)) {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            if !g.may_hold || !e.is_fault() {
                return Err(e);
            }
            g.hold(&self.path, &e)?;
        }
        g.on_held(f)
    }

    /// Notes a meta key or good file changed while records are held.
    fn touched(&self, meta: Option<&str>, good_file: Option<&str>) {
        self.lock().touched(meta, good_file);
    }

    /// Looks whether the file was written over under the open connection
    /// (SQLite does not notice while its pages come from the write-ahead
    /// log): if so, the records are held from now on and [`Store::retry`]
    /// sets the file aside and starts a new one. Returns whether it was.
    pub fn check_written_over(&self) -> bool {
        self.lock().check_written_over(&self.path)
    }

    /// Whether records are held in memory, since when and why.
    pub fn held(&self) -> Option<HeldState> {
        self.lock().state()
    }

    /// Tries to write the records held in memory to the file, when the
    /// back-off allows (`force`: now). `None` when nothing is held or it
    /// is not time yet; `Some(Ok)` when they are in the file (with a
    /// closed `store` outage for the span), back on the file from now on.
    pub fn retry(&self, now: DateTime<Utc>, force: bool) -> Option<Result<Healed, String>> {
        self.lock().retry(&self.path, now, force)
    }

    /// Writes the records held in memory to a file beside the database
    /// (`cunxiang.db.held-<time>`), else in the temporary folder: what a
    /// stop that could not write them leaves for a person. Returns where.
    ///
    /// # Errors
    /// When no copy could be written anywhere.
    pub fn save_held(&self) -> Result<PathBuf, String> {
        self.lock().save(&self.path)
    }

    /// The database file was deleted under the running daemon (a person
    /// tidying the folder, a cleaner): this connection still writes to the
    /// deleted file, and every reader would see no history at all. Restores
    /// the file from this connection with SQLite's online backup and moves
    /// the connection onto it. Returns whether it restored. While records
    /// are held, [`Store::retry`] makes the file again instead.
    ///
    /// # Errors
    /// When the copy cannot be written.
    pub fn restore_if_deleted(&self) -> Result<bool, StoreError> {
        if self.path.exists() {
            return Ok(false);
        }
        let sq = |source| StoreError::Sqlite {
            path: self.path.clone(),
            source,
        };
        let mut g = self.lock();
        if g.is_holding() {
            return Ok(false);
        }
        let Some(conn) = g.disk.as_mut() else {
            return Ok(false);
        };
        if let Some(dir) = self.path.parent() {
            file::create_folder(dir)?;
        }
        // A write-ahead log and index still at the path (only the main file
        // was deleted) are the deleted file's: their names go first, so no
        // reader opens them for the new file. (Were the new connection to
        // share the index with the old, closing the old one's descriptor
        // would drop every POSIX lock this process holds on it; a reader
        // would then take the index for unused and truncate it under the
        // daemon's mapping: SIGBUS.)
        for side in ["-wal", "-shm"] {
            let mut p = self.path.as_os_str().to_owned();
            p.push(side);
            let _ = std::fs::remove_file(PathBuf::from(p));
        }
        // Fold the write-ahead log into the (deleted) file first, so a WAL
        // still lying at the path cannot be replayed into the copy.
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(sq)?;
        conn.backup(rusqlite::MAIN_DB, &self.path, None)
            .map_err(sq)?;
        // The old connection closes before the new one opens: the last
        // connection of a WAL database removes its log and index *by name*
        // as it closes, which would take the new file's away.
        drop(g.disk.take());
        let opened = (|| {
            let new = Connection::open(&self.path)?;
            new.busy_timeout(WRITE_WAIT)?;
            new.pragma_update(None, "journal_mode", "WAL")?;
            new.pragma_update(None, "synchronous", "FULL")?;
            new.pragma_update(None, "foreign_keys", "ON")?;
            Ok(new)
        })();
        match opened {
            Ok(new) => g.disk = Some(new),
            Err(e) => {
                // Records wait in memory until the file can be written.
                let e = sq(e);
                g.hold(&self.path, &e)?;
                return Err(e);
            }
        }
        g.head = std::fs::File::open(&self.path).ok();
        Ok(true)
    }

    /// `PRAGMA integrity_check`: "ok" when the file is sound.
    ///
    /// # Errors
    /// On a database failure.
    pub fn integrity_check(&self) -> Result<String, StoreError> {
        self.run(|conn, _| Ok(conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?))
    }

    /// Checkpoints the WAL into the main file (clean shutdown).
    ///
    /// # Errors
    /// On a database failure.
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        self.run(|conn, _| {
            conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
            Ok(())
        })
    }
}
