//! The event store: the as-run log (`plays`) and the daemon's own state
//! (`meta`: heartbeat, clean-stop marker) in SQLite. Every SQL statement
//! lives here. WAL mode with `synchronous = FULL`: a row is on disk before
//! the action it records is reported, and a power cut at any instant leaves
//! a database that passes `PRAGMA integrity_check`.

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The database file inside the data folder.
pub const DB_FILE: &str = "cunxiang.db";

/// Errors of the event store. The daemon's handle holds its records in
/// memory through faults of the file ([`StoreError::is_fault`]); what
/// still reaches the daemon stops it.
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
    #[error("{path} is made unchangeable (chattr +i): the database cannot be used until it is changeable again (chattr -i)")]
    Unchangeable { path: PathBuf },
    #[error("the records held in memory cannot be kept either: {0}")]
    MemoryFull(String),
}

impl StoreError {
    /// A fault of the file or the disk under it (locked by another
    /// program, disk full, read-only, damaged, deleted, unchangeable):
    /// the daemon's records wait in memory meanwhile. Not a fault: a
    /// query the program got wrong.
    pub fn is_fault(&self) -> bool {
        use rusqlite::ErrorCode as C;
        let sqlite = |e: &rusqlite::Error| match e {
            rusqlite::Error::SqliteFailure(f, _) => matches!(
                f.code,
                C::DatabaseBusy
                    | C::DatabaseLocked
                    | C::DiskFull
                    | C::SystemIoFailure
                    | C::ReadOnly
                    | C::CannotOpen
                    | C::DatabaseCorrupt
                    | C::NotADatabase
                    | C::PermissionDenied
                    | C::FileLockingProtocolFailed
            ),
            _ => false,
        };
        match self {
            StoreError::Sqlite { source, .. } => sqlite(source),
            StoreError::Query(e) => sqlite(e),
            StoreError::Folder { .. }
            | StoreError::MissingWhileRunning { .. }
            | StoreError::Unchangeable { .. } => true,
            _ => false,
        }
    }

    /// The file is not an SQLite database, or is damaged inside.
    pub fn is_damage(&self) -> bool {
        use rusqlite::ErrorCode as C;
        let e = match self {
            StoreError::Sqlite { source, .. } => source,
            StoreError::Query(e) => e,
            _ => return false,
        };
        matches!(e, rusqlite::Error::SqliteFailure(f, _) if matches!(f.code, C::DatabaseCorrupt | C::NotADatabase))
    }
}

/// How long opening and migrating the database waits for a lock another
/// process holds.
pub const WRITER_BUSY_TIMEOUT: Duration = Duration::from_secs(90);

/// How long the running daemon's writes wait for a lock another process
/// holds (a backup tool, a person's `sqlite3` session) before its records
/// wait in memory instead: the run loop waits meanwhile, so this is how
/// late a firing can start behind such a lock.
pub const WRITE_WAIT: Duration = Duration::from_millis(200);

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
    // 6: `store` outages (the database could not be written: records
    // waited in memory). The CHECK is widened as in migration 4.
    "CREATE TABLE outages_new (
        id          INTEGER PRIMARY KEY,
        kind        TEXT NOT NULL CHECK (kind IN ('power','stopped','output','content','clock','signal','terminal','config','store')),
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
    /// The database could not be written (disk full, locked by another
    /// program, read-only, damaged, deleted): broadcasting went on and the
    /// records waited in memory.
    Store,
}

