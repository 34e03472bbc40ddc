//! The reader thread of a relay: one session after another (connect,
//! decode, convert to the feed's format, judge the level, fill the live
//! buffer) until the slot ends; each session's end is a loss, retried
//! with backoff. It must not touch the output: the on-air side drains
//! the buffer at the device's pace.

use super::http::{self, Decoded, StreamEnd};
use super::Shared;
use crate::config::schedule::RelaySource;
use crate::sound::monitor::{rms_dbfs, DeviceSource, MonitorSource};
use rodio::Source;
use std::cell::RefCell;
use std::num::NonZero;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A session that delivered this long was a good one: the next loss
/// starts the backoff again from its first step.
const GOOD_SESSION: Duration = Duration::from_secs(30);

/// A session must last this long for its loss to be retried at once.
const STEADY: Duration = Duration::from_secs(5);

/// The pause before reconnecting at once (a server that accepts and
/// drops at once is not hammered).
const AGAIN: Duration = Duration::from_millis(100);

/// Reads the source until the slot ends (or the feed is dropped).
pub(super) fn run(s: &Arc<Shared>) {
    let mut backoff = s.settings.backoff_first;
    let mut first = true;
    while !s.stopped() {
        if !first {
            s.reconnects.fetch_add(1, Ordering::SeqCst);
        }
        first = false;
        s.set_connecting();
        s.delivered.store(false, Ordering::SeqCst);
        s.decoded.store(false, Ordering::SeqCst);
        let began = Instant::now();
        let ended = match &s.source {
            RelaySource::Http(url) => http_session(s, url),
            RelaySource::LineIn(dev) => line_in_session(s, dev.as_deref()),
        };
        let Some(ended) = ended else { break };
        if s.stopped() {
            break;
        }
        s.set_lost_since(&ended.why, ended.ago.min(began.elapsed()));
        // A session that delivered sound ended: reconnect at once (the
        // live buffer may still cover it), backing off only if that fails.
        let delivered = s.delivered.load(Ordering::SeqCst);
        // A session that flapped (lost within STEADY) backs off, or a
        // flapping source would fill the ledger.
        let steady = began.elapsed() >= STEADY;
        if (delivered && steady) || began.elapsed() >= GOOD_SESSION {
            backoff = s.settings.backoff_first;
        }
        if (delivered || ended.at_once) && steady {
            rest(s, AGAIN);
        } else {
            rest(s, backoff);
            backoff = (backoff * 2).min(s.settings.backoff_max);
        }
    }
    tracing::debug!(source = %s.subject, "relay reader ends");
}

/// Why a session ended, and whether to reconnect without waiting.
struct Ended {
    why: String,
    at_once: bool,
    /// How long before it was seen the loss began.
    ago: Duration,
}

impl Ended {
    fn wait(why: String) -> Option<Ended> {
        Some(Ended {
            why,
            at_once: false,
            ago: Duration::ZERO,
        })
    }
}

/// Waits `d`, or until the feed stops.
fn rest(s: &Shared, d: Duration) {
    let until = Instant::now() + d;
    while Instant::now() < until && !s.stopped() {
        std::thread::sleep(Duration::from_millis(50).min(until - Instant::now()));
    }
}

fn http_session(s: &Arc<Shared>, url: &str) -> Option<Ended> {
    let mut answer = match http::connect(url, &s.settings) {
        Ok(a) => a,
        Err(e) => return Ended::wait(format!("cannot connect: {e}")),
    };
    if s.stopped() {
        return None;
    }
    // Bytes that never become sound (not audio, a header that never
    // ends) are a loss too, and the slot's end ends the reading.
    let (watch, began) = (s.clone(), Instant::now());
    let patience = s.settings.no_data_after + s.settings.connect_timeout;
    answer.body.check = Some(Box::new(move || {
        if watch.stopped() {
            Some("the relay's slot is over".into())
        } else if !watch.decoded.load(Ordering::Relaxed) && began.elapsed() > patience {
            Some(format!(
                "no sound in {} s (is it an audio stream?)",
                patience.as_secs()
            ))
        } else {
            None
        }
    }));
    let mut d = match Decoded::open(answer, &s.settings) {
        Ok(d) => d,
        Err(e) => return Some(ended(e)),
    };
    let spec = d.spec;
    pump(s, spec, move || d.next_samples()).map(ended)
}

fn ended(e: StreamEnd) -> Ended {
    let (why, at_once, ago) = match e {
        StreamEnd::Link(why) => (why, false, Duration::ZERO),
        StreamEnd::NoData(d) => (format!("no data for {} s", d.as_secs()), false, d),
        StreamEnd::Silence(why, d) => (why, false, d),
        StreamEnd::FormatChanged(why) => (why, true, Duration::ZERO),
        StreamEnd::Undecodable(why) => (
            format!("the stream cannot be decoded: {why}"),
            false,
            Duration::ZERO,
        ),
    };
    Ended { why, at_once, ago }
}

fn line_in_session(s: &Shared, device: Option<&str>) -> Option<Ended> {
    let mut src = match DeviceSource::open(device) {
        Ok(src) => src,
        Err(e) => return Ended::wait(format!("cannot open the line-in: {e}")),
    };
    let spec = (1, src.rate());
    pump(s, spec, move || src.read_window().map_err(StreamEnd::Link)).map(ended)
}

