//! The outage ledger as read models: which outages a filter selects, and
//! the typed JSON rows of `outages --format json|gdj` and `/api/outages`.
//! It reads the store through a [`Reading`]; it must not print, and must
//! not turn a store that cannot be read into an empty list.

use super::ledger::{advice_for, outage_state};
use super::log::parse_since;
use super::reading::{ReadError, Reading};
use super::text::rfc3339_ms;
use crate::i18n::Lang;
use crate::store::{OutageKind, OutageRow};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// The ledger, newest first; `open_only` is the repair list. No store
/// yet is no outages.
///
/// # Errors
/// [`ReadError::Usage`] for a bad `since`; [`ReadError::Store`] when the
/// store cannot be read.
pub fn outages(
    r: &Reading,
    now: DateTime<Utc>,
    open_only: bool,
    since: Option<&str>,
) -> Result<Vec<OutageRow>, ReadError> {
    let since = since
        .map(|s| parse_since(s, now, &r.rules))
        .transpose()
        .map_err(ReadError::Usage)?
        .flatten();
    match r.readable()? {
        Some(s) => Ok(s.outages(open_only, since)?),
        None => Ok(Vec::new()),
    }
}

/// How long an outage lasted, or has lasted by `now`, in seconds.
pub fn lasted_s(o: &OutageRow, now: DateTime<Utc>) -> i64 {
    (o.ended_at.unwrap_or(now) - o.started_at).num_seconds()
}

/// One outage as `outages --format json` and `/api/outages` show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutageEntry {
    pub id: i64,
    pub kind: OutageKind,
    pub subject: String,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub duration_s: i64,
    pub open: bool,
    pub fault: bool,
    pub detail: Option<String>,
    pub lost: i64,
    pub advice: String,
}

impl OutageEntry {
    pub fn new(o: &OutageRow, now: DateTime<Utc>, tz: Tz, lang: Lang) -> OutageEntry {
        OutageEntry {
            id: o.id,
            kind: o.kind,
            subject: o.subject.clone(),
            started_at: rfc3339_ms(o.started_at, tz),
            ended_at: o.ended_at.map(|t| rfc3339_ms(t, tz)),
            duration_s: lasted_s(o, now),
            open: o.ended_at.is_none(),
            fault: o.kind.is_fault(),
            detail: o.detail.clone(),
            lost: o.lost,
            advice: advice_for(lang, o.kind, &o.subject).to_string(),
        }
    }
}

/// One outage with emergency-broadcast state codes (`--format gdj`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GdjOutage {
    pub id: i64,
    #[serde(rename = "type")]
    pub kind: OutageKind,
    pub subject: String,
    pub state: u8,
    pub start: String,
    pub end: Option<String>,
    pub duration_s: i64,
    pub detail: Option<String>,
    pub lost: i64,
    pub station: String,
}

impl GdjOutage {
    pub fn new(o: &OutageRow, now: DateTime<Utc>, tz: Tz, station: &str) -> GdjOutage {
        GdjOutage {
            id: o.id,
            kind: o.kind,
            subject: o.subject.clone(),
            state: outage_state(o),
            start: rfc3339_ms(o.started_at, tz),
            end: o.ended_at.map(|t| rfc3339_ms(t, tz)),
            duration_s: lasted_s(o, now),
            detail: o.detail.clone(),
            lost: o.lost,
            station: station.to_string(),
        }
    }
}
