//! One wake of the run loop: the window since the last one (clock steps,
//! freezes), what came due, what waited too long, and who goes on air
//! next (priority, cutting a lower one). What is due is the planner's
//! decision (`plan::due`); this file only acts on it.

use super::{Daemon, Pending};
use crate::config::schedule::Broadcast;
use crate::daemon::settings::*;
use crate::plan::{self, reasons, Cause, Decision, Trigger};
use crate::store::{ts, OutageKind, Status};
use chrono::{DateTime, Duration as TimeDelta, Utc};
use std::sync::atomic::Ordering;
use std::time::Duration;

/// The PC clock as the run loop last saw it: wall and monotonic time at the
/// last wake (a step between them is a clock jump), and, after the clock
/// was set back, the wall time it must pass again before firings count.
pub(super) struct ClockWatch {
    prev_wall: DateTime<Utc>,
    prev_mono: Duration,
    /// A backward clock step is an open `clock` outage until wall time
    /// passes this again.
    sane_after: Option<DateTime<Utc>>,
}

impl ClockWatch {
    pub(super) fn new(now: DateTime<Utc>, mono: Duration) -> ClockWatch {
        ClockWatch {
            prev_wall: now,
            prev_mono: mono,
            sane_after: None,
        }
    }

    /// The wall time the clock must pass again, while it is known wrong.
    pub(super) fn sane_after(&self) -> Option<DateTime<Utc>> {
        self.sane_after
    }

    /// The clock reads earlier than `t` (the last heartbeat): wrong until
    /// it passes `t` again.
    pub(super) fn behind_until(&mut self, t: DateTime<Utc>) {
        self.sane_after = Some(t);
    }

    /// The window of this wake (see [`plan::window`]).
    fn window(
        &self,
        handled_until: DateTime<Utc>,
        now: DateTime<Utc>,
        mono: Duration,
    ) -> plan::Window {
        plan::window(handled_until, self.prev_wall, self.prev_mono, now, mono)
    }

    /// This wake is seen.
    fn moved_to(&mut self, now: DateTime<Utc>, mono: Duration) {
        self.prev_wall = now;
        self.prev_mono = mono;
    }

    /// The clock known wrong is right again at `now`: returns the
    /// high-water mark it passed.
    fn sane_again(&mut self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.sane_after.take_if(|t| now >= *t)
    }

    /// The clock was set back: wrong until it passes again the latest
    /// instant it showed.
    fn set_back(&mut self) {
        let high = self
            .prev_wall
            .max(self.sane_after.unwrap_or(self.prev_wall));
        self.sane_after = Some(high);
    }
}

impl Daemon {
    /// The run loop was frozen from `from` for `late`: the player was
    /// frozen too, so its deadline moves on by the freeze (not a stuck
    /// device), and the span is downtime. Decided before the event that
    /// woke the loop.
    pub(in crate::daemon) async fn thawed(
        &mut self,
        from: DateTime<Utc>,
        late: Duration,
    ) -> Result<(), RunError> {
        self.player.frozen(late);
        self.tick(Some((from, late))).await
    }

    /// One wake: work out what is due, expire waiting firings, dispatch,
    /// heartbeat. `frozen`: the run loop was frozen from this wall time
    /// for this long, and the span is downtime.
    pub(in crate::daemon) async fn tick(
        &mut self,
        frozen: Option<(DateTime<Utc>, Duration)>,
    ) -> Result<(), RunError> {
        let now = self.clock.now();
        let mono = self.clock.monotonic();
        let mut w = self
            .clock_watch
            .window(self.queue.handled_until(), now, mono);
        let mut outage = self.clock_check(&mut w, now).await?;
        if let Some((from, gone)) = frozen {
            outage = Some(self.frozen_outage(&mut w, from, gone, now).await?);
        }
        self.clock_watch.moved_to(now, mono);
        if now > w.since {
            let lost = match w.cause {
                Cause::OnTime => None,
                Cause::Downtime => Some((w.since, reasons::NOT_RUNNING, outage)),
                Cause::ClockJump => Some((w.since, reasons::CLOCK_JUMP, outage)),
            };
            self.off_air_due(w.since, now, lost).await?;
            self.handle_due(w.since, now, w.cause, outage).await?;
        }
        if let Some(at) = self.faults.next_retry() {
            if now >= at && !self.player.checking() {
                self.send_check();
            }
        }
        if self.player.deadline().is_some_and(|at| mono >= at) {
            self.player_stuck().await?;
        }
        self.warn_missing_soon(now).await?;
        self.check_monitor(now).await?;
        self.queue.handled_to(now);
        self.publish_handled();
        let lost = match (w.cause, outage) {
            (Cause::Downtime, Some(o)) => Some((reasons::NOT_RUNNING, o)),
            (Cause::ClockJump, Some(o)) => Some((reasons::CLOCK_JUMP, o)),
            _ => None,
        };
        self.expire_linked(now, lost).await?;
        self.dispatch().await?;
        Ok(())
    }

