//! A live relay (转播): a reader thread that keeps a source (an HTTP
//! stream, the line-in) connected through its slot, decoding it into a
//! bounded live buffer, and the on-air side (`air`) that the player plays
//! like a file. Every loss (connect failure, dropped connection, no data,
//! digital silence, a format change) is retried with backoff within the
//! slot, reported once as [`RelayEvent::Lost`] and once as `Back`; the
//! fallback plays meanwhile. What went out is counted where it goes out.
//!
//! It owns the connection, the decoder and the buffer; it must not open
//! outages or write the store (the daemon hears the events and records).

use crate::clock::Clock;
use crate::config::schedule::RelaySource;
use chrono::{DateTime, Utc};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

pub(crate) mod air;
mod http;
mod pump;
#[cfg(test)]
mod tests;

pub use air::RelayAir;
pub use http::probe_http;

/// How a relay reads its source and when it calls it lost.
#[derive(Debug, Clone, PartialEq)]
pub struct RelaySettings {
    /// No byte from the source this long: lost ("no data").
    pub no_data_after: Duration,
    /// A window under this level (dBFS) is silence.
    pub silence_db: f32,
    /// Silence this long: lost ("silence").
    pub silence_after: Duration,
    /// The first wait before a reconnect; it doubles up to `backoff_max`.
    pub backoff_first: Duration,
    pub backoff_max: Duration,
    /// The most sound the live buffer holds; older sound is dropped
    /// (a live relay plays the live point, never an old backlog).
    pub buffer: Duration,
    /// How much sound is gathered before it goes on air, and again after
    /// an underrun (so network jitter is not a stutter).
    pub prebuffer: Duration,
    /// Connecting (and each HTTP answer) may take this long.
    pub connect_timeout: Duration,
}

impl Default for RelaySettings {
    fn default() -> Self {
        RelaySettings {
            no_data_after: Duration::from_secs(5),
            silence_db: -45.0,
            silence_after: Duration::from_secs(15),
            backoff_first: Duration::from_secs(1),
            backoff_max: Duration::from_secs(15),
            buffer: Duration::from_secs(4),
            prebuffer: Duration::from_millis(600),
            connect_timeout: Duration::from_secs(5),
        }
    }
}

/// What the reader says, once per change.
#[derive(Debug, Clone, PartialEq)]
pub enum RelayEvent {
    /// The source is lost (or could not be had at the start): why.
    Lost {
        subject: String,
        why: String,
        at: DateTime<Utc>,
    },
    /// The source is back after a loss.
    Back { subject: String, at: DateTime<Utc> },
}

/// The link to the source, for the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkState {
    Connecting,
    Connected,
    /// Lost; reconnecting (the fallback plays, or silence).
    Lost,
}

/// What a relay put out, from its first sound to now.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct RelayStats {
    /// Sound of the source that went out.
    pub relayed: Duration,
    /// The rest of the span since the relay first went on air: fallback,
    /// silence, a cut by an emergency.
    pub lost: Duration,
    /// Connections tried after the first.
    pub reconnects: u32,
    /// Of `lost`, the time it was off air, cut by a higher priority.
    pub cut: Duration,
}

/// The live view of a relay.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RelayView {
    pub source: String,
    pub state: LinkState,
    /// Why it is lost (with `Lost`).
    pub why: Option<String>,
    /// Whether the fallback is on air now.
    pub fallback: bool,
    pub stats: RelayStats,
}

/// Sends the reader's events to whoever records them.
pub type Notify = Box<dyn Fn(RelayEvent) + Send + Sync>;

/// A relay being read: cloned into the items of its firing. The reader
/// thread stops when the slot ends or the last clone is dropped.
#[derive(Clone)]
pub struct RelayFeed(Arc<Handle>);

struct Handle(Arc<Shared>);

impl Drop for Handle {
    fn drop(&mut self) {
        self.0.stop.store(true, Ordering::SeqCst);
    }
}

impl std::fmt::Debug for RelayFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RelayFeed({})", self.shared().subject)
    }
}

