//! Calendar arithmetic in the station's zone: a local wall time or a local
//! day as an instant, with Debian cron's DST rules. Pure: no clock, no disk.

use super::Rules;
use chrono::{
    DateTime, Duration as TimeDelta, LocalResult, NaiveDate, NaiveDateTime, Offset, TimeZone,
    Timelike, Utc,
};
use chrono_tz::Tz;

/// Start of a local day as an instant (midnight, or the first instant
/// after it where a DST jump skips midnight). Used by every report and
/// count that works by station-local days.
pub fn day_start(rules: &Rules, d: NaiveDate) -> DateTime<Utc> {
    local_instant(rules.tz, d.and_hms_opt(0, 0, 0).expect("midnight")).expect("a day has a start")
}

/// The instant a local wall time names, read as a fixed time with
/// Vixie/Debian cron's DST rules: in a repeated hour the first occurrence;
/// in a skipped hour the first valid instant after the gap (the moment the
/// clocks jump).
pub fn local_instant(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(a, b) => Some(a.min(b).with_timezone(&Utc)),
        LocalResult::None => {
            // Walk minute by minute from the start of that minute to the
            // first wall time that exists: that is the end of the gap.
            let mut t = local.with_second(0)?.with_nanosecond(0)?;
            for _ in 0..(26 * 60) {
                t += TimeDelta::minutes(1);
                if let Some(x) = tz.from_local_datetime(&t).earliest() {
                    return Some(x.with_timezone(&Utc));
                }
            }
            None
        }
    }
}

/// The wall times `[lo, hi)` that can name an instant in `[from, to)`. A wall
/// time is its instant plus the offset in force (a time in a gap lands on the
/// jump, so the offset before the jump counts too): `from` plus the smallest
/// and `to` plus the largest offset in force from an hour before `from` until
/// `to` bound them. Sampling hourly is enough, offsets stay in force for
/// months. Where the offset does not change the span is exact, so zones
/// without DST ask croner for the same wall times as before, and a short
/// window near a transition costs at most an hour of extra matches.
pub(super) fn wall_span(
    tz: Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> (NaiveDateTime, NaiveDateTime) {
    let offset = |t: DateTime<Utc>| {
        TimeDelta::seconds(i64::from(
            tz.offset_from_utc_datetime(&t.naive_utc())
                .fix()
                .local_minus_utc(),
        ))
    };
    let (mut min, mut max) = (offset(from), offset(from));
    let mut t = from - TimeDelta::hours(1);
    loop {
        let o = offset(t.min(to));
        min = min.min(o);
        max = max.max(o);
        if t >= to {
            break;
        }
        t += TimeDelta::hours(1);
    }
    (from.naive_utc() + min, to.naive_utc() + max)
}

/// The first whole second at or after `t`.
pub(super) fn ceil_second(t: DateTime<Utc>) -> DateTime<Utc> {
    let whole = t - TimeDelta::nanoseconds(t.timestamp_subsec_nanos() as i64);
    if whole == t {
        t
    } else {
        whole + TimeDelta::seconds(1)
    }
}
