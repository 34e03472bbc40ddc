//! The daemon (`cunxiang run`): wakes at each firing, decides through the
//! pure planner what is due, plays it through the player thread, and writes
//! every play to the store before it is reported (while the database file
//! cannot be written, to the store's memory copy, and said: see
//! [`Store::held`]).
//!
//! One task owns all state; the player thread, the store (blocking pool)
//! and the file watcher talk to it over channels.

mod control;
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
use source::self_test_broadcast;
use watcher::watch_files;
pub use watcher::{reload_wanted, WatchedPaths, RELOAD_QUIET};

use crate::clock::Clock;
use crate::config::diag::Diagnostic;
use crate::config::load::Station;
use crate::config::schedule::{Broadcast, Priority};
use crate::config::station::StationConfig;
use crate::i18n::Lang;
use crate::plan::{self, reasons, Cause, Decision, Firing, Rules, Trigger};
use crate::sound::media;
use crate::sound::output::{self, ItemSource, Job, JobResult, Output, PlayItem, PlayerEvent};
use crate::store::{keys, ts, OutageKind, Status, Store, StoreError};
use chrono::{DateTime, Duration as TimeDelta, Utc};
use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// One schedule file's broadcasts as last loaded without errors, and its
/// current errors.
#[derive(Debug, Default, Clone)]
struct FileState {
    good: Vec<Broadcast>,
    errors: Vec<Diagnostic>,
    /// Whether the store's good version was already looked for.
    restored: bool,
}

/// A firing waiting for the output (or to resume after an interruption).
#[derive(Debug, Clone)]
struct Pending {
    firing: Firing,
    trigger: Trigger,
    /// Row and item index to resume from, after an interruption.
    resume: Option<(i64, usize)>,
    /// Who interrupted it, for the final log line.
    interrupted_by: Option<String>,
    /// Items already built (a manual play is checked when it is asked for).
    items: Option<Vec<PlayItem>>,
}

impl Pending {
    fn deadline(&self) -> DateTime<Utc> {
        self.firing.scheduled_at + TimeDelta::from_std(self.firing.catch_up).unwrap_or_default()
    }
}

/// The firing on air.
struct Active {
    job: u64,
    row: i64,
    pending: Pending,
    items: Vec<PlayItem>,
    cancel: Arc<AtomicBool>,
    /// Set when a higher-priority firing cut it.
    cut_by: Option<String>,
    /// Set when a person stopped it: it does not resume.
    operator_stop: bool,
    first_sample_seen: bool,
    /// The item on air and when it started.
    index: usize,
    item_started_at: Option<DateTime<Utc>>,
}

struct Daemon {
    clock: Arc<dyn Clock>,
    store: Store,
    station_dir: PathBuf,
    config: StationConfig,
    rules: Rules,
    files: BTreeMap<String, FileState>,
    station_errors: Vec<Diagnostic>,
    broadcasts: Arc<Vec<Broadcast>>,
    handled_until: DateTime<Utc>,
    prev_wall: DateTime<Utc>,
    prev_mono: Duration,
    player: std::sync::mpsc::Sender<Job>,
    /// Whether the player thread runs (false once it has exited).
    player_alive: Arc<AtomicBool>,
    /// Player threads given up on while stuck in the device (true while
    /// they still run): at most two are ever left behind.
    stuck_players: Vec<Arc<AtomicBool>>,
    /// Jobs sent to the player and not finished, in the order it runs
    /// them (a device check may wait behind a play).
    inflight: std::collections::VecDeque<u64>,
    /// The monotonic time by which the player must have answered about
    /// the job at the head of `inflight` (finished it, or started its
    /// next item); only the head runs, so only it has a deadline.
    head_deadline: Option<Duration>,
    ev_tx: mpsc::UnboundedSender<PlayerEvent>,
    output_factory: Option<OutputFactory>,
    next_job: u64,
    current: Option<Active>,
    waiting: Vec<Pending>,
    /// What the heartbeat thread persists as `handled_until` (unix ms).
    handled_shared: Arc<AtomicI64>,
    heartbeat_every: Duration,
    /// The output's name: the subject of its outages.
    output_name: String,
    /// A backward clock step is an open `clock` outage until wall time
    /// passes this again.
    clock_sane_after: Option<DateTime<Utc>>,
    /// Files with an open `content` outage.
    content_open: std::collections::BTreeSet<String>,
    /// Next device retry (wall time) and the backoff after it, while an
    /// `output` outage is open.
    output_retry: Option<(DateTime<Utc>, Duration)>,
    /// Whether an `output` outage may be open (so a working play does not
    /// query the store every time).
    output_outage_open: bool,
    /// The device check in flight, if any, and its cancel flag.
    check_job: Option<u64>,
    check_cancel: Option<Arc<AtomicBool>>,
    /// (broadcast, instant) already warned about a missing file.
    warned: std::collections::HashSet<(String, DateTime<Utc>)>,
    /// Monotonic time of the last look for missing files.
    last_warn_check: Option<Duration>,
    /// Shutting down: nothing new starts, a cut play is logged `stopped`.
    stopping: bool,
    /// What the HTTP face shows.
    live: watch::Sender<Live>,
    since: DateTime<Utc>,
    /// Proof of air.
    monitor: Option<crate::sound::monitor::MonitorHandle>,
    listen: Option<Listening>,
    /// Silent playing time carried over from earlier silent plays, and
    /// when that silence began.
    quiet_carry: Duration,
    quiet_started: Option<DateTime<Utc>>,
    /// The open `signal` outage, and when it was found.
    signal_open: Option<i64>,
    /// Monotonic: a wall-clock step is never silence.
    signal_found: Option<Duration>,
    /// Whether the monitor's own `output` outage is open.
    monitor_fault_open: bool,
    /// Terminal probes and their reports.
    prober: Option<crate::daemon::terminals::Prober>,
    terminal_tx: mpsc::UnboundedSender<(u64, crate::daemon::terminals::TerminalEvent)>,
    /// Events of an earlier prober (before a reload) are ignored.
    prober_gen: u64,
    /// Whether a station has been applied (a broken station file on
    /// reload keeps the settings already running).
    applied: bool,
    /// Open `config` outages by file (as shown): files with errors.
    config_open: BTreeMap<String, i64>,
    /// Broadcasts of files with errors that have no good version on air,
    /// with their file: each of their firings is logged missed.
    off_air: Vec<(Broadcast, String)>,
    /// Firings of off-air broadcasts that came due and whose catch-up
    /// window is still open (deadline fixed when they came due): logged
    /// missed when it closes, played if their file is fixed in time. Like
    /// `waiting`, they hold the persisted `handled_until` back, so a kill
    /// meanwhile decides them again at the restart.
    off_pending: Vec<OffPending>,
}

/// The monitor's counts when the play on air started.
#[derive(Debug, Clone)]
struct Listening {
    from: DateTime<Utc>,
    from_mono: Duration,
    windows: u64,
    heard: u64,
    errors: u64,
}

impl Listening {
    fn now(clock: &dyn Clock, h: &crate::sound::monitor::Hearing) -> Listening {
        Listening {
            from: clock.now(),
            from_mono: clock.monotonic(),
            windows: h.windows,
            heard: h.heard,
            errors: h.errors,
        }
    }
}

/// A firing of an off-air broadcast, waiting for its window to close.
#[derive(Debug, Clone)]
struct OffPending {
    firing: Firing,
    file: String,
    deadline: DateTime<Utc>,
}

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

impl Daemon {
    /// Publishes how far firings are handled for the heartbeat to persist:
    /// never past a firing only queued in memory (it has no row yet), so a
    /// kill while it waits leaves it to be decided again at the restart.
    fn publish_handled(&self) {
        let mut h = self.handled_until;
        for p in self.waiting.iter().filter(|p| p.resume.is_none()) {
            h = h.min(p.firing.scheduled_at - TimeDelta::milliseconds(1));
        }
        for p in &self.off_pending {
            h = h.min(p.firing.scheduled_at - TimeDelta::milliseconds(1));
        }
        self.handled_shared
            .store(h.timestamp_millis(), Ordering::SeqCst);
    }