impl PartialEq for RelayFeed {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// Interleaved samples at the feed's format.
pub(crate) type Chunk = Vec<f32>;

/// The live buffer: chunks at the feed's format, oldest first.
#[derive(Default)]
pub(crate) struct Buffer {
    pub(crate) chunks: VecDeque<Chunk>,
    /// Samples held (all chunks).
    pub(crate) samples: usize,
}

/// What the reader and the on-air side share.
pub(crate) struct Shared {
    pub(crate) source: RelaySource,
    pub(crate) subject: String,
    pub(crate) settings: RelaySettings,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) ends_at: DateTime<Utc>,
    pub(crate) stop: AtomicBool,
    /// (channels, rate) of the buffer: fixed by the first sound decoded,
    /// or by the on-air side if it opens first.
    format: Mutex<Option<(u16, u32)>>,
    pub(crate) buffer: Mutex<Buffer>,
    link: Mutex<(LinkState, Option<String>)>,
    /// Whether the source is lost now (read per sample on air).
    pub(crate) lost: AtomicBool,
    pub(crate) fallback_on: AtomicBool,
    /// Samples of the source that went out.
    pub(crate) relayed: AtomicU64,
    /// Samples counted as relayed that were silence past `silence_after`.
    pub(crate) silent: AtomicU64,
    pub(crate) reconnects: AtomicU32,
    /// Whether the current session put sound in the buffer.
    pub(crate) delivered: AtomicBool,
    /// Whether the current session decoded any sound.
    pub(crate) decoded: AtomicBool,
    /// When the relay first went on air.
    on_air_since: Mutex<Option<DateTime<Utc>>>,
    /// When it was cut (to resume), and the time it spent cut so far.
    cut: Mutex<(Option<DateTime<Utc>>, Duration)>,
    notify: Notify,
}

/// The format a relay plays at when nothing was decoded before it went
/// on air.
pub const DEFAULT_FORMAT: (u16, u32) = (2, 44_100);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    /// The buffer's format, fixing it to `offer` if none is set yet.
    pub(crate) fn format_or(&self, offer: (u16, u32)) -> (u16, u32) {
        *lock(&self.format).get_or_insert(offer)
    }

    pub(crate) fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst) || self.clock.now() >= self.ends_at
    }

    pub(crate) fn buffer(&self) -> MutexGuard<'_, Buffer> {
        lock(&self.buffer)
    }

    /// The source is lost: said once per loss.
    pub(crate) fn set_lost(&self, why: &str) {
        self.set_lost_since(why, Duration::ZERO);
    }

    /// The source is lost, and was already `ago` (no data, silence: the
    /// loss began when the last sound did).
    pub(crate) fn set_lost_since(&self, why: &str, ago: Duration) {
        let mut link = lock(&self.link);
        let was = link.0;
        *link = (LinkState::Lost, Some(why.to_string()));
        drop(link);
        self.lost.store(true, Ordering::SeqCst);
        if was != LinkState::Lost {
            tracing::warn!(source = %self.subject, why, "relay source lost");
            (self.notify)(RelayEvent::Lost {
                subject: self.subject.clone(),
                why: why.to_string(),
                at: self.clock.now() - chrono::Duration::from_std(ago).unwrap_or_default(),
            });
        }
    }

    pub(crate) fn set_connecting(&self) {
        let mut link = lock(&self.link);
        if link.0 == LinkState::Connected {
            link.0 = LinkState::Connecting;
        }
    }

    /// Sound of the source arrived: back, if it was lost.
    pub(crate) fn set_connected(&self) {
        let mut link = lock(&self.link);
        let was = link.0;
        *link = (LinkState::Connected, None);
        drop(link);
        self.lost.store(false, Ordering::SeqCst);
        if was == LinkState::Lost {
            tracing::info!(source = %self.subject, "relay source back");
            (self.notify)(RelayEvent::Back {
                subject: self.subject.clone(),
                at: self.clock.now(),
            });
        }
    }

    pub(crate) fn samples_per_second(&self) -> u64 {
        let (c, r) = self.format_or(DEFAULT_FORMAT);
        c as u64 * r as u64
    }
}

