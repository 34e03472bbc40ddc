//! Proof of air: a monitor input (the amplifier's monitor out, or an FM
//! receiver tuned to the village transmitter, into the PC's line-in) is
//! measured in short windows while we play, so a play counts as heard only
//! when its sound actually went out, and a silent chain is a fault.
//!
//! The level meter is pure (`rms_dbfs`, [`Verdict`]); a source yields
//! windows of samples (a capture device, a WAV read at real-time pace, or a
//! test's switch); one thread reads it and keeps the counts the daemon
//! looks at. Nothing is measured while nothing plays: silence then is not
//! judged, and an idle daemon stays idle.
//!
//! It owns the monitor input and its counts; it must not open outages or
//! write the store (the daemon judges and records).

use crate::clock::Clock;
use crate::config::station::MonitorSpec;
use chrono::{DateTime, Utc};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The length of one measured window.
pub const WINDOW: Duration = Duration::from_millis(200);
/// The level of digital silence (and of an empty window).
pub const FLOOR_DB: f32 = -120.0;
/// A play is heard when at least this share of its windows is above the
/// threshold (speech has pauses; a dead chain has none above it).
pub const HEARD_SHARE: f64 = 0.2;

/// RMS level of `samples` in dBFS: 20·log10(rms), so a full-scale square
/// wave is 0 dBFS and a full-scale sine −3 dBFS. Silence is [`FLOOR_DB`].
pub fn rms_dbfs(samples: &[f32]) -> f32 {
    if samples.is_empty() {
        return FLOOR_DB;
    }
    let sum: f64 = samples.iter().map(|s| (*s as f64) * (*s as f64)).sum();
    let rms = (sum / samples.len() as f64).sqrt();
    if rms <= 0.0 {
        return FLOOR_DB;
    }
    ((20.0 * rms.log10()) as f32).max(FLOOR_DB)
}

/// What the monitor says of one play.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Heard,
    Silent,
    /// Nothing measured (no monitor, or it failed during the play).
    Unknown,
}

impl Verdict {
    /// From the windows measured during a play and how many were above
    /// the threshold.
    pub fn of(windows: u64, heard: u64) -> Verdict {
        if windows == 0 {
            Verdict::Unknown
        } else if heard as f64 >= HEARD_SHARE * windows as f64 {
            Verdict::Heard
        } else {
            Verdict::Silent
        }
    }

    /// The `heard` column: true, false or null.
    pub fn as_heard(self) -> Option<bool> {
        match self {
            Verdict::Heard => Some(true),
            Verdict::Silent => Some(false),
            Verdict::Unknown => None,
        }
    }
}

/// Tracks silence in a stream of window levels: how long the signal has
/// been under the threshold.
#[derive(Debug, Clone)]
pub struct SilenceTracker {
    pub threshold_db: f32,
    last_heard: Option<DateTime<Utc>>,
    since: Option<DateTime<Utc>>,
}

impl SilenceTracker {
    pub fn new(threshold_db: f32) -> SilenceTracker {
        SilenceTracker {
            threshold_db,
            last_heard: None,
            since: None,
        }
    }

    /// Feeds one window ending at `at`; returns whether it was heard.
    pub fn feed(&mut self, at: DateTime<Utc>, db: f32) -> bool {
        self.since.get_or_insert(at);
        let heard = db >= self.threshold_db;
        if heard {
            self.last_heard = Some(at);
        }
        heard
    }

    /// How long it has been silent at `now` (since the last heard window,
    /// or since the first window).
    pub fn silent_for(&self, now: DateTime<Utc>) -> chrono::Duration {
        match self.last_heard.or(self.since) {
            Some(t) => now - t,
            None => chrono::Duration::zero(),
        }
    }
}

/// What the monitor thread has measured, read by the daemon.
#[derive(Debug, Clone, Default)]
pub struct Hearing {
    /// Windows measured, and of those above the threshold, ever.
    pub windows: u64,
    pub heard: u64,
    /// The last window's level and when it ended.
    pub last_db: Option<f32>,
    pub last_at: Option<DateTime<Utc>>,
    /// The last window above the threshold.
    pub last_heard: Option<DateTime<Utc>>,
    /// The first window above the threshold since [`MonitorHandle::mark`].
    pub first_heard_since_mark: Option<DateTime<Utc>>,
    /// The source failed (device gone): why. Cleared by the next window
    /// measured, not by reopening.
    pub error: Option<String>,
    /// Failures so far (a play during which it grew is unverified).
    pub errors: u64,
    /// The same instants on the monotonic clock: silence is measured on
    /// it, so a wall-clock step is never silence.
    pub last_at_mono: Option<Duration>,
    pub last_heard_mono: Option<Duration>,
}

