//! The store's errors, and which of them are faults of the file (held
//! through) and which are damage (set aside). Decides nothing itself and
//! runs no query.

use std::path::PathBuf;

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
        match self {
            StoreError::Sqlite { source, .. } => is_damage(source),
            StoreError::Query(e) => is_damage(e),
            _ => false,
        }
    }
}

/// SQLite says the file is not a database, or is damaged inside.
pub(super) fn is_damage(e: &rusqlite::Error) -> bool {
    use rusqlite::ErrorCode as C;
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if matches!(f.code, C::DatabaseCorrupt | C::NotADatabase))
}

/// Another connection holds the lock this one needs.
pub(super) fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked))
}
