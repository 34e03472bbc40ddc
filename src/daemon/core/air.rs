//! The one output: building a firing's items, starting it on the player
//! thread, following the player's events (item started, finished, cut,
//! resumed), device checks and a player stuck in the device. Every row is
//! written before the event it records is acted on; the player thread
//! itself is `player.rs`, what a firing plays is `source.rs`.

use super::{Active, Daemon, Pending};
use crate::daemon::settings::*;
use crate::daemon::source::Programme;
use crate::plan::{reasons, Firing};
use crate::sound::output::{ItemSource, JobResult, PlayItem, PlayerEvent};
use crate::store::NewPlay;
use crate::store::{OutageKind, Status};
use chrono::{DateTime, Utc};
use std::sync::atomic::Ordering;
use std::sync::Arc;

impl Daemon {
    /// Probes a firing's files and builds its items off the run loop. A
    /// decoder that panics on a broken file fails that file, never the
    /// daemon.
    pub(in crate::daemon) async fn build(
        &self,
        f: &Firing,
        programme: Arc<dyn Programme>,
    ) -> Result<Vec<PlayItem>, (String, String)> {
        let audio = self.station_dir.join(&self.config.audio_dir);
        let firing = f.clone();
        let probe = tokio::task::spawn_blocking(move || programme.items(&firing, &audio));
        // A probe that never ends (a decoder stuck on a hostile file, a
        // file on a dead network share) fails that firing; the run loop
        // never waits on it unbounded.
        let Ok(probed) = tokio::time::timeout(PROBE_TIMEOUT, probe).await else {
            tracing::error!(broadcast = %f.broadcast, "probing the audio took too long");
            return Err((
                f.files.first().cloned().unwrap_or_default(),
                format!(
                    "reading the file took longer than {} s (damaged, or on a disk that does not answer); export it again",
                    PROBE_TIMEOUT.as_secs()
                ),
            ));
        };
        match probed {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(broadcast = %f.broadcast, error = %e, "decoder crashed while probing");
                Err((
                    f.files.first().cloned().unwrap_or_default(),
                    "the decoder crashed on this file; export it again".to_string(),
                ))
            }
        }
    }

    /// Builds the items and hands the job to the player. Returns false when
    /// the firing failed before any sound (a file missing or undecodable).
    pub(in crate::daemon) async fn start(&mut self, mut p: Pending) -> Result<bool, RunError> {
        // A programme is used once: a play resumed after a cut is built
        // again (from its files; a relay keeps its connection).
        let again = p.programme.again();
        let programme = std::mem::replace(&mut p.programme, again);
        let built = self.build(&p.firing, programme).await;
        let now = self.clock.now();
        let items = match built {
            Ok(items) => items,
            Err((file, detail)) => {
                self.failed_before_sound(p, &file, &detail, now).await?;
                return Ok(false);
            }
        };
        let Some((row, start_index)) = self.row_on_air(&p, now).await? else {
            return Ok(false); // already recorded: never twice
        };
        let resumed = p.resume.is_some();
        tracing::info!(broadcast = %p.firing.broadcast, scheduled = %p.firing.scheduled_at, delay_ms = (now - p.firing.scheduled_at).num_milliseconds(), start_index, "starting");
        let (job, cancel) = self.player.play(
            &p.firing.broadcast,
            items.clone(),
            start_index,
            self.clock.monotonic(),
        );
        self.current = Some(Active {
            job,
            row,
            pending: p,
            items,
            cancel,
            cut_by: None,
            operator_stop: false,
            first_sample_seen: resumed,
            index: start_index,
            item_started_at: None,
        });
        self.hearing.play_started(self.clock.as_ref());
        Ok(true)
    }

    /// The firing failed before any sound (a file missing or
    /// undecodable): `failed` against a `content` outage.
    async fn failed_before_sound(
        &mut self,
        p: Pending,
        file: &str,
        detail: &str,
        now: DateTime<Utc>,
    ) -> Result<(), RunError> {
        let f = p.firing.clone();
        // A relay whose slot is over is no file's fault: no `content`
        // outage for its source.
        let relay = f.relay.as_ref().is_some_and(|r| r.subject == file);
        let code = if relay {
            reasons::SOURCE
        } else {
            reasons::CONTENT
        };
        let reason = format!("{code}: {file}: {detail}");
        tracing::warn!(broadcast = %f.broadcast, %reason, "cannot play");
        let trigger = p.trigger;
        let outage = if relay {
            None
        } else {
            Some(self.open_content(file, detail, now).await?)
        };
        self.store
            .call(move |s| {
                let row = match p.resume {
                    Some((row, _)) => {
                        s.update(row, Status::Failed, Some(now), Some(&reason))?;
                        Some(row)
                    }
                    // Failed before any sound: no start time.
                    None => s.insert_play(&NewPlay {
                        ended_at: Some(now),
                        reason: Some(&reason),
                        ..NewPlay::of(&f, trigger, Status::Failed)
                    })?,
                };
                if let (Some(row), Some(outage)) = (row, outage) {
                    s.link_outage(row, outage)?;
                }
                Ok(())
            })
            .await?;
        Ok(())
    }

    /// The as-run row the play goes on air under, and the item to start
    /// from: its own row when it resumes, else a new one (`None` when the
    /// firing is already recorded: never twice).
    async fn row_on_air(
        &self,
        p: &Pending,
        now: DateTime<Utc>,
    ) -> Result<Option<(i64, usize)>, RunError> {
        Ok(match p.resume {
            Some((row, index)) => {
                self.store
                    .call(move |s| s.update(row, Status::Playing, None, None))
                    .await?;
                Some((row, index))
            }
            None => {
                let f = p.firing.clone();
                let trigger = p.trigger;
                let id = self
                    .store
                    .call(move |s| {
                        s.insert_play(&NewPlay {
                            started_at: Some(now),
                            ..NewPlay::of(&f, trigger, Status::Playing)
                        })
                    })
                    .await?;
                id.map(|id| (id, 0))
            }
        })
    }

    /// What the player says: an item started, a job finished (a play or
    /// a device check).
    pub(in crate::daemon) async fn on_player_event(
        &mut self,
        ev: PlayerEvent,
    ) -> Result<(), RunError> {
        let on_air = self.current.as_ref().and_then(|a| match &ev {
            PlayerEvent::ItemStarted { job, index, .. } if a.job == *job => {
                Some((a.job, a.items.iter().skip(*index).map(|i| i.duration).sum()))
            }
            _ => None,
        });
        if self.player.answered(&ev, self.clock.monotonic(), on_air) {
            if let PlayerEvent::Finished { result, at, .. } = &ev {
                match result {
                    JobResult::Failed { error, .. } => {
                        self.output_failed(error, *at).await?;
                    }
                    _ => self.output_ok(*at).await?,
                }
            }
            return Ok(());
        }
        match ev {
            PlayerEvent::ItemStarted { job, index, at } => self.item_started(job, index, at).await,
            PlayerEvent::Finished { job, result, at } => {
                if self.current.as_ref().map(|a| a.job) != Some(job) {
                    return Ok(());
                }
                let a = self.current.take().expect("checked");
                let sounded = a.first_sample_seen
                    && matches!(result, JobResult::Completed | JobResult::Cancelled { .. });
                self.listen_end(a.row, &a.pending.firing.broadcast, sounded, at)
                    .await?;
                match result {
                    JobResult::Completed => self.played(a, at).await?,
                    JobResult::Cancelled { .. } if a.cut_by.is_none() || a.operator_stop => {
                        self.stopped(a, at).await?
                    }
                    JobResult::Cancelled { index } => self.cut(a, index, at).await?,
                    JobResult::Failed {
                        index,
                        error,
                        device,
                    } => self.failed(a, index, &error, device, at).await?,
                }
                if !self.stopping {
                    let now = self.clock.now();
                    self.expire(now).await?;
                    self.dispatch().await?;
                }
                Ok(())
            }
        }
    }

    /// An item of the play on air started; the first one is when the play
    /// started (and proves the device works).
    async fn item_started(
        &mut self,
        job: u64,
        index: usize,
        at: DateTime<Utc>,
    ) -> Result<(), RunError> {
        let Some(a) = self.current.as_mut().filter(|a| a.job == job) else {
            return Ok(());
        };
        tracing::debug!(item = index, label = %a.items.get(index).map(|i| i.label.as_str()).unwrap_or(""), "item started");
        a.index = index;
        a.item_started_at = Some(at);
        if !a.first_sample_seen {
            a.first_sample_seen = true;
            // Judge from the first sample, not from the request.
            self.hearing.first_sample(self.clock.as_ref());
            let row = a.row;
            self.store.call(move |s| s.set_started(row, at)).await?;
            self.output_ok(at).await?;
        }
        Ok(())
    }

    /// Played to the end: its files' `content` outages close.
    async fn played(&mut self, a: Active, at: DateTime<Utc>) -> Result<(), RunError> {
        if let Some((status, lost)) = self.relay_end(&a, at).await? {
            let reason = relay_reason(&a, &lost);
            self.store
                .call(move |s| s.update(a.row, status, Some(at), reason.as_deref()))
                .await?;
            tracing::info!(broadcast = %a.pending.firing.broadcast, status = status.as_str(), "relay ended");
            return Ok(());
        }
        for item in a
            .items
            .iter()
            .filter(|i| matches!(i.source, ItemSource::File(_)))
        {
            if self.faults.content_played(&item.label) {
                let label = item.label.clone();
                self.store
                    .call(move |s| s.close_outage(OutageKind::Content, &label, at))
                    .await?;
            }
        }
        let reason = a
            .pending
            .interrupted_by
            .as_ref()
            .map(|b| format!("{}: {b}; resumed", reasons::INTERRUPTED_BY));
        self.store
            .call(move |s| s.update(a.row, Status::Played, Some(at), reason.as_deref()))
            .await?;
        tracing::info!(broadcast = %a.pending.firing.broadcast, "played");
        Ok(())
    }

    /// Stopped by a person or by the daemon's stop: partial, not resumed.
    async fn stopped(&mut self, a: Active, at: DateTime<Utc>) -> Result<(), RunError> {
        self.relay_done(&a, at, true).await?;
        let code = if a.operator_stop {
            reasons::OPERATOR_STOP
        } else {
            reasons::STOPPED
        };
        // A resumed play keeps the story of its first cut.
        let reason = match &a.pending.interrupted_by {
            Some(by) => format!("{}: {by}; {code}", reasons::INTERRUPTED_BY),
            None => code.to_string(),
        };
        self.store
            .call(move |s| s.update(a.row, Status::Partial, Some(at), Some(&reason)))
            .await?;
        tracing::info!(broadcast = %a.pending.firing.broadcast, "stopped during the play");
        Ok(())
    }

    /// Cut by a higher priority at item `index`: partial, and back in the
    /// queue to resume there if its window allows.
    async fn cut(&mut self, a: Active, index: usize, at: DateTime<Utc>) -> Result<(), RunError> {
        self.relay_done(&a, at, false).await?;
        let by = a.cut_by.clone().unwrap_or_default();
        let reason = format!("{}: {by}", reasons::INTERRUPTED_BY);
        self.store
            .call(move |s| s.update(a.row, Status::Partial, Some(at), Some(&reason)))
            .await?;
        tracing::info!(broadcast = %a.pending.firing.broadcast, by = %by, item = index, "cut; will resume if its window allows");
        let mut p = a.pending.clone();
        p.resume = Some((a.row, index));
        p.interrupted_by = Some(by);
        self.queue.push(p);
        Ok(())
    }

    /// Failed at item `index`: against an `output` outage (the device) or
    /// a `content` one (the file).
    async fn failed(
        &mut self,
        a: Active,
        index: usize,
        error: &str,
        device: bool,
        at: DateTime<Utc>,
    ) -> Result<(), RunError> {
        self.relay_done(&a, at, true).await?;
        let code = if device {
            reasons::DEVICE
        } else {
            reasons::CONTENT
        };
        let reason = format!("{code}: {error}");
        let status = if index == 0 && !a.first_sample_seen {
            Status::Failed
        } else {
            Status::Partial
        };
        tracing::error!(broadcast = %a.pending.firing.broadcast, %reason, "play failed");
        let outage = if device {
            self.output_failed(error, at).await?
        } else {
            let file = a
                .items
                .get(index)
                .map(|i| i.label.clone())
                .unwrap_or_default();
            self.open_content(&file, error, at).await?
        };
        self.store
            .call(move |s| {
                s.update(a.row, status, Some(at), Some(&reason))?;
                s.link_outage(a.row, outage)
            })
            .await?;
        Ok(())
    }

    /// Asks the player whether the output works.
    pub(in crate::daemon) fn send_check(&mut self) {
        self.player.check(self.clock.monotonic());
    }

    /// The player has not answered by its deadline: the device is stuck
    /// (a driver or sink whose open, write or close never returns). The
    /// play is recorded as failed against an `output` outage, and a fresh
    /// player thread takes over (the stuck one is left behind; its late
    /// events are ignored and its jobs are cancelled).
    pub(in crate::daemon) async fn player_stuck(&mut self) -> Result<(), RunError> {
        let (jobs, check) = self.player.give_up();
        let Some(job) = jobs.first().copied() else {
            return Ok(());
        };
        let now = self.clock.now();
        let error = "the sound device stopped answering (stuck)";
        tracing::error!(job, "{error}: giving up on the player thread");
        let mut failed = false;
        if check {
            self.output_failed(error, now).await?;
            failed = true;
        }
        if let Some(a) = self.current.take_if(|a| jobs.contains(&a.job)) {
            a.cancel.store(true, Ordering::SeqCst);
            self.relay_done(&a, now, true).await?;
            self.listen_end(a.row, &a.pending.firing.broadcast, false, now)
                .await?;
            let status = if a.first_sample_seen {
                Status::Partial
            } else {
                Status::Failed
            };
            let reason = format!("{}: {error}", reasons::DEVICE);
            let outage = if failed {
                self.output_outage_id(error, now).await?
            } else {
                self.output_failed(error, now).await?
            };
            self.store
                .call(move |s| {
                    s.update(a.row, status, Some(now), Some(&reason))?;
                    s.link_outage(a.row, outage)
                })
                .await?;
        }
        self.player.replace(self.clock.clone());
        if !self.stopping {
            self.dispatch().await?;
        }
        Ok(())
    }
}

/// A relay's reason: how much of its source was lost, and why (the
/// cut that interrupted it, too).
fn relay_reason(a: &Active, lost: &Option<String>) -> Option<String> {
    let cut = a
        .pending
        .interrupted_by
        .as_ref()
        .map(|b| format!("{}: {b}; resumed", reasons::INTERRUPTED_BY));
    let lost = lost.as_ref().map(|l| format!("{}: {l}", reasons::SOURCE));
    match (cut, lost) {
        (Some(c), Some(l)) => Some(format!("{c}; {l}")),
        (c, l) => c.or(l),
    }
}