/// A source of monitor samples.
pub trait MonitorSource: Send {
    /// The next [`WINDOW`] of mono samples, paced by the source.
    ///
    /// # Errors
    /// When the source is gone (device unplugged, file unreadable).
    fn read_window(&mut self) -> Result<Vec<f32>, String>;
    /// Stop or resume taking samples (a device is paused while idle).
    fn set_active(&mut self, _active: bool) {}
}

/// A WAV read at real-time pace (by the clock), looping; a file replaced
/// meanwhile is read again at the end of a loop (to demonstrate a signal
/// that goes silent, or comes back).
pub struct FileSource {
    path: std::path::PathBuf,
    modified: Option<std::time::SystemTime>,
    samples: Vec<f32>,
    rate: u32,
    pos: usize,
    clock: Arc<dyn Clock>,
    next: Option<Duration>,
}

impl FileSource {
    /// Decodes `path` to mono.
    ///
    /// # Errors
    /// When the file cannot be opened or decoded.
    pub fn open(path: &std::path::Path, clock: Arc<dyn Clock>) -> Result<FileSource, String> {
        use rodio::Source;
        let f = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let modified = f.metadata().and_then(|m| m.modified()).ok();
        let dec = rodio::Decoder::try_from(f).map_err(|e| format!("{}: {e}", path.display()))?;
        let channels = dec.channels().get() as usize;
        let rate = dec.sample_rate().get();
        let all: Vec<f32> = dec.collect();
        let samples: Vec<f32> = all
            .chunks(channels)
            .map(|c| c.iter().sum::<f32>() / c.len() as f32)
            .collect();
        if samples.is_empty() {
            return Err(format!("{}: no samples", path.display()));
        }
        Ok(FileSource {
            path: path.to_path_buf(),
            modified,
            samples,
            rate,
            pos: 0,
            clock,
            next: None,
        })
    }
}

impl FileSource {
    /// At the end of a loop: the file again, if it was replaced.
    fn reread(&mut self) -> Result<(), String> {
        let now = std::fs::metadata(&self.path)
            .and_then(|m| m.modified())
            .ok();
        if now != self.modified {
            let fresh = FileSource::open(&self.path, self.clock.clone())?;
            (self.samples, self.rate, self.modified) = (fresh.samples, fresh.rate, fresh.modified);
        }
        Ok(())
    }
}

impl MonitorSource for FileSource {
    fn read_window(&mut self) -> Result<Vec<f32>, String> {
        let next = self.next.unwrap_or_else(|| self.clock.monotonic()) + WINDOW;
        self.clock.pace_until(next, &|| false);
        self.next = Some(next);
        let n = (self.rate as u128 * WINDOW.as_millis() / 1000) as usize;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(self.samples[self.pos]);
            self.pos = (self.pos + 1) % self.samples.len();
            if self.pos == 0 {
                self.reread()?;
            }
        }
        Ok(out)
    }

    fn set_active(&mut self, active: bool) {
        if !active {
            // Real-time pace restarts from the next read.
            self.next = None;
        }
    }
}

/// A test's monitor: a switch between a −20 dBFS tone and silence, paced
/// by the (test) clock; it can also fail like an unplugged device.
#[derive(Clone)]
pub struct TestSource {
    pub signal: Arc<AtomicBool>,
    pub broken: Arc<AtomicBool>,
    /// Windows read so far (none while nothing plays).
    pub reads: Arc<std::sync::atomic::AtomicU64>,
    clock: Arc<dyn Clock>,
    next: Option<Duration>,
}

impl TestSource {
    pub fn new(clock: Arc<dyn Clock>, signal: bool) -> TestSource {
        TestSource {
            signal: Arc::new(AtomicBool::new(signal)),
            broken: Arc::new(AtomicBool::new(false)),
            reads: Arc::new(std::sync::atomic::AtomicU64::new(0)),
            clock,
            next: None,
        }
    }
}

impl MonitorSource for TestSource {
    fn read_window(&mut self) -> Result<Vec<f32>, String> {
        let next = self.next.unwrap_or_else(|| self.clock.monotonic()) + WINDOW;
        self.clock.pace_until(next, &|| false);
        self.next = Some(next);
        self.reads.fetch_add(1, Ordering::SeqCst);
        if self.broken.load(Ordering::SeqCst) {
            return Err("test monitor unplugged".into());
        }
        let level = if self.signal.load(Ordering::SeqCst) {
            0.1 // −20 dBFS RMS (a square wave of 0.1)
        } else {
            0.0
        };
        Ok((0..1600)
            .map(|i| if i % 2 == 0 { level } else { -level })
            .collect())
    }

