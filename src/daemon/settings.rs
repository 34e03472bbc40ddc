//! How the daemon is set up (what a test controls) and its fixed limits;
//! the errors that stop it. No behaviour.

use super::control::Face;
use crate::sound::output::Output;
use crate::store::StoreError;
use chrono::Duration as TimeDelta;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How often the daemon writes its heartbeat.
pub const HEARTBEAT: Duration = Duration::from_secs(10);

/// The subject prefix of the monitor input's own `output` outage.
pub const MONITOR_SUBJECT: &str = "monitor:";

/// The subject of `clock` outages: the PC itself.
pub const CLOCK_SUBJECT: &str = "pc";

/// A wall-clock step larger than this while running is a `clock` fault.
pub const CLOCK_FAULT_STEP: TimeDelta = TimeDelta::minutes(2);

/// The longest wait between retries of a failing sound device.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// How long before air time a missing file is warned about.
pub const WARN_AHEAD: TimeDelta = TimeDelta::hours(1);

/// What the daemon needs that a test wants to control.
pub struct RunConfig {
    pub station_dir: PathBuf,
    /// Watch the schedules folder and station file for changes.
    pub watch: bool,
    pub heartbeat: Duration,
    /// Records held in memory longer than this are said loudly.
    pub store_alarm: Duration,
    /// Told once start-up (downtime, outages, first tick) is done.
    pub ready: Option<tokio::sync::oneshot::Sender<()>>,
    /// The face people and tools use (the web face: dashboard, API,
    /// metrics), started once the run loop can answer; none = no face.
    /// Made by the caller (`web::http::face`), so the daemon never imports
    /// the web.
    pub face: Option<Face>,
    /// The monitor input (proof of air); none: plays are unverified.
    pub monitor: Option<crate::sound::monitor::MonitorHandle>,
    /// Makes a fresh output of the same kind, for a new player thread when
    /// the old one is stuck in the device; none: a stuck device is only
    /// recorded.
    pub output_factory: Option<OutputFactory>,
}

/// See [`RunConfig::output_factory`].
pub type OutputFactory = Box<dyn Fn() -> Box<dyn Output> + Send + Sync>;

/// How long past its expected end a play (or a device check) may go
/// without the player answering before the device counts as stuck.
pub const STUCK_AFTER: Duration = Duration::from_secs(10);

impl RunConfig {
    pub fn new(station_dir: &Path) -> Self {
        RunConfig {
            station_dir: station_dir.to_path_buf(),
            watch: true,
            heartbeat: HEARTBEAT,
            store_alarm: HELD_LOUD,
            ready: None,
            face: None,
            monitor: None,
            output_factory: None,
        }
    }
}

/// Failures that stop the daemon: only the loss of the event store for
/// good (its memory copy cannot be kept either), or another daemon
/// already running on the station.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("another cunxiang is already running on this station (lock {path}{})", pid.map(|p| format!(", process {p}")).unwrap_or_default())]
    AlreadyRunning { path: PathBuf, pid: Option<u32> },
}

/// How long probing a firing's files may take before it fails.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// The daily self-test's name in the as-run log.
pub const SELF_TEST: &str = "自检 self-test";

/// How much later than it asked the run loop may wake (a busy machine)
/// before the gap counts as a freeze. A freeze is found by the run loop,
/// not the heartbeat thread, so the firings it cost are decided as
/// downtime and linked to it.
pub const FROZEN_SLACK: Duration = Duration::from_secs(20);

/// Records held in memory longer than this are said loudly, and again
/// each time this long passes (the default of `run --store-alarm`).
pub const HELD_LOUD: Duration = Duration::from_secs(5 * 60);
