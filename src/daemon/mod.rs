//! The daemon (`cunxiang run`): wakes at each firing, decides through the
//! pure planner what is due, plays it through the player thread, and writes
//! every play to the store before it is reported (while the database file
//! cannot be written, to the store's memory copy, and said: see
//! [`Store::held`]).
//!
//! One task owns all state; the player thread, the store (blocking pool)
//! and the file watcher talk to it over channels. This file holds only
//! `run` and the event loop that routes each wake to the daemon
//! (`core/`); it decides nothing itself and never imports the web face.

mod control;
mod core;
mod heartbeat;
mod live;
mod lock;
pub mod notice;
mod relay;
mod settings;
mod source;
mod stopping;
pub mod terminals;
mod watcher;

pub use control::*;
use heartbeat::Heartbeat;
pub use live::*;
pub use lock::{lock_station, StationLock, LOCK_FILE};
pub use settings::*;
pub use source::build_items;
pub use stopping::{Scrapes, MAX_LINGER};
use watcher::watch_files;
pub use watcher::{reload_wanted, WatchedPaths, RELOAD_QUIET};

use self::core::{Daemon, Events, Started};
use crate::clock::Clock;
use crate::sound::output::{Output, PlayerEvent};
use crate::store::keys;
use chrono::{DateTime, Duration as TimeDelta, Utc};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// What woke the run loop.
enum Woke {
    Timer,
    Player(PlayerEvent),
    Terminal(u64, crate::daemon::terminals::TerminalEvent),
    Control(Control),
    Relay(crate::sound::relay::RelayEvent),
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
    let Started {
        daemon: mut d,
        mut events,
        lock,
        data_dir,
        damaged,
    } = Daemon::boot(&mut cfg, clock.clone(), output).await?;
    let heartbeat = Heartbeat::start(
        d.store.clone(),
        clock,
        d.handled_shared(),
        cfg.heartbeat,
        cfg.store_alarm,
        damaged,
    );
    let (ctl_tx, ctl_rx) = mpsc::channel::<Control>(16);
    d.publish_live();
    let scrapes = Arc::new(Scrapes::default());
    let server = match cfg.face.take() {
        Some(face) => {
            let face = (face, scrapes.clone());
            serve(&mut d, face, ctl_tx.clone(), &lock, &data_dir).await?
        }
        None => None,
    };
    let _watcher = if cfg.watch {
        watch_files(&d.station_dir, &d.config, ctl_tx)
    } else {
        None
    };
    let inputs = Inputs {
        control: ctl_rx,
        external: control,
        ready: cfg.ready.take(),
    };
    if let Err(e) = event_loop(&mut d, &mut events, inputs, shutdown).await {
        d.end_on_air_first(&e, &mut events.player).await;
        return Err(e);
    }
    d.stop_all(&mut events.player).await?;
    heartbeat.stop();
    d.close_store().await?;
    if let Some(t) = server {
        // A scraper that reads /metrics learns that this is a clean stop.
        scrapes.stop().await;
        t.abort();
    }
    tracing::info!("stopped cleanly");
    Ok(())
}

/// What the event loop reads besides the player and the terminals.
struct Inputs {
    control: mpsc::Receiver<Control>,
    external: Option<mpsc::Receiver<Control>>,
    /// Told once, after the first wake.
    ready: Option<tokio::sync::oneshot::Sender<()>>,
}