    fn set_active(&mut self, active: bool) {
        if !active {
            self.next = None;
        }
    }
}

/// The running monitor: its thread, what it measured, and the switch the
/// daemon turns on while it plays.
pub struct MonitorHandle {
    pub name: String,
    pub threshold_db: f32,
    pub silence_after: Duration,
    state: Arc<Mutex<Hearing>>,
    active: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl MonitorHandle {
    /// Starts the monitor thread; `open` builds the source on that thread
    /// (a capture stream may not move between threads) and is called
    /// again after a failure, once a second, until it works.
    pub fn spawn(
        name: String,
        threshold_db: f32,
        silence_after: Duration,
        clock: Arc<dyn Clock>,
        open: Box<dyn Fn() -> Result<Box<dyn MonitorSource>, String> + Send>,
    ) -> MonitorHandle {
        let state = Arc::new(Mutex::new(Hearing::default()));
        let active = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, act, halt) = (state.clone(), active.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("monitor".into())
            .spawn(move || {
                let mut source: Option<Box<dyn MonitorSource>> = None;
                let mut was_active = false;
                while !halt.load(Ordering::SeqCst) {
                    let on = act.load(Ordering::SeqCst);
                    if !on {
                        if was_active {
                            if let Some(s) = source.as_mut() {
                                s.set_active(false);
                            }
                            was_active = false;
                        }
                        // Every change of `active` (and the stop) unparks.
                        std::thread::park();
                        continue;
                    }
                    if source.is_none() {
                        source = open_input(&open, &st);
                        if source.is_none() {
                            continue;
                        }
                    }
                    let s = source.as_mut().expect("opened");
                    if !was_active {
                        s.set_active(true);
                        was_active = true;
                    }
                    match s.read_window() {
                        Ok(samples) => count_window(&st, clock.as_ref(), threshold_db, &samples),
                        Err(e) => {
                            tracing::warn!(error = %e, "monitor input failed");
                            let mut h = st.lock().expect("monitor state");
                            h.error = Some(e);
                            h.errors += 1;
                            drop(h);
                            source = None;
                            was_active = false;
                            std::thread::park_timeout(Duration::from_secs(1));
                        }
                    }
                }
            })
            .expect("spawn monitor thread");
        MonitorHandle {
            name,
            threshold_db,
            silence_after,
            state,
            active,
            stop,
            thread: Some(thread),
        }
    }

    /// What has been measured so far.
    pub fn hearing(&self) -> Hearing {
        self.state.lock().expect("monitor state").clone()
    }

    /// Listen (while a play is on air) or rest.
    pub fn set_active(&self, on: bool) {
        self.active.store(on, Ordering::SeqCst);
        if let Some(t) = &self.thread {
            t.thread().unpark();
        }
    }

    /// Starts counting "first heard" afresh (at a play's start).
    pub fn mark(&self) {
        self.state
            .lock()
            .expect("monitor state")
            .first_heard_since_mark = None;
    }
}

impl Drop for MonitorHandle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
        }
    }
}

/// A capture device through cpal (rodio's audio layer), mono-mixed.
pub struct DeviceSource {
    stream: rodio::cpal::Stream,
    rx: std::sync::mpsc::Receiver<Result<Vec<f32>, String>>,
    buf: Vec<f32>,
    rate: u32,
}

impl DeviceSource {
    /// Opens the default capture device, or the one named.
    ///
    /// # Errors
    /// When there is no such device or it cannot capture.
    pub fn open(name: Option<&str>) -> Result<DeviceSource, String> {
        use rodio::cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
        let host = rodio::cpal::default_host();
        let device = match name {
            None => host.default_input_device(),
            Some(n) => host.input_devices().map_err(|e| e.to_string())?.find(|d| {
                crate::sound::devices::device_names(d)
                    .iter()
                    .any(|x| x == n)
            }),
        }
        .ok_or_else(|| format!("no capture device {}", name.unwrap_or("(default)")))?;
        let config = device.default_input_config().map_err(|e| e.to_string())?;
        let channels = config.channels().max(1) as usize;
        let rate = config.sample_rate();
        let (tx, rx) = std::sync::mpsc::channel();
        let err_tx = tx.clone();
        let mono = move |data: &[f32]| -> Vec<f32> {
            data.chunks(channels)
                .map(|c| c.iter().sum::<f32>() / c.len() as f32)
                .collect()
        };
        let on_err = move |e: rodio::cpal::Error| {
            let _ = err_tx.send(Err(e.to_string()));
        };
        let stream = match config.sample_format() {
            rodio::cpal::SampleFormat::F32 => device.build_input_stream(
                config.into(),
                move |d: &[f32], _: &_| {
                    let _ = tx.send(Ok(mono(d)));
                },
                on_err,
                None,
            ),
            rodio::cpal::SampleFormat::I16 => device.build_input_stream(
                config.into(),
                move |d: &[i16], _: &_| {
                    let f: Vec<f32> = d.iter().map(|s| *s as f32 / 32768.0).collect();
                    let _ = tx.send(Ok(mono(&f)));
                },
                on_err,
                None,
            ),
            other => return Err(format!("unsupported capture format {other:?}")),
        }
        .map_err(|e| e.to_string())?;
        stream.play().map_err(|e| e.to_string())?;
        Ok(DeviceSource {
            stream,
            rx,
            buf: Vec::new(),
            rate,
        })
    }
}

