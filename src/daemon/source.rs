//! What goes on air, as items for the player. Everything that puts sound
//! on air enters the queue as a firing with a [`Programme`]: a scheduled
//! firing's files (probed just before air), a manual play's items (checked
//! when a person asked), the daily self-test. A new kind — a live relay, a
//! notice read aloud, an emergency message — is a new `Programme` in its
//! own module, not a new branch in the event loop. This module never
//! touches the queue, the player or the store.

use super::settings::SELF_TEST;
use crate::config::schedule::{Broadcast, Priority};
use crate::plan::{self, ChimeFile, Firing};
use crate::sound::media;
use crate::sound::output::{ItemKind, ItemSource, PlayItem};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Where a queued firing's sound comes from.
pub trait Programme: Send + Sync + std::fmt::Debug {
    /// The items to play, checked now: a file missing or undecodable is
    /// `(file, what is wrong)`. Called off the run loop (it may block on
    /// the disk), bounded in time by the caller.
    ///
    /// # Errors
    /// The first file that cannot be played.
    fn items(&self, firing: &Firing, audio_dir: &Path) -> Result<Vec<PlayItem>, (String, String)>;

    /// The programme a play resumed after a cut is built from: its files
    /// again, by default; a live relay keeps its connection.
    fn again(&self) -> Arc<dyn Programme> {
        files()
    }
}

/// A firing's own files (and chime), probed when it goes on air.
#[derive(Debug)]
pub struct Files;

impl Programme for Files {
    fn items(&self, firing: &Firing, audio_dir: &Path) -> Result<Vec<PlayItem>, (String, String)> {
        build_items(audio_dir, firing)
    }
}

/// Items made and checked before the firing was queued (a manual play:
/// the person who asked waits for the check).
#[derive(Debug)]
pub struct Prepared(pub Vec<PlayItem>);

impl Programme for Prepared {
    fn items(&self, _: &Firing, _: &Path) -> Result<Vec<PlayItem>, (String, String)> {
        Ok(self.0.clone())
    }
}

/// The programme of a scheduled firing.
pub fn files() -> Arc<dyn Programme> {
    Arc::new(Files)
}

/// The daily self-test: the built-in chime, routine priority (it never
/// cuts a broadcast; quiet hours and holidays leave it out), every day at
/// `at`.
pub(super) fn self_test_broadcast(at: chrono::NaiveTime) -> Broadcast {
    Broadcast {
        name: SELF_TEST.to_string(),
        file: crate::config::station::STATION_FILE.to_string(),
        line: 0,
        play: Vec::new(),
        times: crate::config::schedule::Times::At(vec![at]),
        days: crate::config::schedule::Days::ALL,
        from: None,
        until: None,
        repeat: 1,
        gap: Duration::ZERO,
        chime: crate::config::schedule::Chime::Builtin,
        chime_line: 0,
        priority: Priority::Normal,
        volume: 1.0,
        catch_up: Some(Duration::from_secs(600)),
        enabled: true,
        relay: None,
        say: None,
    }
}

/// The items of a firing: chime, then the files `repeat` times with gaps.
///
/// # Errors
/// The first file that cannot play, and why.
pub fn build_items(audio_dir: &Path, f: &Firing) -> Result<Vec<PlayItem>, (String, String)> {
    let mut items: Vec<PlayItem> = chime_item(audio_dir, f)?.into_iter().collect();
    let mut content = Vec::new();
    for rel in &f.files {
        let (p, d) = probe(audio_dir, rel)?;
        content.push(PlayItem {
            kind: ItemKind::Content,
            source: ItemSource::File(p),
            label: rel.clone(),
            volume: f.volume,
            duration: d,
        });
    }
    items.extend(repeated(f, &content));
    Ok(items)
}

/// A file under the audio folder, checked: its path and length.
fn probe(audio_dir: &Path, rel: &str) -> Result<(PathBuf, Duration), (String, String)> {
    let p = media::resolve_under(audio_dir, rel).map_err(|e| (rel.to_string(), e.to_string()))?;
    let info = media::probe(&p).map_err(|e| (rel.to_string(), e.to_string()))?;
    Ok((p, info.duration))
}

/// The firing's chime, if it has one.
///
/// # Errors
/// A chime file that cannot play, and why.
pub fn chime_item(audio_dir: &Path, f: &Firing) -> Result<Option<PlayItem>, (String, String)> {
    Ok(match &f.chime {
        ChimeFile::None => None,
        ChimeFile::Builtin => Some(PlayItem {
            kind: ItemKind::Chime,
            source: ItemSource::Builtin,
            label: "(builtin chime)".into(),
            volume: f.volume,
            duration: plan::chime::duration(),
        }),
        ChimeFile::File(rel) => {
            let (p, d) = probe(audio_dir, rel)?;
            Some(PlayItem {
                kind: ItemKind::Chime,
                source: ItemSource::File(p),
                label: rel.clone(),
                volume: f.volume,
                duration: d,
            })
        }
    })
}

/// The content `repeat` times, with the firing's gap between.
pub fn repeated(f: &Firing, content: &[PlayItem]) -> Vec<PlayItem> {
    let mut items = Vec::new();
    for r in 0..f.repeat {
        if r > 0 && !f.gap.is_zero() {
            items.push(PlayItem {
                kind: ItemKind::Gap,
                source: ItemSource::Silence,
                label: "(gap)".into(),
                volume: 0.0,
                duration: f.gap,
            });
        }
        items.extend(content.iter().cloned());
    }
    items
}
