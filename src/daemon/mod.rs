//! The daemon (`cunxiang run`): wakes at each firing, decides through the
//! pure planner what is due, plays it through the player thread, and writes
//! every play to the store before it is reported (while the database file
//! cannot be written, to the store's memory copy, and said: see
//! [`Store::held`]).
//!
//! One task owns all state; the player thread, the store (blocking pool)
//! and the file watcher talk to it over channels.

mod control;
mod core;
mod heartbeat;
mod live;
mod lock;
mod settings;
mod source;
pub mod terminals;
mod watcher;

pub use control::*;
use heartbeat::{set_aside_fault, Heartbeat};
pub use live::*;
pub use lock::{lock_station, StationLock, LOCK_FILE};
pub use settings::*;
pub use source::build_items;
use watcher::watch_files;
pub use watcher::{reload_wanted, WatchedPaths, RELOAD_QUIET};

use self::core::*;
use crate::clock::Clock;
use crate::config::load::Station;
use crate::plan::{self, reasons, Cause, Rules};
use crate::sound::output::{self, Output, PlayerEvent};
use crate::store::{keys, ts, OutageKind, Status, Store};
use chrono::{DateTime, Duration as TimeDelta};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// What woke the run loop.
enum Woke {
    Timer,
    Player(PlayerEvent),
    Terminal(u64, crate::daemon::terminals::TerminalEvent),
    Control(Control),
}

