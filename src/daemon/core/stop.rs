//! Stopping: the play on air ends `partial`, what waits is logged missed
//! (`stopped`), the clean-stop marker and the last beat are written, and
//! records still held in memory get a last try. Runs once, after the event
//! loop.

use super::Daemon;
use crate::daemon::settings::*;
use crate::plan::reasons;
use crate::sound::output::PlayerEvent;
use crate::store::{keys, ts, Status};
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::mpsc;

impl Daemon {
    /// The store is lost for good (the memory copy cannot be kept either):
    /// the daemon stops, but never before the broadcast on air ends.
    pub(in crate::daemon) async fn end_on_air_first(
        &mut self,
        e: &RunError,
        ev_rx: &mut mpsc::UnboundedReceiver<PlayerEvent>,
    ) {
        if let Some(a) = &self.current {
            let left: Duration = a.items.iter().map(|i| i.duration).sum();
            tracing::error!(error = %e, "the records cannot be kept: stopping once the broadcast on air ends");
            let deadline = tokio::time::Instant::now() + left + STUCK_AFTER;
            loop {
                match tokio::time::timeout_at(deadline, ev_rx.recv()).await {
                    Ok(Some(PlayerEvent::Finished { .. })) | Ok(None) | Err(_) => break,
                    Ok(Some(_)) => {}
                }
            }
        }
    }

    /// The play on air stops (logged partial), firings waiting or held
    /// off air are logged missed: stopped.
    pub(in crate::daemon) async fn stop_all(
        &mut self,
        ev_rx: &mut mpsc::UnboundedReceiver<PlayerEvent>,
    ) -> Result<(), RunError> {
        self.stopping = true;
        if let Some(a) = self.current.as_mut() {
            a.cancel.store(true, Ordering::SeqCst);
            let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
            while self.current.is_some() {
                match tokio::time::timeout_at(deadline, ev_rx.recv()).await {
                    Ok(Some(ev)) => self.on_player_event(ev).await?,
                    _ => break,
                }
            }
            if let Some(a) = self.current.take() {
                let now = self.clock.now();
                self.store
                    .call(move |s| {
                        s.update(a.row, Status::Partial, Some(now), Some(reasons::STOPPED))
                    })
                    .await?;
            }
        }
        // Firings still waiting for the output are logged missed: stoppeself.
        for p in self.queue.drain() {
            if p.resume.is_none() {
                let reason = reasons::STOPPED.to_string();
                self.record_unplayed(&p.firing, Status::Missed, reason, p.trigger, None)
                    .await?;
            }
        }
        // Off-air firings still inside their window: as the waiting ones.
        for p in std::mem::take(&mut self.off_pending) {
            let reason = reasons::STOPPED.to_string();
            let outage = self.config_outage(&p.file).await?;
            self.log_off_air_missed(p, reason, outage).await?;
        }
        Ok(())
    }

    /// The last beat and the clean-stop marker; records held in memory get
    /// a last few tries on the file, then a copy wherever it can be
    /// written, said loudly either way.
    pub(in crate::daemon) async fn close_store(&self) -> Result<(), RunError> {
        let now = self.clock.now();
        self.store
            .call(move |s| {
                s.set_meta(keys::HEARTBEAT, &ts(now))?;
                s.set_meta(keys::HANDLED_UNTIL, &ts(now))?;
                s.set_meta(keys::CLEAN_STOP, &ts(now))?;
                s.clear_meta(keys::CONTROL_ADDR)?;
                s.clear_meta(keys::CONTROL_INSTANCE)?;
                s.checkpoint()
            })
            .await?;
        self.store
            .call(move |s| {
                for _ in 0..10 {
                    match s.retry(now, true) {
                        None | Some(Ok(_)) => return Ok(()),
                        Some(Err(_)) => std::thread::sleep(Duration::from_millis(500)),
                    }
                }
                if let Some(h) = s.held() {
                    let saved = s.save_held();
                    tracing::error!(
                        rows = h.rows,
                        since = %ts(h.since),
                        error = %h.error,
                        saved = %saved.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|e| e.clone()),
                        "stopping with records the database never took: they are not in the as-run log"
                    );
                }
                Ok(())
            })
            .await?;
        Ok(())
    }
}
