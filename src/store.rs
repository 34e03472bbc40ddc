//! The event store: the as-run log (`plays`) and the daemon's own state
//! (`meta`: heartbeat, clean-stop marker) in SQLite. Every SQL statement
//! lives here. WAL mode with `synchronous = FULL`: a row is on disk before
//! the action it records is reported, and a power cut at any instant leaves
//! a database that passes `PRAGMA integrity_check`.

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The database file inside the data folder.
pub const DB_FILE: &str = "cunxiang.db";

/// Errors of the event store. Losing the store is the one failure that
/// stops the daemon.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the data folder {path}: {source}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("database {path}: {source}")]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("no database yet at {path}")]
    Missing { path: PathBuf },
    #[error("database {path} is missing while the daemon runs (deleted?); it restores it within a heartbeat, else restart it")]
    MissingWhileRunning { path: PathBuf },
    #[error("database {path} is being created")]
    NotReady { path: PathBuf },
    #[error("database query failed: {0}")]
    Query(#[from] rusqlite::Error),
    #[error("database task failed: {0}")]
    Task(String),
}

/// How long the daemon's writes wait for a lock another process holds
/// (a backup tool, a person's `sqlite3` session) before the store counts as
/// lost. The run loop waits meanwhile; the play on air goes on.
pub const WRITER_BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(90);

/// Numbered migrations; `PRAGMA user_version` says how many have run.
const MIGRATIONS: &[&str] = &[
    // 1: the as-run log and daemon state.
    "CREATE TABLE plays (
        id            INTEGER PRIMARY KEY,
        broadcast     TEXT NOT NULL,
        scheduled_at  TEXT NOT NULL,
        started_at    TEXT,
        ended_at      TEXT,
        status        TEXT NOT NULL CHECK (status IN ('playing','played','partial','failed','missed','skipped','interrupted')),
        reason        TEXT,
        trigger       TEXT NOT NULL CHECK (trigger IN ('schedule','catch_up','manual')),
        priority      TEXT NOT NULL DEFAULT 'normal',
        files         TEXT NOT NULL DEFAULT '[]',
        UNIQUE (broadcast, scheduled_at)
    );
    CREATE INDEX plays_scheduled ON plays (scheduled_at);
    CREATE INDEX plays_status ON plays (status);
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
    // 2: the outage ledger; missed/failed plays point at the outage that cost them.
    "CREATE TABLE outages (
        id          INTEGER PRIMARY KEY,
        kind        TEXT NOT NULL CHECK (kind IN ('power','stopped','output','content','clock','signal','terminal')),
        subject     TEXT NOT NULL DEFAULT '',
        started_at  TEXT NOT NULL,
        ended_at    TEXT,
        detail      TEXT
    );
    CREATE UNIQUE INDEX outages_one_open ON outages (kind, subject) WHERE ended_at IS NULL;
    CREATE INDEX outages_started ON outages (started_at);
    ALTER TABLE plays ADD COLUMN outage_id INTEGER REFERENCES outages (id);
    CREATE INDEX plays_outage ON plays (outage_id);",
    // 3: proof of air: whether the monitor heard the play (NULL: no monitor).
    "ALTER TABLE plays ADD COLUMN heard INTEGER CHECK (heard IN (0, 1));",
    // 4: `config` outages (a station or schedule file with errors). SQLite
    // cannot widen a CHECK in place: rebuild the table (foreign keys are
    // off while migrating, and checked before the commit).
    "CREATE TABLE outages_new (
        id          INTEGER PRIMARY KEY,
        kind        TEXT NOT NULL CHECK (kind IN ('power','stopped','output','content','clock','signal','terminal','config')),
        subject     TEXT NOT NULL DEFAULT '',
        started_at  TEXT NOT NULL,
        ended_at    TEXT,
        detail      TEXT
    );
    INSERT INTO outages_new (id, kind, subject, started_at, ended_at, detail)
        SELECT id, kind, subject, started_at, ended_at, detail FROM outages;
    DROP TABLE outages;
    ALTER TABLE outages_new RENAME TO outages;
    CREATE UNIQUE INDEX outages_one_open ON outages (kind, subject) WHERE ended_at IS NULL;
    CREATE INDEX outages_started ON outages (started_at);",
    // 5: each schedule file's last version without errors, so a file
    // broken while the daemon was down still goes on air as it was.
    "CREATE TABLE good_files (
        file      TEXT PRIMARY KEY,
        text      TEXT NOT NULL,
        saved_at  TEXT NOT NULL
    );",
];

