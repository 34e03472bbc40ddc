//! Day reports as a read model: per local day planned vs aired vs failed
//! vs missed, minutes on air, fault minutes and availability — what
//! `report`, `/api/report` and the dashboard's week show. It reads the
//! schedules and the store through a [`Reading`]; it must not print, and
//! a store that cannot be read is an error, never a week of zeros.

use super::ledger::{day_report, DayReport};
use super::reading::{ReadError, Reading};
use crate::plan;
use crate::plan::day_start;
use crate::store::PlayFilter;
use chrono::{DateTime, Datelike, Duration as TimeDelta, NaiveDate, Utc};

/// The years a report may start in (dates far outside overflow the
/// calendar arithmetic).
pub const REPORT_YEARS: std::ops::RangeInclusive<i32> = 1970..=2200;

/// The reports of `days` days (at least one) from `from`, or ending today.
///
/// # Errors
/// [`ReadError::Usage`] for a first day outside [`REPORT_YEARS`];
/// [`ReadError::Store`] when the store cannot be read.
pub fn report(
    r: &Reading,
    now: DateTime<Utc>,
    from: Option<NaiveDate>,
    days: u32,
) -> Result<Vec<DayReport>, ReadError> {
    let today = now.with_timezone(&r.rules.tz).date_naive();
    let days = days.max(1) as i64;
    let first = from.unwrap_or(today - TimeDelta::days(days - 1));
    if !REPORT_YEARS.contains(&first.year()) {
        return Err(ReadError::Usage(format!(
            "--from {first}: give a date between 1970 and 2200"
        )));
    }
    day_reports(r, now, first, days)
}

/// One report row per local day from `first`, `days` days long: planned
/// (from the schedules), the as-run log's outcomes, fault minutes and
/// availability.
///
/// # Errors
/// [`ReadError::Store`] when the store cannot be read.
pub fn day_reports(
    r: &Reading,
    now: DateTime<Utc>,
    first: NaiveDate,
    days: i64,
) -> Result<Vec<DayReport>, ReadError> {
    let rules = &r.rules;
    let start = day_start(rules, first);
    let end = day_start(rules, first + TimeDelta::days(days));
    let store = r.readable()?;
    let (plays, outages, records_from) = match store {
        Some(s) => (
            // Counted and measured only: no names, so a long name on a
            // busy day costs nothing here.
            s.plays(&PlayFilter {
                since: Some(start),
                until: Some(end),
                bare: true,
                ..Default::default()
            })?,
            s.outages(false, Some(start))?,
            s.first_record()?,
        ),
        None => Default::default(),
    };
    let broadcasts = r.station.broadcasts();
    Ok((0..days)
        .map(|n| {
            let d = first + TimeDelta::days(n);
            let (a, b) = (
                day_start(rules, d),
                day_start(rules, d + TimeDelta::days(1)),
            );
            let planned = plan::slots(&broadcasts, rules, a, b).len();
            let mut rep = day_report(d, a, b.min(end), now, planned, &plays, &outages);
            // A day over before the station's records begin has no data.
            if records_from.is_none_or(|f| b <= f) {
                rep.availability = None;
            }
            rep
        })
        .collect())
}