/// Blocks of samples at one format, as a rodio source (for the rate and
/// channel converter); the first error ends it and is kept.
struct Blocks<F> {
    next: F,
    block: Vec<f32>,
    pos: usize,
    spec: (u16, u32),
    end: Rc<RefCell<Option<StreamEnd>>>,
}

impl<F: FnMut() -> Result<Vec<f32>, StreamEnd>> Iterator for Blocks<F> {
    type Item = f32;
    fn next(&mut self) -> Option<f32> {
        while self.pos >= self.block.len() {
            if self.end.borrow().is_some() {
                return None;
            }
            match (self.next)() {
                Ok(b) => {
                    self.block = b;
                    self.pos = 0;
                }
                Err(e) => {
                    *self.end.borrow_mut() = Some(e);
                    return None;
                }
            }
        }
        self.pos += 1;
        Some(self.block[self.pos - 1])
    }
}

impl<F: FnMut() -> Result<Vec<f32>, StreamEnd>> Source for Blocks<F> {
    fn current_span_len(&self) -> Option<usize> {
        None
    }
    fn channels(&self) -> rodio::ChannelCount {
        NonZero::new(self.spec.0.max(1)).expect("channels")
    }
    fn sample_rate(&self) -> rodio::SampleRate {
        NonZero::new(self.spec.1.max(1)).expect("rate")
    }
    fn total_duration(&self) -> Option<Duration> {
        None
    }
}

/// Fills the live buffer from one session's sound (at `spec`) until it
/// ends (`Some(why)`) or the slot does (`None`). Sound is converted to
/// the feed's format; its level is judged in 50 ms chunks: silence past
/// `silence_after` ends the session, and while the source is lost only
/// sound above the threshold brings it back.
pub(super) fn pump<F>(s: &Shared, spec: (u16, u32), next: F) -> Option<StreamEnd>
where
    F: FnMut() -> Result<Vec<f32>, StreamEnd>,
{
    let target = s.format_or(spec);
    let end = Rc::new(RefCell::new(None));
    let blocks = Blocks {
        next,
        block: Vec::new(),
        pos: 0,
        spec,
        end: end.clone(),
    };
    let mut samples: Box<dyn Iterator<Item = f32>> = if spec == target {
        Box::new(blocks)
    } else {
        Box::new(rodio::source::UniformSourceIterator::new(
            blocks,
            NonZero::new(target.0).expect("channels"),
            NonZero::new(target.1).expect("rate"),
        ))
    };
    let per_second = target.0 as u64 * target.1 as u64;
    // 50 ms, whole frames (a dropped chunk must not swap the channels).
    let ch = target.0 as usize;
    let chunk_len = (per_second as usize / 20 / ch).max(1) * ch;
    let limit = s.settings.silence_after.as_millis() as u64 * per_second / 1000;
    let mut silent_run = 0u64;
    // Sound decoded since the first of it, against the wall clock.
    let (mut first, mut produced) = (None::<Instant>, 0u64);
    let slack = s.settings.no_data_after.max(Duration::from_secs(3));
    loop {
        if s.stopped() {
            return None;
        }
        let chunk: Vec<f32> = samples.by_ref().take(chunk_len).collect();
        if chunk.len() < chunk_len {
            let e = end.borrow_mut().take();
            return Some(e.unwrap_or(StreamEnd::Link("the stream ended".into())));
        }
        s.decoded.store(true, Ordering::Relaxed);
        produced += chunk.len() as u64;
        let since = first.get_or_insert_with(Instant::now).elapsed();
        let sound = Duration::from_millis(produced * 1000 / per_second);
        if since > sound + slack {
            return Some(StreamEnd::Link(format!(
                "the stream is slower than real time: {:.0} s of sound in {:.0} s",
                sound.as_secs_f64(),
                since.as_secs_f64()
            )));
        }
        let loud = rms_dbfs(&chunk) >= s.settings.silence_db;
        silent_run = if loud {
            0
        } else {
            silent_run + chunk.len() as u64
        };
        let lost = s.lost.load(Ordering::SeqCst);
        if loud || !lost {
            s.set_connected();
            push(s, chunk, per_second);
        }
        if silent_run >= limit && limit > 0 {
            if !lost {
                // What went out as the source was silence: lost, not relayed.
                s.silent.fetch_add(limit, Ordering::SeqCst);
            }
            return Some(StreamEnd::Silence(
                format!(
                    "digital silence: below {} dB for {} s",
                    s.settings.silence_db,
                    s.settings.silence_after.as_secs()
                ),
                s.settings.silence_after,
            ));
        }
    }
}

/// Adds a chunk to the live buffer, dropping the oldest past its size.
pub(super) fn push(s: &Shared, chunk: Vec<f32>, per_second: u64) {
    let max = (s.settings.buffer.as_millis() as u64 * per_second / 1000) as usize;
    s.delivered.store(true, Ordering::Relaxed);
    let mut b = s.buffer();
    b.samples += chunk.len();
    b.chunks.push_back(chunk);
    let mut dropped = false;
    while b.samples > max.max(1) && b.chunks.len() > 1 {
        if let Some(old) = b.chunks.pop_front() {
            b.samples -= old.len();
            dropped = true;
        }
    }
    drop(b);
    // A full buffer: nothing plays it (a cut), or the source runs faster
    // than real time. Either way the reader need not race.
    if dropped {
        std::thread::sleep(Duration::from_millis(20));
    }
}
