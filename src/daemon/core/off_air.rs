//! Broadcasts off air because their file has errors: their firings are
//! held until their catch-up window closes, then logged missed (or played
//! if the file is fixed in time). Never plays anything itself.

use super::{Daemon, OffPending};
use crate::config::schedule::Broadcast;
use crate::daemon::settings::*;
use crate::plan::{self, reasons, Cause, Firing, Trigger};
use crate::store::NewPlay;
use crate::store::{OutageKind, Status};
use chrono::{DateTime, Duration as TimeDelta, Utc};
use std::collections::BTreeMap;

impl Daemon {
    /// Firings of broadcasts that are off air because their file has
    /// errors, due in `(since, now]`: each waits until its catch-up window
    /// closes (a file fixed in time still plays it), then is logged missed
    /// by [`Self::expire_off_air`].
    pub(in crate::daemon) async fn off_air_due(
        &mut self,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
        downtime: Option<(DateTime<Utc>, &'static str, Option<i64>)>,
    ) -> Result<(), RunError> {
        if !self.off_air.is_empty() && now > since {
            let since = since.max(now - plan::MAX_LOOKBACK);
            let off: Vec<Broadcast> = self.off_air.iter().map(|(b, _)| b.clone()).collect();
            // (since, now], as `plan::due`.
            let one = TimeDelta::nanoseconds(1);
            for f in plan::firings(&off, &self.rules, since + one, now + one) {
                if f.skip.is_some()
                    || self.off_pending.iter().any(|p| {
                        p.firing.broadcast == f.broadcast && p.firing.scheduled_at == f.scheduled_at
                    })
                {
                    continue;
                }
                let file = self
                    .off_air
                    .iter()
                    .find(|(b, _)| b.name == f.broadcast)
                    .map(|(_, file)| file.clone())
                    .unwrap_or_default();
                let deadline = f.scheduled_at + TimeDelta::from_std(f.catch_up).unwrap_or_default();
                self.off_pending.push(OffPending {
                    firing: f,
                    file,
                    deadline,
                });
            }
        }
        self.expire_off_air(now, downtime).await
    }

    /// Logs the off-air firings whose window has closed: missed, pointing
    /// at the file's `config` outage, or, for those that came due while
    /// the daemon was down or frozen (`downtime`: since when, the reason
    /// and its outage), at that outage.
    pub(in crate::daemon) async fn expire_off_air(
        &mut self,
        now: DateTime<Utc>,
        downtime: Option<(DateTime<Utc>, &'static str, Option<i64>)>,
    ) -> Result<(), RunError> {
        let (gone, keep): (Vec<OffPending>, Vec<OffPending>) =
            std::mem::take(&mut self.off_pending)
                .into_iter()
                .partition(|p| p.deadline < now);
        self.off_pending = keep;
        for p in gone {
            let (reason, outage) = match downtime {
                Some((down, why, o)) if p.firing.scheduled_at > down => (why.to_string(), o),
                _ => (
                    format!("{}: {} has errors", reasons::CONFIG, p.file),
                    self.config_outage(&p.file).await?,
                ),
            };
            self.log_off_air_missed(p, reason, outage).await?;
        }
        Ok(())
    }

    /// Records a firing that did not play (missed or skipped), linked to
    /// the outage that cost it, if any. Returns whether it was new (a
    /// firing has one row, never two).
    pub(in crate::daemon) async fn record_unplayed(
        &self,
        f: &Firing,
        status: Status,
        reason: String,
        trigger: Trigger,
        outage: Option<i64>,
    ) -> Result<bool, RunError> {
        let f = f.clone();
        let id = self
            .store
            .call(move |s| {
                let id = s.insert_play(&NewPlay {
                    reason: Some(&reason),
                    ..NewPlay::of(&f, trigger, status)
                })?;
                if let (Some(id), Some(o)) = (id, outage) {
                    s.link_outage(id, o)?;
                }
                Ok(id)
            })
            .await?;
        Ok(id.is_some())
    }

    /// The `config` outage of a file: the open one, else its latest.
    pub(in crate::daemon) async fn config_outage(
        &self,
        file: &str,
    ) -> Result<Option<i64>, RunError> {
        if let Some(id) = self.config_open.get(file) {
            return Ok(Some(*id));
        }
        let file = file.to_string();
        Ok(self
            .store
            .call(move |s| s.outages(false, None))
            .await?
            .into_iter()
            .filter(|o| o.kind == OutageKind::Config && o.subject == file)
            .max_by_key(|o| o.started_at)
            .map(|o| o.id))
    }

    pub(in crate::daemon) async fn log_off_air_missed(
        &mut self,
        p: OffPending,
        reason: String,
        outage: Option<i64>,
    ) -> Result<(), RunError> {
        let inserted = self
            .record_unplayed(&p.firing, Status::Missed, reason, Trigger::Schedule, outage)
            .await?;
        if inserted {
            tracing::warn!(broadcast = %p.firing.broadcast, scheduled = %p.firing.scheduled_at, file = %p.file, "missed: its schedule file has errors");
        }
        Ok(())
    }

    /// After a reload, the off-air firings still waiting: a broadcast back
    /// on air (its file fixed in time) is decided as any due firing (the
    /// latest plays, late, trigger `catch_up`); one still off air keeps
    /// waiting; one gone from the files altogether is logged missed now.
    pub(in crate::daemon) async fn settle_off_pending(&mut self) -> Result<(), RunError> {
        if self.off_pending.is_empty() {
            return Ok(());
        }
        let off: std::collections::HashSet<String> =
            self.off_air.iter().map(|(b, _)| b.name.clone()).collect();
        let mut back: BTreeMap<String, DateTime<Utc>> = BTreeMap::new();
        for p in std::mem::take(&mut self.off_pending) {
            let name = p.firing.broadcast.clone();
            if off.contains(&name) {
                self.off_pending.push(p);
            } else if self.broadcasts.iter().any(|b| b.name == name) {
                let first = back.entry(name).or_insert(p.firing.scheduled_at);
                *first = (*first).min(p.firing.scheduled_at);
            } else {
                let reason = format!("{}: {} has errors", reasons::CONFIG, p.file);
                let outage = self.config_outage(&p.file).await?;
                self.log_off_air_missed(p, reason, outage).await?;
            }
        }
        if let Some(since) = back.values().min().copied() {
            tracing::info!(
                count = back.len(),
                "broadcasts back on air after their file was fixed"
            );
            let list: Vec<Broadcast> = self
                .broadcasts
                .iter()
                .filter(|b| back.contains_key(&b.name))
                .cloned()
                .collect();
            let until = self.queue.handled_until();
            self.handle_due_of(
                &list,
                since - TimeDelta::nanoseconds(1),
                until.max(since),
                Cause::OnTime,
                None,
            )
            .await?;
        }
        self.publish_handled();
        Ok(())
    }
}
