//! The single output, simulated: given firings in order and their expected
//! lengths, when each would start, wait, be cut or be missed. Pure: the
//! daemon's queue follows the same rules on real time, `check` and `plan`
//! use this to warn ahead.

use super::Firing;
use chrono::{DateTime, Duration as TimeDelta, Utc};
use std::time::Duration;

/// How one firing fares on the single output, given everything before it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// When it would start; `None` if skipped or missed.
    pub start: Option<DateTime<Utc>>,
    /// It had to wait behind this firing.
    pub waited_for: Option<Other>,
    /// It cannot start within its catch-up window because of this firing.
    pub missed_because: Option<Other>,
    /// A higher-priority firing cuts it off.
    pub interrupted_by: Option<Other>,
    /// It cuts off this lower-priority firing.
    pub interrupts: Option<Other>,
}

/// The other firing an [`Outcome`] names: its place in the sequence given
/// to the simulation (0 = the first firing) and its broadcast, so a caller
/// that has let that firing go can still say which it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Other {
    pub index: usize,
    pub broadcast: String,
}

impl Outcome {
    /// Whether this firing collides with another one in any way.
    pub fn collides(&self) -> bool {
        self.waited_for.is_some()
            || self.missed_because.is_some()
            || self.interrupted_by.is_some()
            || self.interrupts.is_some()
    }
}

/// Plays the firings through one output, as the daemon will: free output →
/// start; higher priority → interrupt the current one; otherwise wait and be
/// missed once `scheduled + catch_up` has passed. `durations[i]` is the
/// expected length of `firings[i]` (`None` = unknown, counted as zero).
pub fn simulate(firings: &[Firing], durations: &[Option<Duration>]) -> Vec<Outcome> {
    let mut sim = Simulation::default();
    let mut out = Vec::with_capacity(firings.len());
    for (i, f) in firings.iter().enumerate() {
        sim.push(f.clone(), durations.get(i).copied().flatten());
        out.extend(std::iter::from_fn(|| sim.pop()).map(|p| p.outcome));
    }
    sim.finish();
    out.extend(std::iter::from_fn(|| sim.pop()).map(|p| p.outcome));
    out
}

/// A firing whose outcome is settled, as [`Simulation::pop`] hands it out.
#[derive(Debug, Clone, PartialEq)]
pub struct Settled {
    pub firing: Firing,
    pub duration: Option<Duration>,
    pub outcome: Outcome,
}

/// [`simulate`] fed one firing at a time, in time order, handing each one
/// back as soon as nothing later can change its outcome: what it holds is
/// the firing on the output and those waiting for it (and the settled ones
/// queued behind them), never the whole plan. `plan` streams a year through
/// it.
#[derive(Debug, Default)]
pub struct Simulation {
    /// Index of `held[0]` in the sequence pushed.
    first: usize,
    held: std::collections::VecDeque<Settled>,
    /// The firing on the output and when it ends.
    current: Option<(usize, DateTime<Utc>)>,
    waiting: Vec<usize>,
}

impl Simulation {
    /// Adds the next firing (not earlier than the one before) and its
    /// expected length (`None` = unknown, counted as zero).
    pub fn push(&mut self, firing: Firing, duration: Option<Duration>) {
        let i = self.first + self.held.len();
        let (skip, s, priority) = (firing.skip, firing.scheduled_at, firing.priority);
        self.held.push_back(Settled {
            firing,
            duration,
            outcome: Outcome::default(),
        });
        if skip.is_some() {
            return;
        }
        self.advance(s);
        match self.current {
            None => self.start(i, s),
            Some((cur, _)) if priority > self.get(cur).firing.priority => {
                let (by, cut) = (self.other(i), self.other(cur));
                self.get_mut(cur).outcome.interrupted_by = Some(by);
                self.get_mut(i).outcome.interrupts = Some(cut);
                self.start(i, s);
            }
            Some(_) => self.waiting.push(i),
        }
    }

    /// No more firings: the output runs until everything waiting has
    /// started or been missed.
    pub fn finish(&mut self) {
        self.advance(DateTime::<Utc>::MAX_UTC);
    }

    /// The oldest firing, once its outcome is settled.
    pub fn pop(&mut self) -> Option<Settled> {
        let settled = !self.held.is_empty()
            && self.current.is_none_or(|(c, _)| c != self.first)
            && !self.waiting.contains(&self.first);
        if !settled {
            return None;
        }
        self.first += 1;
        self.held.pop_front()
    }

    fn get(&self, i: usize) -> &Settled {
        &self.held[i - self.first]
    }

    fn get_mut(&mut self, i: usize) -> &mut Settled {
        &mut self.held[i - self.first]
    }

    fn other(&self, i: usize) -> Other {
        Other {
            index: i,
            broadcast: self.get(i).firing.broadcast.clone(),
        }
    }

    fn len(&self, i: usize) -> TimeDelta {
        TimeDelta::from_std(self.get(i).duration.unwrap_or_default()).unwrap_or_default()
    }

    fn deadline(&self, i: usize) -> DateTime<Utc> {
        let f = &self.get(i).firing;
        f.scheduled_at + TimeDelta::from_std(f.catch_up).unwrap_or_default()
    }

    fn start(&mut self, i: usize, at: DateTime<Utc>) {
        self.get_mut(i).outcome.start = Some(at);
        self.current = Some((i, at + self.len(i)));
    }

    /// Frees the output up to `now`, starting waiting firings as it goes.
    fn advance(&mut self, now: DateTime<Utc>) {
        while let Some((cur, end)) = self.current {
            if end > now {
                break;
            }
            self.current = None;
            // Drop the ones whose window has closed, then take the most urgent.
            let waiting = std::mem::take(&mut self.waiting);
            for j in waiting {
                if self.deadline(j) < end {
                    let by = self.other(cur);
                    self.get_mut(j).outcome.missed_because = Some(by);
                } else {
                    self.waiting.push(j);
                }
            }
            if let Some(pos) = (0..self.waiting.len()).max_by(|&a, &b| {
                let (fa, fb) = (
                    &self.get(self.waiting[a]).firing,
                    &self.get(self.waiting[b]).firing,
                );
                fa.priority
                    .cmp(&fb.priority)
                    .then(fb.scheduled_at.cmp(&fa.scheduled_at))
            }) {
                let j = self.waiting.remove(pos);
                let by = self.other(cur);
                self.get_mut(j).outcome.waited_for = Some(by);
                self.start(j, end);
            }
        }
    }
}
