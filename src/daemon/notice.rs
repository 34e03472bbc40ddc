//! The typed-notice programme (文字广播): a firing whose content is text,
//! read aloud by the speech engine into a WAV in the data folder (cached
//! by text and voice, so a notice is rendered once), then played like a
//! file — chime first, repeat and gap as for files. It never touches the
//! queue, the player or the store; a notice that cannot be rendered fails
//! its firing like a missing file (a `content` outage named
//! [`subject`]).

use super::source::{chime_item, repeated, Programme};
use crate::config::station::StationConfig;
use crate::plan::Firing;
use crate::sound::output::{ItemKind, ItemSource, PlayItem};
use crate::sound::speech::{self, Voice};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The folder, under the data folder, that holds rendered notices.
pub const SPEECH_CACHE: &str = "speech";

/// The voice a station's `[speech]` section asks for (the engine's
/// defaults where it says nothing).
pub fn voice(c: &StationConfig) -> Voice {
    speech::station_voice(&c.speech)
}

/// How the ledger and the as-run log name a notice's content: `say:` and
/// the broadcast's name (its text may be long and change).
pub fn subject(f: &Firing) -> String {
    format!("say:{}", f.broadcast)
}

/// A typed notice's programme.
#[derive(Debug, Clone)]
pub struct Notice {
    voice: Voice,
    /// Where rendered notices are kept (`<data>/speech`).
    cache: PathBuf,
}

impl Notice {
    pub fn new(voice: Voice, data_dir: &Path) -> Notice {
        Notice {
            voice,
            cache: data_dir.join(SPEECH_CACHE),
        }
    }

    /// Renders `text` (or finds it rendered): the WAV and its length.
    ///
    /// # Errors
    /// Why the engine could not read it, in English for the ledger.
    pub fn render(&self, text: &str) -> Result<speech::Rendered, speech::SpeechError> {
        std::fs::create_dir_all(&self.cache).map_err(|e| speech::SpeechError::Io(e.to_string()))?;
        speech::render(&self.voice, text, &self.cache)
    }
}

impl Programme for Notice {
    fn items(&self, firing: &Firing, audio_dir: &Path) -> Result<Vec<PlayItem>, (String, String)> {
        let text = firing.say.as_deref().unwrap_or_default();
        let rendered = self.render(text).map_err(|e| {
            tracing::error!(broadcast = %firing.broadcast, error = %e, "the notice cannot be read aloud");
            (subject(firing), e.to_string())
        })?;
        let content = PlayItem {
            kind: ItemKind::Content,
            source: ItemSource::File(rendered.path),
            label: subject(firing),
            volume: firing.volume,
            duration: rendered.duration,
        };
        let mut items: Vec<PlayItem> = chime_item(audio_dir, firing)?.into_iter().collect();
        items.extend(repeated(firing, &[content]));
        Ok(items)
    }

    fn again(&self) -> Arc<dyn Programme> {
        Arc::new(self.clone())
    }
}