    /// The wall clock against the monotonic one since the last wake: a
    /// large step opens (backwards) or records (forwards) a `clock` fault;
    /// a clock that was behind and is right again narrows the window.
    /// Returns the outage missed firings count against.
    async fn clock_check(
        &mut self,
        w: &mut plan::Window,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>, RunError> {
        let mut outage = None;
        if w.step != TimeDelta::zero() {
            tracing::warn!(step_s = w.step.num_seconds(), "wall clock stepped");
        }
        if let Some(t) = self.clock_watch.sane_again(now) {
            // The clock was behind and is right again: firings up to the
            // high-water mark were handled before; those after it were
            // missed while the clock was wrong, against the clock outage.
            w.since = w.since.max(t);
            w.cause = Cause::ClockJump;
            outage = self
                .store
                .call(move |s| s.close_outage(OutageKind::Clock, CLOCK_SUBJECT, now))
                .await?;
            tracing::info!("PC clock sane again");
        } else if w.step > CLOCK_FAULT_STEP {
            let from = now - w.step;
            let detail = format!(
                "clock jumped forward by {}s, from {} to {}",
                w.step.num_seconds(),
                ts(from),
                ts(now)
            );
            outage = Some(
                self.store
                    .call(move |s| {
                        s.closed_outage(OutageKind::Clock, CLOCK_SUBJECT, from, now, &detail)
                    })
                    .await?,
            );
        } else if w.step < -CLOCK_FAULT_STEP {
            let detail = format!(
                "clock set back by {}s, from {} to {}",
                -w.step.num_seconds(),
                ts(self.clock_watch.prev_wall),
                ts(now)
            );
            tracing::error!(%detail, "PC clock set back");
            self.store
                .call(move |s| s.open_outage(OutageKind::Clock, CLOCK_SUBJECT, now, &detail))
                .await?;
            self.clock_watch.set_back();
        }
        Ok(outage)
    }

    /// The run loop was frozen: downtime like a power cut (the latest
    /// firing of each broadcast may still catch up; the rest are missed
    /// against this outage).
    async fn frozen_outage(
        &mut self,
        w: &mut plan::Window,
        from: DateTime<Utc>,
        gone: Duration,
        now: DateTime<Utc>,
    ) -> Result<i64, RunError> {
        // The run loop was frozen: downtime like a power cut (the
        // latest firing of each broadcast may still catch up; the
        // rest are missed against this outage).
        let detail = format!(
            "cunxiang did not run for {} s (the process was stopped or frozen)",
            gone.as_secs()
        );
        tracing::error!(gap_s = gone.as_secs(), "the daemon was frozen");
        let from = from.min(now);
        let outage = self
            .store
            .call(move |s| s.closed_outage(OutageKind::Power, "", from, now, &detail))
            .await?;
        if w.cause == Cause::OnTime {
            w.cause = Cause::Downtime;
        }
        Ok(outage)
    }

    /// Logs or queues every firing due in `(since, now]`.
    pub(in crate::daemon) async fn handle_due(
        &mut self,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
        cause: Cause,
        outage: Option<i64>,
    ) -> Result<(), RunError> {
        let all = self.broadcasts.clone();
        self.handle_due_of(&all, since, now, cause, outage).await
    }

    /// [`Self::handle_due`] for some broadcasts only.
    pub(in crate::daemon) async fn handle_due_of(
        &mut self,
        broadcasts: &[Broadcast],
        since: DateTime<Utc>,
        now: DateTime<Utc>,
        cause: Cause,
        outage: Option<i64>,
    ) -> Result<(), RunError> {
        let due = plan::due(broadcasts, &self.rules, since, now, cause);
        if due.is_empty() {
            return Ok(());
        }
        self.recheck_content().await?;
        let mut queue = Vec::new();
        for (f, decision) in due {
            let (name, at) = (f.broadcast.clone(), f.scheduled_at);
            let (status, reason) = match decision {
                Decision::Play(trigger) => {
                    let known = self.store.call(move |s| s.exists(&name, at)).await?;
                    if !known && !self.queued(&f) {
                        let programme = self.programme_for(&f);
                        queue.push(Pending::new(f, trigger, programme));
                    }
                    continue;
                }
                Decision::Miss(r) => (Status::Missed, r),
                Decision::Skip(plan::Skip::QuietHours) => (Status::Skipped, reasons::QUIET_HOURS),
                Decision::Skip(plan::Skip::Holiday) => (Status::Skipped, reasons::HOLIDAY),
            };
            let trigger = if cause == Cause::OnTime {
                Trigger::Schedule
            } else {
                Trigger::CatchUp
            };
            let link = if status == Status::Missed {
                outage
            } else {
                None
            };
            let inserted = self
                .record_unplayed(&f, status, reason.to_string(), trigger, link)
                .await?;
            if inserted {
                tracing::info!(broadcast = %f.broadcast, scheduled = %at, status = status.as_str(), reason, "firing not played");
            }
        }
        self.queue.extend(queue);
        Ok(())
    }

    /// Waiting firings whose catch-up window has passed are missed.
    pub(in crate::daemon) async fn expire(&mut self, now: DateTime<Utc>) -> Result<(), RunError> {
        self.expire_linked(now, None).await
    }

    /// [`Self::expire`]; with `downtime`, the reason and outage (a freeze,
    /// a clock jump) during which their window passed: missed against it.
    pub(in crate::daemon) async fn expire_linked(
        &mut self,
        now: DateTime<Utc>,
        downtime: Option<(&'static str, i64)>,
    ) -> Result<(), RunError> {
        let gone = self.queue.expired(now);
        let busy = self
            .current
            .as_ref()
            .map(|a| a.pending.firing.broadcast.clone())
            .unwrap_or_default();
        for p in gone {
            let (reason, link) = match downtime {
                Some((why, o)) => (why.to_string(), Some(o)),
                None => (format!("{}: {busy}", reasons::BUSY), None),
            };
            match p.resume {
                // An interrupted play that could not resume stays partial.
                Some((row, _)) => {
                    let r = format!(
                        "{}: {}",
                        reasons::INTERRUPTED_BY,
                        p.interrupted_by.clone().unwrap_or_default()
                    );
                    self.store
                        .call(move |s| s.update(row, Status::Partial, None, Some(&r)))
                        .await?;
                }
                None => {
                    self.record_unplayed(&p.firing, Status::Missed, reason, p.trigger, link)
                        .await?;
                }
            }
            tracing::warn!(broadcast = %p.firing.broadcast, "missed: its catch-up window passed while it waited");
        }
        Ok(())
    }

    /// Starts the most urgent waiting firing if the output is free, or cuts
    /// the current one for a higher priority.
    pub(in crate::daemon) async fn dispatch(&mut self) -> Result<(), RunError> {
        loop {
            let Some(best) = self.queue.most_urgent() else {
                return Ok(());
            };
            match &mut self.current {
                Some(a) => {
                    if best.firing.priority > a.pending.firing.priority && a.cut_by.is_none() {
                        a.cut_by = Some(best.firing.broadcast.clone());
                        a.cancel.store(true, Ordering::SeqCst);
                        tracing::info!(cut = %a.pending.firing.broadcast, by = %best.firing.broadcast, "interrupting for higher priority");
                    }
                    return Ok(());
                }
                None => {
                    let p = self.queue.take_most_urgent().expect("checked");
                    if self.start(p).await? {
                        return Ok(());
                    }
                    // It failed before sound (content): try the next one.
                }
            }
        }
    }
}
