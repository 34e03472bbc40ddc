//! The heartbeat thread: writes the heartbeat and `handled_until`, and
//! looks after the store while its records are held in memory (retry,
//! written-over and deleted database files). Never touches the run loop's
//! state; shares only an atomic with it.

use crate::clock::Clock;
use crate::store::{ts, OutageKind, Store, STORE_SUBJECT};
use chrono::{DateTime, Duration as TimeDelta, Utc};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The heartbeat: its own thread writes wall time and how far firings have
/// been handled every `every`, so the run loop itself wakes only for work.
pub(super) struct Heartbeat {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Heartbeat {
    pub(super) fn start(
        main: Store,
        clock: Arc<dyn Clock>,
        handled: Arc<AtomicI64>,
        every: Duration,
        alarm: Duration,
        damaged: Vec<(PathBuf, String)>,
    ) -> Heartbeat {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let mut beats = Beats {
            main,
            clock,
            handled,
            alarm,
            damaged,
            beat: None,
            beat_failing: false,
            said_held: None,
        };
        let thread = std::thread::Builder::new()
            .name("heartbeat".into())
            .spawn(move || {
                while !flag.load(Ordering::SeqCst) {
                    beats.once();
                    std::thread::park_timeout(every);
                }
            })
            .expect("spawn heartbeat thread");
        Heartbeat {
            stop,
            thread: Some(thread),
        }
    }

    pub(super) fn stop(mut self) {
        self.halt(true);
    }

    fn halt(&mut self, join: bool) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            if join {
                let _ = t.join();
            }
        }
    }
}

impl Drop for Heartbeat {
    /// The run future dropped without a clean stop (a test's simulated
    /// crash, or a panic): the heartbeat stops too, as it would in a crash.
    fn drop(&mut self) {
        self.halt(false);
    }
}

/// The heartbeat thread's state between beats.
struct Beats {
    main: Store,
    clock: Arc<dyn Clock>,
    /// How far firings are handled (unix ms), published by the run loop.
    handled: Arc<AtomicI64>,
    /// Records held in memory longer than this are said loudly.
    alarm: Duration,
    /// Damaged databases set aside: (kept file, fault subject).
    damaged: Vec<(PathBuf, String)>,
    /// The beat's own connection (reopened on a new file).
    beat: Option<Store>,
    beat_failing: bool,
    said_held: Option<std::time::Instant>,
}

impl Beats {
    /// One beat: the store looked after, then the heartbeat written.
    fn once(&mut self) {
        let now = self.clock.now();
        // The file written over under us: records held, and the retry
        // below sets it aside for a new one.
        self.main.check_written_over();
        self.retry_held(now);
        self.restore_deleted(now);
        self.close_taken_away(now);
        if self.main.held().is_none() {
            self.write_beat(now);
        }
    }

    /// Records held in memory (the file could not be written): tried on
    /// the file again, with back-off; said loudly when held long.
    fn retry_held(&mut self, now: DateTime<Utc>) {
        match self.main.retry(now, false) {
            Some(Ok(h)) => {
                tracing::warn!(rows = h.rows, since = %ts(h.since), "the database can be written again: the records held in memory are in it");
                if let Some(kept) = h.kept {
                    self.damaged.extend(set_aside_fault(&self.main, kept, now));
                }
                self.said_held = None;
                // A new file (the old one deleted): the beat's
                // handle moves onto it.
                self.beat = None;
            }
            Some(Err(e)) => {
                if let Some(h) = self.main.held() {
                    let long = self.clock.now() - h.since
                        >= TimeDelta::from_std(self.alarm).unwrap_or_default();
                    if long && self.said_held.is_none_or(|t| t.elapsed() >= self.alarm) {
                        self.said_held = Some(std::time::Instant::now());
                        tracing::error!(rows = h.rows, since = %ts(h.since), error = %e, "records not yet written to the database: they are held in memory and lost if the daemon stops before the database can be written (check the disk space, and whether another program holds the file)");
                    }
                }
            }
            None => {}
        }
    }

    /// The database file deleted under us: put back from the open handle
    /// before the readers conclude "no history", and both connections
    /// moved onto it.
    fn restore_deleted(&mut self, now: DateTime<Utc>) {
        if self.main.path().exists() {
            return;
        }
        // The beat's own connection to the deleted file closes first: a
        // connection left on it would remove the new file's log and index
        // by name as it closes.
        self.beat = None;
        match self.main.restore_if_deleted() {
            Ok(true) => {
                tracing::error!(db = %self.main.path().display(), "the database file was deleted while running: restored from the open database");
                let detail = "the database file was deleted while the daemon ran; it was made again from the daemon's open copy, nothing lost. Find who deletes files in the data folder".to_string();
                if let Err(e) =
                    self.main
                        .closed_outage(OutageKind::Store, STORE_SUBJECT, now, now, &detail)
                {
                    tracing::error!(error = %e, "cannot record the deleted database");
                }
                self.beat = None;
            }
            Ok(false) => {}
            Err(e) => {
                tracing::error!(error = %e, "the database file was deleted and cannot be restored")
            }
        }
    }

    /// The damaged file set aside at start taken away: its fault is
    /// repaired.
    fn close_taken_away(&mut self, now: DateTime<Utc>) {
        let main = &self.main;
        self.damaged.retain(|(kept, subject)| {
            let gone = !kept.exists() && main.close_outage(OutageKind::Store, subject, now).is_ok();
            if gone {
                tracing::info!(kept = %kept.display(), "the damaged database set aside was taken away");
            }
            !gone
        });
    }

    fn write_beat(&mut self, now: DateTime<Utc>) {
        if self.beat.is_none() {
            self.beat = self.main.heartbeat_handle().ok();
        }
        let handled =
            DateTime::from_timestamp_millis(self.handled.load(Ordering::SeqCst)).unwrap_or(now);
        let r = match &self.beat {
            Some(b) => b.beat(now, handled),
            None => self.main.beat(now, handled),
        };
        match r {
            Ok(()) => self.beat_failing = false,
            Err(e) => {
                // Said once, not every beat.
                if !self.beat_failing {
                    tracing::error!(error = %e, "cannot write the heartbeat");
                }
                self.beat_failing = true;
            }
        }
    }
}

/// Opens the `store` fault of a damaged database set aside as `kept`:
/// open until a person takes the file away. Returns what to watch.
pub(super) fn set_aside_fault(
    store: &Store,
    kept: PathBuf,
    now: DateTime<Utc>,
) -> Option<(PathBuf, String)> {
    let name = kept
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    tracing::error!(kept = %kept.display(), "the database was damaged: it is kept beside for inspection, and a new one is started");
    let detail = format!(
        "the database was damaged (not a database, or broken inside): kept as {name} for inspection, with the history before {}; a new one was started. Move or remove the kept file once inspected, and this fault closes",
        ts(now)
    );
    match store.open_outage(OutageKind::Store, &name, now, &detail) {
        Ok(_) => Some((kept, name)),
        Err(e) => {
            tracing::error!(error = %e, "cannot record the damaged database");
            None
        }
    }
}
