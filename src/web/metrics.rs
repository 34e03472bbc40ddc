//! `/metrics`: the station's state in the Prometheus text format, for a
//! county technician's monitoring stack (alert rules in
//! `deploy/prometheus/`).
//!
//! Values are read from the store and the daemon's live view at each
//! scrape into a fresh registry: nothing is kept between scrapes, so the
//! numbers are always what the as-run log and the ledger say. It must not
//! cache, and a read that fails leaves its metrics out (never a zero).

use crate::daemon::Live;
use crate::sound::monitor::Hearing;
use crate::store::{keys, OutageKind, Status, Store, StoreError};
use crate::views::Reading;
use chrono::{DateTime, Utc};
use prometheus::{Encoder, Gauge, GaugeVec, IntGauge, IntGaugeVec, Opts, Registry};
use std::cell::Cell;

fn secs(t: DateTime<Utc>) -> f64 {
    t.timestamp_millis() as f64 / 1000.0
}

/// Renders every metric for `station` at `now`; `stopping`: the daemon
/// is stopping cleanly (see `daemon::Scrapes`).
pub fn render(reading: &Reading, now: DateTime<Utc>, live: &Live, stopping: bool) -> String {
    match build(reading, now, live, stopping) {
        Ok(r) => {
            let mut buf = Vec::new();
            let enc = prometheus::TextEncoder::new();
            if let Err(e) = enc.encode(&r.gather(), &mut buf) {
                tracing::error!(error = %e, "cannot encode metrics");
            }
            String::from_utf8(buf).unwrap_or_default()
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot build metrics");
            String::new()
        }
    }
}

/// One scrape: a fresh registry, the store as opened for it, and whether
/// every read of it succeeded.
struct Scrape<'a> {
    r: Registry,
    store: Option<&'a Store>,
    /// A read that fails leaves its metrics out (never a false zero) and
    /// sets cunxiang_store_ok to 0, for an alert.
    store_ok: Cell<bool>,
}

impl Scrape<'_> {
    fn gauge(&self, name: &str, help: &str, v: f64) -> prometheus::Result<()> {
        let g = Gauge::new(name, help)?;
        g.set(v);
        self.r.register(Box::new(g))
    }

    fn int(&self, name: &str, help: &str, v: i64) -> prometheus::Result<()> {
        let g = IntGauge::new(name, help)?;
        g.set(v);
        self.r.register(Box::new(g))
    }

    /// A store read: `None` when there is no store or the read failed
    /// (then noted).
    fn read<T>(&self, f: impl FnOnce(&Store) -> Result<T, StoreError>) -> Option<T> {
        match f(self.store?) {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::warn!(error = %e, "metrics: a store read failed");
                self.store_ok.set(false);
                None
            }
        }
    }
}

fn build(
    reading: &Reading,
    now: DateTime<Utc>,
    live: &Live,
    stopping: bool,
) -> prometheus::Result<Registry> {
    let store_ok = Cell::new(true);
    let store = match &reading.store {
        Ok(s) => s.as_ref(),
        Err(e) => {
            tracing::warn!(error = %e, "metrics: cannot read the store");
            store_ok.set(false);
            None
        }
    };
    let sc = Scrape {
        r: Registry::new(),
        store,
        store_ok,
    };
    let rules = &reading.rules;
    let today = crate::plan::day_start(rules, now.with_timezone(&rules.tz).date_naive());
    daemon(&sc, &reading.station.config.name, now, live)?;
    sc.int(
        "cunxiang_stopping",
        "1 when the daemon is stopping cleanly (SIGTERM, Ctrl-C): the `up == 0` that follows is a person's stop, not a power cut.",
        stopping as i64,
    )?;
    plays(&sc, today)?;
    if let Some((_, h)) = &live.monitor {
        monitor(&sc, today, h)?;
    }
    outages(&sc, live)?;
    relay(&sc, live)?;
    sc.gauge(
        "cunxiang_store_ok",
        "1 while the as-run log and outage ledger can be read; 0: the open outages and counts are unknown (left out, never zero).",
        sc.store_ok.get() as i64 as f64,
    )?;
    Ok(sc.r)
}

