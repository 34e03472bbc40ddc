//! The real sound device through rodio (cpal): opened at the first play
//! and after a failure, closed when idle, cut when it stalls. It must not
//! block the player thread on a stuck device (closes run on a thread of
//! their own).

use super::{open_source, BoxSource, ItemKind, ItemSource, Output, OutputError, PlayItem};
use crate::sound::devices::device_names;
use chrono::{DateTime, Utc};
use rodio::Source;
use std::num::NonZero;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
