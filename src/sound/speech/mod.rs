//! PLACEHOLDER while the speech engine is built on branch wip-speech: the
//! API the daemon codes against. Replaced whole at the merge.

mod config;
pub use config::station_voice;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub const MAX_NOTICE_CHARS: usize = 1000;

#[derive(Debug, Clone, PartialEq)]
pub struct Voice {
    pub engine: PathBuf,
    pub voice: String,
    pub rate: u32,
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

#[derive(Debug, Clone)]
pub struct Rendered {
    pub path: PathBuf,
    pub duration: Duration,
    pub cached: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SpeechError {
    #[error("empty")]
    Empty,
    #[error("too long")]
    TooLong { chars: usize, max: usize },
    #[error("engine missing: {program}")]
    EngineMissing { program: String },
    #[error("voice missing: {voice}")]
    VoiceMissing { voice: String },
    #[error("failed")]
    Failed { status: String, stderr: String },
    #[error("timed out")]
    TimedOut { secs: u64 },
    #[error("io {0}")]
    Io(String),
    #[error("bad output {0}")]
    BadOutput(String),
}

pub fn engine_ready(_v: &Voice) -> Result<(), SpeechError> {
    Err(SpeechError::EngineMissing {
        program: "placeholder".into(),
    })
}

pub fn render(_v: &Voice, _text: &str, _cache_dir: &Path) -> Result<Rendered, SpeechError> {
    Err(SpeechError::EngineMissing {
        program: "placeholder".into(),
    })
}
