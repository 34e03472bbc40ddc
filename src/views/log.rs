//! The as-run log as read models: which rows a `--since`/`status` filter
//! selects, and the typed JSON rows of `log --format json|gdj` and
//! `/api/plays`. It reads the store through a [`Reading`]; it must not
//! print, and must not turn a store that cannot be read into no rows.

use super::ledger::play_state;
use super::reading::{ReadError, Reading};
use super::text::rfc3339_ms;
use crate::i18n::Lang;
use crate::plan::{Rules, Trigger};
use crate::store::{PlayFilter, PlayRow, Status};
use chrono::{DateTime, Duration as TimeDelta, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// Parses `--since`: a duration back from now (`2d`, `12h`), a local date
/// (`2026-12-01`) or `all`.
///
/// # Errors
/// A message for the operator when it is neither.
pub fn parse_since(
    s: &str,
    now: DateTime<Utc>,
    rules: &Rules,
) -> Result<Option<DateTime<Utc>>, String> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("all") {
        return Ok(None);
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(Some(crate::plan::day_start(rules, d)));
    }
    if let Some(d) = crate::config::tomlread::parse_duration(s) {
        if let Some(t) = TimeDelta::from_std(d)
            .ok()
            .and_then(|d| now.checked_sub_signed(d))
        {
            return Ok(Some(t));
        }
    }
    Err(format!(
        "--since {s}: write a duration like 2d or 12h, a date like 2026-12-01, or all"
    ))
}

/// The rows of the as-run log since `since` (as [`parse_since`] reads
/// it), with `status` when given; `Ok(None)` when the station has no
/// store yet.
///
/// # Errors
/// [`ReadError::Usage`] for a bad `since`; [`ReadError::Store`] when the
/// store cannot be read.
pub fn plays(
    r: &Reading,
    now: DateTime<Utc>,
    since: &str,
    status: Option<Status>,
) -> Result<Option<Vec<PlayRow>>, ReadError> {
    let since = parse_since(since, now, &r.rules).map_err(ReadError::Usage)?;
    let Some(store) = r.readable()? else {
        return Ok(None);
    };
    Ok(Some(store.plays(&PlayFilter {
        since,
        status,
        ..Default::default()
    })?))
}

/// One as-run row as `log --format json` and `/api/plays` show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlayEntry {
    pub id: i64,
    pub broadcast: String,
    pub scheduled_at: String,
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
    pub status: Status,
    pub reason: Option<String>,
    pub trigger: Trigger,
    pub priority: String,
    pub files: Vec<String>,
    pub outage_id: Option<i64>,
    pub heard: Option<bool>,
    /// A relay's seconds of the source that went out, seconds lost, and
    /// reconnects (absent for files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relayed_s: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lost_s: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconnects: Option<u32>,
}

/// A relay's counts in words (`转播 2398 秒，中断 2 秒，重连 1 次`);
/// `None` for files.
pub fn relay_text(lang: Lang, r: &PlayRow) -> Option<String> {
    let relayed = r.relayed_s?;
    let lost = r.lost_s.unwrap_or_default();
    let n = r.reconnects.unwrap_or_default();
    Some(match lang {
        Lang::Zh => format!("转播 {relayed:.0} 秒，中断 {lost:.0} 秒，重连 {n} 次"),
        Lang::En => format!("relayed {relayed:.0} s, lost {lost:.0} s, {n} reconnects"),
    })
}

impl PlayEntry {
    pub fn new(r: &PlayRow, tz: Tz) -> PlayEntry {
        let rfc = |t: Option<DateTime<Utc>>| t.map(|t| rfc3339_ms(t, tz));
        PlayEntry {
            id: r.id,
            broadcast: r.broadcast.clone(),
            scheduled_at: rfc3339_ms(r.scheduled_at, tz),
            started_at: rfc(r.started_at),
            ended_at: rfc(r.ended_at),
            status: r.status,
            reason: r.reason.clone(),
            trigger: r.trigger,
            priority: r.priority.clone(),
            files: r.files.clone(),
            outage_id: r.outage_id,
            heard: r.heard,
            relayed_s: r.relayed_s,
            lost_s: r.lost_s,
            reconnects: r.reconnects,
        }
    }
}

/// One as-run record with emergency-broadcast state codes (`--format gdj`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GdjPlay {
    pub id: i64,
    pub station: String,
    pub title: String,
    pub scheduled: String,
    pub start: Option<String>,
    pub end: Option<String>,
    pub result: Status,
    pub state: u8,
    pub reason: Option<String>,
    pub files: Vec<String>,
    pub heard: Option<bool>,
}

impl GdjPlay {
    pub fn new(r: &PlayRow, station: &str, tz: Tz) -> GdjPlay {
        let rfc = |t: Option<DateTime<Utc>>| t.map(|t| rfc3339_ms(t, tz));
        GdjPlay {
            id: r.id,
            station: station.to_string(),
            title: r.broadcast.clone(),
            scheduled: rfc3339_ms(r.scheduled_at, tz),
            start: rfc(r.started_at),
            end: rfc(r.ended_at),
            result: r.status,
            state: play_state(r),
            reason: r.reason.clone(),
            files: r.files.clone(),
            heard: r.heard,
        }
    }
}

/// The `heard` column in words: 听到 / 无声 / (blank: no monitor).
pub fn heard_word(lang: Lang, heard: Option<bool>) -> &'static str {
    match heard {
        Some(true) => lang.pick("听到", "heard"),
        Some(false) => lang.pick("无声", "silent"),
        None => "",
    }
}
