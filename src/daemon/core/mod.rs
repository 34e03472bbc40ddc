//! The run loop's state and what every part of it shares: the one
//! [`Daemon`] the event loop owns, and the live view it publishes. The
//! flows are in the files below, one concern each; only the event loop
//! (`daemon/mod.rs`) calls in.

mod air;
mod faults;
mod hearing;
mod notices;
mod off_air;
mod player;
mod queue;
mod relays;
mod requests;
mod start;
mod station;
mod stop;
mod tick;

use crate::clock::Clock;
use crate::config::diag::Diagnostic;
use crate::config::schedule::Broadcast;
use crate::config::station::StationConfig;
use crate::daemon::live::*;
use crate::daemon::settings::*;
use crate::plan::{self, Firing, Rules};
use crate::sound::output::PlayItem;
use crate::store::Store;
use chrono::{DateTime, Duration as TimeDelta, Utc};
pub(in crate::daemon) use queue::Pending;
pub(in crate::daemon) use start::{Events, Started};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// One schedule file's broadcasts as last loaded without errors, and its
/// current errors.
#[derive(Debug, Default, Clone)]
pub(in crate::daemon) struct FileState {
    pub(in crate::daemon) good: Vec<Broadcast>,
    pub(in crate::daemon) errors: Vec<Diagnostic>,
    /// Whether the store's good version was already looked for.
    pub(in crate::daemon) restored: bool,
}

/// The firing on air.
pub(in crate::daemon) struct Active {
    pub(in crate::daemon) job: u64,
    pub(in crate::daemon) row: i64,
    pub(in crate::daemon) pending: Pending,
    pub(in crate::daemon) items: Vec<PlayItem>,
    pub(in crate::daemon) cancel: Arc<AtomicBool>,
    /// Set when a higher-priority firing cut it.
    pub(in crate::daemon) cut_by: Option<String>,
    /// Set when a person stopped it: it does not resume.
    pub(in crate::daemon) operator_stop: bool,
    pub(in crate::daemon) first_sample_seen: bool,
    /// The item on air and when it started.
    pub(in crate::daemon) index: usize,
    pub(in crate::daemon) item_started_at: Option<DateTime<Utc>>,
}

pub(in crate::daemon) struct Daemon {
    pub(in crate::daemon) clock: Arc<dyn Clock>,
    pub(in crate::daemon) store: Store,
    pub(in crate::daemon) station_dir: PathBuf,
    /// The data folder (the store, rendered notices).
    pub(in crate::daemon) data_dir: PathBuf,
    pub(in crate::daemon) config: StationConfig,
    pub(in crate::daemon) rules: Rules,
    pub(in crate::daemon) files: BTreeMap<String, FileState>,
    pub(in crate::daemon) station_errors: Vec<Diagnostic>,
    pub(in crate::daemon) broadcasts: Arc<Vec<Broadcast>>,
    /// The PC clock at the last wake.
    clock_watch: tick::ClockWatch,
    /// The player thread: jobs in flight and their deadline.
    player: player::Player,
    pub(in crate::daemon) current: Option<Active>,
    /// Firings waiting for the output, and how far firings are handled.
    queue: queue::Queue,
    pub(in crate::daemon) heartbeat_every: Duration,
    /// Output and content faults open, and the device's retry.
    faults: faults::Faults,
    /// Files warned about as missing before air time.
    warnings: faults::Warnings,
    /// Shutting down: nothing new starts, a cut play is logged `stopped`.
    pub(in crate::daemon) stopping: bool,
    /// What the HTTP face shows.
    pub(in crate::daemon) live: watch::Sender<Live>,
    pub(in crate::daemon) since: DateTime<Utc>,
    /// Proof of air.
    hearing: hearing::Hearing,
    /// The IP terminals' prober.
    terminals: hearing::Terminals,
    /// Whether a station has been applied (a broken station file on
    /// reload keeps the settings already running).
    pub(in crate::daemon) applied: bool,
    /// Open `config` outages by file (as shown): files with errors.
    pub(in crate::daemon) config_open: BTreeMap<String, i64>,
    /// Broadcasts of files with errors that have no good version on air,
    /// with their file: each of their firings is logged missed.
    pub(in crate::daemon) off_air: Vec<(Broadcast, String)>,
    /// Firings of off-air broadcasts that came due and whose catch-up
    /// window is still open (deadline fixed when they came due): logged
    /// missed when it closes, played if their file is fixed in time. Like
    /// `waiting`, they hold the persisted `handled_until` back, so a kill
    /// meanwhile decides them again at the restart.
    pub(in crate::daemon) off_pending: Vec<OffPending>,
    /// Relays: their events' channel and the `source` outages open.
    relays: relays::Relays,
}

