//! The voice a station's `[speech]` section asks for, the engine's
//! defaults where it says nothing. Settings only: it must not run the
//! engine.

use super::Voice;
use crate::config::station::SpeechConfig;
use std::path::PathBuf;

/// The station's voice.
pub fn station_voice(s: &SpeechConfig) -> Voice {
    let d = Voice::default();
    Voice {
        engine: s.engine.as_ref().map_or(d.engine, PathBuf::from),
        voice: s.voice.clone().unwrap_or(d.voice),
        rate: s.rate.unwrap_or(d.rate),
        volume: s.volume.unwrap_or(d.volume),
    }
}
