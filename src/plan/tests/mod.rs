//! Table tests of the planner: each rule of PRODUCT.md §4 and every
//! schedule key, with literal schedules and fixed windows. This file holds
//! the shared helpers; the tests are by topic.
#![allow(clippy::type_complexity)]

use super::*;
use crate::config::schedule::{self, Broadcast, Priority};
use chrono::{DateTime, Datelike, Duration as TimeDelta, NaiveDate, NaiveDateTime, Utc, Weekday};
use chrono_tz::Tz;
use std::collections::BTreeSet;
use std::time::Duration;

mod catch_up;
mod collisions;
mod days;
mod dst;
mod quiet;

fn bs(text: &str) -> Vec<Broadcast> {
    let p = schedule::parse("t.toml", text);
    assert!(p.is_valid(), "{:?}", p.diagnostics);
    p.broadcasts
}

fn rules(tz: Tz) -> Rules {
    Rules {
        tz,
        quiet_hours: None,
        holidays: BTreeSet::new(),
        catch_up: Duration::from_secs(600),
    }
}

fn sh() -> Rules {
    rules(chrono_tz::Asia::Shanghai)
}

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// Firings over whole local days `[first, first + days)`.
fn over(b: &[Broadcast], r: &Rules, first: &str, days: i64) -> Vec<Firing> {
    let start = local_instant(r.tz, d(first).and_hms_opt(0, 0, 0).unwrap()).unwrap();
    let end = local_instant(
        r.tz,
        (d(first) + TimeDelta::days(days))
            .and_hms_opt(0, 0, 0)
            .unwrap(),
    )
    .unwrap();
    firings(b, r, start, end)
}

/// Local "YYYY-MM-DD HH:MM:SS +08:00" of each firing.
fn locals(f: &[Firing], tz: Tz) -> Vec<String> {
    f.iter()
        .map(|f| {
            f.scheduled_at
                .with_timezone(&tz)
                .format("%Y-%m-%d %H:%M:%S %:z")
                .to_string()
        })
        .collect()
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn t(s: &str) -> DateTime<Utc> {
    // Local Shanghai "YYYY-MM-DD HH:MM:SS".
    let n = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap();
    local_instant(chrono_tz::Asia::Shanghai, n).unwrap()
}

fn firing(name: &str, at_secs: i64, prio: Priority, catch_up: u64) -> Firing {
    Firing {
        broadcast: name.into(),
        scheduled_at: DateTime::from_timestamp(1_800_000_000 + at_secs, 0).unwrap(),
        local_date: d("2027-01-15"),
        files: vec!["x.mp3".into()],
        chime: ChimeFile::None,
        priority: prio,
        repeat: 1,
        gap: Duration::ZERO,
        volume: 1.0,
        catch_up: Duration::from_secs(catch_up),
        skip: None,
        relay: None,
        say: None,
    }
}

fn decisions(
    text: &str,
    r: &Rules,
    since: &str,
    now: &str,
    cause: Cause,
) -> Vec<(String, String, Decision)> {
    due(&bs(text), r, t(since), t(now), cause)
        .into_iter()
        .map(|(f, d)| {
            (
                f.broadcast,
                f.scheduled_at
                    .with_timezone(&r.tz)
                    .format("%m-%d %H:%M")
                    .to_string(),
                d,
            )
        })
        .collect()
}

const THREE_A_DAY: &str = r#"[[broadcast]]
name="信"
play=["x.mp3"]
at=["07:30","12:00","18:30"]
catch_up="10m"

[[broadcast]]
name="公告"
play=["y.mp3"]
at=["08:00"]
catch_up="1h"
"#;