/// What kind of failure an outage is (PRODUCT.md §5).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum OutageKind {
    /// The controller was not running and did not stop cleanly.
    Power,
    /// A person stopped it cleanly: shown, not a fault.
    Stopped,
    /// The sound device is missing or failing.
    Output,
    /// A scheduled file is missing, empty or undecodable.
    Content,
    /// The PC clock is wrong or jumped.
    Clock,
    Signal,
    Terminal,
    /// The station file or a schedule file has errors: its changes (or,
    /// with no good version yet, its broadcasts) are off air.
    Config,
}

impl OutageKind {
    pub const ALL: [OutageKind; 8] = [
        OutageKind::Power,
        OutageKind::Stopped,
        OutageKind::Output,
        OutageKind::Content,
        OutageKind::Clock,
        OutageKind::Signal,
        OutageKind::Terminal,
        OutageKind::Config,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OutageKind::Power => "power",
            OutageKind::Stopped => "stopped",
            OutageKind::Output => "output",
            OutageKind::Content => "content",
            OutageKind::Clock => "clock",
            OutageKind::Signal => "signal",
            OutageKind::Terminal => "terminal",
            OutageKind::Config => "config",
        }
    }

    fn parse(s: &str) -> OutageKind {
        OutageKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .unwrap_or(OutageKind::Power)
    }

    /// Faults need repair; a person's stop does not.
    pub fn is_fault(self) -> bool {
        self != OutageKind::Stopped
    }
}

/// One period when broadcasts could not go out.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OutageRow {
    pub id: i64,
    pub kind: OutageKind,
    pub subject: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub detail: Option<String>,
    /// Plays (missed, failed...) that point at it.
    pub lost: i64,
}

/// Status of a play row.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Playing,
    Played,
    Partial,
    Failed,
    Missed,
    Skipped,
    Interrupted,
}

impl Status {
    /// Every status, for listings that must show zeros too.
    pub const ALL: [Status; 7] = [
        Status::Playing,
        Status::Played,
        Status::Partial,
        Status::Failed,
        Status::Missed,
        Status::Skipped,
        Status::Interrupted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Playing => "playing",
            Status::Played => "played",
            Status::Partial => "partial",
            Status::Failed => "failed",
            Status::Missed => "missed",
            Status::Skipped => "skipped",
            Status::Interrupted => "interrupted",
        }
    }

    fn parse(s: &str) -> Status {
        match s {
            "playing" => Status::Playing,
            "played" => Status::Played,
            "partial" => Status::Partial,
            "failed" => Status::Failed,
            "missed" => Status::Missed,
            "skipped" => Status::Skipped,
            _ => Status::Interrupted,
        }
    }
}

pub use crate::planner::Trigger;

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Schedule => "schedule",
            Trigger::CatchUp => "catch_up",
            Trigger::Manual => "manual",
        }
    }

    fn parse(s: &str) -> Trigger {
        match s {
            "catch_up" => Trigger::CatchUp,
            "manual" => Trigger::Manual,
            _ => Trigger::Schedule,
        }
    }
}

/// One row of the as-run log.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PlayRow {
    pub id: i64,
    pub broadcast: String,
    pub scheduled_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub status: Status,
    pub reason: Option<String>,
    pub trigger: Trigger,
    pub priority: String,
    pub files: Vec<String>,
    pub outage_id: Option<i64>,
    /// Whether the monitor heard it: `None` without a monitor.
    pub heard: Option<bool>,
}

/// What the log command asks for.
#[derive(Debug, Clone, Default)]
pub struct PlayFilter {
    /// Rows scheduled at or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// Rows scheduled before this instant.
    pub until: Option<DateTime<Utc>>,
    pub status: Option<Status>,
    pub limit: Option<usize>,
    /// Leave out the text (broadcast name, reason, files) for callers that
    /// only count and measure: a day of plays then costs the same whatever
    /// the names are.
    pub bare: bool,
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked))
}

