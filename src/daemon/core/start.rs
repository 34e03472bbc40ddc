//! Start-up: the locks, the store (set aside when damaged), the player
//! thread, how the last run ended (clean stop, power cut, a clock behind
//! the last heartbeat) and the firings missed meanwhile. Runs once, before
//! the event loop.

use super::faults::{Faults, Warnings};
use super::hearing::{Hearing, Terminals};
use super::player::Player;
use super::queue::Queue;
use super::tick::ClockWatch;
use super::Daemon;
use crate::clock::Clock;
use crate::config::load::Station;
use crate::daemon::heartbeat::set_aside_fault;
use crate::daemon::live::Live;
use crate::daemon::lock::{lock_station, StationLock};
use crate::daemon::settings::*;
use crate::daemon::terminals::TerminalEvent;
use crate::plan::{self, reasons, Cause, Rules};
use crate::sound::output::{Output, PlayerEvent};
use crate::store::{keys, ts, OutageKind, OutageRow, Store};
use chrono::{DateTime, Duration as TimeDelta, Utc};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// What start-up hands the event loop besides the daemon.
pub(in crate::daemon) struct Started {
    pub(in crate::daemon) daemon: Daemon,
    pub(in crate::daemon) events: Events,
    pub(in crate::daemon) lock: StationLock,
    pub(in crate::daemon) data_dir: PathBuf,
    /// A damaged database set aside at start: (kept file, fault).
    pub(in crate::daemon) damaged: Vec<(PathBuf, String)>,
}

/// The channels the event loop reads besides the control requests.
pub(in crate::daemon) struct Events {
    pub(in crate::daemon) player: mpsc::UnboundedReceiver<PlayerEvent>,
    pub(in crate::daemon) terminals: mpsc::UnboundedReceiver<(u64, TerminalEvent)>,
    pub(in crate::daemon) relays: mpsc::UnboundedReceiver<crate::sound::relay::RelayEvent>,
}

/// A damaged database was set aside: a `store` fault, open until a
/// person takes the kept file away.
async fn damaged_fault(
    store: &Store,
    damaged: Option<PathBuf>,
    now: DateTime<Utc>,
) -> Result<Vec<(PathBuf, String)>, RunError> {
    Ok(match damaged {
        Some(kept) => store
            .call(move |s| Ok(set_aside_fault(s, kept, now)))
            .await?
            .into_iter()
            .collect(),
        None => Vec::new(),
    })
}

/// How the last run ended, as the store remembers it.
struct LastRun {
    clean: Option<DateTime<Utc>>,
    handled: Option<DateTime<Utc>>,
    beat: Option<DateTime<Utc>>,
    open: Vec<OutageRow>,
}

impl Daemon {
    /// Everything before the first wake: on return the daemon's first beat
    /// is on disk and what it missed while down is logged or queued.
    ///
    /// # Errors
    /// Another daemon on the station, or a store that cannot be kept.
    pub(in crate::daemon) async fn boot(
        cfg: &mut RunConfig,
        clock: Arc<dyn Clock>,
        output: Box<dyn Output>,
    ) -> Result<Started, RunError> {
        let station = Station::load(&cfg.station_dir);
        let lock = lock_station(&cfg.station_dir, &station.data_dir())?;
        let now = clock.now();
        let data_dir = station.data_dir();
        let (store, damaged) = Store::open_holding(&data_dir, now)?;
        lock.note(&data_dir, None);
        let (ev_tx, ev_rx) = mpsc::unbounded_channel();
        let (term_tx, term_rx) = mpsc::unbounded_channel();
        let (relay_tx, relay_rx) = mpsc::unbounded_channel();
        tracing::info!(output = %output.name(), db = %store.path().display(), "starting");
        let player = Player::spawn(output, clock.clone(), ev_tx, cfg.output_factory.take());
        let last = last_run(&store, now, cfg.heartbeat).await?;
        let damaged = damaged_fault(&store, damaged, now).await?;

        let mut d = Daemon {
            clock: clock.clone(),
            store,
            station_dir: cfg.station_dir.clone(),
            data_dir: data_dir.clone(),
            config: station.config.clone(),
            rules: Rules::from_config(&station.config),
            files: BTreeMap::new(),
            station_errors: Vec::new(),
            broadcasts: Arc::new(Vec::new()),
            clock_watch: ClockWatch::new(now, clock.monotonic()),
            player,
            current: None,
            queue: Queue::new(now),
            heartbeat_every: cfg.heartbeat,
            faults: Faults::new(),
            warnings: Warnings::default(),
            stopping: false,
            live: watch::channel(Live::default()).0,
            since: now,
            hearing: Hearing::new(cfg.monitor.take()),
            terminals: Terminals::new(term_tx),
            applied: false,
            config_open: BTreeMap::new(),
            off_air: Vec::new(),
            off_pending: Vec::new(),
            relays: super::relays::Relays::new(relay_tx),
        };
        d.apply_station(station).await?;
        d.remember_open(&last.open);
        // A relay on air at the last stop is over: its source's loss ends
        // with that run.
        d.sources_ended(&last.open, last.clean.or(last.beat).unwrap_or(now))
            .await?;
        let missed_since = d.recover(&last, now).await?;
        if let Some((h, outage)) = missed_since {
            d.off_air_due(h, now, Some((h, reasons::NOT_RUNNING, outage)))
                .await?;
            d.handle_due(h, now, Cause::Downtime, outage).await?;
        }
        // Does the sound device work? An outage opens at once if not.
        d.send_check();
        d.queue.handled_to(now);
        d.publish_handled();
        // The first beat is on disk before the daemon reports itself started.
        let first = d.queue.persisted().unwrap_or(now);
        d.store.call(move |s| s.beat(now, first)).await?;
        Ok(Started {
            daemon: d,
            events: Events {
                player: ev_rx,
                terminals: term_rx,
                relays: relay_rx,
            },
            lock,
            data_dir,
            damaged,
        })
    }