impl OutageKind {
    pub const ALL: [OutageKind; 9] = [
        OutageKind::Power,
        OutageKind::Stopped,
        OutageKind::Output,
        OutageKind::Content,
        OutageKind::Clock,
        OutageKind::Signal,
        OutageKind::Terminal,
        OutageKind::Config,
        OutageKind::Store,
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
            OutageKind::Store => "store",
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

pub use crate::plan::Trigger;

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

struct Inner {
    /// The database file; `None` only while it could not be opened at all
    /// (the records are then held).
    disk: Option<Connection>,
    /// Records held in memory while the file cannot be written.
    held: Option<Held>,
    /// Whether this handle may hold records (the daemon's own).
    may_hold: bool,
    /// No id in the file is above this: rows made while held without a
    /// copy of the file are numbered above it.
    floor: i64,
    /// The database file, open for reading its header (the daemon's
    /// handle): opened with the connection and never closed before it,
    /// as closing a descriptor drops this process's locks on the file.
    head: Option<std::fs::File>,
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

impl HeldState {
    /// The `store` fault the file cannot show yet, as a repair-list row
    /// (id 0: it is not in the ledger until the records are written).
    pub fn outage(&self, detail: String) -> OutageRow {
        OutageRow {
            id: 0,
            kind: OutageKind::Store,
            subject: STORE_SUBJECT.to_string(),
            started_at: self.since,
            ended_at: None,
            detail: Some(detail),
            lost: 0,
        }
    }
}

/// The records held in memory reached the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Healed {
    pub since: DateTime<Utc>,
    pub rows: usize,
    /// The damaged file set aside, when the file was found written over.
    pub kept: Option<PathBuf>,
}

/// Whether `path` is made unchangeable (`chattr +i` or `+a`). SQLite maps
/// the `-shm` index into memory: a write to a mapped page of such a file
/// is a SIGBUS, so it is looked at before each use. Looked at with
/// `statx`, never by opening the file: closing any descriptor of a file
/// drops every POSIX lock this process holds on it, SQLite's included.
fn unchangeable(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: a zeroed statx is a valid out-buffer; the path is a
    // NUL-terminated string that outlives the call.
    let mut st: libc::statx = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::statx(libc::AT_FDCWD, c.as_ptr(), 0, 0, &mut st) };
    let flags = (libc::STATX_ATTR_IMMUTABLE | libc::STATX_ATTR_APPEND) as u64;
    r == 0 && st.stx_attributes_mask & flags != 0 && st.stx_attributes & flags != 0
}

fn shm_path(db: &Path) -> PathBuf {
    let mut p = db.as_os_str().to_owned();
    p.push("-shm");
    PathBuf::from(p)
}

/// Runs the numbered migrations on `conn` (each in an immediate
/// transaction that re-reads the version, so two processes opening a new
/// database at once cannot both apply one).
fn migrate(conn: &mut Connection) -> Result<(), rusqlite::Error> {
    // Migrations run with foreign keys off (SQLite's own procedure for
    // rebuilding a table others point at) and are checked before each
    // commit; they are switched on once the schema is current.
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    loop {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let version: usize = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let Some(m) = MIGRATIONS.get(version) else {
            break;
        };
        tx.execute_batch(m)?;
        let broken: i64 =
            tx.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })?;
        if broken > 0 {
            return Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY),
                Some(format!(
                    "migration {} left {broken} dangling references",
                    version + 1
                )),
            ));
        }
        tx.pragma_update(None, "user_version", version + 1)?;
        tx.commit()?;
    }
    conn.pragma_update(None, "foreign_keys", "ON")
}

impl Store {
    fn with(conn: Connection, path: PathBuf, may_hold: bool) -> Store {
        // Only the daemon's handle ever numbers rows above the file's.
        let floor = if may_hold {
            top_id(&conn).unwrap_or(0)
        } else {
            0
        };
        Store {
            inner: Arc::new(Mutex::new(Inner {
                head: may_hold.then(|| std::fs::File::open(&path).ok()).flatten(),
                disk: Some(conn),
                held: None,
                may_hold,
                floor,
            })),
            path,
        }
    }