/// A firing of an off-air broadcast, waiting for its window to close.
#[derive(Debug, Clone)]
pub(in crate::daemon) struct OffPending {
    pub(in crate::daemon) firing: Firing,
    pub(in crate::daemon) file: String,
    pub(in crate::daemon) deadline: DateTime<Utc>,
}

impl Daemon {
    /// Publishes how far firings are handled for the heartbeat to persist:
    /// never past a firing only queued in memory (it has no row yet), so a
    /// kill while it waits leaves it to be decided again at the restart.
    pub(in crate::daemon) fn publish_handled(&self) {
        self.queue
            .publish_handled(self.off_pending.iter().map(|p| p.firing.scheduled_at));
    }

    /// What the heartbeat thread persists as `handled_until`.
    pub(in crate::daemon) fn handled_shared(&self) -> Arc<AtomicI64> {
        self.queue.shared()
    }

    /// Every current error of the station and schedule files.
    pub(in crate::daemon) fn errors(&self) -> Vec<Diagnostic> {
        let mut v = self.station_errors.clone();
        v.extend(self.files.values().flat_map(|f| f.errors.iter().cloned()));
        v
    }

    /// Whether a firing is already waiting or on air.
    pub(in crate::daemon) fn queued(&self, f: &Firing) -> bool {
        self.queue.contains(&f.broadcast, f.scheduled_at)
            || self.current.as_ref().is_some_and(|a| {
                a.pending.firing.broadcast == f.broadcast
                    && a.pending.firing.scheduled_at == f.scheduled_at
            })
    }

    /// This run's identity: process id and start time.
    pub(in crate::daemon) fn instance(&self) -> String {
        format!("{}-{}", std::process::id(), self.since.timestamp_millis())
    }

    /// Tells the HTTP face what is on air and what comes next.
    pub(in crate::daemon) fn publish_live(&self) {
        let live = Live {
            since: Some(self.since),
            instance: self.instance(),
            output: self.player.name().to_string(),
            now_playing: self.current.as_ref().map(|a| NowPlaying {
                row: a.row,
                broadcast: a.pending.firing.broadcast.clone(),
                priority: a.pending.firing.priority,
                trigger: a.pending.trigger,
                scheduled_at: a.pending.firing.scheduled_at,
                items: a
                    .items
                    .iter()
                    .map(|i| (i.label.clone(), i.kind, i.duration))
                    .collect(),
                index: a.index,
                item_started_at: a.item_started_at,
                cut_by: a.cut_by.clone(),
                relay: relays::feed_of(a).cloned(),
            }),
            queued: self
                .queue
                .by_urgency()
                .iter()
                .map(|p| {
                    (
                        p.firing.broadcast.clone(),
                        p.firing.scheduled_at,
                        p.firing.priority,
                    )
                })
                .collect(),
            broadcasts: self.broadcasts.clone(),
            rules: Some(self.rules.clone()),
            monitor: self.hearing.shown(),
            errors: self.errors(),
            store: Some(self.store.clone()),
        };
        self.live.send_replace(live);
    }

    /// When the loop must look again: the next firing or the earliest
    /// waiting deadline (the clock bounds the sleep).
    pub(in crate::daemon) fn next_wake(&self) -> DateTime<Utc> {
        let now = self.clock.now();
        let mut wake = now + TimeDelta::days(2);
        if let Some(n) = plan::next_after(&self.broadcasts, &self.rules, now) {
            wake = wake.min(n);
        }
        // Off-air firings wait from their instant until their window
        // closes.
        if !self.off_air.is_empty() {
            let off: Vec<Broadcast> = self.off_air.iter().map(|(b, _)| b.clone()).collect();
            if let Some(n) = plan::next_after(&off, &self.rules, now) {
                wake = wake.min(n);
            }
        }
        for p in &self.off_pending {
            wake = wake.min(p.deadline + TimeDelta::milliseconds(1));
        }
        if let Some(d) = self.queue.first_deadline() {
            wake = wake.min(d + TimeDelta::milliseconds(1));
        }
        if let (Some(at), false) = (self.faults.next_retry(), self.player.checking()) {
            wake = wake.min(at);
        }
        if let Some(t) = self.clock_watch.sane_after() {
            wake = wake.min(t);
        }
        if let Some(t) = self.silence_deadline() {
            wake = wake.min(t);
        }
        if let Some(at) = self.player.deadline() {
            let left = at.saturating_sub(self.clock.monotonic());
            wake = wake.min(now + TimeDelta::from_std(left).unwrap_or_default());
        }
        // Look an hour ahead of the next firing for files not uploaded yet.
        if let Some(n) = plan::next_after(&self.broadcasts, &self.rules, now + WARN_AHEAD) {
            wake = wake.min(n - WARN_AHEAD);
        }
        wake.max(now)
    }
}