/// The daemon itself: up, version, clock, start, heartbeat, what plays
/// and waits, the next firing, the files' errors.
fn daemon(
    sc: &Scrape<'_>,
    station: &str,
    now: DateTime<Utc>,
    live: &Live,
) -> prometheus::Result<()> {
    sc.gauge("cunxiang_up", "1 while the daemon answers.", 1.0)?;
    let info = IntGaugeVec::new(
        Opts::new(
            "cunxiang_build_info",
            "The station and the program version.",
        ),
        &["station", "version"],
    )?;
    info.with_label_values(&[station, env!("CARGO_PKG_VERSION")])
        .set(1);
    sc.r.register(Box::new(info))?;
    sc.gauge(
        "cunxiang_time_seconds",
        "The broadcast PC's wall clock at the scrape (compare with the scrape time to see a wrong clock).",
        secs(now),
    )?;
    if let Some(since) = live.since {
        sc.gauge(
            "cunxiang_start_time_seconds",
            "When the daemon started.",
            secs(since),
        )?;
    }
    if let Some(hb) = sc.read(|s| s.meta_time(keys::HEARTBEAT)).flatten() {
        sc.gauge(
            "cunxiang_last_heartbeat_timestamp_seconds",
            "The last heartbeat written to the store.",
            secs(hb),
        )?;
    }
    sc.int(
        "cunxiang_playing",
        "1 while a broadcast is on air.",
        live.now_playing.is_some() as i64,
    )?;
    let prio = IntGaugeVec::new(
        Opts::new(
            "cunxiang_playing_priority",
            "1 for the priority of the broadcast on air.",
        ),
        &["priority"],
    )?;
    if let Some(p) = &live.now_playing {
        prio.with_label_values(&[p.priority.as_str()]).set(1);
    }
    sc.r.register(Box::new(prio))?;
    sc.int(
        "cunxiang_queued",
        "Firings waiting for the output.",
        live.queued.len() as i64,
    )?;
    if let Some((_, at, _)) = live.next(now, 1).first() {
        sc.gauge(
            "cunxiang_next_firing_timestamp_seconds",
            "When the next planned broadcast fires.",
            secs(*at),
        )?;
    }
    sc.int(
        "cunxiang_schedule_errors",
        "Errors in the station and schedule files (the last good version stays on air).",
        live.errors.len() as i64,
    )
}

/// A relay on air: its link, and what went out so far (absent when no
/// relay plays).
fn relay(sc: &Scrape<'_>, live: &Live) -> prometheus::Result<()> {
    let Some(v) = live
        .now_playing
        .as_ref()
        .and_then(|p| p.relay.as_ref())
        .map(|f| f.view())
    else {
        return Ok(());
    };
    let link = IntGaugeVec::new(
        Opts::new(
            "cunxiang_relay_connected",
            "1 while the relayed source on air is connected and sounding; 0 while it is lost or connecting (the fallback or silence goes out).",
        ),
        &["source"],
    )?;
    link.with_label_values(&[&v.source])
        .set((v.state == crate::sound::relay::LinkState::Connected) as i64);
    sc.r.register(Box::new(link))?;
    let secs = GaugeVec::new(
        Opts::new(
            "cunxiang_relay_seconds",
            "Seconds of the relay on air so far: relayed (the source went out) or lost.",
        ),
        &["source", "kind"],
    )?;
    secs.with_label_values(&[&v.source, "relayed"])
        .set(v.stats.relayed.as_secs_f64());
    secs.with_label_values(&[&v.source, "lost"])
        .set(v.stats.lost.as_secs_f64());
    sc.r.register(Box::new(secs))?;
    sc.int(
        "cunxiang_relay_reconnects",
        "Connections the relay on air tried after its first.",
        v.stats.reconnects as i64,
    )
}

