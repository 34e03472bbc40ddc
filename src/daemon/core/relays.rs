//! Relays in the run loop: which programme a firing gets (a relay's live
//! source, or its files), the source's losses as `source` outages (opened
//! once per loss, closed when it is back or when the slot ends), and what
//! a relay put out written to its as-run row. The connection itself is
//! `daemon::relay`; the reading `sound::relay`.

use super::{Active, Daemon};
use crate::daemon::notice::{self, Notice};
use crate::daemon::relay::{self, Relay};
use crate::daemon::settings::RunError;
use crate::daemon::source::{self, Programme};
use crate::plan::Firing;
use crate::sound::output::ItemSource;
use crate::sound::relay::{RelayEvent, RelayFeed};
use crate::store::{OutageKind, OutageRow, Status};
use std::time::Duration;

/// Sound of a relay's slot that may be lost (connecting, gathering a
/// moment of sound) while it still counts as played.
pub(super) const LOST_GRACE: Duration = Duration::from_secs(5);
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedSender;

/// The relays' channel and the `source` outages open, by subject.
pub(super) struct Relays {
    events: UnboundedSender<RelayEvent>,
    open: BTreeMap<String, i64>,
}

impl Relays {
    pub(super) fn new(events: UnboundedSender<RelayEvent>) -> Relays {
        Relays {
            events,
            open: BTreeMap::new(),
        }
    }
}

/// The relay on air among a play's items.
pub(super) fn feed_of(a: &Active) -> Option<&RelayFeed> {
    a.items.iter().find_map(|i| match &i.source {
        ItemSource::Relay(feed, _) => Some(feed),
        _ => None,
    })
}

impl Daemon {
    /// Where a firing's sound comes from: its files, or its live source.
    pub(in crate::daemon) fn programme_for(&self, f: &Firing) -> Arc<dyn Programme> {
        if f.relay.is_some() {
            Arc::new(Relay::new(
                relay::settings(&self.config),
                self.clock.clone(),
                self.relays.events.clone(),
            ))
        } else if f.say.is_some() {
            Arc::new(Notice::new(notice::voice(&self.config), &self.data_dir))
        } else {
            source::files()
        }
    }

    /// `source` outages left open by the last run (stopped or killed
    /// during a relay) close when that run ended: no relay reads them now.
    pub(super) async fn sources_ended(
        &mut self,
        open: &[OutageRow],
        at: DateTime<Utc>,
    ) -> Result<(), RunError> {
        let left: Vec<(String, DateTime<Utc>)> = open
            .iter()
            .filter(|o| o.kind == OutageKind::Source)
            .map(|o| (o.subject.clone(), at.max(o.started_at)))
            .collect();
        if left.is_empty() {
            return Ok(());
        }
        self.store
            .call(move |s| {
                for (subject, at) in &left {
                    s.close_outage(OutageKind::Source, subject, *at)?;
                }
                Ok(())
            })
            .await?;
        Ok(())
    }

    /// A relay's source was lost, or is back.
    pub(in crate::daemon) async fn on_relay(&mut self, ev: RelayEvent) -> Result<(), RunError> {
        match ev {
            RelayEvent::Lost { subject, why, at } => {
                if self.relays.open.contains_key(&subject) {
                    return Ok(());
                }
                let row = self
                    .current
                    .as_ref()
                    .filter(|a| feed_of(a).is_some_and(|f| f.subject() == subject))
                    .map(|a| a.row);
                let s = subject.clone();
                let id = self
                    .store
                    .call(move |st| {
                        let (id, _) = st.open_outage(OutageKind::Source, &s, at, &why)?;
                        if let Some(row) = row {
                            st.link_outage(row, id)?;
                        }
                        Ok(id)
                    })
                    .await?;
                self.relays.open.insert(subject, id);
            }
            RelayEvent::Back { subject, at } => self.source_closed(&subject, at).await?,
        }
        Ok(())
    }

    async fn source_closed(&mut self, subject: &str, at: DateTime<Utc>) -> Result<(), RunError> {
        if self.relays.open.remove(subject).is_some() {
            let s = subject.to_string();
            self.store
                .call(move |st| st.close_outage(OutageKind::Source, &s, at))
                .await?;
        }
        Ok(())
    }

    /// A relay that ran to the end of its slot: its row's status (played;
    /// partial when the source was lost more than [`LOST_GRACE`]; failed
    /// when nothing of it went out) and what was lost. `None`: not a relay.
    pub(super) async fn relay_end(
        &mut self,
        a: &Active,
        at: DateTime<Utc>,
    ) -> Result<Option<(Status, Option<String>)>, RunError> {
        let Some(feed) = feed_of(a).cloned() else {
            return Ok(None);
        };
        let why = feed.view().why;
        self.relay_done(a, at, true).await?;
        let st = feed.stats(at);
        let lost = format!(
            "{:.1} s lost, {} reconnects{}",
            st.lost.saturating_sub(st.cut).as_secs_f64(),
            st.reconnects,
            why.map(|w| format!(" ({w})")).unwrap_or_default()
        );
        // A cut by a higher priority is lost air, not a fault of the source.
        let source_lost = st.lost.saturating_sub(st.cut);
        Ok(Some(if st.relayed.is_zero() {
            (Status::Failed, Some(lost))
        } else if source_lost > LOST_GRACE {
            (Status::Partial, Some(lost))
        } else if st.reconnects > 0 || source_lost >= Duration::from_secs(1) {
            // Played, and the row still says what was lost.
            (Status::Played, Some(lost))
        } else {
            (Status::Played, None)
        }))
    }

    /// Writes what a relay put out to its row; when it is over (not cut
    /// to resume), its connection stops and a loss still open closes
    /// with the slot.
    pub(super) async fn relay_done(
        &mut self,
        a: &Active,
        at: DateTime<Utc>,
        over: bool,
    ) -> Result<(), RunError> {
        let Some(feed) = feed_of(a).cloned() else {
            return Ok(());
        };
        let stats = feed.stats(at);
        let row = a.row;
        self.store
            .call(move |s| s.set_relayed(row, stats.relayed, stats.lost, stats.reconnects))
            .await?;
        tracing::info!(source = %feed.subject(), relayed_s = stats.relayed.as_secs_f64(), lost_s = stats.lost.as_secs_f64(), reconnects = stats.reconnects, over, "relay accounted");
        if over {
            feed.stop();
            self.source_closed(feed.subject(), at).await?;
        } else {
            feed.cut(at);
        }
        Ok(())
    }
}
