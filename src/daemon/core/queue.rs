//! The queue: firings waiting for the one output (or to resume after a
//! higher priority cut them), most urgent first, and how far firings are
//! handled (what the heartbeat persists). It decides nothing about air;
//! the tick and the dispatcher ask it.

use crate::daemon::source::Programme;
use crate::plan::{Firing, Trigger};
use chrono::{DateTime, Duration as TimeDelta, Utc};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// A firing waiting for the output (or to resume after an interruption).
#[derive(Debug, Clone)]
pub(in crate::daemon) struct Pending {
    pub(in crate::daemon) firing: Firing,
    pub(in crate::daemon) trigger: Trigger,
    /// Row and item index to resume from, after an interruption.
    pub(in crate::daemon) resume: Option<(i64, usize)>,
    /// Who interrupted it, for the final log line.
    pub(in crate::daemon) interrupted_by: Option<String>,
    /// Where its sound comes from.
    pub(in crate::daemon) programme: Arc<dyn Programme>,
}

impl Pending {
    /// A firing entering the queue for the first time.
    pub(in crate::daemon) fn new(
        firing: Firing,
        trigger: Trigger,
        programme: Arc<dyn Programme>,
    ) -> Pending {
        Pending {
            firing,
            trigger,
            resume: None,
            interrupted_by: None,
            programme,
        }
    }

    /// The end of its catch-up window.
    pub(in crate::daemon) fn deadline(&self) -> DateTime<Utc> {
        self.firing.scheduled_at + TimeDelta::from_std(self.firing.catch_up).unwrap_or_default()
    }
}

pub(super) struct Queue {
    waiting: Vec<Pending>,
    handled_until: DateTime<Utc>,
    /// What the heartbeat thread persists as `handled_until` (unix ms).
    handled_shared: Arc<AtomicI64>,
}

impl Queue {
    pub(super) fn new(now: DateTime<Utc>) -> Queue {
        Queue {
            waiting: Vec::new(),
            handled_until: now,
            handled_shared: Arc::new(AtomicI64::new(now.timestamp_millis())),
        }
    }

    /// The value the heartbeat thread persists.
    pub(super) fn shared(&self) -> Arc<AtomicI64> {
        self.handled_shared.clone()
    }

    /// What was last published for the heartbeat.
    pub(super) fn persisted(&self) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp_millis(self.handled_shared.load(Ordering::SeqCst))
    }

    pub(super) fn handled_until(&self) -> DateTime<Utc> {
        self.handled_until
    }

    /// Firings up to `now` are decided.
    pub(super) fn handled_to(&mut self, now: DateTime<Utc>) {
        self.handled_until = now;
    }

    /// Publishes how far firings are handled for the heartbeat to persist:
    /// never past a firing only queued in memory (it has no row yet), nor
    /// past `held` (firings held elsewhere), so a kill while they wait
    /// leaves them to be decided again at the restart.
    pub(super) fn publish_handled(&self, held: impl Iterator<Item = DateTime<Utc>>) {
        let waiting = self
            .waiting
            .iter()
            .filter(|p| p.resume.is_none())
            .map(|p| p.firing.scheduled_at);
        let mut h = self.handled_until;
        for at in waiting.chain(held) {
            h = h.min(at - TimeDelta::milliseconds(1));
        }
        self.handled_shared
            .store(h.timestamp_millis(), Ordering::SeqCst);
    }

    /// Whether this firing (name and instant) is waiting.
    pub(super) fn contains(&self, broadcast: &str, at: DateTime<Utc>) -> bool {
        self.waiting
            .iter()
            .any(|p| p.firing.broadcast == broadcast && p.firing.scheduled_at == at)
    }

    pub(super) fn push(&mut self, p: Pending) {
        self.waiting.push(p);
    }

    pub(super) fn extend(&mut self, ps: Vec<Pending>) {
        self.waiting.extend(ps);
    }

    /// Takes out the firings whose catch-up window closed before `now`.
    pub(super) fn expired(&mut self, now: DateTime<Utc>) -> Vec<Pending> {
        let (gone, keep) = std::mem::take(&mut self.waiting)
            .into_iter()
            .partition(|p| p.deadline() < now);
        self.waiting = keep;
        gone
    }

    /// Takes out everything (at shutdown).
    pub(super) fn drain(&mut self) -> Vec<Pending> {
        std::mem::take(&mut self.waiting)
    }

    fn most_urgent_index(&self) -> Option<usize> {
        (0..self.waiting.len()).max_by(|&a, &b| {
            let (x, y) = (&self.waiting[a].firing, &self.waiting[b].firing);
            x.priority
                .cmp(&y.priority)
                .then(y.scheduled_at.cmp(&x.scheduled_at))
        })
    }

    /// The most urgent: highest priority, then earliest.
    pub(super) fn most_urgent(&self) -> Option<&Pending> {
        self.most_urgent_index().map(|i| &self.waiting[i])
    }

    pub(super) fn take_most_urgent(&mut self) -> Option<Pending> {
        self.most_urgent_index().map(|i| self.waiting.remove(i))
    }

    /// Everything waiting, most urgent first.
    pub(super) fn by_urgency(&self) -> Vec<&Pending> {
        let mut v: Vec<&Pending> = self.waiting.iter().collect();
        v.sort_by(|a, b| {
            b.firing
                .priority
                .cmp(&a.firing.priority)
                .then(a.firing.scheduled_at.cmp(&b.firing.scheduled_at))
        });
        v
    }

    /// The earliest end of a catch-up window.
    pub(super) fn first_deadline(&self) -> Option<DateTime<Utc>> {
        self.waiting.iter().map(Pending::deadline).min()
    }
}
