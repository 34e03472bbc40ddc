//! Where sound goes: one [`Output`] trait with three implementations — the
//! real sound device (rodio), `null` (discards at real-time pace) and
//! `capture` (discards at real-time pace and records what played, when) —
//! and the player thread that plays a firing's items through one of them.
//!
//! Decoding streams: samples are pulled from the decoder as the output
//! needs them, so memory does not grow with file length.

use crate::clock::Clock;
use crate::config::station::OutputSpec;
use crate::plan::chime;
use crate::sound::media::builtin_chime_samples;
use chrono::{DateTime, SecondsFormat, Utc};
use rodio::Source;
use std::io::Write;
use std::num::NonZero;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Why sound could not go out.
#[derive(Debug, Clone, thiserror::Error)]
pub enum OutputError {
    #[error("sound device unavailable: {0}")]
    Device(String),
    #[error("cannot play {file}: {detail}")]
    Content { file: String, detail: String },
    #[error("cannot write capture file {path}: {detail}")]
    Capture { path: PathBuf, detail: String },
}

/// What an item is, for the capture record and the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemKind {
    Chime,
    Content,
    /// Silence between repeats.
    Gap,
}

/// Where an item's samples come from.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemSource {
    Builtin,
    File(PathBuf),
    Silence,
}

/// One thing to play: the chime, a file, or a gap.
#[derive(Debug, Clone, PartialEq)]
pub struct PlayItem {
    pub kind: ItemKind,
    pub source: ItemSource,
    /// How the operator knows it (`一封信.mp3`, `(builtin chime)`).
    pub label: String,
    pub volume: f32,
    /// Expected length (probed before air).
    pub duration: Duration,
}

/// A sample stream the outputs accept.
pub type BoxSource = Box<dyn Source + Send>;

/// Opens an item as a streaming source at its volume.
///
/// # Errors
/// [`OutputError::Content`] when the file cannot be opened or decoded.
pub fn open_source(item: &PlayItem) -> Result<BoxSource, OutputError> {
    let src: BoxSource = match &item.source {
        ItemSource::Builtin => Box::new(rodio::buffer::SamplesBuffer::new(
            NonZero::new(1).expect("1"),
            NonZero::new(chime::RATE).expect("rate"),
            builtin_chime_samples(),
        )),
        ItemSource::File(p) => {
            let err = |detail: String| OutputError::Content {
                file: item.label.clone(),
                detail,
            };
            let f = std::fs::File::open(p).map_err(|e| err(e.to_string()))?;
            let len = f.metadata().map(|m| m.len()).ok();
            let mut b = rodio::Decoder::builder()
                .with_data(std::io::BufReader::new(f))
                .with_gapless(true);
            if let Some(len) = len {
                b = b.with_byte_len(len);
            }
            if let Some(ext) = p.extension().and_then(|e| e.to_str()) {
                b = b.with_hint(ext);
            }
            Box::new(b.build().map_err(|e| err(e.to_string()))?)
        }
        // Gaps are paced by the player, never sent to a device.
        ItemSource::Silence => Box::new(rodio::buffer::SamplesBuffer::new(
            NonZero::new(1).expect("1"),
            NonZero::new(8000).expect("rate"),
            Vec::new(),
        )),
    };
    Ok(if (item.volume - 1.0).abs() > f32::EPSILON {
        Box::new(src.amplify(item.volume))
    } else {
        src
    })
}

/// A sound output. `play` blocks the player thread until the item is done
/// or `cancel()` turns true (checked at least every 10 ms), and calls
/// `started` with the wall time the first sample was handed over.
pub trait Output: Send {
    /// A short name for logs (`rodio:default`, `null`, `capture:/tmp/x`).
    fn name(&self) -> String;

    /// Plays one item. `Ok(true)` = played to the end, `Ok(false)` =
    /// cancelled.
    ///
    /// # Errors
    /// Device or content failures.
    fn play(
        &mut self,
        item: &PlayItem,
        broadcast: &str,
        started: &mut dyn FnMut(DateTime<Utc>),
        cancel: &dyn Fn() -> bool,
    ) -> Result<bool, OutputError>;