    /// Takes a freshly loaded station: valid files replace their last good
    /// version, broken ones keep it; a broken station file keeps the old
    /// settings.
    async fn apply_station(&mut self, mut station: Station) -> Result<(), RunError> {
        self.flag_emptied_files(&mut station).await?;
        if station.config_has_errors() && self.applied {
            tracing::warn!("cunxiang.toml has errors; keeping the previous settings");
        } else {
            match station.config_source {
                crate::config::load::ConfigSource::GoodCopy => tracing::error!(
                    copy = crate::config::load::GOOD_COPY,
                    "cunxiang.toml has errors; running on its last good copy"
                ),
                crate::config::load::ConfigSource::Defaults => tracing::error!(
                    data = %station.config.data_dir.display(),
                    name = %station.config.name,
                    "cunxiang.toml has errors and there is no good copy; running on DEFAULTS (no quiet hours, no holidays)"
                ),
                crate::config::load::ConfigSource::File => {}
            }
            self.config = station.config.clone();
            self.rules = Rules::from_config(&self.config);
        }
        self.applied = true;
        match station.keep_good_copy() {
            Ok(true) => tracing::info!(
                copy = crate::config::load::GOOD_COPY,
                "kept a good copy of cunxiang.toml"
            ),
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(error = %e, copy = crate::config::load::GOOD_COPY, "cannot keep a good copy of cunxiang.toml")
            }
        }
        self.station_errors = station
            .station_diags
            .iter()
            .filter(|d| d.is_error())
            .cloned()
            .collect();
        let now = self.clock.now();
        if !station.schedules_read {
            // The schedules folder is gone or unreadable (`rm -rf
            // schedules`, a disk hiccup): that is a fault on the repair
            // list, not an order to go silent. What was on air stays on
            // air; at start-up, the good versions kept in the store do.
            if self.files.is_empty() {
                let kept = self.store.call(|s| s.good_files()).await?;
                for (file, text) in kept {
                    let p = crate::config::schedule::parse(&file, &text);
                    if p.is_valid() {
                        self.files.insert(
                            file,
                            FileState {
                                good: p.broadcasts,
                                errors: Vec::new(),
                                restored: true,
                            },
                        );
                    }
                }
            }
            tracing::error!(
                broadcasts = self.files.values().map(|f| f.good.len()).sum::<usize>(),
                "the schedules folder cannot be read; the last good schedules stay on air"
            );
        }
        let mut files = BTreeMap::new();
        if !station.schedules_read {
            files = std::mem::take(&mut self.files);
        }
        for f in &station.files {
            let mut st = self.files.remove(&f.shown).unwrap_or_default();
            if f.is_valid() {
                st.good = f.parsed.broadcasts.clone();
                st.errors.clear();
                st.restored = false;
                // Kept in the store: a file broken while the daemon is down
                // goes on air as it last was, after a restart too.
                if let Some(text) = f.text.clone() {
                    let file = f.shown.clone();
                    self.store
                        .call(move |s| s.keep_good_file(&file, &text, now))
                        .await?;
                }
            } else {
                if st.good.is_empty() && !st.restored {
                    st.restored = true;
                    let file = f.shown.clone();
                    if let Some((text, saved)) =
                        self.store.call(move |s| s.good_file(&file)).await?
                    {
                        let p = crate::config::schedule::parse(&f.shown, &text);
                        if p.is_valid() {
                            tracing::warn!(file = %f.shown, saved = %saved, broadcasts = p.broadcasts.len(), "the file has errors: its last good version, kept in the store, goes on air");
                            st.good = p.broadcasts;
                        }
                    }
                }
                st.errors = f
                    .parsed
                    .diagnostics
                    .iter()
                    .filter(|d| d.is_error())
                    .cloned()
                    .collect();
                for e in &st.errors {
                    tracing::warn!(file = %f.shown, "{}", e.render(Lang::En));
                }
                if !st.good.is_empty() {
                    tracing::warn!(file = %f.shown, "keeping the last good version of this file on air");
                }
            }
            files.insert(f.shown.clone(), st);
        }
        self.files = files;
        // Files gone from a readable schedules folder go off air for good.
        if station.schedules_read {
            let keep: Vec<String> = self.files.keys().cloned().collect();
            self.store
                .call(move |s| s.forget_good_files_except(&keep))
                .await?;
        }
        let mut seen = std::collections::HashSet::new();
        let mut list: Vec<Broadcast> = self
            .files
            .values()
            .flat_map(|f| f.good.iter().cloned())
            .filter(|b| seen.insert(b.name.clone()))
            .collect();
        if let (Some(m), Some(_)) = (&self.config.monitor, &self.monitor) {
            if let Some(at) = m.self_test {
                list.push(self_test_broadcast(at));
            }
        }
        // Broadcasts only a broken file holds (it never had a good
        // version): off air, and each of their firings is logged missed.
        let off_air = station
            .files
            .iter()
            .filter(|f| !f.is_valid())
            .flat_map(|f| {
                f.parsed
                    .broadcasts
                    .iter()
                    .filter(|b| b.enabled && !seen.contains(&b.name))
                    .map(|b| (b.clone(), f.shown.clone()))
            })
            .collect();
        self.broadcasts = Arc::new(list);
        self.off_air = off_air;
        self.sync_config_outages(&station).await?;
        self.settle_off_pending().await?;
        let terminals = self.config.terminals.clone();
        let same = match &self.prober {
            Some(p) => p.terminals() == terminals.as_slice(),
            None => terminals.is_empty(),
        };
        if !same {
            self.prober_gen += 1;
            let gen = self.prober_gen;
            self.prober = (!terminals.is_empty()).then(|| {
                tracing::info!(count = terminals.len(), "probing IP loudspeaker terminals");
                crate::daemon::terminals::Prober::spawn(
                    terminals,
                    self.clock.clone(),
                    self.terminal_tx.clone(),
                    gen,
                )
            });
        }
        self.close_unconfigured().await?;
        let errors: Vec<String> = self.errors().iter().map(|d| d.render(Lang::Zh)).collect();
        let json = serde_json::to_string(&errors).expect("json");
        self.store
            .call(move |s| s.set_meta(keys::SCHEDULE_ERRORS, &json))
            .await?;
        tracing::info!(
            broadcasts = self.broadcasts.len(),
            files = self.files.len(),
            errors = errors.len(),
            "schedules loaded"
        );
        Ok(())
    }

    /// A schedule file that now holds no broadcast where its good version
    /// had some is a suspect edit (a save cut short, an editor that
    /// truncates first and writes slowly), not a wish to go silent: it is
    /// marked in error, so its good version stays on air and the repair
    /// list says so. Deleting the file takes its broadcasts off air.
    async fn flag_emptied_files(&mut self, station: &mut Station) -> Result<(), RunError> {
        for f in station
            .files
            .iter_mut()
            .filter(|f| f.is_valid() && f.parsed.broadcasts.is_empty())
        {
            let had = match self.files.get(&f.shown) {
                Some(st) if !st.good.is_empty() => true,
                Some(_) => false,
                None => {
                    let file = f.shown.clone();
                    self.store
                        .call(move |s| s.good_file(&file))
                        .await?
                        .is_some_and(|(text, _)| {
                            !crate::config::schedule::parse(&f.shown, &text)
                                .broadcasts
                                .is_empty()
                        })
                }
            };
            if had {
                f.parsed.diagnostics.push(Diagnostic::error(
                    Some(f.shown.clone()),
                    crate::i18n::Msg::ScheduleEmptied,
                ));
            }
        }
        Ok(())
    }

    /// One open `config` outage per file with errors (the station file or
    /// a schedule file), closed once the file is fixed or removed: a file
    /// off air is on the repair list.
    async fn sync_config_outages(&mut self, station: &Station) -> Result<(), RunError> {
        let mut broken: BTreeMap<String, Vec<Diagnostic>> = BTreeMap::new();
        if !self.station_errors.is_empty() {
            broken.insert(
                crate::config::station::STATION_FILE.to_string(),
                self.station_errors.clone(),
            );
        }
        for f in station.files.iter().filter(|f| !f.is_valid()) {
            broken.insert(
                f.shown.clone(),
                f.parsed
                    .diagnostics
                    .iter()
                    .filter(|d| d.is_error())
                    .cloned()
                    .collect(),
            );
        }
        let now = self.clock.now();
        let open: Vec<String> = self
            .store
            .call(|s| s.outages(true, None))
            .await?
            .into_iter()
            .filter(|o| o.kind == OutageKind::Config)
            .map(|o| o.subject)
            .collect();
        for subject in open.into_iter().filter(|s| !broken.contains_key(s)) {
            tracing::info!(file = %subject, "file fixed: config outage closed");
            self.config_open.remove(&subject);
            self.store
                .call(move |s| s.close_outage(OutageKind::Config, &subject, now))
                .await?;
        }
        for (file, errors) in broken {
            let mut detail = errors
                .first()
                .map(|d| d.render(Lang::En))
                .unwrap_or_default();
            if errors.len() > 1 {
                detail.push_str(&format!(" (and {} more)", errors.len() - 1));
            }
            let subject = file.clone();
            let (id, new) = self
                .store
                .call(move |s| s.open_outage(OutageKind::Config, &subject, now, &detail))
                .await?;
            if new {
                tracing::error!(%file, "file has errors: config outage opened");
            }
            self.config_open.insert(file, id);
        }
        Ok(())
    }

    /// Firings of broadcasts that are off air because their file has
    /// errors, due in `(since, now]`: each waits until its catch-up window
    /// closes (a file fixed in time still plays it), then is logged missed
    /// by [`Self::expire_off_air`].
    async fn off_air_due(
        &mut self,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
        downtime: Option<(DateTime<Utc>, &'static str, Option<i64>)>,
    ) -> Result<(), RunError> {
        if !self.off_air.is_empty() && now > since {
            let since = since.max(now - plan::MAX_LOOKBACK);
            let off: Vec<Broadcast> = self.off_air.iter().map(|(b, _)| b.clone()).collect();
            // (since, now], as `plan::due`.
            let one = TimeDelta::nanoseconds(1);
            for f in plan::firings(&off, &self.rules, since + one, now + one) {
                if f.skip.is_some()
                    || self.off_pending.iter().any(|p| {
                        p.firing.broadcast == f.broadcast && p.firing.scheduled_at == f.scheduled_at
                    })
                {
                    continue;
                }
                let file = self
                    .off_air
                    .iter()
                    .find(|(b, _)| b.name == f.broadcast)
                    .map(|(_, file)| file.clone())
                    .unwrap_or_default();
                let deadline = f.scheduled_at + TimeDelta::from_std(f.catch_up).unwrap_or_default();
                self.off_pending.push(OffPending {
                    firing: f,
                    file,
                    deadline,
                });
            }
        }
        self.expire_off_air(now, downtime).await
    }

    /// Logs the off-air firings whose window has closed: missed, pointing
    /// at the file's `config` outage, or, for those that came due while
    /// the daemon was down or frozen (`downtime`: since when, the reason
    /// and its outage), at that outage.
    async fn expire_off_air(
        &mut self,
        now: DateTime<Utc>,
        downtime: Option<(DateTime<Utc>, &'static str, Option<i64>)>,
    ) -> Result<(), RunError> {
        let (gone, keep): (Vec<OffPending>, Vec<OffPending>) =
            std::mem::take(&mut self.off_pending)
                .into_iter()
                .partition(|p| p.deadline < now);
        self.off_pending = keep;
        for p in gone {
            let (reason, outage) = match downtime {
                Some((down, why, o)) if p.firing.scheduled_at > down => (why.to_string(), o),
                _ => (
                    format!("{}: {} has errors", reasons::CONFIG, p.file),
                    self.config_outage(&p.file).await?,
                ),
            };
            self.log_off_air_missed(p, reason, outage).await?;
        }
        Ok(())
    }

    /// Records a firing that did not play (missed or skipped), linked to
    /// the outage that cost it, if any. Returns whether it was new (a
    /// firing has one row, never two).
    async fn record_unplayed(
        &self,
        f: &Firing,
        status: Status,
        reason: String,
        trigger: Trigger,
        outage: Option<i64>,
    ) -> Result<bool, RunError> {
        let f = f.clone();
        let id = self
            .store
            .call(move |s| {
                let id = s.insert(
                    &f.broadcast,
                    f.scheduled_at,
                    None,
                    None,
                    status,
                    Some(&reason),
                    trigger,
                    f.priority.as_str(),
                    &f.files,
                )?;
                if let (Some(id), Some(o)) = (id, outage) {
                    s.link_outage(id, o)?;
                }
                Ok(id)
            })
            .await?;
        Ok(id.is_some())
    }

    /// The `config` outage of a file: the open one, else its latest.
    async fn config_outage(&self, file: &str) -> Result<Option<i64>, RunError> {
        if let Some(id) = self.config_open.get(file) {
            return Ok(Some(*id));
        }
        let file = file.to_string();
        Ok(self
            .store
            .call(move |s| s.outages(false, None))
            .await?
            .into_iter()
            .filter(|o| o.kind == OutageKind::Config && o.subject == file)
            .max_by_key(|o| o.started_at)
            .map(|o| o.id))
    }

    async fn log_off_air_missed(
        &mut self,
        p: OffPending,
        reason: String,
        outage: Option<i64>,
    ) -> Result<(), RunError> {
        let inserted = self
            .record_unplayed(&p.firing, Status::Missed, reason, Trigger::Schedule, outage)
            .await?;
        if inserted {
            tracing::warn!(broadcast = %p.firing.broadcast, scheduled = %p.firing.scheduled_at, file = %p.file, "missed: its schedule file has errors");
        }
        Ok(())
    }

    /// After a reload, the off-air firings still waiting: a broadcast back
    /// on air (its file fixed in time) is decided as any due firing (the
    /// latest plays, late, trigger `catch_up`); one still off air keeps
    /// waiting; one gone from the files altogether is logged missed now.
    async fn settle_off_pending(&mut self) -> Result<(), RunError> {
        if self.off_pending.is_empty() {
            return Ok(());
        }
        let off: std::collections::HashSet<String> =
            self.off_air.iter().map(|(b, _)| b.name.clone()).collect();
        let mut back: BTreeMap<String, DateTime<Utc>> = BTreeMap::new();
        for p in std::mem::take(&mut self.off_pending) {
            let name = p.firing.broadcast.clone();
            if off.contains(&name) {
                self.off_pending.push(p);
            } else if self.broadcasts.iter().any(|b| b.name == name) {
                let first = back.entry(name).or_insert(p.firing.scheduled_at);
                *first = (*first).min(p.firing.scheduled_at);
            } else {
                let reason = format!("{}: {} has errors", reasons::CONFIG, p.file);
                let outage = self.config_outage(&p.file).await?;
                self.log_off_air_missed(p, reason, outage).await?;
            }
        }
        if let Some(since) = back.values().min().copied() {
            tracing::info!(
                count = back.len(),
                "broadcasts back on air after their file was fixed"
            );
            let list: Vec<Broadcast> = self
                .broadcasts
                .iter()
                .filter(|b| back.contains_key(&b.name))
                .cloned()
                .collect();
            let until = self.handled_until;
            self.handle_due_of(
                &list,
                since - TimeDelta::nanoseconds(1),
                until.max(since),
                Cause::OnTime,
                None,
            )
            .await?;
        }
        self.publish_handled();
        Ok(())
    }

    /// Whether a firing is already waiting or on air.
    fn queued(&self, f: &Firing) -> bool {
        let same = |p: &Pending| {
            p.firing.broadcast == f.broadcast && p.firing.scheduled_at == f.scheduled_at
        };
        self.waiting.iter().any(same) || self.current.as_ref().is_some_and(|a| same(&a.pending))
    }

    /// Every current error of the station and schedule files.
    fn errors(&self) -> Vec<Diagnostic> {
        let mut v = self.station_errors.clone();
        v.extend(self.files.values().flat_map(|f| f.errors.iter().cloned()));
        v
    }

    async fn on_control(&mut self, c: Control) -> Result<(), RunError> {
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

    async fn reload(&mut self) -> Result<(), RunError> {
        let dir = self.station_dir.clone();
        let station = tokio::task::spawn_blocking(move || Station::load(&dir))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?;
        self.apply_station(station).await?;
        self.recheck_content().await
    }

    /// A person's play: checked at once (a refused one is not logged),
    /// then queued like any firing with trigger `manual`, so priority,
    /// preemption and the as-run log work the same.
    async fn manual_play(
        &mut self,
        req: PlayRequest,
    ) -> Result<Result<PlayAccepted, PlayRefused>, RunError> {
        if req.repeat.is_some_and(|r| !(1..=20).contains(&r)) {
            return Ok(Err(PlayRefused::BadRepeat));
        }
        let now = self.clock.now();
        let by_name = |n: &str| self.broadcasts.iter().find(|b| b.name == n);
        let mut firing = match &req.target {
            PlayTarget::Broadcast(n) => match by_name(n) {
                Some(b) => plan::manual_firing(b, &self.rules, now),
                None => return Ok(Err(PlayRefused::UnknownBroadcast(n.clone()))),
            },
            PlayTarget::Either(n) if by_name(n).is_some() => {
                plan::manual_firing(by_name(n).expect("checked"), &self.rules, now)
            }
            PlayTarget::File(f) | PlayTarget::Either(f) => {
                if !media::is_plain_relative(f) {
                    return Ok(Err(PlayRefused::OutsideAudio(f.clone())));
                }
                let path = self.station_dir.join(&self.config.audio_dir).join(f);
                if matches!(req.target, PlayTarget::Either(_)) && !path.exists() {
                    return Ok(Err(PlayRefused::NotFound(f.clone())));
                }
                plan::manual_file_firing(
                    f,
                    req.priority.unwrap_or(Priority::Normal),
                    1,
                    &self.rules,
                    now,
                )
            }
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
            let queued = self
                .waiting
                .iter()
                .chain(self.current.as_ref().map(|a| &a.pending))
                .any(|p| p.firing.broadcast == name && p.firing.scheduled_at == at);
            if !queued && !self.store.call(move |s| s.exists(&name, at)).await? {
                break;
            }
            firing.scheduled_at += TimeDelta::milliseconds(1);
        }
        // Every file must be playable now: a person waits for the answer.
        let items = match self.build(&firing).await {
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
        self.waiting.push(Pending {
            firing,
            trigger: Trigger::Manual,
            resume: None,
            interrupted_by: None,
            items: Some(items),
        });
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

    /// A play's sound has ended (or was cut): what did the monitor hear?
    /// Records `heard`, and moves the `signal` outage: a heard play closes
    /// it, a silent one adds to the silence (and points at the outage). A
    /// monitor that failed during the play judges nothing.
    async fn listen_end(
        &mut self,
        row: i64,
        broadcast: &str,
        sounded: bool,
        at: DateTime<Utc>,
    ) -> Result<(), RunError> {
        use crate::sound::monitor::Verdict;
        let (Some(m), Some(l)) = (&self.monitor, self.listen.take()) else {
            return Ok(());
        };
        m.set_active(false);
        let h = m.hearing();
        let failed = h.error.is_some() || h.errors > l.errors;
        let verdict = if sounded && !failed {
            Verdict::of(h.windows - l.windows, h.heard - l.heard)
        } else {
            Verdict::Unknown
        };
        let heard = verdict.as_heard();
        tracing::info!(%broadcast, ?verdict, "monitor verdict");
        self.store.call(move |s| s.set_heard(row, heard)).await?;
        let heard_in_play = h.last_heard_mono.is_some_and(|t| t >= l.from_mono);
        match verdict {
            Verdict::Heard => {
                self.quiet_carry = Duration::ZERO;
                self.quiet_started = None;
                // Heard *again* only if heard after the silence was found (a
                // play that went silent half-way was heard before it).
                let again = match self.signal_found {
                    Some(found) => h.last_heard_mono.is_some_and(|t| t >= found),
                    None => true,
                };
                match self.signal_open {
                    Some(o) if !again => {
                        self.store.call(move |s| s.link_outage(row, o)).await?;
                    }
                    Some(_) => {
                        self.signal_open = None;
                        self.signal_found = None;
                        // `mark` was reset when the outage opened or this
                        // play started, whichever was later.
                        let end = h.first_heard_since_mark.unwrap_or(at);
                        let subject = m.name.clone();
                        self.store
                            .call(move |s| s.close_outage(OutageKind::Signal, &subject, end))
                            .await?;
                        tracing::info!("the monitor hears us again: signal outage closed");
                    }
                    None => {}
                }
            }
            Verdict::Silent => {
                if heard_in_play {
                    // Some signal in this play: only its trailing silence counts.
                    self.quiet_carry = Duration::ZERO;
                    self.quiet_started = None;
                }
                let start_mono = l.from_mono.max(h.last_heard_mono.unwrap_or(l.from_mono));
                let end_mono = self.clock.monotonic();
                let silent = end_mono.saturating_sub(start_mono);
                self.quiet_carry += silent;
                self.quiet_started
                    .get_or_insert(at - TimeDelta::from_std(silent).unwrap_or_default());
                let self_test = broadcast == SELF_TEST;
                if self.signal_open.is_none() && (self_test || self.quiet_carry >= m.silence_after)
                {
                    let detail = if self_test {
                        "the daily self-test was not heard on the monitor".to_string()
                    } else {
                        format!(
                            "silence under {} dBFS on the monitor for {} s while playing",
                            m.threshold_db,
                            self.quiet_carry.as_secs()
                        )
                    };
                    let since = self.quiet_started.unwrap_or(l.from);
                    self.open_signal(since, detail).await?;
                }
                if let Some(o) = self.signal_open {
                    self.store.call(move |s| s.link_outage(row, o)).await?;
                }
            }
            Verdict::Unknown => {}
        }
        Ok(())
    }

    async fn open_signal(&mut self, since: DateTime<Utc>, detail: String) -> Result<(), RunError> {
        let subject = self
            .monitor
            .as_ref()
            .map(|m| m.name.clone())
            .unwrap_or_default();
        let (id, new) = self
            .store
            .call(move |s| s.open_outage(OutageKind::Signal, &subject, since, &detail))
            .await?;
        if new {
            tracing::error!("silence on the monitor while playing: signal outage opened (amplifier or transmitter off?)");
        }
        self.signal_open = Some(id);
        self.signal_found = Some(self.clock.monotonic());
        if let Some(m) = &self.monitor {
            // "Heard again" counts from here.
            m.mark();
        }
        Ok(())
    }

    /// How long the play on air has been silent, as measured (monotonic):
    /// `None` while the monitor fails or has measured nothing of it yet.
    fn measured_silence(&self, h: &crate::sound::monitor::Hearing) -> Option<(Duration, Duration)> {
        let l = self.listen.as_ref()?;
        if h.error.is_some() || h.errors > l.errors || h.windows == l.windows {
            return None;
        }
        let start = l.from_mono.max(h.last_heard_mono.unwrap_or(l.from_mono));
        let silent = h.last_at_mono?.saturating_sub(start);
        Some((silent, start))
    }

    /// When to look again at the silence of the play on air.
    fn silence_deadline(&self) -> Option<DateTime<Utc>> {
        let (m, l) = (self.monitor.as_ref()?, self.listen.as_ref()?);
        if self.signal_open.is_some() {
            return None;
        }
        let h = m.hearing();
        if h.error.is_some() || h.errors > l.errors {
            // The monitor's own fault: not silence; looked at on the next wake.
            return None;
        }
        let now = self.clock.now();
        let left = m.silence_after.saturating_sub(self.quiet_carry);
        match self.measured_silence(&h) {
            // Nothing measured yet (the input is starting): look again soon.
            None => Some(now + TimeDelta::seconds(1)),
            Some((silent, _)) => {
                let remaining = left.saturating_sub(silent);
                let step = if remaining.is_zero() {
                    crate::sound::monitor::WINDOW
                } else {
                    remaining
                };
                Some(now + TimeDelta::from_std(step).unwrap_or_default())
            }
        }
    }

    /// While playing: open the `signal` outage once the measured silence
    /// is long enough (the play on air points at it). Always: the monitor
    /// input's own health (an `output` outage with subject `monitor:NAME`).
    async fn check_monitor(&mut self, now: DateTime<Utc>) -> Result<(), RunError> {
        let Some(m) = &self.monitor else {
            return Ok(());
        };
        let h = m.hearing();
        let subject = format!("{MONITOR_SUBJECT}{}", m.name);
        match (&h.error, self.monitor_fault_open) {
            (Some(e), false) => {
                let (s2, e2) = (subject.clone(), e.clone());
                self.store
                    .call(move |s| s.open_outage(OutageKind::Output, &s2, now, &e2))
                    .await?;
                self.monitor_fault_open = true;
                tracing::error!(error = %e, "monitor input failing: outage opened");
            }
            (None, true) if h.last_at.is_some_and(|t| t > self.since) => {
                self.store
                    .call(move |s| s.close_outage(OutageKind::Output, &subject, now))
                    .await?;
                self.monitor_fault_open = false;
                tracing::info!("monitor input works again");
            }
            _ => {}
        }
        let (Some(l), Some(a)) = (&self.listen, &self.current) else {
            return Ok(());
        };
        if h.last_heard_mono.is_some_and(|t| t >= l.from_mono) {
            // Heard during this play: earlier silent plays no longer count.
            self.quiet_carry = Duration::ZERO;
            self.quiet_started = None;
        }
        if self.signal_open.is_some() {
            return Ok(());
        }
        let row = a.row;
        let Some((silent, start_mono)) = self.measured_silence(&h) else {
            return Ok(());
        };
        let m = self.monitor.as_ref().expect("checked");
        if self.quiet_carry + silent >= m.silence_after {
            let ago = self.clock.monotonic().saturating_sub(start_mono);
            let from = self
                .quiet_started
                .unwrap_or(now - TimeDelta::from_std(ago).unwrap_or_default());
            let secs = (self.quiet_carry + silent).as_secs();
            let threshold = m.threshold_db;
            self.open_signal(
                from,
                format!("silence under {threshold} dBFS on the monitor for {secs} s while playing"),
            )
            .await?;
            if let Some(o) = self.signal_open {
                self.store.call(move |s| s.link_outage(row, o)).await?;
            }
        }
        Ok(())
    }

    /// Closes open outages whose subject is no longer configured (a
    /// terminal removed or renamed, the monitor changed or removed): no one
    /// would ever close them otherwise.
    async fn close_unconfigured(&mut self) -> Result<(), RunError> {
        let monitor = self.monitor.as_ref().map(|m| m.name.clone());
        let terminals: Vec<String> = self.config.terminals.iter().map(|t| t.subject()).collect();
        let now = self.clock.now();
        let stale: Vec<(OutageKind, String)> = self
            .store
            .call(|s| s.outages(true, None))
            .await?
            .into_iter()
            .filter(|o| match o.kind {
                OutageKind::Signal => monitor.as_deref() != Some(o.subject.as_str()),
                OutageKind::Output => o
                    .subject
                    .strip_prefix(MONITOR_SUBJECT)
                    .is_some_and(|n| monitor.as_deref() != Some(n)),
                OutageKind::Terminal => !terminals.contains(&o.subject),
                _ => false,
            })
            .map(|o| (o.kind, o.subject))
            .collect();
        for (kind, subject) in stale {
            tracing::info!(kind = kind.as_str(), %subject, "no longer configured: outage closed");
            if kind == OutageKind::Signal {
                self.signal_open = None;
                self.signal_found = None;
            }
            self.store
                .call(move |s| s.close_outage(kind, &subject, now))
                .await?;
        }
        Ok(())
    }

    async fn on_terminal(
        &mut self,
        ev: crate::daemon::terminals::TerminalEvent,
    ) -> Result<(), RunError> {
        use crate::daemon::terminals::TerminalEvent;
        match ev {
            TerminalEvent::Down {
                subject,
                since,
                detail,
            } => {
                tracing::error!(%subject, %detail, "IP loudspeaker not answering: terminal outage opened");
                self.store
                    .call(move |s| s.open_outage(OutageKind::Terminal, &subject, since, &detail))
                    .await?;
            }
            TerminalEvent::Up { subject, at } => {
                let closed = self
                    .store
                    .call({
                        let subject = subject.clone();
                        move |s| s.close_outage(OutageKind::Terminal, &subject, at)
                    })
                    .await?;
                if closed.is_some() {
                    tracing::info!(%subject, "IP loudspeaker answers again: terminal outage closed");
                }
            }
        }
        Ok(())
    }

    /// This run's identity: process id and start time.
    fn instance(&self) -> String {
        format!("{}-{}", std::process::id(), self.since.timestamp_millis())
    }

    /// Tells the HTTP face what is on air and what comes next.
    fn publish_live(&self) {
        let mut queued: Vec<&Pending> = self.waiting.iter().collect();
        queued.sort_by(|a, b| {
            b.firing
                .priority
                .cmp(&a.firing.priority)
                .then(a.firing.scheduled_at.cmp(&b.firing.scheduled_at))
        });
        let live = Live {
            since: Some(self.since),
            instance: self.instance(),
            output: self.output_name.clone(),
            now_playing: self.current.as_ref().map(|a| NowPlaying {
                row: a.row,
                broadcast: a.pending.firing.broadcast.clone(),
                priority: a.pending.firing.priority,
                trigger: a.pending.trigger,
                scheduled_at: a.pending.firing.scheduled_at,
                items: a
                    .items
                    .iter()
                    .map(|i| (i.label.clone(), i.kind, i.duration))
                    .collect(),
                index: a.index,
                item_started_at: a.item_started_at,
                cut_by: a.cut_by.clone(),
            }),
            queued: queued
                .iter()
                .map(|p| {
                    (
                        p.firing.broadcast.clone(),
                        p.firing.scheduled_at,
                        p.firing.priority,
                    )
                })
                .collect(),
            broadcasts: self.broadcasts.clone(),
            rules: Some(self.rules.clone()),
            monitor: self.monitor.as_ref().map(|m| (m.name.clone(), m.hearing())),
            errors: self.errors(),
            store: Some(self.store.clone()),
        };
        self.live.send_replace(live);
    }

    /// One wake: work out what is due, expire waiting firings, dispatch,
    /// heartbeat. `frozen`: the run loop was frozen from this wall time
    /// for this long, and the span is downtime.
    async fn tick(&mut self, frozen: Option<(DateTime<Utc>, Duration)>) -> Result<(), RunError> {
        let now = self.clock.now();
        let mono = self.clock.monotonic();
        let w = plan::window(
            self.handled_until,
            self.prev_wall,
            self.prev_mono,
            now,
            mono,
        );
        let mut w = w;
        let mut outage = None;
        if w.step != TimeDelta::zero() {
            tracing::warn!(step_s = w.step.num_seconds(), "wall clock stepped");
        }
        if let Some(t) = self.clock_sane_after.filter(|t| now >= *t) {
            // The clock was behind and is right again: firings up to the
            // high-water mark were handled before; those after it were
            // missed while the clock was wrong, against the clock outage.
            self.clock_sane_after = None;
            w.since = w.since.max(t);
            w.cause = Cause::ClockJump;
            outage = self
                .store
                .call(move |s| s.close_outage(OutageKind::Clock, CLOCK_SUBJECT, now))
                .await?;
            tracing::info!("PC clock sane again");
        } else if w.step > CLOCK_FAULT_STEP {
            let from = now - w.step;
            let detail = format!(
                "clock jumped forward by {}s, from {} to {}",
                w.step.num_seconds(),
                ts(from),
                ts(now)
            );
            outage = Some(
                self.store
                    .call(move |s| {
                        s.closed_outage(OutageKind::Clock, CLOCK_SUBJECT, from, now, &detail)
                    })
                    .await?,
            );
        } else if w.step < -CLOCK_FAULT_STEP {
            let detail = format!(
                "clock set back by {}s, from {} to {}",
                -w.step.num_seconds(),
                ts(self.prev_wall),
                ts(now)
            );
            tracing::error!(%detail, "PC clock set back");
            self.store
                .call(move |s| s.open_outage(OutageKind::Clock, CLOCK_SUBJECT, now, &detail))
                .await?;
            let high = self
                .prev_wall
                .max(self.clock_sane_after.unwrap_or(self.prev_wall));
            self.clock_sane_after = Some(high);
        }
        if let Some((from, gone)) = frozen {
            // The run loop was frozen: downtime like a power cut (the
            // latest firing of each broadcast may still catch up; the
            // rest are missed against this outage).
            let detail = format!(
                "cunxiang did not run for {} s (the process was stopped or frozen)",
                gone.as_secs()
            );
            tracing::error!(gap_s = gone.as_secs(), "the daemon was frozen");
            let from = from.min(now);
            outage = Some(
                self.store
                    .call(move |s| s.closed_outage(OutageKind::Power, "", from, now, &detail))
                    .await?,
            );
            if w.cause == Cause::OnTime {
                w.cause = Cause::Downtime;
            }
        }
        self.prev_wall = now;
        self.prev_mono = mono;
        if now > w.since {
            let lost = match w.cause {
                Cause::OnTime => None,
                Cause::Downtime => Some((w.since, reasons::NOT_RUNNING, outage)),
                Cause::ClockJump => Some((w.since, reasons::CLOCK_JUMP, outage)),
            };
            self.off_air_due(w.since, now, lost).await?;
            self.handle_due(w.since, now, w.cause, outage).await?;
        }
        if let Some((at, _)) = self.output_retry {
            if now >= at && self.check_job.is_none() {
                self.send_check();
            }
        }
        if self.head_deadline.is_some_and(|at| mono >= at) {
            self.player_stuck().await?;
        }
        self.warn_missing_soon(now).await?;
        self.check_monitor(now).await?;
        self.handled_until = now;
        self.publish_handled();
        let lost = match (w.cause, outage) {
            (Cause::Downtime, Some(o)) => Some((reasons::NOT_RUNNING, o)),
            (Cause::ClockJump, Some(o)) => Some((reasons::CLOCK_JUMP, o)),
            _ => None,
        };
        self.expire_linked(now, lost).await?;
        self.dispatch().await?;
        Ok(())
    }

    /// Logs or queues every firing due in `(since, now]`.
    async fn handle_due(
        &mut self,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
        cause: Cause,
        outage: Option<i64>,
    ) -> Result<(), RunError> {
        let all = self.broadcasts.clone();
        self.handle_due_of(&all, since, now, cause, outage).await
    }

    /// [`Self::handle_due`] for some broadcasts only.
    async fn handle_due_of(
        &mut self,
        broadcasts: &[Broadcast],
        since: DateTime<Utc>,
        now: DateTime<Utc>,
        cause: Cause,
        outage: Option<i64>,
    ) -> Result<(), RunError> {
        let due = plan::due(broadcasts, &self.rules, since, now, cause);
        if due.is_empty() {
            return Ok(());
        }
        self.recheck_content().await?;
        let mut queue = Vec::new();
        for (f, decision) in due {
            let (name, at) = (f.broadcast.clone(), f.scheduled_at);
            let (status, reason) = match decision {
                Decision::Play(trigger) => {
                    let known = self.store.call(move |s| s.exists(&name, at)).await?;
                    if !known && !self.queued(&f) {
                        queue.push(Pending {
                            firing: f,
                            trigger,
                            resume: None,
                            interrupted_by: None,
                            items: None,
                        });
                    }
                    continue;
                }
                Decision::Miss(r) => (Status::Missed, r),
                Decision::Skip(plan::Skip::QuietHours) => (Status::Skipped, reasons::QUIET_HOURS),
                Decision::Skip(plan::Skip::Holiday) => (Status::Skipped, reasons::HOLIDAY),
            };
            let trigger = if cause == Cause::OnTime {
                Trigger::Schedule
            } else {
                Trigger::CatchUp
            };
            let link = if status == Status::Missed {
                outage
            } else {
                None
            };
            let inserted = self
                .record_unplayed(&f, status, reason.to_string(), trigger, link)
                .await?;
            if inserted {
                tracing::info!(broadcast = %f.broadcast, scheduled = %at, status = status.as_str(), reason, "firing not played");
            }
        }
        self.waiting.extend(queue);
        Ok(())
    }

    /// Waiting firings whose catch-up window has passed are missed.
    async fn expire(&mut self, now: DateTime<Utc>) -> Result<(), RunError> {
        self.expire_linked(now, None).await
    }

    /// [`Self::expire`]; with `downtime`, the reason and outage (a freeze,
    /// a clock jump) during which their window passed: missed against it.
    async fn expire_linked(
        &mut self,
        now: DateTime<Utc>,
        downtime: Option<(&'static str, i64)>,
    ) -> Result<(), RunError> {
        let (gone, keep): (Vec<Pending>, Vec<Pending>) = std::mem::take(&mut self.waiting)
            .into_iter()
            .partition(|p| p.deadline() < now);
        self.waiting = keep;
        let busy = self
            .current
            .as_ref()
            .map(|a| a.pending.firing.broadcast.clone())
            .unwrap_or_default();
        for p in gone {
            let (reason, link) = match downtime {
                Some((why, o)) => (why.to_string(), Some(o)),
                None => (format!("{}: {busy}", reasons::BUSY), None),
            };
            match p.resume {
                // An interrupted play that could not resume stays partial.
                Some((row, _)) => {
                    let r = format!(
                        "{}: {}",
                        reasons::INTERRUPTED_BY,
                        p.interrupted_by.clone().unwrap_or_default()
                    );
                    self.store
                        .call(move |s| s.update(row, Status::Partial, None, Some(&r)))
                        .await?;
                }
                None => {
                    self.record_unplayed(&p.firing, Status::Missed, reason, p.trigger, link)
                        .await?;
                }
            }
            tracing::warn!(broadcast = %p.firing.broadcast, "missed: its catch-up window passed while it waited");
        }
        Ok(())
    }

    /// Starts the most urgent waiting firing if the output is free, or cuts
    /// the current one for a higher priority.
    async fn dispatch(&mut self) -> Result<(), RunError> {
        loop {
            let Some(best) = self.most_urgent() else {
                return Ok(());
            };
            let prio = self.waiting[best].firing.priority;
            match &mut self.current {
                Some(a) => {
                    if prio > a.pending.firing.priority && a.cut_by.is_none() {
                        a.cut_by = Some(self.waiting[best].firing.broadcast.clone());
                        a.cancel.store(true, Ordering::SeqCst);
                        tracing::info!(cut = %a.pending.firing.broadcast, by = %self.waiting[best].firing.broadcast, "interrupting for higher priority");
                    }
                    return Ok(());
                }
                None => {
                    let p = self.waiting.remove(best);
                    if self.start(p).await? {
                        return Ok(());
                    }
                    // It failed before sound (content): try the next one.
                }
            }
        }
    }

    fn most_urgent(&self) -> Option<usize> {
        (0..self.waiting.len()).max_by(|&a, &b| {
            let (x, y) = (&self.waiting[a].firing, &self.waiting[b].firing);
            x.priority
                .cmp(&y.priority)
                .then(y.scheduled_at.cmp(&x.scheduled_at))
        })
    }

    /// Probes a firing's files and builds its items off the run loop. A
    /// decoder that panics on a broken file fails that file, never the
    /// daemon.
    async fn build(&self, f: &Firing) -> Result<Vec<PlayItem>, (String, String)> {
        let audio = self.station_dir.join(&self.config.audio_dir);
        let firing = f.clone();
        let probe = tokio::task::spawn_blocking(move || build_items(&audio, &firing));
        // A probe that never ends (a decoder stuck on a hostile file, a
        // file on a dead network share) fails that firing; the run loop
        // never waits on it unbounded.
        let Ok(probed) = tokio::time::timeout(PROBE_TIMEOUT, probe).await else {
            tracing::error!(broadcast = %f.broadcast, "probing the audio took too long");
            return Err((
                f.files.first().cloned().unwrap_or_default(),
                format!(
                    "reading the file took longer than {} s (damaged, or on a disk that does not answer); export it again",
                    PROBE_TIMEOUT.as_secs()
                ),
            ));
        };
        match probed {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(broadcast = %f.broadcast, error = %e, "decoder crashed while probing");
                Err((
                    f.files.first().cloned().unwrap_or_default(),
                    "the decoder crashed on this file; export it again".to_string(),
                ))
            }
        }
    }

    /// Builds the items and hands the job to the player. Returns false when
    /// the firing failed before any sound (a file missing or undecodable).
    async fn start(&mut self, mut p: Pending) -> Result<bool, RunError> {
        let built = match p.items.take() {
            Some(items) => Ok(items),
            None => self.build(&p.firing).await,
        };
        let now = self.clock.now();
        let items = match built {
            Ok(items) => items,
            Err((file, detail)) => {
                let f = p.firing.clone();
                let reason = format!("{}: {file}: {detail}", reasons::CONTENT);
                tracing::warn!(broadcast = %f.broadcast, %reason, "cannot play");
                let trigger = p.trigger;
                let outage = self.open_content(&file, &detail, now).await?;
                self.store
                    .call(move |s| {
                        let row = match p.resume {
                            Some((row, _)) => {
                                s.update(row, Status::Failed, Some(now), Some(&reason))?;
                                Some(row)
                            }
                            // Failed before any sound: no start time.
                            None => s.insert(
                                &f.broadcast,
                                f.scheduled_at,
                                None,
                                Some(now),
                                Status::Failed,
                                Some(&reason),
                                trigger,
                                f.priority.as_str(),
                                &f.files,
                            )?,
                        };
                        if let Some(row) = row {
                            s.link_outage(row, outage)?;
                        }
                        Ok(())
                    })
                    .await?;
                return Ok(false);
            }
        };
        let (row, start_index) = match p.resume {
            Some((row, index)) => {
                self.store
                    .call(move |s| s.update(row, Status::Playing, None, None))
                    .await?;
                (row, index)
            }
            None => {
                let f = p.firing.clone();
                let trigger = p.trigger;
                let id = self
                    .store
                    .call(move |s| {
                        s.insert(
                            &f.broadcast,
                            f.scheduled_at,
                            Some(now),
                            None,
                            Status::Playing,
                            None,
                            trigger,
                            f.priority.as_str(),
                            &f.files,
                        )
                    })
                    .await?;
                match id {
                    Some(id) => (id, 0),
                    None => return Ok(false), // already recorded: never twice
                }
            }
        };
        let resumed = p.resume.is_some();
        let job = self.next_job;
        self.next_job += 1;
        let cancel = Arc::new(AtomicBool::new(false));
        tracing::info!(broadcast = %p.firing.broadcast, scheduled = %p.firing.scheduled_at, delay_ms = (now - p.firing.scheduled_at).num_milliseconds(), start_index, "starting");
        let _ = self.player.send(Job {
            id: job,
            broadcast: p.firing.broadcast.clone(),
            items: items.clone(),
            start_index,
            cancel: cancel.clone(),
            check: false,
        });
        // Until its first item starts, the device must answer soon: a hung
        // open is found in seconds, not after the whole programme.
        self.sent(job);
        self.current = Some(Active {
            job,
            row,
            pending: p,
            items,
            cancel,
            cut_by: None,
            operator_stop: false,
            first_sample_seen: resumed,
            index: start_index,
            item_started_at: None,
        });
        if let Some(m) = &self.monitor {
            m.mark();
            m.set_active(true);
            self.listen = Some(Listening::now(self.clock.as_ref(), &m.hearing()));
        }
        Ok(true)
    }

    async fn on_player_event(&mut self, ev: PlayerEvent) -> Result<(), RunError> {
        // The player answered: move the deadline on. Events of a player
        // given up on (its jobs are no longer in flight) move nothing.
        match &ev {
            PlayerEvent::Finished { job, .. } => {
                if let Some(i) = self.inflight.iter().position(|j| j == job) {
                    self.inflight.remove(i);
                    if i == 0 {
                        // The next job starts now.
                        self.head_deadline = self
                            .inflight
                            .front()
                            .map(|_| self.clock.monotonic() + STUCK_AFTER);
                    }
                }
                if self.check_job == Some(*job) {
                    self.check_cancel = None;
                }
            }
            PlayerEvent::ItemStarted { job, index, .. } => {
                if let Some(a) = self
                    .current
                    .as_ref()
                    .filter(|a| a.job == *job && self.inflight.front() == Some(job))
                {
                    let left: Duration = a.items.iter().skip(*index).map(|i| i.duration).sum();
                    self.head_deadline = Some(self.clock.monotonic() + left + STUCK_AFTER);
                }
            }
        }
        if let PlayerEvent::Finished { job, result, at } = &ev {
            if Some(*job) == self.check_job {
                self.check_job = None;
                match result {
                    JobResult::Failed { error, .. } => {
                        self.output_failed(error, *at).await?;
                    }
                    _ => self.output_ok(*at).await?,
                }
                return Ok(());
            }
        }
        match ev {
            PlayerEvent::ItemStarted { job, index, at } => {
                let Some(a) = self.current.as_mut().filter(|a| a.job == job) else {
                    return Ok(());
                };
                tracing::debug!(item = index, label = %a.items.get(index).map(|i| i.label.as_str()).unwrap_or(""), "item started");
                a.index = index;
                a.item_started_at = Some(at);
                if !a.first_sample_seen {
                    a.first_sample_seen = true;
                    // Judge from the first sample, not from the request.
                    if let (Some(m), Some(_)) = (&self.monitor, &self.listen) {
                        m.mark();
                        self.listen = Some(Listening::now(self.clock.as_ref(), &m.hearing()));
                    }
                    let row = a.row;
                    self.store.call(move |s| s.set_started(row, at)).await?;
                    self.output_ok(at).await?;
                }
            }
            PlayerEvent::Finished { job, result, at } => {
                if self.current.as_ref().map(|a| a.job) != Some(job) {
                    return Ok(());
                }
                let a = self.current.take().expect("checked");
                let sounded = a.first_sample_seen
                    && matches!(result, JobResult::Completed | JobResult::Cancelled { .. });
                self.listen_end(a.row, &a.pending.firing.broadcast, sounded, at)
                    .await?;
                match result {
                    JobResult::Completed => {
                        for item in a
                            .items
                            .iter()
                            .filter(|i| matches!(i.source, ItemSource::File(_)))
                        {
                            if self.content_open.remove(&item.label) {
                                let label = item.label.clone();
                                self.store
                                    .call(move |s| s.close_outage(OutageKind::Content, &label, at))
                                    .await?;
                            }
                        }
                        let reason = a
                            .pending
                            .interrupted_by
                            .as_ref()
                            .map(|b| format!("{}: {b}; resumed", reasons::INTERRUPTED_BY));
                        self.store
                            .call(move |s| {
                                s.update(a.row, Status::Played, Some(at), reason.as_deref())
                            })
                            .await?;
                        tracing::info!(broadcast = %a.pending.firing.broadcast, "played");
                    }
                    JobResult::Cancelled { .. } if a.cut_by.is_none() || a.operator_stop => {
                        let code = if a.operator_stop {
                            reasons::OPERATOR_STOP
                        } else {
                            reasons::STOPPED
                        };
                        // A resumed play keeps the story of its first cut.
                        let reason = match &a.pending.interrupted_by {
                            Some(by) => format!("{}: {by}; {code}", reasons::INTERRUPTED_BY),
                            None => code.to_string(),
                        };
                        self.store
                            .call(move |s| {
                                s.update(a.row, Status::Partial, Some(at), Some(&reason))
                            })
                            .await?;
                        tracing::info!(broadcast = %a.pending.firing.broadcast, "stopped during the play");
                    }
                    JobResult::Cancelled { index } => {
                        let by = a.cut_by.clone().unwrap_or_default();
                        let reason = format!("{}: {by}", reasons::INTERRUPTED_BY);
                        self.store
                            .call(move |s| {
                                s.update(a.row, Status::Partial, Some(at), Some(&reason))
                            })
                            .await?;
                        tracing::info!(broadcast = %a.pending.firing.broadcast, by = %by, item = index, "cut; will resume if its window allows");
                        let mut p = a.pending.clone();
                        p.resume = Some((a.row, index));
                        p.interrupted_by = Some(by);
                        self.waiting.push(p);
                    }
                    JobResult::Failed {
                        index,
                        error,
                        device,
                    } => {
                        let code = if device {
                            reasons::DEVICE
                        } else {
                            reasons::CONTENT
                        };
                        let reason = format!("{code}: {error}");
                        let status = if index == 0 && !a.first_sample_seen {
                            Status::Failed
                        } else {
                            Status::Partial
                        };
                        tracing::error!(broadcast = %a.pending.firing.broadcast, %reason, "play failed");
                        let outage = if device {
                            self.output_failed(&error, at).await?
                        } else {
                            let file = a
                                .items
                                .get(index)
                                .map(|i| i.label.clone())
                                .unwrap_or_default();
                            self.open_content(&file, &error, at).await?
                        };
                        self.store
                            .call(move |s| {
                                s.update(a.row, status, Some(at), Some(&reason))?;
                                s.link_outage(a.row, outage)
                            })
                            .await?;
                    }
                }
                if !self.stopping {
                    let now = self.clock.now();
                    self.expire(now).await?;
                    self.dispatch().await?;
                }
            }
        }
        Ok(())
    }

    /// Asks the player whether the output works.
    fn send_check(&mut self) {
        let id = self.next_job;
        self.next_job += 1;
        self.check_job = Some(id);
        let cancel = Arc::new(AtomicBool::new(false));
        self.check_cancel = Some(cancel.clone());
        let _ = self.player.send(Job {
            id,
            broadcast: String::new(),
            items: Vec::new(),
            start_index: 0,
            cancel,
            check: true,
        });
        self.sent(id);
    }

    /// A job was handed to the player: it runs after those in flight, and
    /// at once (with a deadline) if there are none.
    fn sent(&mut self, job: u64) {
        self.inflight.push_back(job);
        if self.inflight.len() == 1 {
            self.head_deadline = Some(self.clock.monotonic() + STUCK_AFTER);
        }
    }

    /// The player has not answered by its deadline: the device is stuck
    /// (a driver or sink whose open, write or close never returns). The
    /// play is recorded as failed against an `output` outage, and a fresh
    /// player thread takes over (the stuck one is left behind; its late
    /// events are ignored and its jobs are cancelled).
    async fn player_stuck(&mut self) -> Result<(), RunError> {
        let Some(job) = self.inflight.front().copied() else {
            self.head_deadline = None;
            return Ok(());
        };
        // Every job handed to this player is void: the one stuck and any
        // waiting behind it (a device check left waiting would stop every
        // later retry).
        let jobs: Vec<u64> = std::mem::take(&mut self.inflight).into();
        self.head_deadline = None;
        let now = self.clock.now();
        let error = "the sound device stopped answering (stuck)";
        tracing::error!(job, "{error}: giving up on the player thread");
        let mut failed = false;
        if self.check_job.is_some_and(|c| jobs.contains(&c)) {
            self.check_job = None;
            if let Some(c) = self.check_cancel.take() {
                c.store(true, Ordering::SeqCst);
            }
            self.output_failed(error, now).await?;
            failed = true;
        }
        if let Some(a) = self.current.take_if(|a| jobs.contains(&a.job)) {
            a.cancel.store(true, Ordering::SeqCst);
            self.listen_end(a.row, &a.pending.firing.broadcast, false, now)
                .await?;
            let status = if a.first_sample_seen {
                Status::Partial
            } else {
                Status::Failed
            };
            let reason = format!("{}: {error}", reasons::DEVICE);
            let outage = if failed {
                self.output_outage_id(error, now).await?
            } else {
                self.output_failed(error, now).await?
            };
            self.store
                .call(move |s| {
                    s.update(a.row, status, Some(now), Some(&reason))?;
                    s.link_outage(a.row, outage)
                })
                .await?;
        }
        self.stuck_players
            .retain(|alive| alive.load(Ordering::SeqCst));
        if self.stuck_players.len() < 2 {
            if let Some(make) = &self.output_factory {
                let (tx, alive) =
                    output::spawn_player_watched(make(), self.clock.clone(), self.ev_tx.clone());
                let old = std::mem::replace(&mut self.player_alive, alive);
                self.stuck_players.push(old);
                self.player = tx;
                tracing::warn!("a new player thread took over the sound output");
            }
        }
        if !self.stopping {
            self.dispatch().await?;
        }
        Ok(())
    }

    /// The output failed: open (or keep) its outage and schedule a retry
    /// with backoff (1 s doubling to 30 s). Returns the outage id.
    async fn output_failed(&mut self, error: &str, at: DateTime<Utc>) -> Result<i64, RunError> {
        let id = self.output_outage_id(error, at).await?;
        let backoff = self
            .output_retry
            .map_or(Duration::from_secs(1), |(_, b)| (b * 2).min(MAX_BACKOFF));
        let now = self.clock.now();
        self.output_retry = Some((
            now + TimeDelta::from_std(backoff).unwrap_or_default(),
            backoff,
        ));
        Ok(id)
    }

    /// The `output` outage's id, opened if none is open, without moving
    /// the retry on (one failure recorded against two things).
    async fn output_outage_id(&mut self, error: &str, at: DateTime<Utc>) -> Result<i64, RunError> {
        self.output_outage_open = true;
        let (subject, detail) = (self.output_name.clone(), error.to_string());
        let (id, new) = self
            .store
            .call(move |s| s.open_outage(OutageKind::Output, &subject, at, &detail))
            .await?;
        if new {
            tracing::error!(output = %self.output_name, %error, "sound output failing: outage opened");
        }
        Ok(id)
    }

    /// The output works again: close its outage.
    async fn output_ok(&mut self, at: DateTime<Utc>) -> Result<(), RunError> {
        self.output_retry = None;
        if !self.output_outage_open {
            return Ok(());
        }
        self.output_outage_open = false;
        let subject = self.output_name.clone();
        if self
            .store
            .call(move |s| s.close_outage(OutageKind::Output, &subject, at))
            .await?
            .is_some()
        {
            tracing::info!(output = %self.output_name, "sound output works again: outage closed");
        }
        Ok(())
    }

    /// Opens (or keeps) the `content` outage of a file; returns its id.
    async fn open_content(
        &mut self,
        file: &str,
        detail: &str,
        at: DateTime<Utc>,
    ) -> Result<i64, RunError> {
        self.content_open.insert(file.to_string());
        let (f, d) = (file.to_string(), detail.to_string());
        Ok(self
            .store
            .call(move |s| s.open_outage(OutageKind::Content, &f, at, &d))
            .await?
            .0)
    }

    /// Closes the `content` outages of files that play again.
    async fn recheck_content(&mut self) -> Result<(), RunError> {
        if self.content_open.is_empty() {
            return Ok(());
        }
        let audio = self.station_dir.join(&self.config.audio_dir);
        let files: Vec<String> = self.content_open.iter().cloned().collect();
        let fixed: Vec<String> = tokio::task::spawn_blocking(move || {
            files
                .into_iter()
                .filter(|f| {
                    media::resolve_under(&audio, f)
                        .and_then(|p| media::probe(&p))
                        .is_ok()
                })
                .collect()
        })
        .await
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "decoder crashed while re-checking files");
            Vec::new()
        });
        let now = self.clock.now();
        for f in fixed {
            self.content_open.remove(&f);
            tracing::info!(file = %f, "file playable again: content outage closed");
            self.store
                .call(move |s| s.close_outage(OutageKind::Content, &f, now))
                .await?;
        }
        Ok(())
    }

    /// Warns (log and `status`) about files missing for firings in the
    /// next hour, so the operator can still upload them.
    async fn warn_missing_soon(&mut self, now: DateTime<Utc>) -> Result<(), RunError> {
        // At most once a minute: a file uploaded or removed shows up soon
        // enough, and a broadcast firing every second costs nothing extra.
        let mono = self.clock.monotonic();
        if self
            .last_warn_check
            .is_some_and(|t| mono < t + Duration::from_secs(60))
        {
            return Ok(());
        }
        self.last_warn_check = Some(mono);
        let audio = self.station_dir.join(&self.config.audio_dir);
        // The first firing of each broadcast within the hour, and each
        // distinct file once.
        let mut soon: Vec<Firing> = Vec::new();
        for b in self.broadcasts.iter() {
            let f = plan::firings(std::slice::from_ref(b), &self.rules, now, now + WARN_AHEAD)
                .into_iter()
                .find(|f| f.skip.is_none());
            soon.extend(f);
        }
        let mut exists: std::collections::HashMap<String, bool> = Default::default();
        for f in &soon {
            if self.warned.contains(&(f.broadcast.clone(), f.scheduled_at)) {
                continue;
            }
            let missing: Vec<&String> = f
                .files
                .iter()
                .filter(|x| {
                    !*exists
                        .entry((*x).clone())
                        .or_insert_with(|| media::resolve_under(&audio, x).is_ok())
                })
                .collect();
            if let Some(file) = missing.first() {
                self.warned.insert((f.broadcast.clone(), f.scheduled_at));
                let msg = crate::i18n::Msg::WarnFileMissingSoon {
                    name: f.broadcast.clone(),
                    time: f
                        .scheduled_at
                        .with_timezone(&self.rules.tz)
                        .format("%Y-%m-%d %H:%M:%S")
                        .to_string(),
                    path: format!("{}/{}", self.config.audio_dir.display(), file),
                };
                tracing::warn!("{}", msg.render(Lang::En));
                let json = serde_json::json!({"at": ts(now), "scheduled_at": ts(f.scheduled_at), "broadcast": f.broadcast, "file": file, "zh": msg.render(Lang::Zh), "en": msg.render(Lang::En)});
                let mut list: Vec<serde_json::Value> = self
                    .store
                    .call(|s| s.meta(keys::WARNINGS))
                    .await?
                    .and_then(|t| serde_json::from_str(&t).ok())
                    .unwrap_or_default();
                list.retain(|w| {
                    w["scheduled_at"]
                        .as_str()
                        .is_some_and(|t| t >= ts(now).as_str())
                });
                list.push(json);
                let text = serde_json::to_string(&list).expect("json");
                self.store
                    .call(move |s| s.set_meta(keys::WARNINGS, &text))
                    .await?;
            }
        }
        Ok(())
    }

    /// When the loop must look again: the next firing or the earliest
    /// waiting deadline (the clock bounds the sleep).
    fn next_wake(&self) -> DateTime<Utc> {
        let now = self.clock.now();
        let mut wake = now + TimeDelta::days(2);
        if let Some(n) = plan::next_after(&self.broadcasts, &self.rules, now) {
            wake = wake.min(n);
        }
        // Off-air firings wait from their instant until their window
        // closes.
        if !self.off_air.is_empty() {
            let off: Vec<Broadcast> = self.off_air.iter().map(|(b, _)| b.clone()).collect();
            if let Some(n) = plan::next_after(&off, &self.rules, now) {
                wake = wake.min(n);
            }
        }
        for p in &self.off_pending {
            wake = wake.min(p.deadline + TimeDelta::milliseconds(1));
        }
        for p in &self.waiting {
            wake = wake.min(p.deadline() + TimeDelta::milliseconds(1));
        }
        if let (Some((at, _)), None) = (self.output_retry, self.check_job) {
            wake = wake.min(at);
        }
        if let Some(t) = self.clock_sane_after {
            wake = wake.min(t);
        }
        if let Some(t) = self.silence_deadline() {
            wake = wake.min(t);
        }
        if let Some(at) = self.head_deadline {
            let left = at.saturating_sub(self.clock.monotonic());
            wake = wake.min(now + TimeDelta::from_std(left).unwrap_or_default());
        }
        // Look an hour ahead of the next firing for files not uploaded yet.
        if let Some(n) = plan::next_after(&self.broadcasts, &self.rules, now + WARN_AHEAD) {
            wake = wake.min(n - WARN_AHEAD);
        }
        wake.max(now)
    }
}
