//! The station's state as one typed read model: what `status`,
//! `status --json`, `/api/status`, the dashboard and (through the JSON)
//! the CLI talking to a running daemon show. It owns deciding the state
//! (running, down, stopped...), what needs repair and the JSON's fields;
//! it must not name the daemon (the running daemon's view comes in as a
//! [`Running`]), and a store that cannot be read is shown as such
//! (`store_error`, state `unknown`), never as "all clear".

use super::ledger::{advice_for, kind_word, state};
use super::reading::{store_msg, Reading};
use super::text::Stamp;
use crate::config::diag::Diagnostic;
use crate::config::schedule::Priority;
use crate::i18n::{Lang, Msg};
use crate::plan::{self, Trigger};
use crate::sound::monitor::Hearing;
use crate::sound::relay::{LinkState, RelayView};
use crate::store::{
    keys, HeldState, OutageKind, OutageRow, PlayFilter, Status as PlayStatus, Store, StoreError,
};
use chrono::{DateTime, Duration as TimeDelta, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The daemon's heartbeat when the store does not say its own: the
/// daemon's default (`daemon::HEARTBEAT`; a test in `web` keeps the two
/// equal, since this module may not name the daemon).
pub const HEARTBEAT_FALLBACK: Duration = Duration::from_secs(10);

/// What the running daemon knows that the store does not: handed in by
/// whoever holds the daemon's live view (the web face).
pub struct Running<'a> {
    pub since: Option<DateTime<Utc>>,
    pub instance: &'a str,
    pub output: &'a str,
    pub on_air: Option<OnAir<'a>>,
    /// Firings waiting for the output, most urgent first.
    pub queued: &'a [(String, DateTime<Utc>, Priority)],
    /// The next planned firings.
    pub next: Vec<(String, DateTime<Utc>, Priority)>,
    /// Current errors of the station and schedule files.
    pub errors: &'a [Diagnostic],
    pub monitor: Option<(&'a str, &'a Hearing)>,
    /// Records held in memory for a database that cannot be written.
    pub held: Option<HeldState>,
}

/// The firing on air, as the running daemon sees it.
pub struct OnAir<'a> {
    pub broadcast: &'a str,
    pub priority: Priority,
    pub trigger: Trigger,
    pub scheduled_at: DateTime<Utc>,
    /// The item on air, its index and the number of items.
    pub item: Option<&'a str>,
    pub index: usize,
    pub items: usize,
    pub position: Duration,
    pub duration: Duration,
    /// Set while a higher priority is cutting it.
    pub cut_by: Option<&'a str>,
    /// A relay's live state.
    pub relay: Option<RelayView>,
}

/// A relay on air: its link and what went out so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelayOnAir {
    pub source: String,
    /// `connecting`, `connected` or `lost` (reconnecting).
    pub state: String,
    pub why: Option<String>,
    /// Whether the fallback is on air now.
    pub fallback: bool,
    pub relayed_s: f64,
    pub lost_s: f64,
    pub reconnects: u32,
}

impl From<&RelayView> for RelayOnAir {
    fn from(v: &RelayView) -> Self {
        RelayOnAir {
            source: v.source.clone(),
            state: match v.state {
                LinkState::Connecting => "connecting",
                LinkState::Connected => "connected",
                LinkState::Lost => "lost",
            }
            .to_string(),
            why: v.why.clone(),
            fallback: v.fallback,
            relayed_s: v.stats.relayed.as_secs_f64(),
            lost_s: v.stats.lost.as_secs_f64(),
            reconnects: v.stats.reconnects,
        }
    }
}

/// The daemon's state as far as can be told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Running,
    /// Nothing can be read: not "never ran".
    Unknown,
    NeverRun,
    /// Stopped by a person (a clean stop).
    Stopped,
    /// Stopped beating without a clean stop: power cut, crash, killed.
    Down,
}