    /// How much audio the last [`Output::play`] decoded and handed over,
    /// when the output counts it. A file that ends far short of its
    /// probed length was truncated under the player; judged by this, not
    /// by wall time, a device faster than real time is not "short".
    /// `None`: judged by wall time.
    fn last_decoded(&self) -> Option<Duration> {
        None
    }

    /// Called when a firing is over and nothing else is queued: a device
    /// output closes its stream, so the idle daemon keeps the sound card
    /// (and the CPU) quiet between broadcasts.
    fn idle(&mut self) {}

    /// Whether the output can take sound now (a device opens). Used at
    /// start-up and to retry a failed device.
    ///
    /// # Errors
    /// Why it cannot.
    fn check(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
}

/// Pulls samples from `src` at real-time pace on `clock`, in 10 ms chunks.
/// Returns whether it reached the end (false: cancelled) and how much
/// audio it pulled.
fn pace(src: &mut BoxSource, clock: &dyn Clock, cancel: &dyn Fn() -> bool) -> (bool, Duration) {
    let rate = src.sample_rate().get() as u64;
    let channels = src.channels().get() as u64;
    let chunk = (rate * channels / 100).max(1);
    let start = clock.monotonic();
    let mut samples: u64 = 0;
    loop {
        let mut n = 0;
        while n < chunk {
            if src.next().is_none() {
                break;
            }
            n += 1;
        }
        samples += n;
        let offset = Duration::from_nanos(samples * 1_000_000_000 / (rate * channels));
        if n == 0 {
            return (true, offset);
        }
        if !clock.pace_until(start + offset, cancel) {
            return (false, offset);
        }
        if n < chunk {
            return (true, offset);
        }
    }
}

/// Discards samples at real-time pace.
pub struct NullOutput {
    clock: Arc<dyn Clock>,
    decoded: Option<Duration>,
}

impl NullOutput {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        NullOutput {
            clock,
            decoded: None,
        }
    }
}

impl Output for NullOutput {
    fn name(&self) -> String {
        "null".into()
    }

    fn play(
        &mut self,
        item: &PlayItem,
        _broadcast: &str,
        started: &mut dyn FnMut(DateTime<Utc>),
        cancel: &dyn Fn() -> bool,
    ) -> Result<bool, OutputError> {
        let mut src = open_source(item)?;
        started(self.clock.now());
        let (done, decoded) = pace(&mut src, self.clock.as_ref(), cancel);
        self.decoded = Some(decoded);
        Ok(done)
    }

    fn last_decoded(&self) -> Option<Duration> {
        self.decoded
    }
}

/// One line of a capture file.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CaptureRecord {
    /// When the first sample was handed over (RFC 3339, ms).
    pub at: String,
    pub broadcast: String,
    pub file: String,
    pub kind: String,
    pub duration_ms: u64,
}

/// Discards at real-time pace and appends one JSON line per item to a file,
/// written when the item's first sample is handed over.
pub struct CaptureOutput {
    clock: Arc<dyn Clock>,
    path: PathBuf,
    decoded: Option<Duration>,
}

impl CaptureOutput {
    pub fn new(clock: Arc<dyn Clock>, path: &Path) -> Self {
        CaptureOutput {
            clock,
            path: path.to_path_buf(),
            decoded: None,
        }
    }

    fn record(&self, rec: &CaptureRecord) -> Result<(), OutputError> {
        let err = |e: std::io::Error| OutputError::Capture {
            path: self.path.clone(),
            detail: e.to_string(),
        };
        if let Some(parent) = self.path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(err)?;
        }
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(err)?;
        let mut line = serde_json::to_string(rec).expect("json");
        line.push('\n');
        f.write_all(line.as_bytes()).map_err(err)?;
        f.flush().map_err(err)
    }
}

impl Output for CaptureOutput {
    fn name(&self) -> String {
        format!("capture:{}", self.path.display())
    }

