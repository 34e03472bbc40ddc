//! Watching the station file and the schedules folder: which file events
//! mean a reload, debounced, sent as a control request. Never reloads itself.

use super::control::Control;
use crate::config::station::StationConfig;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// How long the watched files must stay quiet before a reload: an editor
/// that saves in several writes is read once, after the last.
pub const RELOAD_QUIET: Duration = Duration::from_millis(500);

/// The folders a change event is judged against (canonical paths, as the
/// watcher reports them).
#[derive(Debug, Clone)]
pub struct WatchedPaths {
    pub station_file: PathBuf,
    pub schedules: PathBuf,
}

/// Whether a file-system event asks for a reload: a write, create, rename
/// or delete of the station file, of a `*.toml` in the schedules folder,
/// or of the schedules folder itself. Reading a file (open, close after
/// reading, access time) never does: the reload itself reads every file,
/// and reacting to that was a reload storm. Nothing else does, so the
/// daemon's own logs and database never wake it, wherever the station
/// file puts its data folder.
pub fn reload_wanted(kind: &notify::EventKind, path: &Path, w: &WatchedPaths) -> bool {
    use notify::event::{AccessKind, AccessMode, EventKind, ModifyKind};
    let writes = match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        EventKind::Modify(ModifyKind::Metadata(_)) => false,
        EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_) => true,
        EventKind::Any | EventKind::Other => true,
    };
    if !writes {
        return false;
    }
    // The files that matter are matched, and nothing else: a data folder
    // that is the station folder itself (`data = "."`) or the schedules
    // folder must not switch reloading off, and the daemon's own files
    // there (database, logs, lock) are never a `*.toml`.
    let is_toml = path
        .extension()
        .is_some_and(|x| x.eq_ignore_ascii_case("toml"));
    path == w.station_file
        || path == w.schedules
        || (is_toml && path.parent() == Some(w.schedules.as_path()))
}