/// The station's state: the fields (and their order) of `status --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub station: String,
    pub timezone: String,
    pub version: String,
    pub now: Stamp,
    pub state: State,
    pub state_code: u8,
    pub live: bool,
    pub running_since: Option<Stamp>,
    pub instance: Option<String>,
    pub output: Option<String>,
    pub monitor: Option<Monitor>,
    pub last_heartbeat: Option<Stamp>,
    pub now_playing: Option<NowPlaying>,
    pub queued: Vec<Upcoming>,
    pub open_outages: Vec<OpenOutage>,
    pub next: Vec<Upcoming>,
    pub schedule_errors: Vec<String>,
    pub warnings: Vec<String>,
    pub store_error: Option<String>,
    pub needs_repair: bool,
}

/// The monitor input and what it last measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Monitor {
    pub input: String,
    /// dBFS, to a tenth.
    pub last_db: Option<f32>,
    pub last_at: Option<Stamp>,
    pub last_heard: Option<Stamp>,
    pub error: Option<String>,
}

/// What is on air: the live view's (with progress), or the store's
/// `playing` row when the daemon does not answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum NowPlaying {
    Live {
        broadcast: String,
        priority: Priority,
        trigger: Trigger,
        scheduled_at: Stamp,
        item: Option<String>,
        item_index: usize,
        items: usize,
        position_s: f64,
        duration_s: f64,
        cut_by: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        relay: Option<RelayOnAir>,
    },
    Recorded {
        broadcast: String,
        priority: String,
        trigger: Trigger,
        scheduled_at: Stamp,
        started_at: Option<Stamp>,
    },
}

/// A firing waiting or planned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Upcoming {
    pub broadcast: String,
    pub scheduled_at: Stamp,
    pub priority: Priority,
}

/// An open outage on the repair list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenOutage {
    pub id: i64,
    pub kind: OutageKind,
    pub subject: String,
    pub since: Stamp,
    pub lost: i64,
    pub fault: bool,
    pub detail: Option<String>,
    /// The kind and the advice in the operator's words.
    pub what: String,
    pub advice: String,
}

impl Status {
    /// The open outages that are faults (the repair list proper).
    pub fn faults(&self) -> impl Iterator<Item = &OpenOutage> {
        self.open_outages.iter().filter(|o| o.fault)
    }
}

/// Store reads for one status: the first failure kept, in words.
struct Reads<'a> {
    store: Option<&'a Store>,
    error: Option<String>,
    lang: Lang,
}

impl Reads<'_> {
    fn get<T>(&mut self, f: impl FnOnce(&Store) -> Result<T, StoreError>) -> Option<T> {
        match f(self.store?) {
            Ok(v) => Some(v),
            Err(e) => {
                self.fail(&e);
                None
            }
        }
    }

    fn fail(&mut self, e: &StoreError) {
        let lang = self.lang;
        self.error
            .get_or_insert_with(|| format!("{}: {e}", store_msg(e).render(lang)));
    }

    fn meta(&mut self, k: &str) -> Option<String> {
        self.get(|s| s.meta(k)).flatten()
    }
}

/// The daemon's state from its heartbeat and its last stop.
struct Beat {
    state: State,
    down: bool,
    heartbeat: Option<DateTime<Utc>>,
}

fn beat(reads: &mut Reads<'_>, now: DateTime<Utc>, live: bool) -> Beat {
    let hb = reads
        .meta(keys::HEARTBEAT)
        .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
        .map(|t| t.with_timezone(&Utc));
    let clean = reads.meta(keys::CLEAN_STOP).is_some();
    let every = reads
        .meta(keys::HEARTBEAT_EVERY)
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(HEARTBEAT_FALLBACK.as_millis() as i64);
    let down = !live && !clean && hb.is_some_and(|h| now - h > TimeDelta::milliseconds(3 * every));
    let state = match (live, hb, clean, down) {
        (true, _, _, _) => State::Running,
        (_, None, _, _) if reads.error.is_some() => State::Unknown,
        (_, None, _, _) => State::NeverRun,
        (_, _, true, _) => State::Stopped,
        (_, _, _, true) => State::Down,
        _ => State::Running,
    };
    Beat {
        state,
        down,
        heartbeat: hb,
    }
}