impl DeviceSource {
    /// Samples per second of its (mono) windows.
    pub fn rate(&self) -> u32 {
        self.rate
    }
}

impl MonitorSource for DeviceSource {
    fn read_window(&mut self) -> Result<Vec<f32>, String> {
        let n = (self.rate as u128 * WINDOW.as_millis() / 1000) as usize;
        while self.buf.len() < n {
            match self.rx.recv_timeout(Duration::from_secs(2)) {
                Ok(Ok(chunk)) => self.buf.extend(chunk),
                Ok(Err(e)) => return Err(e),
                Err(_) => return Err("the capture device stopped delivering sound".into()),
            }
        }
        Ok(self.buf.drain(..n).collect())
    }

    fn set_active(&mut self, active: bool) {
        use rodio::cpal::traits::StreamTrait;
        let _ = if active {
            self.stream.play()
        } else {
            self.stream.pause()
        };
        self.buf.clear();
        while self.rx.try_recv().is_ok() {}
    }
}

/// Opens the source a spec names.
///
/// # Errors
/// When it cannot be opened.
pub fn open_source(
    spec: &MonitorSpec,
    clock: Arc<dyn Clock>,
) -> Result<Box<dyn MonitorSource>, String> {
    match spec {
        MonitorSpec::File(p) => Ok(Box::new(FileSource::open(p, clock)?)),
        MonitorSpec::Device(n) => Ok(Box::new(DeviceSource::open(n.as_deref())?)),
    }
}

/// Opens the monitor input; on failure counts it (one log line per change
/// of error, not one per retry), waits a second and gives `None`.
fn open_input(
    open: &dyn Fn() -> Result<Box<dyn MonitorSource>, String>,
    state: &Mutex<Hearing>,
) -> Option<Box<dyn MonitorSource>> {
    match open() {
        Ok(s) => Some(s),
        Err(e) => {
            let mut h = state.lock().expect("monitor state");
            // One line per change, not one per retry.
            if h.error.as_ref() != Some(&e) {
                tracing::warn!(error = %e, "monitor input cannot be opened");
            }
            h.error = Some(e);
            h.errors += 1;
            drop(h);
            std::thread::park_timeout(Duration::from_secs(1));
            None
        }
    }
}