/// As-run rows by status, all time and today.
fn plays(sc: &Scrape<'_>, today: DateTime<Utc>) -> prometheus::Result<()> {
    // A gauge, not a counter: a row changes status (playing -> played,
    // partial -> played on resume), so per-status counts go down too.
    let plays = IntGaugeVec::new(
        Opts::new("cunxiang_plays", "As-run log rows by status, all time."),
        &["status"],
    )?;
    let day = IntGaugeVec::new(
        Opts::new(
            "cunxiang_plays_today",
            "As-run log rows scheduled today (station time) by status.",
        ),
        &["status"],
    )?;
    // No database yet: every count is zero. A database that cannot be
    // read: no counts at all.
    let count = |since| sc.store.map(|_| sc.read(|s| s.count_by_status(since)));
    let all = sc.store.map(|_| sc.read(|s| all_time(s, today)));
    let now_day = count(Some(today));
    let n = |v: &[(Status, i64)], s: Status| v.iter().find(|(x, _)| *x == s).map_or(0, |(_, n)| *n);
    for (counts, vec) in [(all, plays), (now_day, day)] {
        if let Some(counts) = counts.unwrap_or(Some(Vec::new())) {
            for s in Status::ALL {
                vec.with_label_values(&[s.as_str()]).set(n(&counts, s));
            }
            sc.r.register(Box::new(vec))?;
        }
    }
    Ok(())
}

/// Rows older than this are settled: their status no longer changes (a
/// crashed run's `playing` row is settled at the next start, a cut play
/// resumes the same day).
const SETTLED_AFTER: chrono::TimeDelta = chrono::TimeDelta::days(7);

/// The settled past's counts by status, per database file, as of a cut.
struct Settled {
    file: (std::path::PathBuf, u64),
    cut: DateTime<Utc>,
    counts: Vec<(Status, i64)>,
}

static SETTLED: std::sync::Mutex<Option<Settled>> = std::sync::Mutex::new(None);

/// The database file, told apart from a new one at the same path (a
/// deleted database restored) by its inode where there is one.
fn file_id(store: &Store) -> (std::path::PathBuf, u64) {
    let path = store.path().to_path_buf();
    #[cfg(unix)]
    let id = {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(&path).map_or(0, |m| m.ino())
    };
    #[cfg(not(unix))]
    let id = 0;
    (path, id)
}

/// All-time counts by status without reading a year of rows per scrape:
/// the settled past (older than a week before today) counted once a day
/// and kept, plus the last week read through the time index. Measured
/// with 193,000 rows: 40 ms a scrape before, see README.
fn all_time(store: &Store, today: DateTime<Utc>) -> Result<Vec<(Status, i64)>, StoreError> {
    let cut = today - SETTLED_AFTER;
    let file = file_id(store);
    let mut cache = SETTLED.lock().unwrap_or_else(|p| p.into_inner());
    let fresh = cache
        .as_ref()
        .is_some_and(|c| c.cut == cut && c.file == file);
    if !fresh {
        let counts = store.count_by_status_before(cut)?;
        *cache = Some(Settled { file, cut, counts });
    }
    let mut counts = cache.as_ref().map(|c| c.counts.clone()).unwrap_or_default();
    drop(cache);
    for (status, n) in store.count_by_status(Some(cut))? {
        match counts.iter_mut().find(|(s, _)| *s == status) {
            Some((_, total)) => *total += n,
            None => counts.push((status, n)),
        }
    }
    Ok(counts)
}

/// Proof of air: plays heard today, the input's level and health.
fn monitor(sc: &Scrape<'_>, today: DateTime<Utc>, h: &Hearing) -> prometheus::Result<()> {
    let (verified, judged) = sc.read(|s| s.count_heard(today)).unwrap_or_default();
    sc.int(
        "cunxiang_plays_verified_today",
        "Plays today the monitor input heard (proof of air).",
        verified,
    )?;
    if judged > 0 {
        sc.gauge(
            "cunxiang_plays_verified_share_today",
            "Share of today's judged plays the monitor heard (0..1).",
            verified as f64 / judged as f64,
        )?;
    }
    if let Some(db) = h.last_db {
        sc.gauge(
            "cunxiang_monitor_level_dbfs",
            "The monitor input's last measured level (RMS, dBFS).",
            db as f64,
        )?;
    }
    sc.int(
        "cunxiang_monitor_ok",
        "1 while the monitor input delivers sound, 0 when it failed.",
        h.error.is_none() as i64,
    )
}