    fn play(
        &mut self,
        item: &PlayItem,
        broadcast: &str,
        started: &mut dyn FnMut(DateTime<Utc>),
        cancel: &dyn Fn() -> bool,
    ) -> Result<bool, OutputError> {
        let mut src = open_source(item)?;
        let at = self.clock.now();
        self.record(&CaptureRecord {
            at: at.to_rfc3339_opts(SecondsFormat::Millis, true),
            broadcast: broadcast.to_string(),
            file: item.label.clone(),
            kind: match item.kind {
                ItemKind::Chime => "chime",
                ItemKind::Content => "content",
                ItemKind::Gap => "gap",
            }
            .into(),
            duration_ms: item.duration.as_millis() as u64,
        })?;
        started(at);
        let (done, decoded) = pace(&mut src, self.clock.as_ref(), cancel);
        self.decoded = Some(decoded);
        Ok(done)
    }

    fn last_decoded(&self) -> Option<Duration> {
        self.decoded
    }
}

/// The real sound device through rodio (cpal). The device is opened at the
/// first play and again after a failure, so a device that appears later is
/// used, and one that fails is retried.
pub struct RodioOutput {
    device: Option<String>,
    sink: Option<rodio::MixerDeviceSink>,
    failed: Arc<AtomicBool>,
    decoded: Option<Duration>,
}

impl RodioOutput {
    pub fn new(device: Option<String>) -> Self {
        RodioOutput {
            device,
            sink: None,
            failed: Arc::new(AtomicBool::new(false)),
            decoded: None,
        }
    }

    fn open(&mut self) -> Result<&rodio::MixerDeviceSink, OutputError> {
        #[cfg(target_os = "linux")]
        let mark = crate::sound::alsa_log::mark();
        self.try_open().map_err(|e| match e {
            // What ALSA itself said is the most useful part of the detail.
            #[cfg(target_os = "linux")]
            OutputError::Device(d) => match crate::sound::alsa_log::since(mark) {
                Some(alsa) => OutputError::Device(format!("{d} (ALSA: {alsa})")),
                None => OutputError::Device(d),
            },
            e => e,
        })?;
        Ok(self.sink.as_ref().expect("opened"))
    }

    fn try_open(&mut self) -> Result<(), OutputError> {
        if self.sink.is_none() || self.failed.load(Ordering::SeqCst) {
            release(self.sink.take());
            wait_closed()?;
            self.failed.store(false, Ordering::SeqCst);
            let builder = match &self.device {
                None => rodio::DeviceSinkBuilder::from_default_device(),
                Some(name) => {
                    let dev = find_device(name).ok_or_else(|| {
                        OutputError::Device(format!("no output device named {name:?}"))
                    })?;
                    rodio::DeviceSinkBuilder::from_device(dev)
                }
            }
            .map_err(|e| OutputError::Device(e.to_string()))?;
            let flag = self.failed.clone();
            let mut sink = builder
                .with_error_callback(move |e| {
                    // The callback fires for every failed write: one line
                    // per failure of the stream, not hundreds a second.
                    if !flag.swap(true, Ordering::SeqCst) {
                        tracing::warn!(error = %e, "sound device error");
                    }
                })
                .open_stream()
                .map_err(|e| OutputError::Device(e.to_string()))?;
            sink.log_on_drop(false);
            self.sink = Some(sink);
        }
        Ok(())
    }
}

/// How long a device may take no samples, mid-play or before the first,
/// before the play is cut as a device fault (a stalled driver or a blocked
/// sink would otherwise keep a play "playing" for ever).
pub const STALL_AFTER: Duration = Duration::from_secs(3);

/// Device streams being closed now (process-wide: a fresh player's output
/// shares the card with the one left behind).
static CLOSING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// How long an open waits for the previous stream's close to finish (a
/// sound server may take a moment to drain; a stuck device never ends).
const CLOSE_WAIT: Duration = Duration::from_secs(5);