/// A `plays` row in the column order every play query selects.
fn play_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PlayRow> {
    Ok(PlayRow {
        id: r.get(0)?,
        broadcast: r.get(1)?,
        scheduled_at: parse_ts(&r.get::<_, String>(2)?),
        started_at: r.get::<_, Option<String>>(3)?.as_deref().map(parse_ts),
        ended_at: r.get::<_, Option<String>>(4)?.as_deref().map(parse_ts),
        status: Status::parse(&r.get::<_, String>(5)?),
        reason: r.get(6)?,
        trigger: Trigger::parse(&r.get::<_, String>(7)?),
        priority: r.get(8)?,
        files: serde_json::from_str(&r.get::<_, String>(9)?).unwrap_or_default(),
        outage_id: r.get(10)?,
        heard: r.get(11)?,
    })
}

/// Stored instants: UTC, millisecond precision, fixed width so text order is
/// time order.
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn parse_ts(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

/// The store handle; cheap to clone. Blocking: async callers go through
/// [`Store::call`], which runs the work on tokio's blocking pool.
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the database in `data_dir` and runs the
    /// migrations.
    ///
    /// # Errors
    /// When the folder or database cannot be created or migrated.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::Folder {
            path: data_dir.to_path_buf(),
            source,
        })?;
        let path = data_dir.join(DB_FILE);
        let sq = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let mut conn = Connection::open(&path).map_err(sq)?;
        conn.busy_timeout(WRITER_BUSY_TIMEOUT).map_err(sq)?;
        // Switching to WAL takes an exclusive lock and does not wait on the
        // busy handler: retry briefly if a reader holds the file.
        let mut tries = 0;
        loop {
            match conn.pragma_update(None, "journal_mode", "WAL") {
                Ok(()) => break,
                Err(e) if tries < 50 && is_busy(&e) => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(e) => return Err(sq(e)),
            }
        }
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(sq)?;
        // Migrations run with foreign keys off (SQLite's own procedure for
        // rebuilding a table others point at) and are checked before each
        // commit; they are switched on once the schema is current.
        conn.pragma_update(None, "foreign_keys", "OFF")
            .map_err(sq)?;
        // Each migration runs in an immediate (write-locked) transaction and
        // re-reads the version inside it, so two processes opening a new
        // database at once cannot both apply it.
        loop {
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(sq)?;
            let version: usize = tx
                .pragma_query_value(None, "user_version", |r| r.get(0))
                .map_err(sq)?;
            let Some(m) = MIGRATIONS.get(version) else {
                break;
            };
            tx.execute_batch(m).map_err(sq)?;
            let broken: i64 = tx
                .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                    r.get(0)
                })
                .map_err(sq)?;
            if broken > 0 {
                return Err(sq(rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY),
                    Some(format!(
                        "migration {} left {broken} dangling references",
                        version + 1
                    )),
                )));
            }
            tx.pragma_update(None, "user_version", version + 1)
                .map_err(sq)?;
            tx.commit().map_err(sq)?;
        }
        conn.pragma_update(None, "foreign_keys", "ON").map_err(sq)?;
        Ok(Store {
            conn: Arc::new(Mutex::new(conn)),
            path,
        })
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
        let sq = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let conn = Connection::open(&path).map_err(sq)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(sq)?;
        let version: usize = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(sq)?;
        if version == 0 {
            // Being created right now by the daemon: not ready to read.
            return Err(StoreError::NotReady { path: path.clone() });
        }
        if version < MIGRATIONS.len() {
            // Written by an older cunxiang: migrate (safe against a
            // daemon doing the same at once).
            drop(conn);
            return Store::open(data_dir);
        }
        Ok(Store {
            conn: Arc::new(Mutex::new(conn)),
            path,
        })
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

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// At start-up: rows left `playing` by a crash or power cut become
    /// `interrupted`. Returns how many.
    ///
    /// # Errors
    /// On a database failure.
    pub fn mark_interrupted(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        Ok(self.conn().execute(
            "UPDATE plays SET status = 'interrupted', reason = COALESCE(reason || '; ', '') || ?2, ended_at = COALESCE(ended_at, ?1) WHERE status = 'playing'",
            params![ts(now), crate::planner::reasons::DAEMON_STOPPED],
        )?)
    }

    /// Whether a firing already has a row (played, missed, anything).
    ///
    /// # Errors
    /// On a database failure.
    pub fn exists(&self, broadcast: &str, scheduled_at: DateTime<Utc>) -> Result<bool, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT 1 FROM plays WHERE broadcast = ?1 AND scheduled_at = ?2",
                params![broadcast, ts(scheduled_at)],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Inserts a row; `None` if the firing already has one (never twice).
    ///
    /// # Errors
    /// On a database failure.
    #[allow(clippy::too_many_arguments)]
    pub fn insert(
        &self,
        broadcast: &str,
        scheduled_at: DateTime<Utc>,
        started_at: Option<DateTime<Utc>>,
        ended_at: Option<DateTime<Utc>>,
        status: Status,
        reason: Option<&str>,
        trigger: Trigger,
        priority: &str,
        files: &[String],
    ) -> Result<Option<i64>, StoreError> {
        let conn = self.conn();
        let n = conn.execute(
            "INSERT OR IGNORE INTO plays (broadcast, scheduled_at, started_at, ended_at, status, reason, trigger, priority, files)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                broadcast,
                ts(scheduled_at),
                started_at.map(ts),
                ended_at.map(ts),
                status.as_str(),
                reason,
                trigger.as_str(),
                priority,
                serde_json::to_string(files).expect("json"),
            ],
        )?;
        Ok((n == 1).then(|| conn.last_insert_rowid()))
    }

    /// Sets a row's status (and end, and reason when given).
    ///
    /// # Errors
    /// On a database failure.
    pub fn update(
        &self,
        id: i64,
        status: Status,
        ended_at: Option<DateTime<Utc>>,
        reason: Option<&str>,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE plays SET status = ?2, ended_at = CASE WHEN ?2 = 'playing' THEN NULL ELSE COALESCE(?3, ended_at) END, reason = COALESCE(?4, reason) WHERE id = ?1",
            params![id, status.as_str(), ended_at.map(ts), reason],
        )?;
        Ok(())
    }

    /// Records what the monitor heard of a play.
    ///
    /// # Errors
    /// On a database failure.
    pub fn set_heard(&self, id: i64, heard: Option<bool>) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE plays SET heard = ?2 WHERE id = ?1",
            params![id, heard],
        )?;
        Ok(())
    }

    /// Records when the first sample of a play went out.
    ///
    /// # Errors
    /// On a database failure.
    pub fn set_started(&self, id: i64, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE plays SET started_at = ?2 WHERE id = ?1",
            params![id, ts(at)],
        )?;
        Ok(())
    }

    /// Reads the as-run log, oldest first.
    ///
    /// # Errors
    /// On a database failure.
    pub fn plays(&self, f: &PlayFilter) -> Result<Vec<PlayRow>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, CASE WHEN ?5 THEN '' ELSE broadcast END, scheduled_at, started_at, ended_at, status,
                    CASE WHEN ?5 THEN NULL ELSE reason END, trigger, priority,
                    CASE WHEN ?5 THEN '[]' ELSE files END, outage_id, heard FROM plays
             WHERE (?1 IS NULL OR scheduled_at >= ?1) AND (?4 IS NULL OR scheduled_at < ?4)
               AND (?2 IS NULL OR status = ?2)
             ORDER BY scheduled_at, id LIMIT ?3",
        )?;
        let rows = stmt.query_map(
            params![
                f.since.map(ts),
                f.status.map(|s| s.as_str()),
                f.limit.map_or(-1, |l| l as i64),
                f.until.map(ts),
                f.bare,
            ],
            play_row,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The newest `limit` rows (by scheduled instant), newest first.
    ///
    /// # Errors
    /// On a database failure.
    pub fn latest_plays(&self, limit: usize) -> Result<Vec<PlayRow>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, broadcast, scheduled_at, started_at, ended_at, status, reason, trigger, priority, files, outage_id, heard FROM plays
             ORDER BY scheduled_at DESC, id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map(params![limit as i64], play_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How many plays scheduled in `[from, to)` have each status, by whole
    /// hours since `from` (0 = the first hour): `(hour, status, count)`.
    ///
    /// # Errors
    /// On a database failure.
    pub fn hourly_counts(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(i64, Status, i64)>, StoreError> {
        let conn = self.conn();
        // Whole seconds, integer division: a play on the hour belongs to
        // the hour it opens (julianday's floating point could say 7.999).
        let mut stmt = conn.prepare(
            "SELECT (CAST(strftime('%s', scheduled_at) AS INTEGER) - CAST(strftime('%s', ?1) AS INTEGER)) / 3600 AS h,
                    status, COUNT(*) FROM plays
             WHERE scheduled_at >= ?1 AND scheduled_at < ?2
             GROUP BY h, status ORDER BY h",
        )?;
        let rows = stmt.query_map(params![ts(from), ts(to)], |r| {
            Ok((r.get(0)?, Status::parse(&r.get::<_, String>(1)?), r.get(2)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How many plays have each status, of those scheduled at or after
    /// `since` (all when `None`).
    ///
    /// # Errors
    /// On a database failure.
    pub fn count_by_status(
        &self,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<(Status, i64)>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT status, COUNT(*) FROM plays WHERE (?1 IS NULL OR scheduled_at >= ?1) GROUP BY status",
        )?;
        let rows = stmt.query_map(params![since.map(ts)], |r| {
            Ok((Status::parse(&r.get::<_, String>(0)?), r.get(1)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Of the plays scheduled at or after `since`: how many the monitor
    /// heard, and how many it judged (heard or silent).
    ///
    /// # Errors
    /// On a database failure.
    pub fn count_heard(&self, since: DateTime<Utc>) -> Result<(i64, i64), StoreError> {
        Ok(self.conn().query_row(
            "SELECT COALESCE(SUM(heard = 1), 0), COUNT(heard) FROM plays WHERE scheduled_at >= ?1",
            params![ts(since)],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    }

    /// Opens an outage, or returns the one already open for (kind, subject):
    /// opening is idempotent.
    ///
    /// # Errors
    /// On a database failure.
    pub fn open_outage(
        &self,
        kind: OutageKind,
        subject: &str,
        started_at: DateTime<Utc>,
        detail: &str,
    ) -> Result<(i64, bool), StoreError> {
        let conn = self.conn();
        if let Some(id) = conn
            .query_row(
                "SELECT id FROM outages WHERE kind = ?1 AND subject = ?2 AND ended_at IS NULL",
                params![kind.as_str(), subject],
                |r| r.get(0),
            )
            .optional()?
        {
            return Ok((id, false));
        }
        conn.execute(
            "INSERT INTO outages (kind, subject, started_at, detail) VALUES (?1, ?2, ?3, ?4)",
            params![kind.as_str(), subject, ts(started_at), detail],
        )?;
        Ok((conn.last_insert_rowid(), true))
    }

    /// Records an outage that is already over (a power cut found at start-up).
    ///
    /// # Errors
    /// On a database failure.
    pub fn closed_outage(
        &self,
        kind: OutageKind,
        subject: &str,
        started_at: DateTime<Utc>,
        ended_at: DateTime<Utc>,
        detail: &str,
    ) -> Result<i64, StoreError> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO outages (kind, subject, started_at, ended_at, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![kind.as_str(), subject, ts(started_at), ts(ended_at), detail],
        )?;
        Ok(conn.last_insert_rowid())
    }

    /// Closes the open outage for (kind, subject), if any; idempotent.
    /// Returns its id when one was closed.
    ///
    /// # Errors
    /// On a database failure.
    pub fn close_outage(
        &self,
        kind: OutageKind,
        subject: &str,
        ended_at: DateTime<Utc>,
    ) -> Result<Option<i64>, StoreError> {
        let conn = self.conn();
        let id: Option<i64> = conn
            .query_row(
                "SELECT id FROM outages WHERE kind = ?1 AND subject = ?2 AND ended_at IS NULL",
                params![kind.as_str(), subject],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(id) = id {
            conn.execute(
                "UPDATE outages SET ended_at = ?2 WHERE id = ?1",
                params![id, ts(ended_at)],
            )?;
        }
        Ok(id)
    }

    /// Points a play row at the outage that cost it.
    ///
    /// # Errors
    /// On a database failure.
    pub fn link_outage(&self, play: i64, outage: i64) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE plays SET outage_id = ?2 WHERE id = ?1",
            params![play, outage],
        )?;
        Ok(())
    }

    /// The ledger, newest first: `open_only` gives the repair list (open
    /// faults); `since` keeps outages still open or ended after it.
    ///
    /// # Errors
    /// On a database failure.
    pub fn outages(
        &self,
        open_only: bool,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<OutageRow>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT o.id, o.kind, o.subject, o.started_at, o.ended_at, o.detail,
                    (SELECT COUNT(*) FROM plays p WHERE p.outage_id = o.id)
             FROM outages o
             WHERE (?1 = 0 OR (o.ended_at IS NULL AND o.kind != 'stopped'))
               AND (?2 IS NULL OR o.ended_at IS NULL OR o.ended_at >= ?2)
             ORDER BY o.started_at DESC, o.id DESC",
        )?;
        let rows = stmt.query_map(params![open_only as i32, since.map(ts)], |r| {
            Ok(OutageRow {
                id: r.get(0)?,
                kind: OutageKind::parse(&r.get::<_, String>(1)?),
                subject: r.get(2)?,
                started_at: parse_ts(&r.get::<_, String>(3)?),
                ended_at: r.get::<_, Option<String>>(4)?.as_deref().map(parse_ts),
                detail: r.get(5)?,
                lost: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Reads a daemon-state value.
    ///
    /// # Errors
    /// On a database failure.
    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn()
            .query_row("SELECT value FROM meta WHERE key = ?1", params![key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// A schedule file's last version without errors, and when it was
    /// saved: what goes on air while the file has errors, across restarts.
    ///
    /// # Errors
    /// On a database failure.
    pub fn good_file(&self, file: &str) -> Result<Option<(String, DateTime<Utc>)>, StoreError> {
        let row: Option<(String, String)> = self
            .conn()
            .query_row(
                "SELECT text, saved_at FROM good_files WHERE file = ?1",
                params![file],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(row.map(|(text, at)| (text, parse_ts(&at))))
    }

    /// Every schedule file's good version (file, text).
    ///
    /// # Errors
    /// On a database failure.
    pub fn good_files(&self) -> Result<Vec<(String, String)>, StoreError> {
        let conn = self.conn();
        let mut st = conn.prepare("SELECT file, text FROM good_files ORDER BY file")?;
        let rows = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Keeps `text` as the good version of `file` (when it changed).
    /// Returns whether it was written.
    ///
    /// # Errors
    /// On a database failure.
    pub fn keep_good_file(
        &self,
        file: &str,
        text: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let n = self.conn().execute(
            "INSERT INTO good_files (file, text, saved_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (file) DO UPDATE SET text = excluded.text, saved_at = excluded.saved_at
             WHERE good_files.text <> excluded.text",
            params![file, text, ts(at)],
        )?;
        Ok(n > 0)
    }

    /// Forgets the good versions of files no longer in the schedules
    /// folder (a deleted file goes off air, as its owner meant).
    ///
    /// # Errors
    /// On a database failure.
    pub fn forget_good_files_except(&self, keep: &[String]) -> Result<usize, StoreError> {
        let conn = self.conn();
        let files: Vec<String> = conn
            .prepare("SELECT file FROM good_files")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let mut n = 0;
        for f in files.iter().filter(|f| !keep.contains(f)) {
            n += conn.execute("DELETE FROM good_files WHERE file = ?1", params![f])?;
        }
        Ok(n)
    }

    /// Writes a daemon-state value.
    ///
    /// # Errors
    /// On a database failure.
    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn().execute("INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value", params![key, value])?;
        Ok(())
    }

    /// The database file was deleted under the running daemon (a person
    /// tidying the folder, a cleaner): this connection still writes to the
    /// deleted file, and every reader would see no history at all. Restores
    /// the file from this connection with SQLite's online backup and moves
    /// the connection onto it. Returns whether it restored.
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
        let mut conn = self.conn();
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Folder {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        // Fold the write-ahead log into the (deleted) file first, so a WAL
        // still lying at the path cannot be replayed into the copy.
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(sq)?;
        conn.backup(rusqlite::MAIN_DB, &self.path, None)
            .map_err(sq)?;
        let new = Connection::open(&self.path).map_err(sq)?;
        new.busy_timeout(WRITER_BUSY_TIMEOUT).map_err(sq)?;
        new.pragma_update(None, "journal_mode", "WAL").map_err(sq)?;
        new.pragma_update(None, "synchronous", "FULL").map_err(sq)?;
        new.pragma_update(None, "foreign_keys", "ON").map_err(sq)?;
        *conn = new;
        Ok(true)
    }

    /// Moves this connection onto the file now at the path (after another
    /// handle restored it).
    ///
    /// # Errors
    /// When it cannot be opened.
    pub fn reopen(&self) -> Result<(), StoreError> {
        let sq = |source| StoreError::Sqlite {
            path: self.path.clone(),
            source,
        };
        let new = Connection::open(&self.path).map_err(sq)?;
        new.busy_timeout(WRITER_BUSY_TIMEOUT).map_err(sq)?;
        new.pragma_update(None, "synchronous", "NORMAL")
            .map_err(sq)?;
        *self.conn() = new;
        Ok(())
    }

    /// A second handle on the same database for the heartbeat: its commits
    /// skip the fsync (`synchronous = NORMAL`; WAL keeps them consistent),
    /// so a heartbeat every few seconds costs one wake-up, not several. The
    /// next play commit (FULL) or checkpoint makes it durable; after a power
    /// cut the last heartbeat can be older by the kernel's writeback delay.
    ///
    /// # Errors
    /// When the database cannot be opened.
    pub fn heartbeat_handle(&self) -> Result<Store, StoreError> {
        let sq = |source| StoreError::Sqlite {
            path: self.path.clone(),
            source,
        };
        let conn = Connection::open(&self.path).map_err(sq)?;
        conn.busy_timeout(WRITER_BUSY_TIMEOUT).map_err(sq)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(sq)?;
        Ok(Store {
            conn: Arc::new(Mutex::new(conn)),
            path: self.path.clone(),
        })
    }

    /// Writes the heartbeat and the handled-until mark in one transaction.
    ///
    /// # Errors
    /// On a database failure.
    pub fn beat(&self, now: DateTime<Utc>, handled_until: DateTime<Utc>) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for (k, v) in [(keys::HEARTBEAT, now), (keys::HANDLED_UNTIL, handled_until)] {
            tx.execute("INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value", params![k, ts(v)])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Removes a daemon-state value.
    ///
    /// # Errors
    /// On a database failure.
    pub fn clear_meta(&self, key: &str) -> Result<(), StoreError> {
        self.conn()
            .execute("DELETE FROM meta WHERE key = ?1", params![key])?;
        Ok(())
    }

    /// Instant value of a meta key.
    ///
    /// # Errors
    /// On a database failure.
    pub fn meta_time(&self, key: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(self.meta(key)?.as_deref().map(parse_ts))
    }

    /// When this station's records begin: the daemon's first start, or the
    /// oldest play or outage (databases from before that key). `None` for
    /// an empty store.
    ///
    /// # Errors
    /// On a database failure.
    pub fn first_record(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let first = self.meta_time(keys::FIRST_START)?;
        let oldest: Option<String> = self.conn().query_row(
            "SELECT MIN(t) FROM (SELECT MIN(scheduled_at) AS t FROM plays
                                 UNION ALL SELECT MIN(started_at) FROM outages)",
            [],
            |r| r.get(0),
        )?;
        Ok([first, oldest.as_deref().map(parse_ts)]
            .into_iter()
            .flatten()
            .min())
    }

    /// `PRAGMA integrity_check`: "ok" when the file is sound.
    ///
    /// # Errors
    /// On a database failure.
    pub fn integrity_check(&self) -> Result<String, StoreError> {
        Ok(self
            .conn()
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }

    /// Checkpoints the WAL into the main file (clean shutdown).
    ///
    /// # Errors
    /// On a database failure.
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        self.conn()
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
        Ok(())
    }
}

/// Meta keys.
pub mod keys {
    /// Last heartbeat: wall time the daemon last confirmed it was running.
    pub const HEARTBEAT: &str = "last_heartbeat";
    /// Set on a clean stop, cleared at start: tells a person's stop from a
    /// power cut.
    pub const CLEAN_STOP: &str = "clean_stop";
    /// The newest wall time the planner has handled firings up to.
    pub const HANDLED_UNTIL: &str = "handled_until";
    /// Schedule errors from the last load, as JSON, for `status`.
    pub const SCHEDULE_ERRORS: &str = "schedule_errors";
    /// The daemon's heartbeat interval in milliseconds (for `status`).
    pub const HEARTBEAT_EVERY: &str = "heartbeat_every_ms";
    /// Warnings about files missing for firings in the next hour, as JSON.
    pub const WARNINGS: &str = "warnings";
    /// Where the running daemon's HTTP control answers (`127.0.0.1:7878`),
    /// for `play`, `stop` and `status`; cleared on a clean stop.
    pub const CONTROL_ADDR: &str = "control_addr";
    /// Which run answers there (process id and start time), so a client
    /// never mistakes another program on that port for this station's
    /// daemon.
    pub const CONTROL_INSTANCE: &str = "control_instance";
    /// The daemon's first start on this database: days before it have no
    /// data (not 100 % availability).
    pub const FIRST_START: &str = "first_start";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_firing_has_one_row() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let t = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let id = s
            .insert(
                "信",
                t,
                Some(t),
                None,
                Status::Playing,
                None,
                Trigger::Schedule,
                "normal",
                &["a.mp3".into()],
            )
            .unwrap();
        assert!(id.is_some());
        assert_eq!(
            s.insert(
                "信",
                t,
                None,
                None,
                Status::Missed,
                Some("x"),
                Trigger::Schedule,
                "normal",
                &[]
            )
            .unwrap(),
            None
        );
        assert!(s.exists("信", t).unwrap());
        assert_eq!(s.mark_interrupted(t).unwrap(), 1);
        let rows = s.plays(&PlayFilter::default()).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].status, Status::Interrupted);
        assert_eq!(rows[0].files, vec!["a.mp3".to_string()]);
        // Reopening keeps the data and does not re-run migrations.
        drop(s);
        let s = Store::open(dir.path()).unwrap();
        assert_eq!(s.plays(&PlayFilter::default()).unwrap().len(), 1);
        assert_eq!(s.integrity_check().unwrap(), "ok");
    }

    #[test]
    fn a_wave_one_database_migrates_and_keeps_its_links() {
        // A database as wave 1 left it (migrations 1-3), with an outage a
        // play points at.
        let dir = tempfile::tempdir().unwrap();
        {
            let conn = Connection::open(dir.path().join(DB_FILE)).unwrap();
            conn.pragma_update(None, "foreign_keys", "ON").unwrap();
            for m in &MIGRATIONS[..3] {
                conn.execute_batch(m).unwrap();
            }
            conn.pragma_update(None, "user_version", 3).unwrap();
            conn.execute_batch(
                "INSERT INTO outages (id, kind, subject, started_at) VALUES (7, 'output', 'rodio', '2026-12-01T00:00:00.000Z');
                 INSERT INTO plays (broadcast, scheduled_at, status, trigger, outage_id) VALUES ('信', '2026-12-01T00:00:00.000Z', 'failed', 'schedule', 7);",
            )
            .unwrap();
        }
        let s = Store::open(dir.path()).unwrap();
        let t = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let open = s.outages(true, None).unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!((open[0].id, open[0].lost), (7, 1));
        let (id, new) = s
            .open_outage(OutageKind::Config, "schedules/a.toml", t, "x")
            .unwrap();
        assert!(new);
        assert!(
            s.open_outage(OutageKind::Config, "schedules/a.toml", t, "x")
                .unwrap()
                == (id, false)
        );
        assert_eq!(s.integrity_check().unwrap(), "ok");
        let fk: i64 = s
            .conn()
            .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(fk, 0);
    }
}