/// The repair list: open outages by kind and since when, with the
/// records the daemon holds in memory.
fn outages(sc: &Scrape<'_>, live: &Live) -> prometheus::Result<()> {
    let mut open = match sc.store {
        Some(_) => sc.read(|s| s.outages(true, None)),
        None if sc.store_ok.get() => Some(Vec::new()),
        None => None,
    };
    // Records the daemon holds in memory (the file cannot be written): a
    // `store` fault the file cannot show yet.
    let held = live.store.as_ref().and_then(|s| s.held());
    if let (Some(open), Some(h)) = (open.as_mut(), &held) {
        open.push(h.outage(h.error.clone()));
    }
    sc.gauge(
        "cunxiang_records_held",
        "Play and outage rows held in memory because the database cannot be written (0 normally).",
        held.map_or(0.0, |h| h.rows as f64),
    )?;
    let Some(open) = open else { return Ok(()) };
    let by_kind = IntGaugeVec::new(
        Opts::new(
            "cunxiang_open_outages",
            "Open outages by kind (the repair list).",
        ),
        &["kind"],
    )?;
    let since = GaugeVec::new(
        Opts::new(
            "cunxiang_outage_open_since_timestamp_seconds",
            "When each open outage started.",
        ),
        &["kind", "subject"],
    )?;
    for k in OutageKind::ALL.into_iter().filter(|k| k.is_fault()) {
        let n = open.iter().filter(|o| o.kind == k).count();
        by_kind.with_label_values(&[k.as_str()]).set(n as i64);
    }
    for o in &open {
        since
            .with_label_values(&[o.kind.as_str(), o.subject.as_str()])
            .set(secs(o.started_at));
    }
    sc.r.register(Box::new(by_kind))?;
    sc.r.register(Box::new(since))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{NewPlay, Trigger};

    fn play(store: &Store, name: &str, at: DateTime<Utc>, status: Status) {
        store
            .insert_play(&NewPlay {
                broadcast: name,
                scheduled_at: at,
                started_at: Some(at),
                ended_at: Some(at),
                status,
                reason: None,
                trigger: Trigger::Schedule,
                priority: "normal",
                files: &[],
            })
            .unwrap();
    }

    fn n(v: &[(Status, i64)], s: Status) -> i64 {
        v.iter().find(|(x, _)| *x == s).map_or(0, |(_, n)| *n)
    }

    #[test]
    fn all_time_counts_add_the_kept_past_to_the_last_week() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let today: DateTime<Utc> = "2026-12-03T16:00:00Z".parse().unwrap();
        for d in 1..=40 {
            let status = if d % 10 == 0 {
                Status::Missed
            } else {
                Status::Played
            };
            play(&store, "a", today - chrono::TimeDelta::days(d), status);
        }
        let first = all_time(&store, today).unwrap();
        assert_eq!(
            (n(&first, Status::Played), n(&first, Status::Missed)),
            (36, 4)
        );
        // A new row this week counts at once; the past comes from the cache.
        play(&store, "b", today, Status::Failed);
        let second = all_time(&store, today).unwrap();
        assert_eq!(n(&second, Status::Failed), 1);
        assert_eq!(n(&second, Status::Played), 36);
        // The next day moves the cut: the sums stay whole.
        let next = all_time(&store, today + chrono::TimeDelta::days(1)).unwrap();
        for st in [Status::Played, Status::Missed, Status::Failed] {
            assert_eq!(n(&next, st), n(&second, st), "{st:?}");
        }
        assert_eq!(
            n(&next, Status::Played) + n(&next, Status::Missed) + n(&next, Status::Failed),
            41
        );
        // A new database at the same path (a deleted one restored) is
        // counted afresh, not from the old file's cache.
        drop(store);
        std::fs::remove_dir_all(dir.path()).unwrap();
        std::fs::create_dir_all(dir.path()).unwrap();
        let store = Store::open(dir.path()).unwrap();
        play(
            &store,
            "c",
            today - chrono::TimeDelta::days(30),
            Status::Played,
        );
        let fresh = all_time(&store, today).unwrap();
        assert_eq!(n(&fresh, Status::Played), 1);
        assert_eq!(n(&fresh, Status::Missed), 0);
    }
}