/// Closes a device stream on a thread of its own. Closing drains what the
/// driver still holds, and a stalled device (a blocked sink, a hung
/// driver) never returns from that: the player thread must not wait on it.
fn release(sink: Option<rodio::MixerDeviceSink>) {
    if let Some(sink) = sink {
        CLOSING.fetch_add(1, Ordering::SeqCst);
        let spawned = std::thread::Builder::new()
            .name("close-device".into())
            .spawn(move || {
                drop(sink);
                CLOSING.fetch_sub(1, Ordering::SeqCst);
            });
        if spawned.is_err() {
            CLOSING.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Waits (briefly) until no earlier stream is still closing. A close that
/// does not return means the device is stuck: opening another stream on
/// it would only leave one more thread and file handle blocked with it,
/// every retry, until the process runs out of them.
///
/// # Errors
/// [`OutputError::Device`] while an earlier close is stuck.
fn wait_closed() -> Result<(), OutputError> {
    let deadline = std::time::Instant::now() + CLOSE_WAIT;
    while CLOSING.load(Ordering::SeqCst) > 0 {
        if std::time::Instant::now() >= deadline {
            return Err(OutputError::Device(
                "the sound device has not finished closing its last stream (stuck)".into(),
            ));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}

/// Marks when the device pulls the first sample, and counts the pulls
/// (progress, for the stall watch).
struct FirstSample<S> {
    inner: S,
    seen: Arc<Mutex<Option<DateTime<Utc>>>>,
    pulled: Arc<std::sync::atomic::AtomicU64>,
    done: bool,
}

impl<S: Source> Iterator for FirstSample<S> {
    type Item = rodio::Sample;
    fn next(&mut self) -> Option<Self::Item> {
        if !self.done {
            self.done = true;
            *self.seen.lock().unwrap_or_else(|p| p.into_inner()) = Some(Utc::now());
        }
        self.pulled.fetch_add(1, Ordering::Relaxed);
        self.inner.next()
    }
}

impl<S: Source> Source for FirstSample<S> {
    fn current_span_len(&self) -> Option<usize> {
        self.inner.current_span_len()
    }
    fn channels(&self) -> rodio::ChannelCount {
        self.inner.channels()
    }
    fn sample_rate(&self) -> rodio::SampleRate {
        self.inner.sample_rate()
    }
    fn total_duration(&self) -> Option<Duration> {
        self.inner.total_duration()
    }
}

impl Output for RodioOutput {
    fn name(&self) -> String {
        format!("rodio:{}", self.device.as_deref().unwrap_or("default"))
    }

    fn idle(&mut self) {
        release(self.sink.take());
    }

    /// Opens the device and has it take half a second of silence (more
    /// than a pipe or a driver buffers): a device that opens but takes
    /// nothing (a stalled driver, a blocked sink) is not working.
    fn check(&mut self) -> Result<(), OutputError> {
        let item = PlayItem {
            kind: ItemKind::Gap,
            source: ItemSource::Builtin,
            label: "(device check)".into(),
            volume: 0.0,
            duration: Duration::from_millis(500),
        };
        let src: BoxSource = Box::new(rodio::buffer::SamplesBuffer::new(
            NonZero::new(1).expect("1"),
            NonZero::new(8000).expect("rate"),
            vec![0.0; 4000],
        ));
        self.play_source(src, &item, &mut |_| {}, &|| false)
            .map(|_| ())
    }

    fn play(
        &mut self,
        item: &PlayItem,
        _broadcast: &str,
        started: &mut dyn FnMut(DateTime<Utc>),
        cancel: &dyn Fn() -> bool,
    ) -> Result<bool, OutputError> {
        let src = open_source(item)?;
        self.play_source(src, item, started, cancel)
    }

    fn last_decoded(&self) -> Option<Duration> {
        self.decoded
    }
}

impl RodioOutput {
    /// Plays one source to its end (or a cancel, a device error, a stall).
    fn play_source(
        &mut self,
        src: BoxSource,
        _item: &PlayItem,
        started: &mut dyn FnMut(DateTime<Utc>),
        cancel: &dyn Fn() -> bool,
    ) -> Result<bool, OutputError> {
        let failed = self.failed.clone();
        self.decoded = None;
        let per_second = src.sample_rate().get() as u64 * src.channels().get() as u64;
        let sink = self.open()?;
        let seen = Arc::new(Mutex::new(None));
        let pulled = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let player = rodio::Player::connect_new(sink.mixer());
        player.append(FirstSample {
            inner: src,
            seen: seen.clone(),
            pulled: pulled.clone(),
            done: false,
        });
        let mut reported = false;
        let mut progress = (0u64, std::time::Instant::now());
        loop {
            let n = pulled.load(Ordering::Relaxed);
            if n != progress.0 {
                progress = (n, std::time::Instant::now());
            } else if progress.1.elapsed() >= STALL_AFTER && !player.empty() {
                player.stop();
                drop(player);
                release(self.sink.take());
                return Err(OutputError::Device(format!(
                    "the sound device took no samples for {} s (stalled){}",
                    STALL_AFTER.as_secs(),
                    if reported { " during the play" } else { "" }
                )));
            }
            if !reported {
                if let Some(at) = *seen.lock().unwrap_or_else(|p| p.into_inner()) {
                    started(at);
                    reported = true;
                }
            }
            if failed.load(Ordering::SeqCst) {
                player.stop();
                return Err(OutputError::Device(
                    "the sound device reported an error during the play".into(),
                ));
            }
            if cancel() {
                player.stop();
                return Ok(false);
            }
            if player.empty() {
                if !reported {
                    return Err(OutputError::Device(
                        "the sound device did not take any samples".into(),
                    ));
                }
                let n = pulled.load(Ordering::Relaxed);
                self.decoded = Some(Duration::from_nanos(
                    n.saturating_mul(1_000_000_000) / per_second.max(1),
                ));
                return Ok(true);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

fn find_device(name: &str) -> Option<rodio::Device> {
    use rodio::cpal::traits::HostTrait;
    let host = rodio::cpal::default_host();
    host.output_devices()
        .ok()?
        .find(|d| device_names(d).iter().any(|n| n == name))
}

pub(crate) fn device_names(d: &rodio::Device) -> Vec<String> {
    use rodio::DeviceTrait;
    let mut v = Vec::new();
    if let Ok(id) = d.id() {
        v.push(id.to_string());
    }
    if let Ok(desc) = d.description() {
        v.push(desc.name().to_string());
    }
    v
}

/// Names of the output devices, for `cunxiang devices` (`id  name`).
pub fn list_devices() -> Vec<(String, String)> {
    use rodio::cpal::traits::HostTrait;
    let host = rodio::cpal::default_host();
    let Ok(devs) = host.output_devices() else {
        return Vec::new();
    };
    devs.map(|d| {
        let n = device_names(&d);
        (
            n.first().cloned().unwrap_or_default(),
            n.get(1).cloned().unwrap_or_default(),
        )
    })
    .collect()
}

/// Builds the output a station asks for.
pub fn from_spec(spec: &OutputSpec, clock: Arc<dyn Clock>, station_dir: &Path) -> Box<dyn Output> {
    match spec {
        OutputSpec::Rodio(name) => Box::new(RodioOutput::new(name.clone())),
        OutputSpec::Null => Box::new(NullOutput::new(clock)),
        OutputSpec::Capture(p) => Box::new(CaptureOutput::new(clock, &station_dir.join(p))),
    }
}

/// A firing's items, handed to the player thread.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: u64,
    pub broadcast: String,
    pub items: Vec<PlayItem>,
    /// Resume point after an interruption.
    pub start_index: usize,
    pub cancel: Arc<AtomicBool>,
    /// Not a play: only see whether the output works ([`Output::check`]).
    pub check: bool,
}

/// How a job ended.
#[derive(Debug, Clone, PartialEq)]
pub enum JobResult {
    Completed,
    /// Stopped before item `index` finished.
    Cancelled {
        index: usize,
    },
    Failed {
        index: usize,
        error: String,
        device: bool,
    },
}

/// What the player thread reports.
#[derive(Debug, Clone, PartialEq)]
pub enum PlayerEvent {
    ItemStarted {
        job: u64,
        index: usize,
        at: DateTime<Utc>,
    },
    Finished {
        job: u64,
        result: JobResult,
        at: DateTime<Utc>,
    },
}

/// Whether a file that played `took` of an expected `expected` ended far
/// too early: truncated or replaced while on air. Generous, because a
/// length probed from a header (VBR MP3) is only an estimate.
pub fn ended_early(took: Duration, expected: Duration) -> bool {
    took + Duration::from_secs(2) < expected && took < expected / 2
}

/// Starts the player thread: it owns the output and plays one job at a
/// time, reporting over `events`. Dropping the returned sender ends it.
pub fn spawn_player(
    output: Box<dyn Output>,
    clock: Arc<dyn Clock>,
    events: tokio::sync::mpsc::UnboundedSender<PlayerEvent>,
) -> std::sync::mpsc::Sender<Job> {
    spawn_player_watched(output, clock, events).0
}

/// [`spawn_player`], also returning a flag that is true while the thread
/// runs: a thread abandoned on a stuck device is known to be gone once it
/// turns false.
pub fn spawn_player_watched(
    mut output: Box<dyn Output>,
    clock: Arc<dyn Clock>,
    events: tokio::sync::mpsc::UnboundedSender<PlayerEvent>,
) -> (std::sync::mpsc::Sender<Job>, Arc<AtomicBool>) {
    let (tx, rx) = std::sync::mpsc::channel::<Job>();
    let alive = Arc::new(AtomicBool::new(true));
    let running = alive.clone();
    std::thread::Builder::new()
        .name("player".into())
        .spawn(move || {
            struct Gone(Arc<AtomicBool>);
            impl Drop for Gone {
                fn drop(&mut self) {
                    self.0.store(false, Ordering::SeqCst);
                }
            }
            let _gone = Gone(running);
            let mut pending: Option<Job> = None;
            while let Some(job) = pending.take().or_else(|| rx.recv().ok()) {
                let cancel = || job.cancel.load(Ordering::SeqCst);
                let mut result = JobResult::Completed;
                // A job given up on (its device was stuck) is not run late.
                if cancel() {
                    let _ = events.send(PlayerEvent::Finished {
                        job: job.id,
                        result: JobResult::Cancelled { index: job.start_index },
                        at: clock.now(),
                    });
                    continue;
                }
                if job.check {
                    if let Err(e) = output.check() {
                        result = JobResult::Failed {
                            index: 0,
                            error: e.to_string(),
                            device: true,
                        };
                    }
                }
                for (index, item) in job.items.iter().enumerate().skip(job.start_index) {
                    if cancel() {
                        result = JobResult::Cancelled { index };
                        break;
                    }
                    let r = if item.kind == ItemKind::Gap {
                        let _ = events.send(PlayerEvent::ItemStarted {
                            job: job.id,
                            index,
                            at: clock.now(),
                        });
                        Ok(clock.pace_until(clock.monotonic() + item.duration, &cancel))
                    } else {
                        let ev = events.clone();
                        let id = job.id;
                        let from = clock.monotonic();
                        let r = output.play(
                            item,
                            &job.broadcast,
                            &mut |at| {
                                let _ = ev.send(PlayerEvent::ItemStarted { job: id, index, at });
                            },
                            &cancel,
                        );
                        // What was decoded, where the output counts it: a
                        // device faster than real time is not "short".
                        let took = output
                            .last_decoded()
                            .unwrap_or_else(|| clock.monotonic().saturating_sub(from));
                        match (r, &item.source) {
                            (Ok(true), ItemSource::File(_)) if ended_early(took, item.duration) => {
                                Err(OutputError::Content {
                                    file: item.label.clone(),
                                    detail: format!(
                                        "the file ended after {:.1} s of {:.1} s (changed or truncated while playing?)",
                                        took.as_secs_f64(),
                                        item.duration.as_secs_f64()
                                    ),
                                })
                            }
                            (r, _) => r,
                        }
                    };
                    match r {
                        Ok(true) => {}
                        Ok(false) => {
                            result = JobResult::Cancelled { index };
                            break;
                        }
                        Err(e) => {
                            let device = matches!(e, OutputError::Device(_));
                            result = JobResult::Failed {
                                index,
                                error: e.to_string(),
                                device,
                            };
                            break;
                        }
                    }
                }
                let _ = events.send(PlayerEvent::Finished {
                    job: job.id,
                    result,
                    at: clock.now(),
                });
                if let Ok(next) = rx.recv_timeout(Duration::from_millis(200)) {
                    pending = Some(next);
                } else {
                    output.idle();
                }
            }
        })
        .expect("spawn player thread");
    (tx, alive)
}