/// Watches the schedules folder and the station file; writes to them,
/// once quiet for [`RELOAD_QUIET`], ask the run loop to reload.
pub(super) fn watch_files(
    station_dir: &Path,
    config: &StationConfig,
    tx: mpsc::Sender<Control>,
) -> Option<Arc<std::sync::Mutex<notify::RecommendedWatcher>>> {
    use notify::{RecursiveMode, Watcher};
    let canon = |p: PathBuf| std::fs::canonicalize(&p).unwrap_or(p);
    let station = canon(station_dir.to_path_buf());
    let paths = WatchedPaths {
        station_file: station.join(crate::config::station::STATION_FILE),
        // As the watcher reports it, even while the folder is missing.
        schedules: canon(station.join(&config.schedules_dir)),
    };
    let (ev_tx, mut ev_rx) = mpsc::unbounded_channel::<()>();
    let watched = paths.clone();
    let handler = move |res: notify::Result<notify::Event>| {
        if let Ok(ev) = res {
            if ev
                .paths
                .iter()
                .any(|p| reload_wanted(&ev.kind, p, &watched))
            {
                let _ = ev_tx.send(());
            }
        }
    };
    let mut watcher = match notify::recommended_watcher(handler) {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch files; edits apply after a restart");
            return None;
        }
    };
    if let Err(e) = watcher.watch(&paths.schedules, RecursiveMode::NonRecursive) {
        tracing::warn!(error = %e, dir = %paths.schedules.display(), "cannot watch the schedules folder");
    }
    // The station folder's own watch also sees the schedules folder go and
    // come back.
    if let Err(e) = watcher.watch(&station, RecursiveMode::NonRecursive) {
        tracing::warn!(error = %e, "cannot watch the station folder");
    }
    let watcher = Arc::new(std::sync::Mutex::new(watcher));
    let rewatch = watcher.clone();
    tokio::spawn(async move {
        while ev_rx.recv().await.is_some() {
            // Wait until the files have been quiet for a while.
            while let Ok(Some(())) = tokio::time::timeout(RELOAD_QUIET, ev_rx.recv()).await {}
            // A schedules folder removed and made again is a new folder:
            // watch it anew (the old watch died with the old folder).
            if paths.schedules.is_dir() {
                let mut w = rewatch.lock().unwrap_or_else(|p| p.into_inner());
                let _ = w.unwatch(&paths.schedules);
                if let Err(e) = w.watch(&paths.schedules, RecursiveMode::NonRecursive) {
                    tracing::warn!(error = %e, dir = %paths.schedules.display(), "cannot watch the schedules folder");
                }
            }
            if tx.send(Control::Reload).await.is_err() {
                return;
            }
        }
    });
    Some(watcher)
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{
        AccessKind, AccessMode, CreateKind, DataChange, EventKind, MetadataKind, ModifyKind,
        RemoveKind, RenameMode,
    };

    #[test]
    fn only_writes_to_the_files_that_matter_reload() {
        let w = WatchedPaths {
            station_file: "/st/cunxiang.toml".into(),
            schedules: "/st/schedules".into(),
        };
        let write = EventKind::Modify(ModifyKind::Data(DataChange::Content));
        let cases: &[(EventKind, &str, bool)] = &[
            // Reading never reloads (the reload itself reads every file).
            (
                EventKind::Access(AccessKind::Open(AccessMode::Any)),
                "/st/schedules/a.toml",
                false,
            ),
            (
                EventKind::Access(AccessKind::Close(AccessMode::Read)),
                "/st/cunxiang.toml",
                false,
            ),
            (
                EventKind::Access(AccessKind::Read),
                "/st/schedules/a.toml",
                false,
            ),
            (
                EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime)),
                "/st/schedules/a.toml",
                false,
            ),
            // Writes, creates, renames and deletes of schedules and the station file do.
            (
                EventKind::Access(AccessKind::Close(AccessMode::Write)),
                "/st/schedules/a.toml",
                true,
            ),
            (write, "/st/schedules/a.toml", true),
            (write, "/st/schedules/B.TOML", true),
            (
                EventKind::Create(CreateKind::File),
                "/st/schedules/new.toml",
                true,
            ),
            (
                EventKind::Modify(ModifyKind::Name(RenameMode::To)),
                "/st/schedules/a.toml",
                true,
            ),
            (
                EventKind::Remove(RemoveKind::File),
                "/st/schedules/a.toml",
                true,
            ),
            (write, "/st/cunxiang.toml", true),
            (EventKind::Remove(RemoveKind::Folder), "/st/schedules", true),
            // Everything else does not: other files, editor temp files,
            // the good copy, and anything in the data folder.
            (write, "/st/schedules/a.toml.swp", false),
            (write, "/st/schedules/sub/a.toml", false),
            (write, "/st/.cunxiang.toml.good", false),
            (write, "/st/other.toml", false),
            (write, "/st/audio/一封信.mp3", false),
            (EventKind::Create(CreateKind::Folder), "/st/mydata", false),
            (write, "/st/mydata/logs/cunxiang.log.2026-12-01", false),
            (write, "/st/mydata/x.toml", false),
        ];
        for (kind, path, want) in cases {
            assert_eq!(
                reload_wanted(kind, Path::new(path), &w),
                *want,
                "{kind:?} on {path}"
            );
        }
        // A data folder that is the station folder or the schedules
        // folder: the schedules and the station file still reload, the
        // daemon's own files (database, logs, lock) never do.
        for data in ["/st", "/st/schedules"] {
            let cases: &[(&EventKind, &str, bool)] = &[
                (&write, "/st/schedules/a.toml", true),
                (&write, "/st/cunxiang.toml", true),
                (&write, &format!("{data}/cunxiang.db-wal"), false),
                (&write, &format!("{data}/cunxiang.lock"), false),
                (
                    &write,
                    &format!("{data}/logs/cunxiang.log.2026-12-01"),
                    false,
                ),
                (
                    &EventKind::Create(CreateKind::Folder),
                    &format!("{data}/logs"),
                    false,
                ),
            ];
            for (kind, path, want) in cases {
                assert_eq!(
                    reload_wanted(kind, Path::new(path), &w),
                    *want,
                    "data {data}: {kind:?} on {path}"
                );
            }
        }
    }
}