/// The event loop: one wake at a time, each routed to the daemon; it
/// sleeps until the next deadline the daemon names.
async fn event_loop(
    d: &mut Daemon,
    events: &mut Events,
    mut inputs: Inputs,
    shutdown: impl Future<Output = ()>,
) -> Result<(), RunError> {
    tokio::pin!(shutdown);
    loop {
        // Events already waiting are read before the tick judges the
        // player's deadline: a late run loop is not a stuck device.
        while let Ok(ev) = events.player.try_recv() {
            d.on_player_event(ev).await?;
        }
        d.tick(None).await?;
        // What the tick queued is shown before the loop sleeps: a firing
        // waiting behind a play is in `queued` while it waits.
        d.publish_live();
        if let Some(r) = inputs.ready.take() {
            let _ = r.send(());
        }
        let wake = d.next_wake();
        tracing::trace!(%wake, "sleeping");
        let sleep = d.clock.sleep_until(wake);
        let asleep = Asleep::until(d.clock.now(), wake);
        let external = async {
            match inputs.external.as_mut() {
                Some(rx) => rx.recv().await,
                None => std::future::pending().await,
            }
        };
        let woke = tokio::select! {
            _ = &mut shutdown => return Ok(()),
            _ = sleep => Woke::Timer,
            Some(ev) = events.player.recv() => Woke::Player(ev),
            Some((gen, ev)) = events.terminals.recv() => Woke::Terminal(gen, ev),
            Some(ev) = events.relays.recv() => Woke::Relay(ev),
            Some(c) = inputs.control.recv() => Woke::Control(c),
            Some(c) = external => Woke::Control(c),
        };
        if let Some((from, late)) = asleep.frozen() {
            d.thawed(from, late).await?;
        }
        match woke {
            Woke::Timer => {}
            Woke::Player(ev) => d.on_player_event(ev).await?,
            Woke::Terminal(gen, ev) => d.on_terminal(gen, ev).await?,
            Woke::Control(c) => d.on_control(c).await?,
            Woke::Relay(ev) => d.on_relay(ev).await?,
        }
        d.publish_live();
    }
}

/// A sleep of the run loop, measured on real time.
struct Asleep {
    at: DateTime<Utc>,
    real: std::time::Instant,
    planned: Duration,
}

impl Asleep {
    fn until(now: DateTime<Utc>, wake: DateTime<Utc>) -> Asleep {
        let planned = (wake - now)
            .to_std()
            .unwrap_or_default()
            .min(crate::clock::MAX_SLEEP);
        Asleep {
            at: now,
            real: std::time::Instant::now(),
            planned,
        }
    }

    /// Woken far later than asked: the process was frozen (SIGSTOP, a
    /// stuck VM) and nothing could go on air; from when, for how long.
    /// Measured on real time, unlike the player's deadlines (the injected
    /// clock): the freeze is of this process, whatever clock it is given,
    /// and a test clock that runs faster than real time only makes the
    /// planned sleep longer than it is. Only the wait is measured, never
    /// the handling after it, so a store call waiting on another
    /// process's lock is not a freeze.
    fn frozen(&self) -> Option<(DateTime<Utc>, Duration)> {
        let late = self.real.elapsed().saturating_sub(self.planned);
        (late > FROZEN_SLACK).then(|| {
            (
                self.at + TimeDelta::from_std(self.planned).unwrap_or_default(),
                late,
            )
        })
    }
}

/// Starts the face (the web face) on the running loop and notes where it
/// answers, for the CLI.
async fn serve(
    d: &mut Daemon,
    (face, scrapes): (Face, Arc<Scrapes>),
    control: mpsc::Sender<Control>,
    lock: &StationLock,
    data_dir: &std::path::Path,
) -> Result<Option<tokio::task::JoinHandle<()>>, RunError> {
    let parts = FaceParts {
        station_dir: d.station_dir.clone(),
        clock: d.clock.clone(),
        control,
        live: d.live.subscribe(),
        scrapes,
    };
    match face(parts) {
        Ok((addr, task)) => {
            tracing::info!(%addr, "dashboard and API listening");
            let (a, i) = (addr.to_string(), d.instance());
            lock.note(data_dir, Some((&a, &i)));
            d.store
                .call(move |s| {
                    s.set_meta(keys::CONTROL_INSTANCE, &i)?;
                    s.set_meta(keys::CONTROL_ADDR, &a)
                })
                .await?;
            Ok(Some(task))
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot serve the dashboard and API; broadcasting goes on without them");
            Ok(None)
        }
    }
}