/// The station's state at `now`. `live` is the running daemon's own view
/// (now playing with progress, queue, next firings, current errors);
/// without it the store and the schedule files tell what they can.
pub fn status(r: &Reading, now: DateTime<Utc>, lang: Lang, live: Option<&Running<'_>>) -> Status {
    let tz = r.rules.tz;
    let mut reads = Reads {
        store: r.store(),
        error: None,
        lang,
    };
    if let Err(e) = &r.store {
        reads.fail(e);
    }
    let b = beat(&mut reads, now, live.is_some());
    let open = open_outages(&mut reads, live, lang);
    let now_playing = now_playing(&reads, live, b.state, tz);
    let next = match live {
        Some(l) => upcoming(&l.next, tz),
        None => upcoming(&planned(r, now), tz),
    };
    let errors = schedule_errors(r, &mut reads, live, b.state, lang);
    let warnings = warnings(r, &mut reads, now, lang);
    let store_error = reads.error;
    // A file off air is broadcasts lost: schedule and station errors need
    // repair as much as an open outage does.
    let needs_repair = b.down
        || store_error.is_some()
        || !errors.is_empty()
        || open.iter().any(|o| o.kind.is_fault());
    let state_code = if needs_repair {
        state::FAULT
    } else if now_playing.is_some() {
        state::BROADCASTING
    } else if b.state == State::Stopped {
        state::STOPPED
    } else {
        state::NORMAL
    };
    let stamp = |t: DateTime<Utc>| Stamp::at(t, tz);
    Status {
        station: r.station.config.name.clone(),
        timezone: tz.name().to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        now: stamp(now),
        state: b.state,
        state_code,
        live: live.is_some(),
        running_since: live.and_then(|l| l.since).map(stamp),
        instance: live.map(|l| l.instance.to_string()),
        output: live.map(|l| l.output.to_string()),
        monitor: live.and_then(|l| l.monitor).map(|(n, h)| monitor(n, h, tz)),
        last_heartbeat: b.heartbeat.map(stamp),
        now_playing,
        queued: live.map(|l| upcoming(l.queued, tz)).unwrap_or_default(),
        open_outages: open.iter().map(|o| open_outage(o, tz, lang)).collect(),
        next,
        schedule_errors: errors,
        warnings,
        store_error,
        needs_repair,
    }
}

/// The open outages, with the daemon's records waiting in memory for a
/// database that cannot be written first (a `store` fault the file
/// itself cannot show yet).
fn open_outages(reads: &mut Reads<'_>, live: Option<&Running<'_>>, lang: Lang) -> Vec<OutageRow> {
    let mut open = reads.get(|s| s.outages(true, None)).unwrap_or_default();
    if let Some(h) = live.and_then(|l| l.held.as_ref()) {
        let detail = format!(
            "{} {}: {}",
            h.rows,
            lang.pick(
                "条记录暂存在内存中，尚未写入数据库",
                "records held in memory, not yet in the database"
            ),
            h.error
        );
        open.insert(0, h.outage(detail));
    }
    open
}

