//! The relay programme (转播): what a relay firing puts on air — its
//! chime, then the live source until the end of its slot, with its
//! fallback files for the spans the source is lost. The connection starts
//! when the firing is built for air and is kept when an emergency cuts
//! it, so it resumes at the live point. It never touches the queue, the
//! player or the store; the source's losses reach the run loop as
//! [`RelayEvent`]s.

use super::source::{build_items, Programme};
use crate::clock::Clock;
use crate::config::station::StationConfig;
use crate::plan::Firing;
use crate::sound::media;
use crate::sound::output::{ItemKind, ItemSource, PlayItem};
use crate::sound::relay::{RelayEvent, RelayFeed, RelaySettings};
use std::path::Path;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc::UnboundedSender;

/// A relay firing's programme; clones share one connection.
#[derive(Debug, Clone)]
pub struct Relay(Arc<Inner>);

struct Inner {
    settings: RelaySettings,
    clock: Arc<dyn Clock>,
    events: UnboundedSender<RelayEvent>,
    feed: Mutex<Option<RelayFeed>>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Relay({:?})",
            self.feed.lock().ok().and_then(|g| g.clone())
        )
    }
}

/// How a station's files say a relay reads its source.
pub fn settings(c: &StationConfig) -> RelaySettings {
    let d = RelaySettings::default();
    let monitor = c.monitor.as_ref();
    RelaySettings {
        no_data_after: c.relay.no_data_after.unwrap_or(d.no_data_after),
        silence_db: c
            .relay
            .silence_db
            .or(monitor.map(|m| m.silence_db))
            .unwrap_or(d.silence_db),
        silence_after: c
            .relay
            .silence_after
            .or(monitor.map(|m| m.silence_after))
            .unwrap_or(d.silence_after),
        backoff_max: c.relay.reconnect_max.unwrap_or(d.backoff_max),
        ..d
    }
}

impl Relay {
    pub fn new(
        settings: RelaySettings,
        clock: Arc<dyn Clock>,
        events: UnboundedSender<RelayEvent>,
    ) -> Relay {
        Relay(Arc::new(Inner {
            settings,
            clock,
            events,
            feed: Mutex::new(None),
        }))
    }

    /// The connection of a firing, started at its first build.
    fn feed(&self, firing: &Firing) -> Option<RelayFeed> {
        let plan = firing.relay.as_ref()?;
        let ends_at = firing.relay_ends_at()?;
        let mut g = self.0.feed.lock().unwrap_or_else(|p| p.into_inner());
        let feed = g.get_or_insert_with(|| {
            let tx = self.0.events.clone();
            RelayFeed::start(
                plan.source.clone(),
                ends_at,
                self.0.settings.clone(),
                self.0.clock.clone(),
                Box::new(move |ev| {
                    let _ = tx.send(ev);
                }),
            )
        });
        Some(feed.clone())
    }
}

impl Programme for Relay {
    fn items(&self, firing: &Firing, audio_dir: &Path) -> Result<Vec<PlayItem>, (String, String)> {
        let Some(plan) = &firing.relay else {
            return build_items(audio_dir, firing);
        };
        let ends_at = firing.relay_ends_at().unwrap_or(firing.scheduled_at);
        let left = (ends_at - self.0.clock.now()).to_std().unwrap_or_default();
        if left.is_zero() {
            return Err((plan.subject.clone(), "the relay's slot is over".to_string()));
        }
        // The chime (the firing has no files of its own).
        let mut items = build_items(audio_dir, firing)?;
        // A fallback that cannot play is left out (check reports it): the
        // relay itself must not fail for it.
        let mut fallback = Vec::new();
        for rel in &plan.fallback {
            let probed = media::resolve_under(audio_dir, rel)
                .map_err(|e| e.to_string())
                .and_then(|p| media::probe(&p).map(|i| (p, i)).map_err(|e| e.to_string()));
            match probed {
                Ok((p, info)) => fallback.push(PlayItem {
                    kind: ItemKind::Content,
                    source: ItemSource::File(p),
                    label: rel.clone(),
                    volume: firing.volume,
                    duration: info.duration,
                }),
                Err(e) => {
                    tracing::warn!(broadcast = %firing.broadcast, file = %rel, error = %e, "relay fallback cannot play; silence instead");
                }
            }
        }
        let feed = self.feed(firing).expect("a relay firing");
        items.push(PlayItem {
            kind: ItemKind::Relay,
            source: ItemSource::Relay(feed, fallback),
            label: plan.subject.clone(),
            volume: firing.volume,
            duration: left,
        });
        Ok(items)
    }

    fn again(&self) -> Arc<dyn Programme> {
        Arc::new(self.clone())
    }
}
