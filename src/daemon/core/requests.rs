//! Requests from people and tools (through the control channel): reload,
//! a manual play, stop. A request is answered once the run loop has
//! decided; nothing here waits on the device.

use super::{Daemon, Pending};
use crate::config::schedule::Priority;
use crate::daemon::control::*;
use crate::daemon::settings::*;
use crate::daemon::source::Prepared;
use crate::plan::{self, Trigger};
use crate::sound::media;
use chrono::Duration as TimeDelta;
use std::sync::atomic::Ordering;
use std::sync::Arc;

impl Daemon {
    pub(in crate::daemon) async fn on_control(&mut self, c: Control) -> Result<(), RunError> {
        match c {
            Control::Reload => self.reload().await,
            Control::ReloadReport(reply) => {
                self.reload().await?;
                let _ = reply.send(self.errors());
                Ok(())
            }
            // A request whose asker has given up (timed out) is not acted
            // on: the person was told it failed and may ask again.
            Control::Play(req, reply) => {
                if reply.is_closed() {
                    tracing::warn!(?req, "manual play dropped: the request timed out");
                    return Ok(());
                }
                let answer = self.manual_play(req).await?;
                let _ = reply.send(answer);
                Ok(())
            }
            Control::Stop(reply) if reply.is_closed() => {
                tracing::warn!("stop dropped: the request timed out");
                Ok(())
            }
            Control::Stop(reply) => {
                let name = self.current.as_mut().map(|a| {
                    a.operator_stop = true;
                    a.cancel.store(true, Ordering::SeqCst);
                    a.pending.firing.broadcast.clone()
                });
                if let Some(n) = &name {
                    tracing::info!(broadcast = %n, "stopped by a person");
                }
                let _ = reply.send(name);
                Ok(())
            }
        }
    }

    /// A person's play: checked at once (a refused one is not logged),
    /// then queued like any firing with trigger `manual`, so priority,
    /// preemption and the as-run log work the same.
    pub(in crate::daemon) async fn manual_play(
        &mut self,
        req: PlayRequest,
    ) -> Result<Result<PlayAccepted, PlayRefused>, RunError> {
        if req.repeat.is_some_and(|r| !(1..=20).contains(&r)) {
            return Ok(Err(PlayRefused::BadRepeat));
        }
        let now = self.clock.now();
        let mut firing = match self.requested_firing(&req, now) {
            Ok(f) => f,
            Err(refused) => return Ok(Err(refused)),
        };
        if let Some(p) = req.priority {
            firing.priority = p;
        }
        if let Some(r) = req.repeat {
            firing.repeat = r;
        }
        // Two requests in the same millisecond are two plays: each needs
        // its own instant (a firing's row is keyed by name and instant).
        loop {
            let (name, at) = (firing.broadcast.clone(), firing.scheduled_at);
            if !self.queued(&firing) && !self.store.call(move |s| s.exists(&name, at)).await? {
                break;
            }
            firing.scheduled_at += TimeDelta::milliseconds(1);
        }
        // Every file must be playable now: a person waits for the answer.
        // A relay starts connecting (its losses are its outages); a notice
        // is read aloud into its file (the web face rendered it already,
        // so this finds it).
        let programme = self.programme_for(&firing);
        let relay = firing.relay.is_some().then(|| programme.clone());
        let items = match self.build(&firing, programme).await {
            Ok(items) => items,
            Err((file, detail)) => return Ok(Err(PlayRefused::CannotPlay { file, detail })),
        };
        tracing::info!(broadcast = %firing.broadcast, priority = firing.priority.as_str(), "manual play requested");
        let accepted = PlayAccepted {
            broadcast: firing.broadcast.clone(),
            scheduled_at: firing.scheduled_at,
            priority: firing.priority,
            state: "queued",
        };
        let programme = relay.unwrap_or_else(|| Arc::new(Prepared(items)));
        self.queue
            .push(Pending::new(firing, Trigger::Manual, programme));
        self.dispatch().await?;
        let is_it = |p: &Pending| {
            p.firing.broadcast == accepted.broadcast
                && p.firing.scheduled_at == accepted.scheduled_at
        };
        let state = match &self.current {
            Some(a) if is_it(&a.pending) => "playing",
            Some(a) if a.cut_by.as_deref() == Some(accepted.broadcast.as_str()) => "interrupting",
            _ => "queued",
        };
        Ok(Ok(PlayAccepted { state, ..accepted }))
    }

    /// The firing a person's request names (a broadcast's, a file's, a
    /// relay's), at `now`.
    fn requested_firing(
        &self,
        req: &PlayRequest,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<plan::Firing, PlayRefused> {
        let by_name = |n: &str| self.broadcasts.iter().find(|b| b.name == n);
        Ok(match &req.target {
            PlayTarget::Broadcast(n) => match by_name(n) {
                Some(b) => plan::manual_firing(b, &self.rules, now),
                None => return Err(PlayRefused::UnknownBroadcast(n.clone())),
            },
            PlayTarget::Either(n) if by_name(n).is_some() => {
                plan::manual_firing(by_name(n).expect("checked"), &self.rules, now)
            }
            PlayTarget::Relay { source, length } => plan::manual_relay_firing(
                source,
                *length,
                req.priority.unwrap_or(Priority::Normal),
                &self.rules,
                now,
            ),
            PlayTarget::Say(text) => plan::manual_say_firing(
                text,
                req.priority.unwrap_or(Priority::Normal),
                1,
                &self.rules,
                now,
            ),
            PlayTarget::File(f) | PlayTarget::Either(f) => {
                if !media::is_plain_relative(f) {
                    return Err(PlayRefused::OutsideAudio(f.clone()));
                }
                let path = self.station_dir.join(&self.config.audio_dir).join(f);
                if matches!(req.target, PlayTarget::Either(_)) && !path.exists() {
                    return Err(PlayRefused::NotFound(f.clone()));
                }
                plan::manual_file_firing(
                    f,
                    req.priority.unwrap_or(Priority::Normal),
                    1,
                    &self.rules,
                    now,
                )
            }
        })
    }
}