/// Counts one window read: its level, and whether it was heard.
fn count_window(state: &Mutex<Hearing>, clock: &dyn Clock, threshold_db: f32, samples: &[f32]) {
    let db = rms_dbfs(samples);
    let (at, mono) = (clock.now(), clock.monotonic());
    let mut h = state.lock().expect("monitor state");
    h.windows += 1;
    h.last_db = Some(db);
    h.last_at = Some(at);
    h.last_at_mono = Some(mono);
    h.error = None;
    if db >= threshold_db {
        h.heard += 1;
        h.last_heard = Some(at);
        h.last_heard_mono = Some(mono);
        h.first_heard_since_mark.get_or_insert(at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(db: f32, secs: f32, rate: u32) -> Vec<f32> {
        // A sine whose RMS is `db` dBFS: amplitude = rms·√2.
        let amp = 10f32.powf(db / 20.0) * std::f32::consts::SQRT_2;
        (0..(secs * rate as f32) as usize)
            .map(|i| amp * (i as f32 * 440.0 * 2.0 * std::f32::consts::PI / rate as f32).sin())
            .collect()
    }

    #[test]
    fn levels_of_generated_buffers() {
        assert_eq!(rms_dbfs(&[0.0; 1600]), FLOOR_DB);
        assert_eq!(rms_dbfs(&[]), FLOOR_DB);
        let t = rms_dbfs(&tone(-20.0, 0.2, 8000));
        assert!((t + 20.0).abs() < 0.1, "{t}");
        let full = rms_dbfs(&tone(-3.0103, 0.2, 8000));
        assert!(
            full.abs() < 3.1 && full < -2.9,
            "full-scale sine ≈ −3 dBFS: {full}"
        );
        let quiet = rms_dbfs(&tone(-60.0, 0.2, 8000));
        assert!(
            quiet < -45.0,
            "a −60 dBFS tone is under the default threshold: {quiet}"
        );
    }

    #[test]
    fn speech_like_bursts_with_short_pauses_stay_heard() {
        let rate = 8000;
        let t0 = chrono::Utc::now();
        let mut tr = SilenceTracker::new(-45.0);
        // 1.5 s of speech, 2 s of pause, repeated for a minute.
        let mut heard = 0;
        let mut windows = 0;
        for w in 0..300 {
            let in_cycle = (w % 18) as f32 * 0.2;
            let buf = if in_cycle < 1.5 {
                tone(-24.0, 0.2, rate)
            } else {
                vec![0.0; 1600]
            };
            let at = t0 + chrono::Duration::milliseconds(200 * (w + 1));
            windows += 1;
            if tr.feed(at, rms_dbfs(&buf)) {
                heard += 1;
            }
            assert!(
                tr.silent_for(at) <= chrono::Duration::seconds(3),
                "pauses never add up to silence_after (15 s)"
            );
        }
        assert_eq!(Verdict::of(windows, heard), Verdict::Heard);
    }

    /// A mono 16-bit WAV of `n` samples at 1 kHz, all `v`.
    fn wav(path: &std::path::Path, n: u32, v: i16) {
        let mut b = Vec::new();
        b.extend_from_slice(b"RIFF");
        b.extend_from_slice(&(36 + n * 2).to_le_bytes());
        b.extend_from_slice(b"WAVEfmt ");
        for x in [16u32, 0x0001_0001, 1000, 2000, 0x0010_0002] {
            b.extend_from_slice(&x.to_le_bytes());
        }
        b.extend_from_slice(b"data");
        b.extend_from_slice(&(n * 2).to_le_bytes());
        for _ in 0..n {
            b.extend_from_slice(&v.to_le_bytes());
        }
        std::fs::write(path, b).unwrap();
    }

    #[test]
    fn a_file_input_replaced_is_heard_anew_at_the_end_of_its_loop() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.wav");
        wav(&p, 100, 8000);
        let clock: Arc<dyn Clock> = crate::clock::SystemClock::new();
        let mut src = FileSource::open(&p, clock).unwrap();
        let loud = src.read_window().unwrap();
        assert!(rms_dbfs(&loud) > -20.0);
        std::thread::sleep(Duration::from_millis(20));
        wav(&p, 100, 0);
        src.read_window().unwrap();
        let silent = src.read_window().unwrap();
        assert!(rms_dbfs(&silent) < -90.0, "{}", rms_dbfs(&silent));
    }

    #[test]
    fn a_silent_or_too_quiet_chain_is_not_heard() {
        let t0 = chrono::Utc::now();
        let mut tr = SilenceTracker::new(-45.0);
        let mut heard = 0;
        for w in 0..100 {
            let at = t0 + chrono::Duration::milliseconds(200 * (w + 1));
            if tr.feed(at, rms_dbfs(&tone(-55.0, 0.2, 8000))) {
                heard += 1;
            }
        }
        assert_eq!(heard, 0);
        assert_eq!(Verdict::of(100, heard), Verdict::Silent);
        assert!(tr.silent_for(t0 + chrono::Duration::seconds(20)) >= chrono::Duration::seconds(19));
        assert_eq!(Verdict::of(0, 0), Verdict::Unknown);
        assert_eq!(
            Verdict::of(10, 2),
            Verdict::Heard,
            "a fifth of the play is enough"
        );
        assert_eq!(Verdict::of(10, 1), Verdict::Silent);
    }

    #[test]
    fn specs() {
        assert_eq!(MonitorSpec::parse("rodio"), Some(MonitorSpec::Device(None)));
        assert_eq!(
            MonitorSpec::parse("rodio:hw:1"),
            Some(MonitorSpec::Device(Some("hw:1".into())))
        );
        assert_eq!(
            MonitorSpec::parse("file:/tmp/t.wav"),
            Some(MonitorSpec::File("/tmp/t.wav".into()))
        );
        assert_eq!(MonitorSpec::parse("mic"), None);
        assert_eq!(MonitorSpec::parse("file:"), None);
    }
}
