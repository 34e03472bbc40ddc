//! The planner: (broadcasts, station rules, time window) → firings. Pure: no
//! clock, no disk, no network, no sound; it must not import anything but
//! `config` (the validated schedules and station rules) and `i18n`. Date
//! ranges, days, quiet hours, holidays, `{date}` resolution and DST all live
//! here, and so does the single-output simulation that tells which firings
//! would collide.
//!
//! This file holds the shared types ([`Rules`], [`Firing`], [`Trigger`]);
//! `calendar` turns wall times into instants, `generate` broadcasts into
//! firings, `simulate` plays them on one output, and `due` decides what a
//! wake of the daemon must handle.

use crate::config::schedule::{Priority, RelaySource};
use crate::config::station::{QuietHours, StationConfig};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use std::collections::BTreeSet;
use std::time::Duration;

mod calendar;
mod due;
mod generate;
mod simulate;

pub use calendar::{day_start, local_instant};
pub use due::{
    due, next_after, reasons, upcoming, window, Cause, Decision, Window, MAX_LOOKBACK,
    STEP_TOLERANCE,
};
pub use generate::{
    firings, manual_file_firing, manual_firing, manual_relay_firing, manual_say_firing, slots, Slot,
};
pub use simulate::{simulate, Other, Outcome, Settled, Simulation};

/// The station rules the planner applies on top of each broadcast's own.
#[derive(Debug, Clone)]
pub struct Rules {
    pub tz: Tz,
    pub quiet_hours: Option<QuietHours>,
    pub holidays: BTreeSet<NaiveDate>,
    /// Catch-up window for broadcasts that do not set their own.
    pub catch_up: Duration,
}

impl Rules {
    pub fn from_config(c: &StationConfig) -> Rules {
        Rules {
            tz: c.timezone,
            quiet_hours: c.quiet_hours,
            holidays: c.holidays.clone(),
            catch_up: c.catch_up,
        }
    }
}

/// Why a routine firing will not play.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Skip {
    QuietHours,
    Holiday,
}

/// What sounds before the content of one firing, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChimeFile {
    None,
    Builtin,
    File(String),
}

/// One planned play of a broadcast. Its identity is (broadcast,
/// scheduled_at).
#[derive(Debug, Clone, PartialEq)]
pub struct Firing {
    pub broadcast: String,
    pub scheduled_at: DateTime<Utc>,
    /// The station-local day it belongs to (for `{date}` and reports).
    pub local_date: NaiveDate,
    /// Files for that day, relative to the audio folder, in play order.
    pub files: Vec<String>,
    pub chime: ChimeFile,
    pub priority: Priority,
    pub repeat: u32,
    pub gap: Duration,
    pub volume: f32,
    pub catch_up: Duration,
    pub skip: Option<Skip>,
    /// A live relay instead of files (`files` is then empty).
    pub relay: Option<RelayPlan>,
    /// A typed notice read aloud instead of files (`files` is then empty).
    pub say: Option<String>,
}

/// A firing's relay (转播), resolved for its day.
#[derive(Debug, Clone, PartialEq)]
pub struct RelayPlan {
    pub source: RelaySource,
    /// The source as the log and the ledger name it (the URL, `line-in`).
    pub subject: String,
    /// The slot, from the firing's instant: the relay is cut at its end.
    pub length: Duration,
    /// Played while the source is lost, relative to the audio folder.
    pub fallback: Vec<String>,
}

impl Firing {
    /// When a relay's slot ends (`None`: not a relay).
    pub fn relay_ends_at(&self) -> Option<DateTime<Utc>> {
        let r = self.relay.as_ref()?;
        Some(self.scheduled_at + chrono::Duration::from_std(r.length).unwrap_or_default())
    }

    /// Expected air time: chime + files × repeat + gaps between repeats.
    /// `None` when a file's length is unknown (missing or undecodable).
    pub fn expected_duration(&self, length: &dyn Fn(&str) -> Option<Duration>) -> Option<Duration> {
        // A relay fills its slot, chime included, whatever its files.
        if let Some(r) = &self.relay {
            return Some(r.length);
        }
        let chime = match &self.chime {
            ChimeFile::None => Duration::ZERO,
            ChimeFile::Builtin => chime::duration(),
            ChimeFile::File(f) => length(f)?,
        };
        let mut one = self.say.as_deref().map_or(Duration::ZERO, say_estimate);
        for f in &self.files {
            one += length(f)?;
        }
        Some(chime + one * self.repeat + self.gap * self.repeat.saturating_sub(1))
    }
}

/// How long a typed notice takes read aloud at the default rate, before
/// it is rendered: about a quarter of a second a character (espeak-ng's
/// Mandarin voice at 150 words a minute). The rendered file's length
/// replaces it on air.
pub fn say_estimate(text: &str) -> Duration {
    Duration::from_millis(250 * text.chars().count() as u64)
}

/// The built-in "ding-dong"'s score: what the planner needs to know its
/// length; `sound::media` renders it.
pub mod chime {
    use std::time::Duration;

    /// Sample rate of the built-in chime.
    pub const RATE: u32 = 22_050;
    /// (frequency in Hz, start in seconds) of each note.
    pub const NOTES: [(f32, f32); 2] = [(659.25, 0.0), (523.25, 0.7)];
    /// How long each note sounds, in seconds.
    pub const NOTE_LEN: f32 = 0.9;

    /// Length of the built-in chime, used by the planner for expected ends.
    pub fn duration() -> Duration {
        Duration::from_secs_f64(len() as f64 / RATE as f64)
    }

    /// Length in samples at [`RATE`].
    pub fn len() -> usize {
        let last_start = NOTES.iter().map(|n| n.1).fold(0.0, f32::max);
        ((last_start + NOTE_LEN) * RATE as f32).round() as usize
    }
}

/// What started a play.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// At its scheduled instant.
    Schedule,
    /// Late, after downtime or a forward clock step, inside its window.
    CatchUp,
    /// Asked for by a person.
    Manual,
}

impl Trigger {
    /// The word the as-run log stores (and JSON shows) for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Schedule => "schedule",
            Trigger::CatchUp => "catch_up",
            Trigger::Manual => "manual",
        }
    }

    /// Reads a stored word back; one it does not know is `Schedule`.
    pub fn parse(s: &str) -> Trigger {
        match s {
            "catch_up" => Trigger::CatchUp,
            "manual" => Trigger::Manual,
            _ => Trigger::Schedule,
        }
    }
}

#[cfg(test)]
mod tests;