    /// Opens (creating if needed) the database in `data_dir` and runs the
    /// migrations.
    ///
    /// # Errors
    /// When the folder or database cannot be created or migrated.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        let (conn, path) = Store::open_file(data_dir)?;
        Ok(Store::with(conn, path, false))
    }

    fn open_file(data_dir: &Path) -> Result<(Connection, PathBuf), StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::Folder {
            path: data_dir.to_path_buf(),
            source,
        })?;
        let path = data_dir.join(DB_FILE);
        if unchangeable(&shm_path(&path)) {
            return Err(StoreError::Unchangeable {
                path: shm_path(&path),
            });
        }
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
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => return Err(sq(e)),
            }
        }
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(sq)?;
        migrate(&mut conn).map_err(sq)?;
        Ok((conn, path))
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
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::Folder {
            path: data_dir.to_path_buf(),
            source,
        })?;
        let path = data_dir.join(DB_FILE);
        let mut kept = None;
        let opened = match Store::open_file(data_dir) {
            Err(e) if e.is_damage() => match Store::set_aside(&path, now) {
                Ok(aside) => {
                    kept = Some(aside);
                    Store::open_file(data_dir)
                }
                Err(_) => Err(e),
            },
            r => r,
        };
        let store = match opened {
            Ok((conn, path)) => {
                let _ = conn.busy_timeout(WRITE_WAIT);
                let s = Store::with(conn, path, true);
                (s, kept)
            }
            Err(e) => {
                let s = Store {
                    inner: Arc::new(Mutex::new(Inner {
                        disk: None,
                        held: None,
                        may_hold: true,
                        floor: 0,
                        head: None,
                    })),
                    path,
                };
                s.lock().hold(&s.path, &e)?;
                (s, kept)
            }
        };
        Ok(store)
    }

    /// Moves a damaged database (and its log and index) aside as
    /// `cunxiang.db.damaged-<time>`; never deletes it.
    fn set_aside(path: &Path, now: DateTime<Utc>) -> std::io::Result<PathBuf> {
        let stamp = now.format("%Y%m%dT%H%M%SZ");
        let name = |suffix: &str| {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            PathBuf::from(p)
        };
        let aside = name(&format!(".damaged-{stamp}"));
        std::fs::rename(path, &aside)?;
        for ext in ["-wal", "-shm"] {
            if name(ext).exists() {
                let _ = std::fs::rename(name(ext), name(&format!(".damaged-{stamp}{ext}")));
            }
        }
        Ok(aside)
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
        if unchangeable(&shm_path(&path)) {
            return Err(StoreError::Unchangeable {
                path: shm_path(&path),
            });
        }
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
        if version < MIGRATIONS.len() {
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
    /// `f` is given the floor for new ids (see [`next_id`]).
    fn run<T>(
        &self,
        mut f: impl FnMut(&mut Connection, i64) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut g = self.lock();
        if g.held.is_none() {
            let e = if unchangeable(&shm_path(&self.path)) {
                StoreError::Unchangeable {
                    path: shm_path(&self.path),
                }
            } else {
                let disk = g
                    .disk
                    .as_mut()
                    .expect("a store without records held has its file");
                match f(disk, 0) {
                    Ok(v) => {
                        let last = disk.last_insert_rowid();
                        g.floor = g.floor.max(last);
                        return Ok(v);
                    }
                    Err(e) => e,
                }
            };
            if !g.may_hold || !e.is_fault() {
                return Err(e);
            }
            g.hold(&self.path, &e)?;
        }
        let floor = g.floor;
        let held = g.held.as_mut().expect("held");
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

    /// Notes a meta key or good file changed while records are held.
    fn touched(&self, meta: Option<&str>, good_file: Option<&str>) {
        let g = self.lock();
        if let Some(h) = &g.held {
            let mut d = h.dirty.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(k) = meta {
                d.meta.insert(k.to_string());
            }
            if let Some(f) = good_file {
                d.good_files.insert(f.to_string());
            }
        }
    }

    /// Looks whether the file was written over under the open connection
    /// (SQLite does not notice while its pages come from the write-ahead
    /// log): if so, the records are held from now on and [`Store::retry`]
    /// sets the file aside and starts a new one. Returns whether it was.
    pub fn check_written_over(&self) -> bool {
        let mut g = self.lock();
        if g.held.is_some() || !g.may_hold || g.head_ok() {
            return false;
        }
        let e = StoreError::Sqlite {
            path: self.path.clone(),
            source: rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_NOTADB),
                Some("the file was written over".into()),
            ),
        };
        if g.hold(&self.path, &e).is_ok() {
            if let Some(h) = g.held.as_mut() {
                h.next_try = Instant::now();
            }
        }
        true
    }

    /// Whether records are held in memory, since when and why.
    pub fn held(&self) -> Option<HeldState> {
        let g = self.lock();
        g.held.as_ref().map(|h| {
            let d = h.dirty.lock().unwrap_or_else(|p| p.into_inner());
            HeldState {
                since: h.since,
                error: h.error.clone(),
                rows: d.plays.len() + d.outages.len(),
            }
        })
    }

    /// Tries to write the records held in memory to the file, when the
    /// back-off allows (`force`: now). `None` when nothing is held or it
    /// is not time yet; `Some(Ok)` when they are in the file (with a
    /// closed `store` outage for the span), back on the file from now on.
    pub fn retry(&self, now: DateTime<Utc>, force: bool) -> Option<Result<Healed, String>> {
        let mut g = self.lock();
        let held = g.held.as_ref()?;
        if !force && Instant::now() < held.next_try {
            return None;
        }
        let r = g.write_back(&self.path, now);
        match &r {
            Ok(_) => {
                g.held = None;
            }
            Err(e) => {
                let h = g.held.as_mut().expect("held");
                h.error = e.clone();
                h.wait = (h.wait * 2).min(HOLD_RETRY_MAX);
                h.next_try = Instant::now() + h.wait;
            }
        }
        Some(r)
    }

    /// Writes the records held in memory to a file beside the database
    /// (`cunxiang.db.held-<time>`), else in the temporary folder: what a
    /// stop that could not write them leaves for a person. Returns where.
    ///
    /// # Errors
    /// When no copy could be written anywhere.
    pub fn save_held(&self) -> Result<PathBuf, String> {
        let g = self.lock();
        let Some(h) = &g.held else {
            return Err("nothing held".into());
        };
        let name = format!("{DB_FILE}.held-{}", Utc::now().format("%Y%m%dT%H%M%SZ"));
        let mut last = String::new();
        for dir in [
            self.path.parent().map(Path::to_path_buf),
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

    /// At start-up: rows left `playing` by a crash or power cut become
    /// `interrupted`. Returns how many.
    ///
    /// # Errors
    /// On a database failure.
    pub fn mark_interrupted(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        self.run(|c, _| {
            Ok(c.execute(
                "UPDATE plays SET status = 'interrupted', reason = COALESCE(reason || '; ', '') || ?2, ended_at = COALESCE(ended_at, ?1) WHERE status = 'playing'",
                params![ts(now), crate::plan::reasons::DAEMON_STOPPED],
            )?)
        })
    }

    /// Whether a firing already has a row (played, missed, anything).
    ///
    /// # Errors
    /// On a database failure.
    pub fn exists(&self, broadcast: &str, scheduled_at: DateTime<Utc>) -> Result<bool, StoreError> {
        self.run(|c, _| {
            Ok(c.query_row(
                "SELECT 1 FROM plays WHERE broadcast = ?1 AND scheduled_at = ?2",
                params![broadcast, ts(scheduled_at)],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
        })
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
        self.run(|c, floor| {
            let id = next_id(c, "plays", floor)?;
            let n = c.execute(
                "INSERT OR IGNORE INTO plays (id, broadcast, scheduled_at, started_at, ended_at, status, reason, trigger, priority, files)
                 VALUES (?10, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
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
                    id,
                ],
            )?;
            Ok((n == 1).then_some(id))
        })
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
        self.run(|c, _| {
            c.execute(
                "UPDATE plays SET status = ?2, ended_at = CASE WHEN ?2 = 'playing' THEN NULL ELSE COALESCE(?3, ended_at) END, reason = COALESCE(?4, reason) WHERE id = ?1",
                params![id, status.as_str(), ended_at.map(ts), reason],
            )?;
            Ok(())
        })
    }

    /// Records what the monitor heard of a play.
    ///
    /// # Errors
    /// On a database failure.
    pub fn set_heard(&self, id: i64, heard: Option<bool>) -> Result<(), StoreError> {
        self.run(|c, _| {
            c.execute(
                "UPDATE plays SET heard = ?2 WHERE id = ?1",
                params![id, heard],
            )?;
            Ok(())
        })
    }

    /// Records when the first sample of a play went out.
    ///
    /// # Errors
    /// On a database failure.
    pub fn set_started(&self, id: i64, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.run(|c, _| {
            c.execute(
                "UPDATE plays SET started_at = ?2 WHERE id = ?1",
                params![id, ts(at)],
            )?;
            Ok(())
        })
    }

    /// Reads the as-run log, oldest first.
    ///
    /// # Errors
    /// On a database failure.
    pub fn plays(&self, f: &PlayFilter) -> Result<Vec<PlayRow>, StoreError> {
        self.run(|conn, _| {
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
        })
    }

    /// The newest `limit` rows (by scheduled instant), newest first.
    ///
    /// # Errors
    /// On a database failure.
    pub fn latest_plays(&self, limit: usize) -> Result<Vec<PlayRow>, StoreError> {
        self.run(|conn, _| {
            let mut stmt = conn.prepare(
                "SELECT id, broadcast, scheduled_at, started_at, ended_at, status, reason, trigger, priority, files, outage_id, heard FROM plays
                 ORDER BY scheduled_at DESC, id DESC LIMIT ?1",
            )?;
            let rows = stmt.query_map(params![limit as i64], play_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
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
        self.run(|conn, _| {
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
        })
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
        self.run(|conn, _| {
            let mut stmt = conn.prepare(
                "SELECT status, COUNT(*) FROM plays WHERE (?1 IS NULL OR scheduled_at >= ?1) GROUP BY status",
            )?;
            let rows = stmt.query_map(params![since.map(ts)], |r| {
                Ok((Status::parse(&r.get::<_, String>(0)?), r.get(1)?))
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// Of the plays scheduled at or after `since`: how many the monitor
    /// heard, and how many it judged (heard or silent).
    ///
    /// # Errors
    /// On a database failure.
    pub fn count_heard(&self, since: DateTime<Utc>) -> Result<(i64, i64), StoreError> {
        self.run(|conn, _| {
            Ok(conn.query_row(
                "SELECT COALESCE(SUM(heard = 1), 0), COUNT(heard) FROM plays WHERE scheduled_at >= ?1",
                params![ts(since)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?)
        })
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
        self.run(|conn, floor| {
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
            let id = next_id(conn, "outages", floor)?;
            conn.execute(
                "INSERT INTO outages (id, kind, subject, started_at, detail) VALUES (?5, ?1, ?2, ?3, ?4)",
                params![kind.as_str(), subject, ts(started_at), detail, id],
            )?;
            Ok((id, true))
        })
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
        self.run(|conn, floor| {
            let id = next_id(conn, "outages", floor)?;
            conn.execute(
                "INSERT INTO outages (id, kind, subject, started_at, ended_at, detail) VALUES (?6, ?1, ?2, ?3, ?4, ?5)",
                params![kind.as_str(), subject, ts(started_at), ts(ended_at), detail, id],
            )?;
            Ok(id)
        })
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
        self.run(|conn, _| {
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
        })
    }

    /// Points a play row at the outage that cost it.
    ///
    /// # Errors
    /// On a database failure.
    pub fn link_outage(&self, play: i64, outage: i64) -> Result<(), StoreError> {
        self.run(|conn, _| {
            conn.execute(
                "UPDATE plays SET outage_id = ?2 WHERE id = ?1",
                params![play, outage],
            )?;
            Ok(())
        })
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
        self.run(|conn, _| {
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
        })
    }

    /// Reads a daemon-state value.
    ///
    /// # Errors
    /// On a database failure.
    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.run(|conn, _| {
            Ok(conn
                .query_row("SELECT value FROM meta WHERE key = ?1", params![key], |r| {
                    r.get(0)
                })
                .optional()?)
        })
    }

    /// A schedule file's last version without errors, and when it was
    /// saved: what goes on air while the file has errors, across restarts.
    ///
    /// # Errors
    /// On a database failure.
    pub fn good_file(&self, file: &str) -> Result<Option<(String, DateTime<Utc>)>, StoreError> {
        let row: Option<(String, String)> = self.run(|conn, _| {
            Ok(conn
                .query_row(
                    "SELECT text, saved_at FROM good_files WHERE file = ?1",
                    params![file],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?)
        })?;
        Ok(row.map(|(text, at)| (text, parse_ts(&at))))
    }

    /// Every schedule file's good version (file, text).
    ///
    /// # Errors
    /// On a database failure.
    pub fn good_files(&self) -> Result<Vec<(String, String)>, StoreError> {
        self.run(|conn, _| {
            let mut st = conn.prepare("SELECT file, text FROM good_files ORDER BY file")?;
            let rows = st
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
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
        let n = self.run(|conn, _| {
            Ok(conn.execute(
                "INSERT INTO good_files (file, text, saved_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (file) DO UPDATE SET text = excluded.text, saved_at = excluded.saved_at
                 WHERE good_files.text <> excluded.text",
                params![file, text, ts(at)],
            )?)
        })?;
        self.touched(None, Some(file));
        Ok(n > 0)
    }

    /// Forgets the good versions of files no longer in the schedules
    /// folder (a deleted file goes off air, as its owner meant).
    ///
    /// # Errors
    /// On a database failure.
    pub fn forget_good_files_except(&self, keep: &[String]) -> Result<usize, StoreError> {
        let gone = self.run(|conn, _| {
            let files: Vec<String> = conn
                .prepare("SELECT file FROM good_files")?
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            let mut gone = Vec::new();
            for f in files.into_iter().filter(|f| !keep.contains(f)) {
                if conn.execute("DELETE FROM good_files WHERE file = ?1", params![f])? > 0 {
                    gone.push(f);
                }
            }
            Ok(gone)
        })?;
        for f in &gone {
            self.touched(None, Some(f));
        }
        Ok(gone.len())
    }

    /// Writes a daemon-state value.
    ///
    /// # Errors
    /// On a database failure.
    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.run(|conn, _| {
            conn.execute("INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value", params![key, value])?;
            Ok(())
        })?;
        self.touched(Some(key), None);
        Ok(())
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
        if g.held.is_some() {
            return Ok(false);
        }
        let Some(conn) = g.disk.as_mut() else {
            return Ok(false);
        };
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
        new.busy_timeout(WRITE_WAIT).map_err(sq)?;
        new.pragma_update(None, "journal_mode", "WAL").map_err(sq)?;
        new.pragma_update(None, "synchronous", "FULL").map_err(sq)?;
        new.pragma_update(None, "foreign_keys", "ON").map_err(sq)?;
        *conn = new;
        g.head = std::fs::File::open(&self.path).ok();
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
        new.busy_timeout(WRITE_WAIT).map_err(sq)?;
        new.pragma_update(None, "synchronous", "NORMAL")
            .map_err(sq)?;
        self.lock().disk = Some(new);
        Ok(())
    }

    /// A second handle on the same database for the heartbeat: its commits
    /// skip the fsync (`synchronous = NORMAL`; WAL keeps them consistent),
    /// so a heartbeat every few seconds costs one wake-up, not several. The
    /// next play commit (FULL) or checkpoint makes it durable; after a power
    /// cut the last heartbeat can be older by the kernel's writeback delay.
    /// It never holds records: a beat that cannot be written is lost (the
    /// daemon's handle holds what matters).
    ///
    /// # Errors
    /// When the database cannot be opened.
    pub fn heartbeat_handle(&self) -> Result<Store, StoreError> {
        let sq = |source| StoreError::Sqlite {
            path: self.path.clone(),
            source,
        };
        if unchangeable(&shm_path(&self.path)) {
            return Err(StoreError::Unchangeable {
                path: shm_path(&self.path),
            });
        }
        let conn = Connection::open(&self.path).map_err(sq)?;
        conn.busy_timeout(WRITE_WAIT).map_err(sq)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(sq)?;
        Ok(Store::with(conn, self.path.clone(), false))
    }

    /// Writes the heartbeat and the handled-until mark in one transaction.
    ///
    /// # Errors
    /// On a database failure.
    pub fn beat(&self, now: DateTime<Utc>, handled_until: DateTime<Utc>) -> Result<(), StoreError> {
        self.run(|conn, _| {
            let tx = conn.transaction()?;
            for (k, v) in [(keys::HEARTBEAT, now), (keys::HANDLED_UNTIL, handled_until)] {
                tx.execute("INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value", params![k, ts(v)])?;
            }
            tx.commit()?;
            Ok(())
        })?;
        self.touched(Some(keys::HEARTBEAT), None);
        self.touched(Some(keys::HANDLED_UNTIL), None);
        Ok(())
    }

    /// Removes a daemon-state value.
    ///
    /// # Errors
    /// On a database failure.
    pub fn clear_meta(&self, key: &str) -> Result<(), StoreError> {
        self.run(|conn, _| {
            conn.execute("DELETE FROM meta WHERE key = ?1", params![key])?;
            Ok(())
        })?;
        self.touched(Some(key), None);
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
        self.run(|conn, _| {
            let oldest: Option<String> = conn.query_row(
                "SELECT MIN(t) FROM (SELECT MIN(scheduled_at) AS t FROM plays
                                     UNION ALL SELECT MIN(started_at) FROM outages)",
                [],
                |r| r.get(0),
            )?;
            Ok([first, oldest.as_deref().map(parse_ts)]
                .into_iter()
                .flatten()
                .min())
        })
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

/// The highest play or outage id in a database.
fn top_id(conn: &Connection) -> Result<i64, rusqlite::Error> {
    conn.query_row(
        "SELECT MAX(IFNULL((SELECT MAX(id) FROM plays), 0), IFNULL((SELECT MAX(id) FROM outages), 0))",
        [],
        |r| r.get(0),
    )
}

/// The id a new row gets: above every id in the table and above `floor`
/// (every id in the file, while held without a copy of it).
fn next_id(conn: &Connection, table: &str, floor: i64) -> Result<i64, rusqlite::Error> {
    let top: i64 = conn.query_row(
        &format!("SELECT IFNULL(MAX(id), 0) FROM {table}"),
        [],
        |r| r.get(0),
    )?;
    Ok(top.max(floor) + 1)
}

impl Inner {
    /// Whether the open database file still starts as an SQLite database
    /// does (read through the kept descriptor, never a new one).
    fn head_ok(&self) -> bool {
        use std::os::unix::fs::FileExt;
        let Some(f) = &self.head else {
            return true;
        };
        let mut head = [0u8; 16];
        match f.read_exact_at(&mut head, 0) {
            Ok(()) => &head == b"SQLite format 3\0",
            // Shorter than a header: cut to nothing, or written over.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => false,
            Err(_) => true,
        }
    }

    /// Starts holding records in memory: a copy of the file when it can
    /// be read, else an empty database numbering new rows above every id
    /// the file can have.
    fn hold(&mut self, path: &Path, why: &StoreError) -> Result<(), StoreError> {
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
        mem.pragma_update(None, "foreign_keys", "ON")
            .map_err(full)?;
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

    /// Writes the held records to the file in one transaction, with a
    /// closed `store` outage for the span. A file found damaged (written
    /// over) is set aside, kept, and the records go to a new one.
    fn write_back(&mut self, path: &Path, now: DateTime<Utc>) -> Result<Healed, String> {
        match self.write_back_once(path, now) {
            Err((_, true)) => {
                let kept = Store::set_aside(path, now).map_err(|e| e.to_string())?;
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

    /// One try of [`Inner::write_back`]: the error, and whether it is
    /// damage.
    fn write_back_once(
        &mut self,
        path: &Path,
        now: DateTime<Utc>,
    ) -> Result<Healed, (String, bool)> {
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
        let held = self.held.as_ref().expect("held");
        let dir = path.parent().unwrap_or(Path::new("."));
        // Deleted meanwhile: a new file. A full copy goes back whole.
        let deleted = !path.exists();
        if deleted {
            self.disk = None;
        }
        if self.disk.is_none() {
            let (c, _) = Store::open_file(dir).map_err(|e| (e.to_string(), e.is_damage()))?;
            let _ = c.busy_timeout(WRITE_WAIT);
            self.disk = Some(c);
            self.head = std::fs::File::open(path).ok();
        }
        let disk = self.disk.as_mut().expect("opened");
        let dirty = held.dirty.lock().unwrap_or_else(|p| p.into_inner());
        let rows = dirty.plays.len() + dirty.outages.len();
        let detail = format!("records held in memory: {}", held.error);
        let e = |e: rusqlite::Error| {
            let damage = matches!(&e, rusqlite::Error::SqliteFailure(f, _) if matches!(f.code, rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase));
            (e.to_string(), damage)
        };
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
}

/// Copies the rows changed in memory to the file.
fn copy_rows(mem: &Connection, disk: &Connection, dirty: &Dirty) -> Result<(), rusqlite::Error> {
    type Outage = (String, String, String, Option<String>, Option<String>);
    for &id in &dirty.outages {
        let Some((kind, subject, started, ended, detail)) = mem
            .query_row(
                "SELECT kind, subject, started_at, ended_at, detail FROM outages WHERE id = ?1",
                params![id],
                |r| Ok::<Outage, _>((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()?
        else {
            continue;
        };
        let n = disk.execute(
            "UPDATE outages SET kind = ?2, subject = ?3, started_at = ?4, ended_at = ?5, detail = ?6 WHERE id = ?1",
            params![id, kind, subject, started, ended, detail],
        )?;
        if n == 0 {
            // One the file has open for the same subject (the memory did
            // not know it) ends where this one starts.
            if ended.is_none() {
                disk.execute(
                    "UPDATE outages SET ended_at = ?3 WHERE kind = ?1 AND subject = ?2 AND ended_at IS NULL",
                    params![kind, subject, started],
                )?;
            }
            disk.execute(
                "INSERT INTO outages (id, kind, subject, started_at, ended_at, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![id, kind, subject, started, ended, detail],
            )?;
        }
    }
    const COLS: &str = "broadcast, scheduled_at, started_at, ended_at, status, reason, trigger, priority, files, outage_id, heard";
    for &id in &dirty.plays {
        let Some(row) = mem
            .query_row(
                &format!("SELECT {COLS} FROM plays WHERE id = ?1"),
                params![id],
                |r| {
                    (0..11)
                        .map(|i| r.get::<_, rusqlite::types::Value>(i))
                        .collect::<Result<Vec<_>, _>>()
                },
            )
            .optional()?
        else {
            continue;
        };
        let n = disk.execute(
            "UPDATE plays SET broadcast = ?2, scheduled_at = ?3, started_at = ?4, ended_at = ?5, status = ?6, reason = ?7, trigger = ?8, priority = ?9, files = ?10, outage_id = ?11, heard = ?12 WHERE id = ?1",
            rusqlite::params_from_iter(std::iter::once(rusqlite::types::Value::Integer(id)).chain(row.iter().cloned())),
        )?;
        if n == 0 {
            // A firing the file already has a row for (the memory did not
            // know it) keeps that row.
            disk.execute(
                &format!("INSERT OR IGNORE INTO plays (id, {COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"),
                rusqlite::params_from_iter(std::iter::once(rusqlite::types::Value::Integer(id)).chain(row)),
            )?;
        }
    }
    for key in &dirty.meta {
        let v: Option<String> = mem
            .query_row("SELECT value FROM meta WHERE key = ?1", params![key], |r| {
                r.get(0)
            })
            .optional()?;
        match v {
            Some(v) => disk.execute("INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value", params![key, v])?,
            None => disk.execute("DELETE FROM meta WHERE key = ?1", params![key])?,
        };
    }
    for file in &dirty.good_files {
        let v: Option<(String, String)> = mem
            .query_row(
                "SELECT text, saved_at FROM good_files WHERE file = ?1",
                params![file],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        match v {
            Some((text, at)) => disk.execute(
                "INSERT INTO good_files (file, text, saved_at) VALUES (?1, ?2, ?3) ON CONFLICT (file) DO UPDATE SET text = excluded.text, saved_at = excluded.saved_at",
                params![file, text, at],
            )?,
            None => disk.execute("DELETE FROM good_files WHERE file = ?1", params![file])?,
        };
    }
    Ok(())
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
            .run(|c, _| {
                Ok(
                    c.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                        r.get(0)
                    })?,
                )
            })
            .unwrap();
        assert_eq!(fk, 0);
    }

    fn row(s: &Store, name: &str, t: DateTime<Utc>) -> i64 {
        s.insert(
            name,
            t,
            Some(t),
            None,
            Status::Playing,
            None,
            Trigger::Schedule,
            "normal",
            &[],
        )
        .unwrap()
        .unwrap()
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
