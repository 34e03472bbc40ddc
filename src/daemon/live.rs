//! The live view the run loop publishes after each wake for the web face:
//! what is on air, what waits, the broadcasts and rules in force. Read-only
//! for everyone but the run loop.

use crate::config::diag::Diagnostic;
use crate::config::schedule::{Broadcast, Priority};
use crate::plan::{self, Rules, Trigger};
use crate::sound::output::ItemKind;
use crate::store::Store;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;

/// What the daemon is doing, for `/api/status`, the dashboard and
/// `/metrics`: republished after every wake (cheaply: what only a request
/// needs, like the next firings, is worked out by the request).
#[derive(Debug, Clone, Default)]
pub struct Live {
    /// When this run started.
    pub since: Option<DateTime<Utc>>,
    /// This run's identity (process id and start time), also in the store.
    pub instance: String,
    pub output: String,
    pub now_playing: Option<NowPlaying>,
    /// Firings waiting for the output (or to resume), most urgent first.
    pub queued: Vec<(String, DateTime<Utc>, Priority)>,
    /// The broadcasts on air now (the last good version of each file) and
    /// the station rules they are planned with.
    pub broadcasts: Arc<Vec<Broadcast>>,
    pub rules: Option<Rules>,
    /// Current errors of the station and schedule files.
    pub errors: Vec<Diagnostic>,
    /// The monitor's name and what it last measured.
    pub monitor: Option<(String, crate::sound::monitor::Hearing)>,
    /// The daemon's store handle: whether its records are held in memory
    /// (the file cannot be written) is read from it at each request.
    pub store: Option<Store>,
}

impl Live {
    /// The next `n` planned firings after `now` (skipped ones left out).
    pub fn next(&self, now: DateTime<Utc>, n: usize) -> Vec<(String, DateTime<Utc>, Priority)> {
        match &self.rules {
            Some(r) => plan::upcoming(&self.broadcasts, r, now, n)
                .into_iter()
                .map(|f| (f.broadcast, f.scheduled_at, f.priority))
                .collect(),
            None => Vec::new(),
        }
    }

    /// The names of the broadcasts on air.
    pub fn names(&self) -> Vec<String> {
        self.broadcasts.iter().map(|b| b.name.clone()).collect()
    }
}

/// The firing on air and how far it has got.
#[derive(Debug, Clone)]
pub struct NowPlaying {
    pub row: i64,
    pub broadcast: String,
    pub priority: Priority,
    pub trigger: Trigger,
    pub scheduled_at: DateTime<Utc>,
    /// (label, kind, length) of each item in play order.
    pub items: Vec<(String, ItemKind, Duration)>,
    /// The item on air and when it started.
    pub index: usize,
    pub item_started_at: Option<DateTime<Utc>>,
    /// Set while a higher priority is cutting it.
    pub cut_by: Option<String>,
    /// A relay's connection, read live (its state and counts move
    /// between wakes).
    pub relay: Option<crate::sound::relay::RelayFeed>,
}

impl NowPlaying {
    /// How far into the firing it is at `now`.
    pub fn position(&self, now: DateTime<Utc>) -> Duration {
        let before: Duration = self.items.iter().take(self.index).map(|i| i.2).sum();
        let this = self.items.get(self.index).map_or(Duration::ZERO, |i| i.2);
        let into = self
            .item_started_at
            .map(|t| (now - t).to_std().unwrap_or_default())
            .unwrap_or_default();
        before + into.min(this)
    }

    /// The whole firing's length.
    pub fn total(&self) -> Duration {
        self.items.iter().map(|i| i.2).sum()
    }
}