/// Runs the daemon until `shutdown` resolves. The store is opened under the
/// station's data folder; `output` is where sound goes; `control` lets the
/// caller ask for a reload.
///
/// # Errors
/// Only when the event store cannot be opened or written.
pub async fn run(
    mut cfg: RunConfig,
    clock: Arc<dyn Clock>,
    output: Box<dyn Output>,
    control: Option<mpsc::Receiver<Control>>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), RunError> {
    let station = Station::load(&cfg.station_dir);
    let lock = lock_station(&cfg.station_dir, &station.data_dir())?;
    let now = clock.now();
    let data_dir = station.data_dir();
    let (store, damaged) = Store::open_holding(&data_dir, now)?;
    lock.note(&data_dir, None);
    let (ev_tx, mut ev_rx) = mpsc::unbounded_channel();
    let (term_tx, mut term_rx) = mpsc::unbounded_channel();
    let output_name = output.name();
    tracing::info!(output = %output_name, db = %store.path().display(), "starting");
    let (player, player_alive) = output::spawn_player_watched(output, clock.clone(), ev_tx.clone());

    let interrupted = store.call(move |s| s.mark_interrupted(now)).await?;
    if interrupted > 0 {
        tracing::warn!(
            count = interrupted,
            "plays cut by the last stop marked interrupted"
        );
    }
    let every_ms = cfg.heartbeat.as_millis().to_string();
    let (clean, handled, last_beat, open) = store
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
    // A damaged database was set aside: a `store` fault, open until a
    // person takes the kept file away.
    let damaged = match damaged {
        Some(kept) => store
            .call(move |s| Ok(set_aside_fault(s, kept, now)))
            .await?
            .into_iter()
            .collect(),
        None => Vec::new(),
    };

    let mut d = Daemon {
        clock: clock.clone(),
        store,
        station_dir: cfg.station_dir.clone(),
        config: station.config.clone(),
        rules: Rules::from_config(&station.config),
        files: BTreeMap::new(),
        station_errors: Vec::new(),
        broadcasts: Arc::new(Vec::new()),
        handled_until: now,
        prev_wall: now,
        prev_mono: clock.monotonic(),
        player,
        player_alive,
        stuck_players: Vec::new(),
        inflight: Default::default(),
        head_deadline: None,
        ev_tx,
        output_factory: cfg.output_factory.take(),
        next_job: 1,
        current: None,
        waiting: Vec::new(),
        handled_shared: Arc::new(AtomicI64::new(now.timestamp_millis())),
        heartbeat_every: cfg.heartbeat,
        output_name: output_name.clone(),
        clock_sane_after: None,
        content_open: Default::default(),
        output_retry: None,
        output_outage_open: false,
        check_job: None,
        check_cancel: None,
        warned: Default::default(),
        last_warn_check: None,
        stopping: false,
        live: watch::channel(Live::default()).0,
        since: now,
        monitor: cfg.monitor.take(),
        listen: None,
        quiet_carry: Duration::ZERO,
        quiet_started: None,
        signal_open: None,
        signal_found: None,
        monitor_fault_open: false,
        prober: None,
        terminal_tx: term_tx,
        prober_gen: 0,
        applied: false,
        config_open: BTreeMap::new(),
        off_air: Vec::new(),
        off_pending: Vec::new(),
    };
    d.apply_station(station).await?;

    d.output_outage_open = open
        .iter()
        .any(|o| o.kind == OutageKind::Output && !o.subject.starts_with(MONITOR_SUBJECT));
    d.monitor_fault_open = open
        .iter()
        .any(|o| o.kind == OutageKind::Output && o.subject.starts_with(MONITOR_SUBJECT));
    if let Some(o) = open.iter().find(|o| o.kind == OutageKind::Signal) {
        d.signal_open = Some(o.id);
        d.signal_found = Some(clock.monotonic());
    }
    d.content_open = open
        .iter()
        .filter(|o| o.kind == OutageKind::Content)
        .map(|o| o.subject.clone())
        .collect();

    // Start-up: how did the last run end? A clock earlier than the last
    // heartbeat is itself a fault (dead CMOS battery); a clean stop is a
    // person's stop; a long silence without one is a power cut.
    let mut downtime_outage = None;
    if let Some(hb) = last_beat {
        if now + plan::STEP_TOLERANCE < hb {
            let detail = format!(
                "clock reads {}, earlier than the last heartbeat {}",
                ts(now),
                ts(hb)
            );
            tracing::error!(%detail, "PC clock wrong");
            d.store
                .call(move |s| s.open_outage(OutageKind::Clock, CLOCK_SUBJECT, now, &detail))
                .await?;
            d.clock_sane_after = Some(hb);
        } else {
            d.store
                .call(move |s| s.close_outage(OutageKind::Clock, CLOCK_SUBJECT, now))
                .await?;
            let gap = TimeDelta::from_std(d.heartbeat_every * 2).unwrap_or_default();
            if let Some(c) = clean {
                let id = d
                    .store
                    .call(move |s| {
                        s.closed_outage(OutageKind::Stopped, "", c, now, "stopped cleanly")
                    })
                    .await?;
                tracing::info!(since = %c, "was stopped by a person");
                downtime_outage = Some(id);
            } else if now - hb > gap {
                let detail = format!("no clean stop; last heartbeat {}", ts(hb));
                let id = d
                    .store
                    .call(move |s| s.closed_outage(OutageKind::Power, "", hb, now, &detail))
                    .await?;
                tracing::warn!(since = %hb, "power cut or crash: was not running");
                downtime_outage = Some(id);
            }
        }
    }
    if let Some(h) = handled {
        if h < now && d.clock_sane_after.is_none() {
            d.off_air_due(h, now, Some((h, reasons::NOT_RUNNING, downtime_outage)))
                .await?;
            d.handle_due(h, now, Cause::Downtime, downtime_outage)
                .await?;
        }
    }
    // Does the sound device work? An outage opens at once if not.
    d.send_check();
    d.handled_until = now;
    d.publish_handled();
    // The first beat is on disk before the daemon reports itself started.
    let first =
        DateTime::from_timestamp_millis(d.handled_shared.load(Ordering::SeqCst)).unwrap_or(now);
    d.store.call(move |s| s.beat(now, first)).await?;
    let heartbeat = Heartbeat::start(
        d.store.clone(),
        clock.clone(),
        d.handled_shared.clone(),
        cfg.heartbeat,
        cfg.store_alarm,
        damaged,
    );

    let (ctl_tx, mut ctl_rx) = mpsc::channel::<Control>(16);
    d.publish_live();
    let server = match cfg.face.take() {
        Some(face) => {
            let parts = FaceParts {
                station_dir: d.station_dir.clone(),
                clock: clock.clone(),
                control: ctl_tx.clone(),
                live: d.live.subscribe(),
            };
            match face(parts) {
                Ok((addr, task)) => {
                    tracing::info!(%addr, "dashboard and API listening");
                    let (a, i) = (addr.to_string(), d.instance());
                    lock.note(&data_dir, Some((&a, &i)));
                    d.store
                        .call(move |s| {
                            s.set_meta(keys::CONTROL_INSTANCE, &i)?;
                            s.set_meta(keys::CONTROL_ADDR, &a)
                        })
                        .await?;
                    Some(task)
                }
                Err(e) => {
                    tracing::error!(error = %e, "cannot serve the dashboard and API; broadcasting goes on without them");
                    None
                }
            }
        }
        None => None,
    };
    let _watcher = if cfg.watch {
        watch_files(&d.station_dir, &d.config, ctl_tx.clone())
    } else {
        None
    };
    let mut external = control;
    tokio::pin!(shutdown);
    let mut ready = cfg.ready.take();

    let ended: Result<(), RunError> = async {
    loop {
        // Events already waiting are read before the tick judges the
        // player's deadline: a late run loop is not a stuck device.
        while let Ok(ev) = ev_rx.try_recv() {
            d.on_player_event(ev).await?;
        }
        d.tick(None).await?;
        // What the tick queued is shown before the loop sleeps: a firing
        // waiting behind a play is in `queued` while it waits.
        d.publish_live();
        if let Some(r) = ready.take() {
            let _ = r.send(());
        }
        let wake = d.next_wake();
        tracing::trace!(%wake, "sleeping");
        let sleep = d.clock.sleep_until(wake);
        let asleep = (d.clock.now(), std::time::Instant::now());
        let planned = (wake - asleep.0)
            .to_std()
            .unwrap_or_default()
            .min(crate::clock::MAX_SLEEP);
        let woke = tokio::select! {
            _ = &mut shutdown => break,
            _ = sleep => Woke::Timer,
            Some(ev) = ev_rx.recv() => Woke::Player(ev),
            Some((gen, ev)) = term_rx.recv() => Woke::Terminal(gen, ev),
            Some(c) = ctl_rx.recv() => Woke::Control(c),
            Some(c) = async { match external.as_mut() { Some(rx) => rx.recv().await, None => std::future::pending().await } } => Woke::Control(c),
        };
        // Woken far later than asked: the process was frozen (SIGSTOP, a
        // stuck VM) and nothing could go on air. The next tick treats the
        // span as downtime. Measured on real time, unlike the player's
        // deadlines (the injected clock): the freeze is of this process,
        // whatever clock it is given, and a test clock that runs faster
        // than real time only makes the planned sleep longer than it is.
        // Only the wait is measured, never the handling after it, so a
        // store call waiting on another process's lock is not a freeze.
        let late = asleep.1.elapsed().saturating_sub(planned);
        if late > FROZEN_SLACK {
            // The player was frozen too: its deadline moves on by the
            // freeze (not a stuck device). The freeze is decided before
            // the event that woke the loop.
            if let Some(at) = d.head_deadline.as_mut() {
                *at += late;
            }
            let from = asleep.0 + TimeDelta::from_std(planned).unwrap_or_default();
            d.tick(Some((from, late))).await?;
        }
        match woke {
            Woke::Timer => {}
            Woke::Player(ev) => d.on_player_event(ev).await?,
            Woke::Terminal(gen, ev) => {
                if gen == d.prober_gen {
                    d.on_terminal(ev).await?;
                }
            }
            Woke::Control(c) => d.on_control(c).await?,
        }
        d.publish_live();
    }
    Ok(())
    }
    .await;
    if let Err(e) = ended {
        // The store lost for good (the memory copy cannot be kept either)
        // stops the daemon, but never before the broadcast on air ends.
        if let Some(a) = &d.current {
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
        return Err(e);
    }
    if let Some(t) = server {
        t.abort();
    }

    // Shutdown: stop the current play (logged partial), mark a clean stop.
    d.stopping = true;
    if let Some(a) = d.current.as_mut() {
        a.cancel.store(true, Ordering::SeqCst);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        while d.current.is_some() {
            match tokio::time::timeout_at(deadline, ev_rx.recv()).await {
                Ok(Some(ev)) => d.on_player_event(ev).await?,
                _ => break,
            }
        }
        if let Some(a) = d.current.take() {
            let now = d.clock.now();
            d.store
                .call(move |s| s.update(a.row, Status::Partial, Some(now), Some(reasons::STOPPED)))
                .await?;
        }
    }
    // Firings still waiting for the output are logged missed: stopped.
    for p in std::mem::take(&mut d.waiting) {
        if p.resume.is_none() {
            let reason = reasons::STOPPED.to_string();
            d.record_unplayed(&p.firing, Status::Missed, reason, p.trigger, None)
                .await?;
        }
    }
    // Off-air firings still inside their window: as the waiting ones.
    for p in std::mem::take(&mut d.off_pending) {
        let reason = reasons::STOPPED.to_string();
        let outage = d.config_outage(&p.file).await?;
        d.log_off_air_missed(p, reason, outage).await?;
    }
    heartbeat.stop();
    let now = d.clock.now();
    d.store
        .call(move |s| {
            s.set_meta(keys::HEARTBEAT, &ts(now))?;
            s.set_meta(keys::HANDLED_UNTIL, &ts(now))?;
            s.set_meta(keys::CLEAN_STOP, &ts(now))?;
            s.clear_meta(keys::CONTROL_ADDR)?;
            s.clear_meta(keys::CONTROL_INSTANCE)?;
            s.checkpoint()
        })
        .await?;
    // Records still held in memory: a last few tries on the file, then a
    // copy wherever it can be written, and said loudly either way.
    d.store
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
    tracing::info!("stopped cleanly");
    Ok(())
}
