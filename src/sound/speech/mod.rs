//! A typed notice read aloud, offline: the text is normalised into words
//! (`normalise`), then spoken by espeak-ng into a WAV file in a cache
//! folder (`engine`). espeak-ng is GPL, so it is run as a separate
//! program, never linked.
//! It makes sound files; it must not play them (`output`), schedule them or
//! touch the store.

mod cache;
mod config;
mod engine;
mod normalise;
mod numbers;

pub use config::station_voice;
pub use engine::{engine_ready, render};
pub use normalise::normalise;

use crate::i18n::Msg;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The longest notice read at once, in characters (about four minutes of
/// speech): longer texts are refused, not cut.
pub const MAX_NOTICE_CHARS: usize = crate::config::schedule::MAX_SAY_CHARS;

/// The program, voice and delivery of the spoken notice.
#[derive(Debug, Clone, PartialEq)]
pub struct Voice {
    /// The espeak-ng program: a name looked up on `PATH`, or a path.
    pub engine: PathBuf,
    /// The espeak-ng voice. `cmn-latn-pinyin` reads Chinese characters in
    /// Mandarin; plain `cmn` reads them as English letters.
    pub voice: String,
    /// Speed in words per minute (espeak `-s`), 80..=450. The default, 150,
    /// is a little slower than espeak's own 175: loudspeakers on poles echo.
    pub rate: u32,
    /// Loudness, 1.0 = espeak's amplitude 100, 0.0..=2.0 (clamped).
    pub volume: f32,
}

impl Default for Voice {
    fn default() -> Self {
        Voice {
            engine: PathBuf::from("espeak-ng"),
            voice: "cmn-latn-pinyin".into(),
            rate: 150,
            volume: 1.0,
        }
    }
}

/// A spoken notice on disk.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// The WAV file in the cache folder.
    pub path: PathBuf,
    pub duration: Duration,
    /// Whether it was already in the cache (nothing was synthesised).
    pub cached: bool,
}

/// Why a notice could not be spoken.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpeechError {
    #[error("the notice is empty")]
    Empty,
    #[error("the notice has {chars} characters, at most {max} are read")]
    TooLong { chars: usize, max: usize },
    #[error("text-to-speech program {program} not found (apt-get install espeak-ng)")]
    EngineMissing { program: String },
    #[error("espeak-ng has no voice {voice}")]
    VoiceMissing { voice: String },
    #[error("espeak-ng failed ({status}): {stderr}")]
    Failed { status: String, stderr: String },
    #[error("espeak-ng did not finish within {secs} s")]
    TimedOut { secs: u64 },
    #[error("speech cache: {0}")]
    Io(String),
    #[error("espeak-ng made no usable sound: {0}")]
    BadOutput(String),
}

impl SpeechError {
    /// The operator-facing message: what went wrong and what to do.
    pub fn to_msg(&self) -> Msg {
        match self {
            SpeechError::Empty => Msg::SpeechEmpty,
            SpeechError::TooLong { chars, max } => Msg::SpeechTooLong {
                chars: *chars,
                max: *max,
            },
            SpeechError::EngineMissing { program } => Msg::SpeechEngineMissing {
                program: program.clone(),
            },
            SpeechError::VoiceMissing { voice } => Msg::SpeechVoiceMissing {
                voice: voice.clone(),
            },
            SpeechError::Failed { status, stderr } => Msg::SpeechFailed {
                status: status.clone(),
                detail: stderr.clone(),
            },
            SpeechError::TimedOut { secs } => Msg::SpeechTimedOut { secs: *secs },
            SpeechError::Io(detail) => Msg::SpeechIo {
                detail: detail.clone(),
            },
            SpeechError::BadOutput(detail) => Msg::SpeechBadOutput {
                detail: detail.clone(),
            },
        }
    }
}

/// An I/O failure on `path` while doing `what` (`create`, `sync`, …).
fn io_error(what: &str, path: &Path, e: &std::io::Error) -> SpeechError {
    SpeechError::Io(format!("{what} {}: {e}", path.display()))
}

#[cfg(test)]
mod tests;