impl RelayFeed {
    /// Starts reading `source` now, until `ends_at` (or until the last
    /// clone is dropped). Events go to `notify`.
    pub fn start(
        source: RelaySource,
        ends_at: DateTime<Utc>,
        settings: RelaySettings,
        clock: Arc<dyn Clock>,
        notify: Notify,
    ) -> RelayFeed {
        let feed = RelayFeed::idle(source, ends_at, settings, clock, notify);
        let reader = feed.shared().clone();
        let spawned = std::thread::Builder::new()
            .name("relay".into())
            .spawn(move || pump::run(&reader));
        if let Err(e) = spawned {
            feed.shared()
                .set_lost(&format!("cannot start the relay thread: {e}"));
        }
        feed
    }

    /// A feed with no reader thread (the reader is started by
    /// [`RelayFeed::start`]; tests fill the buffer themselves).
    fn idle(
        source: RelaySource,
        ends_at: DateTime<Utc>,
        settings: RelaySettings,
        clock: Arc<dyn Clock>,
        notify: Notify,
    ) -> RelayFeed {
        let shared = Arc::new(Shared {
            subject: source.subject(),
            source,
            settings,
            clock,
            ends_at,
            stop: AtomicBool::new(false),
            format: Mutex::new(None),
            buffer: Mutex::new(Buffer::default()),
            link: Mutex::new((LinkState::Connecting, None)),
            lost: AtomicBool::new(false),
            fallback_on: AtomicBool::new(false),
            relayed: AtomicU64::new(0),
            silent: AtomicU64::new(0),
            reconnects: AtomicU32::new(0),
            delivered: AtomicBool::new(false),
            decoded: AtomicBool::new(false),
            on_air_since: Mutex::new(None),
            cut: Mutex::new((None, Duration::ZERO)),
            notify,
        });
        RelayFeed(Arc::new(Handle(shared)))
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.0 .0
    }

    /// The source as the ledger names it.
    pub fn subject(&self) -> &str {
        &self.shared().subject
    }

    /// When the slot ends.
    pub fn ends_at(&self) -> DateTime<Utc> {
        self.shared().ends_at
    }

    /// Marks the relay on air (the first time counts; back after a cut
    /// adds the cut's span).
    /// Returns whether it comes back from a cut.
    pub(crate) fn mark_on_air(&self, at: DateTime<Utc>) -> bool {
        lock(&self.shared().on_air_since).get_or_insert(at);
        let mut cut = lock(&self.shared().cut);
        let from = cut.0.take();
        if let Some(from) = from {
            cut.1 += (at - from).to_std().unwrap_or_default();
        }
        from.is_some()
    }

    /// Marks the relay cut by a higher priority (it will resume).
    pub fn cut(&self, at: DateTime<Utc>) {
        lock(&self.shared().cut).0.get_or_insert(at);
    }

    /// What went out, from its first sound up to `now`.
    pub fn stats(&self, now: DateTime<Utc>) -> RelayStats {
        let s = self.shared();
        let per_second = s.samples_per_second().max(1);
        let relayed = s
            .relayed
            .load(Ordering::SeqCst)
            .saturating_sub(s.silent.load(Ordering::SeqCst));
        let relayed = Duration::from_nanos(relayed.saturating_mul(1_000_000_000) / per_second);
        let span = lock(&s.on_air_since)
            .and_then(|t| (now - t).to_std().ok())
            .unwrap_or_default();
        let (cut_at, mut cut) = *lock(&s.cut);
        if let Some(from) = cut_at {
            cut += (now - from).to_std().unwrap_or_default();
        }
        let lost = span.saturating_sub(relayed);
        RelayStats {
            relayed: relayed.min(span),
            lost,
            reconnects: s.reconnects.load(Ordering::SeqCst),
            cut: cut.min(lost),
        }
    }

    /// The live view for the dashboard.
    pub fn view(&self) -> RelayView {
        let s = self.shared();
        let (state, why) = lock(&s.link).clone();
        RelayView {
            source: s.subject.clone(),
            state,
            why,
            fallback: s.fallback_on.load(Ordering::SeqCst),
            stats: self.stats(s.clock.now()),
        }
    }

    /// Stops reading now (a relay that will not be resumed).
    pub fn stop(&self) {
        self.shared().stop.store(true, Ordering::SeqCst);
    }
}
