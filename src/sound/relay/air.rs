//! The on-air side of a relay: a rodio source the player plays like a
//! file. It drains the live buffer at the device's pace, gathers a little
//! sound again after an underrun, plays the fallback (or silence) while
//! the source is lost, counts what of the source went out, and ends at
//! the end of the slot exactly, whatever the stream does.

use super::{RelayFeed, Shared, DEFAULT_FORMAT};
use rodio::Source;
use std::num::NonZero;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// A sample stream.
pub type Sound = Box<dyn Source + Send>;

/// Opens fallback file `i` (the player's decoder; `None`: it cannot play).
pub type OpenFallback = Box<dyn FnMut(usize) -> Option<Sound> + Send>;

/// A relay on air, from now to the end of its slot.
pub struct RelayAir {
    shared: Arc<Shared>,
    channels: u16,
    rate: u32,
    /// Samples left until the slot ends.
    left: u64,
    chunk: Vec<f32>,
    pos: usize,
    /// Whether sound flows from the buffer (else it is gathering).
    flowing: bool,
    /// Samples of filler (fallback or silence) before the buffer is
    /// looked at again.
    filler: usize,
    /// How many fallback files, and how to open one (by index).
    fallbacks: usize,
    open_fallback: OpenFallback,
    playing: Option<(usize, Sound)>,
    /// Fallback files that could not be opened (not tried again).
    broken: Vec<bool>,
    /// Samples relayed not yet added to the shared count.
    relayed: u64,
}

impl RelayAir {
    /// Puts `feed` on air until its slot ends, with `fallback` for the
    /// spans its source is lost.
    pub fn open(feed: &RelayFeed, fallbacks: usize, open_fallback: OpenFallback) -> RelayAir {
        let shared = feed.shared().clone();
        let (channels, rate) = shared.format_or(DEFAULT_FORMAT);
        let now = shared.clock.now();
        if feed.mark_on_air(now) {
            // Back from a cut: the live point, not the backlog of the cut.
            let keep = shared.settings.prebuffer.as_millis() as usize * rate as usize / 1000
                * channels as usize;
            let mut b = shared.buffer();
            while b.samples > keep && b.chunks.len() > 1 {
                if let Some(old) = b.chunks.pop_front() {
                    b.samples -= old.len();
                }
            }
        }
        let left = (shared.ends_at - now)
            .to_std()
            .unwrap_or_default()
            .as_millis() as u64
            * rate as u64
            / 1000
            * channels as u64;
        RelayAir {
            shared,
            channels,
            rate,
            left,
            chunk: Vec::new(),
            pos: 0,
            flowing: false,
            filler: 0,
            fallbacks,
            open_fallback,
            playing: None,
            broken: vec![false; fallbacks],
            relayed: 0,
        }
    }

    /// Takes the next chunk from the buffer, if there is sound to play.
    fn refill(&mut self) -> bool {
        let gather = self.shared.settings.prebuffer.as_millis() as usize * self.rate as usize
            / 1000
            * self.channels as usize;
        let mut b = self.shared.buffer();
        if !self.flowing && b.samples >= gather.max(1) {
            self.flowing = true;
        }
        if self.flowing {
            if let Some(c) = b.chunks.pop_front() {
                b.samples -= c.len();
                drop(b);
                self.chunk = c;
                self.pos = 0;
                return true;
            }
            self.flowing = false;
        }
        false
    }

    /// One sample of what plays while there is no sound of the source:
    /// the fallback while the source is lost, else silence.
    fn filler_sample(&mut self) -> f32 {
        let lost = self.shared.lost.load(Ordering::Relaxed);
        if !lost || self.fallbacks == 0 {
            if self.playing.take().is_some() {
                self.shared.fallback_on.store(false, Ordering::Relaxed);
            }
            return 0.0;
        }
        for _ in 0..=self.fallbacks {
            if let Some((_, src)) = &mut self.playing {
                if let Some(x) = src.next() {
                    return x;
                }
            }
            let after = self.playing.take().map_or(self.fallbacks - 1, |(i, _)| i);
            // The next file that opens, after the one that ended.
            let Some(index) = (1..=self.fallbacks)
                .map(|k| (after + k) % self.fallbacks)
                .find(|i| !self.broken[*i])
            else {
                return 0.0;
            };
            self.playing = (self.open_fallback)(index).map(|src| {
                let uniform: Sound = Box::new(rodio::source::UniformSourceIterator::new(
                    src,
                    NonZero::new(self.channels).expect("channels"),
                    NonZero::new(self.rate).expect("rate"),
                ));
                (index, uniform)
            });
            if self.playing.is_none() {
                self.broken[index] = true;
            }
            self.shared.fallback_on.store(true, Ordering::Relaxed);
        }
        0.0
    }

    fn publish(&mut self) {
        if self.relayed > 0 {
            self.shared
                .relayed
                .fetch_add(self.relayed, Ordering::SeqCst);
            self.relayed = 0;
        }
    }
}

impl Drop for RelayAir {
    fn drop(&mut self) {
        self.publish();
        self.shared.fallback_on.store(false, Ordering::Relaxed);
    }
}

impl Iterator for RelayAir {
    type Item = f32;

    fn next(&mut self) -> Option<f32> {
        if self.left == 0 {
            self.publish();
            return None;
        }
        self.left -= 1;
        if self.pos < self.chunk.len() {
            self.pos += 1;
            self.relayed += 1;
            return Some(self.chunk[self.pos - 1]);
        }
        if self.filler == 0 {
            self.publish();
            if self.refill() {
                self.pos = 1;
                self.relayed += 1;
                return Some(self.chunk[0]);
            }
            // Look again in 20 ms (never per sample).
            self.filler = (self.rate as usize / 50) * self.channels as usize;
        }
        self.filler -= 1;
        Some(self.filler_sample())
    }
}

impl Source for RelayAir {
    fn current_span_len(&self) -> Option<usize> {
        None
    }
    fn channels(&self) -> rodio::ChannelCount {
        NonZero::new(self.channels).expect("channels")
    }
    fn sample_rate(&self) -> rodio::SampleRate {
        NonZero::new(self.rate).expect("rate")
    }
    fn total_duration(&self) -> Option<Duration> {
        None
    }
}
