//! The database file on disk: where it is, how a connection to it is
//! opened (WAL, `synchronous = FULL`, the migrations), setting a damaged
//! one aside, and looking at it without opening a descriptor. It keeps no
//! connection of its own, writes no record and never deletes a file.

use super::error::{is_busy, StoreError};
use super::schema::migrate;
use chrono::{DateTime, Utc};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The database file inside the data folder.
pub const DB_FILE: &str = "cunxiang.db";

/// How long opening and migrating the database waits for a lock another
/// process holds.
pub const WRITER_BUSY_TIMEOUT: Duration = Duration::from_secs(90);

/// How long the running daemon's writes wait for a lock another process
/// holds (a backup tool, a person's `sqlite3` session) before its records
/// wait in memory instead: the run loop waits meanwhile, so this is how
/// late a firing can start behind such a lock.
pub const WRITE_WAIT: Duration = Duration::from_millis(200);

/// Creates the data folder (and its parents) when missing.
pub(super) fn create_folder(dir: &Path) -> Result<(), StoreError> {
    std::fs::create_dir_all(dir).map_err(|source| StoreError::Folder {
        path: dir.to_path_buf(),
        source,
    })
}

/// Opens (creating if needed) the database in `data_dir`, in WAL mode with
/// `synchronous = FULL`, and runs the migrations.
pub(super) fn open_file(data_dir: &Path) -> Result<(Connection, PathBuf), StoreError> {
    create_folder(data_dir)?;
    let path = data_dir.join(DB_FILE);
    changeable(&path)?;
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

/// Moves a damaged database (and its log and index) aside as
/// `cunxiang.db.damaged-<time>`; never deletes it.
pub(super) fn set_aside(path: &Path, now: DateTime<Utc>) -> std::io::Result<PathBuf> {
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

/// An error when the database's `-shm` index is made unchangeable (see
/// [`unchangeable`]): the database cannot be used then.
pub(super) fn changeable(db: &Path) -> Result<(), StoreError> {
    let shm = shm_path(db);
    if unchangeable(&shm) {
        return Err(StoreError::Unchangeable { path: shm });
    }
    Ok(())
}

/// Whether `path` is made unchangeable (`chattr +i` or `+a`). SQLite maps
/// the `-shm` index into memory: a write to a mapped page of such a file
/// is a SIGBUS, so it is looked at before each use. Looked at with
/// `statx`, never by opening the file: closing any descriptor of a file
/// drops every POSIX lock this process holds on it, SQLite's included.
pub(super) fn unchangeable(path: &Path) -> bool {
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

/// The database's shared-memory index beside it.
pub(super) fn shm_path(db: &Path) -> PathBuf {
    let mut p = db.as_os_str().to_owned();
    p.push("-shm");
    PathBuf::from(p)
}

/// Whether the open database file still starts as an SQLite database
/// does, read through a descriptor kept open with the connection (never
/// a new one). No descriptor kept: taken as sound.
pub(super) fn head_ok(head: Option<&std::fs::File>) -> bool {
    use std::os::unix::fs::FileExt;
    let Some(f) = head else {
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
