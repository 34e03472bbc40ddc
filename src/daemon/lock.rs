//! One daemon per station and data folder: the lock files and the running
//! note beside the station file. Knows nothing of the run loop.

use super::settings::RunError;
use crate::store::StoreError;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The lock file in the data folder: one daemon per data folder, so two
/// stations pointed at one folder never write one ledger.
pub const LOCK_FILE: &str = "cunxiang.lock";

/// The locks a running daemon holds (released when dropped, or by the OS
/// on any death: a kill -9 never leaves a stale lock): one beside the
/// station file ([`crate::config::load::STATION_LOCK`]), so editing `[folders]
/// data` never lets a second daemon start on the station, and one in the
/// data folder.
#[derive(Debug)]
pub struct StationLock {
    _data: std::fs::File,
    station: Option<(std::fs::File, PathBuf)>,
}

impl Drop for StationLock {
    fn drop(&mut self) {
        // The note goes before the lock: a daemon starting next writes
        // its own only once it holds the lock.
        if let Some((_, running)) = &self.station {
            let _ = std::fs::remove_file(running);
        }
    }
}

/// Takes the station's locks. A station folder that cannot hold the lock
/// (read-only) is logged and only the data folder is locked. Once the
/// store is open, [`StationLock::note`] tells every other command which
/// data folder is in use.
///
/// # Errors
/// [`RunError::AlreadyRunning`] when another process holds either lock.
pub fn lock_station(station_dir: &Path, data_dir: &Path) -> Result<StationLock, RunError> {
    let station = match lock_file(&station_dir.join(crate::config::load::STATION_LOCK)) {
        Ok(f) => {
            // A note a killed daemon left is not this run's.
            let running = station_dir.join(crate::config::load::RUNNING_FILE);
            let _ = std::fs::remove_file(&running);
            Some((f, running))
        }
        Err(e @ RunError::AlreadyRunning { .. }) => return Err(e),
        Err(e) => {
            tracing::warn!(error = %e, "cannot lock the station folder; only the data folder is locked");
            None
        }
    };
    std::fs::create_dir_all(data_dir).map_err(|source| StoreError::Folder {
        path: data_dir.to_path_buf(),
        source,
    })?;
    let data = lock_file(&data_dir.join(LOCK_FILE))?;
    Ok(StationLock {
        _data: data,
        station,
    })
}

impl StationLock {
    /// Notes the data folder in use beside the station file
    /// ([`crate::config::load::RUNNING_FILE`]), written once its store exists, so
    /// a reader never takes a folder being set up for a missing database.
    pub fn note(&self, data_dir: &Path, control: Option<(&str, &str)>) {
        use std::io::Write;
        let Some((_, running)) = &self.station else {
            return;
        };
        let data = std::path::absolute(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
        // A path that cannot be written as one line of text is left out:
        // readers then know a daemon runs, not where.
        let shown = data
            .to_str()
            .filter(|p| !p.contains(['\n', '\r']))
            .unwrap_or_default();
        let mut note = format!("{}\n{shown}\n", std::process::id());
        if let Some((addr, instance)) = control {
            note.push_str(&format!("{addr}\n{instance}\n"));
        }
        let tmp = running.with_file_name(format!("{}.tmp", crate::config::load::RUNNING_FILE));
        let written = std::fs::File::create(&tmp)
            .and_then(|mut t| t.write_all(note.as_bytes()))
            .and_then(|()| std::fs::rename(&tmp, running));
        if let Err(e) = written {
            tracing::warn!(error = %e, file = %running.display(), "cannot note the data folder in use beside the station file");
        }
    }
}

/// Opens and locks one lock file, writing this process's id into it.
fn lock_file(path: &Path) -> Result<std::fs::File, RunError> {
    use std::io::{Read, Seek, Write};
    let folder = |source| StoreError::Folder {
        path: path.to_path_buf(),
        source,
    };
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(folder)?;
    // A reader looking whether a daemon runs holds a shared lock for an
    // instant: wait that out before refusing.
    let mut tries = 0;
    let locked = loop {
        match f.try_lock() {
            Err(std::fs::TryLockError::WouldBlock) if tries < 30 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(10));
            }
            r => break r,
        }
    };
    match locked {
        Ok(()) => {
            f.set_len(0).map_err(folder)?;
            f.rewind().map_err(folder)?;
            let _ = writeln!(f, "{}", std::process::id());
            Ok(f)
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut text = String::new();
            let _ = f.read_to_string(&mut text);
            Err(RunError::AlreadyRunning {
                path: path.to_path_buf(),
                pid: text.trim().parse().ok(),
            })
        }
        Err(std::fs::TryLockError::Error(e)) => Err(folder(e).into()),
    }
}
