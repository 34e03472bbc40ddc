//! Where sound goes: one [`Output`] trait with three implementations — the
//! real sound device (rodio, in `device`), `null` and `capture` (both
//! discard at real-time pace; capture records what played, when; in
//! `paced`) — and the player thread (`player`) that plays a firing's items
//! through one of them. It owns the output device; it must not decide what
//! plays or when (that is the planner's and the daemon's), nor write the
//! store.
//!
//! Decoding streams: samples are pulled from the decoder as the output
//! needs them, so memory does not grow with file length.

use crate::clock::Clock;
use crate::config::station::OutputSpec;
use crate::plan::chime;
use crate::sound::media::builtin_chime_samples;
use crate::sound::relay::{RelayAir, RelayFeed};
use chrono::{DateTime, Utc};
use rodio::Source;
use std::num::NonZero;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

mod device;
mod paced;
mod player;

pub use device::{list_devices, RodioOutput, STALL_AFTER};
pub use paced::{CaptureOutput, CaptureRecord, NullOutput};
pub use player::{ended_early, spawn_player, spawn_player_watched, Job, JobResult, PlayerEvent};

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
    /// A live relay (转播).
    Relay,
}

/// Where an item's samples come from.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemSource {
    Builtin,
    File(PathBuf),
    Silence,
    /// A live source, until its slot ends, with the files played while it
    /// is lost.
    Relay(RelayFeed, Vec<PlayItem>),
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
        ItemSource::Relay(feed, fallback) => {
            let files = fallback.clone();
            Box::new(RelayAir::open(
                feed,
                files.len(),
                Box::new(move |i| open_source(&files[i]).ok()),
            ))
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

/// Builds the output a station asks for.
pub fn from_spec(spec: &OutputSpec, clock: Arc<dyn Clock>, station_dir: &Path) -> Box<dyn Output> {
    match spec {
        OutputSpec::Rodio(name) => Box::new(RodioOutput::new(name.clone())),
        OutputSpec::Null => Box::new(NullOutput::new(clock)),
        OutputSpec::Capture(p) => Box::new(CaptureOutput::new(clock, &station_dir.join(p))),
    }
}