    /// The hand-kept flags of which outages are open, from the store.
    fn remember_open(&mut self, open: &[OutageRow]) {
        self.faults.remember_open(open);
        self.hearing.remember_open(open, self.clock.monotonic());
    }

    /// How did the last run end? A clock earlier than the last heartbeat
    /// is itself a fault (dead CMOS battery); a clean stop is a person's
    /// stop; a long silence without one is a power cut. Returns since when
    /// firings were missed, and the outage they were missed against.
    async fn recover(
        &mut self,
        last: &LastRun,
        now: DateTime<Utc>,
    ) -> Result<Option<(DateTime<Utc>, Option<i64>)>, RunError> {
        let mut downtime_outage = None;
        if let Some(hb) = last.beat {
            if now + plan::STEP_TOLERANCE < hb {
                let detail = format!(
                    "clock reads {}, earlier than the last heartbeat {}",
                    ts(now),
                    ts(hb)
                );
                tracing::error!(%detail, "PC clock wrong");
                self.store
                    .call(move |s| s.open_outage(OutageKind::Clock, CLOCK_SUBJECT, now, &detail))
                    .await?;
                self.clock_watch.behind_until(hb);
            } else {
                self.store
                    .call(move |s| s.close_outage(OutageKind::Clock, CLOCK_SUBJECT, now))
                    .await?;
                let gap = TimeDelta::from_std(self.heartbeat_every * 2).unwrap_or_default();
                if let Some(c) = last.clean {
                    let id = self
                        .store
                        .call(move |s| {
                            s.closed_outage(OutageKind::Stopped, "", c, now, "stopped cleanly")
                        })
                        .await?;
                    tracing::info!(since = %c, "was stopped by a person");
                    downtime_outage = Some(id);
                } else if now - hb > gap {
                    let detail = format!("no clean stop; last heartbeat {}", ts(hb));
                    let id = self
                        .store
                        .call(move |s| s.closed_outage(OutageKind::Power, "", hb, now, &detail))
                        .await?;
                    tracing::warn!(since = %hb, "power cut or crash: was not running");
                    downtime_outage = Some(id);
                }
            }
        }
        Ok(last
            .handled
            .filter(|h| *h < now && self.clock_watch.sane_after().is_none())
            .map(|h| (h, downtime_outage)))
    }
}

/// Reads how the last run ended and marks this start: plays the last stop
/// cut are `interrupted`, the clean-stop marker is taken.
async fn last_run(store: &Store, now: DateTime<Utc>, every: Duration) -> Result<LastRun, RunError> {
    let interrupted = store.call(move |s| s.mark_interrupted(now)).await?;
    if interrupted > 0 {
        tracing::warn!(
            count = interrupted,
            "plays cut by the last stop marked interrupted"
        );
    }
    let every_ms = every.as_millis().to_string();
    let (clean, handled, beat, open) = store
        .call(move |s| {
            s.set_meta(keys::HEARTBEAT_EVERY, &every_ms)?;
            if s.meta(keys::FIRST_START)?.is_none() {
                s.set_meta(keys::FIRST_START, &ts(now))?;
            }
            let clean = s.meta_time(keys::CLEAN_STOP)?;
            s.clear_meta(keys::CLEAN_STOP)?;
            Ok((
                clean,
                s.meta_time(keys::HANDLED_UNTIL)?,
                s.meta_time(keys::HEARTBEAT)?,
                s.outages(true, None)?,
            ))
        })
        .await?;
    tracing::info!(
        clean_stop = clean.is_some(),
        "previous run ended {}",
        if clean.is_some() {
            "cleanly"
        } else {
            "without a clean stop (or first start)"
        }
    );
    Ok(LastRun {
        clean,
        handled,
        beat,
        open,
    })
}