fn now_playing(
    reads: &Reads<'_>,
    live: Option<&Running<'_>>,
    st: State,
    tz: Tz,
) -> Option<NowPlaying> {
    let stamp = |t: DateTime<Utc>| Stamp::at(t, tz);
    match live {
        Some(l) => l.on_air.as_ref().map(|p| NowPlaying::Live {
            broadcast: p.broadcast.to_string(),
            priority: p.priority,
            trigger: p.trigger,
            scheduled_at: stamp(p.scheduled_at),
            item: p.item.map(str::to_string),
            item_index: p.index,
            items: p.items,
            position_s: p.position.as_secs_f64(),
            duration_s: p.duration.as_secs_f64(),
            cut_by: p.cut_by.map(str::to_string),
            relay: p.relay.as_ref().map(RelayOnAir::from),
        }),
        // A failed read here is no play, not a fault of its own.
        None if st == State::Running => reads
            .store?
            .plays(&PlayFilter {
                status: Some(PlayStatus::Playing),
                ..Default::default()
            })
            .ok()?
            .into_iter()
            .next()
            .map(|p| NowPlaying::Recorded {
                broadcast: p.broadcast,
                priority: p.priority,
                trigger: p.trigger,
                scheduled_at: stamp(p.scheduled_at),
                started_at: p.started_at.map(stamp),
            }),
        None => None,
    }
}

/// The next five firings by the schedule files.
fn planned(r: &Reading, now: DateTime<Utc>) -> Vec<(String, DateTime<Utc>, Priority)> {
    plan::upcoming(&r.station.broadcasts(), &r.rules, now, 5)
        .into_iter()
        .map(|f| (f.broadcast, f.scheduled_at, f.priority))
        .collect()
}

fn upcoming(v: &[(String, DateTime<Utc>, Priority)], tz: Tz) -> Vec<Upcoming> {
    v.iter()
        .map(|(b, at, p)| Upcoming {
            broadcast: b.clone(),
            scheduled_at: Stamp::at(*at, tz),
            priority: *p,
        })
        .collect()
}

fn monitor(name: &str, h: &Hearing, tz: Tz) -> Monitor {
    Monitor {
        input: name.to_string(),
        last_db: h.last_db.map(|d| (d * 10.0).round() / 10.0),
        last_at: h.last_at.map(|t| Stamp::at(t, tz)),
        last_heard: h.last_heard.map(|t| Stamp::at(t, tz)),
        error: h.error.clone(),
    }
}

fn open_outage(o: &OutageRow, tz: Tz, lang: Lang) -> OpenOutage {
    OpenOutage {
        id: o.id,
        kind: o.kind,
        subject: o.subject.clone(),
        since: Stamp::at(o.started_at, tz),
        lost: o.lost,
        fault: o.kind.is_fault(),
        detail: o.detail.clone(),
        what: kind_word(lang, o.kind).to_string(),
        advice: advice_for(lang, o.kind, &o.subject).to_string(),
    }
}

/// The live view's errors; else those the running daemon last wrote to
/// the store; else the files' own.
fn schedule_errors(
    r: &Reading,
    reads: &mut Reads<'_>,
    live: Option<&Running<'_>>,
    st: State,
    lang: Lang,
) -> Vec<String> {
    match live {
        Some(l) => l.errors.iter().map(|d| d.render(lang)).collect(),
        None if reads.store.is_some() && st == State::Running => reads
            .meta(keys::SCHEDULE_ERRORS)
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default(),
        None => r
            .station
            .diagnostics()
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.render(lang))
            .collect(),
    }
}

/// The daemon's warnings about firings still to come, and an edit that
/// waits for a restart (the data folder), said where the technician looks.
fn warnings(r: &Reading, reads: &mut Reads<'_>, now: DateTime<Utc>, lang: Lang) -> Vec<String> {
    let stored: Vec<serde_json::Value> = reads
        .meta(keys::WARNINGS)
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    let from = crate::store::ts(now);
    stored
        .iter()
        .filter(|w| {
            w["scheduled_at"]
                .as_str()
                .is_some_and(|t| t >= from.as_str())
        })
        .filter_map(|w| w[lang.pick("zh", "en")].as_str().map(str::to_string))
        .chain(
            r.station
                .station_diags
                .iter()
                .filter(|d| matches!(d.msg, Msg::DataFolderChanged { .. }))
                .map(|d| d.render(lang)),
        )
        .collect()
}
