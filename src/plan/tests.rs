#![allow(clippy::type_complexity)]
//! Table tests of the planner: each rule of PRODUCT.md §4 and every
//! schedule key, with literal schedules and fixed windows.

use super::*;
use crate::config::schedule;
use chrono::{Datelike, NaiveDate, NaiveDateTime, Weekday};

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

#[test]
fn keys_table() {
    // (what, schedule, first day, days, expected count, expected first local, expected last local)
    let cases: &[(&str, &str, &str, i64, usize, &str, &str)] = &[
        (
            "at: three times a day",
            r#"[[broadcast]]
name="a"
play=["x.mp3"]
at=["07:30","12:00","18:30"]"#,
            "2026-12-01",
            2,
            6,
            "2026-12-01 07:30:00 +08:00",
            "2026-12-02 18:30:00 +08:00",
        ),
        (
            "at with seconds",
            r#"[[broadcast]]
name="a"
play="x.mp3"
at="12:00:15""#,
            "2026-12-01",
            1,
            1,
            "2026-12-01 12:00:15 +08:00",
            "2026-12-01 12:00:15 +08:00",
        ),
        (
            "days: weekends only",
            r#"[[broadcast]]
name="a"
play=["x.mp3"]
at=["09:00"]
days=["sat","sun"]"#,
            "2026-11-30",
            7,
            2,
            "2026-12-05 09:00:00 +08:00",
            "2026-12-06 09:00:00 +08:00",
        ),
        (
            "days: Chinese words",
            r#"[[broadcast]]
name="a"
play=["x.mp3"]
at=["09:00"]
days=["周一","星期三"]"#,
            "2026-11-30",
            7,
            2,
            "2026-11-30 09:00:00 +08:00",
            "2026-12-02 09:00:00 +08:00",
        ),
        (
            "days: weekdays group",
            r#"[[broadcast]]
name="a"
play=["x.mp3"]
at=["09:00"]
days="weekdays""#,
            "2026-11-30",
            14,
            10,
            "2026-11-30 09:00:00 +08:00",
            "2026-12-11 09:00:00 +08:00",
        ),
        (
            "from/until inclusive",
            r#"[[broadcast]]
name="a"
play=["x.mp3"]
at=["08:00"]
from=2026-12-02
until=2026-12-04"#,
            "2026-11-30",
            10,
            3,
            "2026-12-02 08:00:00 +08:00",
            "2026-12-04 08:00:00 +08:00",
        ),
        (
            "from/until as text",
            r#"[[broadcast]]
name="a"
play=["x.mp3"]
at=["08:00"]
from="2026-12-02"
until="2026-12-02""#,
            "2026-11-30",
            10,
            1,
            "2026-12-02 08:00:00 +08:00",
            "2026-12-02 08:00:00 +08:00",
        ),
        (
            "enabled = false plays nothing",
            r#"[[broadcast]]
name="a"
play=["x.mp3"]
at=["08:00"]
enabled=false"#,
            "2026-11-30",
            10,
            0,
            "",
            "",
        ),
        (
            "cron 1-5 is Monday to Friday",
            r#"[[broadcast]]
name="a"
play=["x.mp3"]
cron="30 7 * * 1-5""#,
            "2026-11-30",
            7,
            5,
            "2026-11-30 07:30:00 +08:00",
            "2026-12-04 07:30:00 +08:00",
        ),
        (
            "cron with seconds",
            r#"[[broadcast]]
name="a"
play=["x.mp3"]
cron="15 30 7 * * *""#,
            "2026-11-30",
            2,
            2,
            "2026-11-30 07:30:15 +08:00",
            "2026-12-01 07:30:15 +08:00",
        ),
        (
            "cron names mon-fri",
            r#"[[broadcast]]
name="a"
play=["x.mp3"]
cron="0 8 * * mon-fri""#,
            "2026-12-05",
            3,
            1,
            "2026-12-07 08:00:00 +08:00",
            "2026-12-07 08:00:00 +08:00",
        ),
        (
            "cron 0 and 7 are Sunday",
            r#"[[broadcast]]
name="a"
play=["x.mp3"]
cron="0 8 * * 0,7""#,
            "2026-11-30",
            14,
            2,
            "2026-12-06 08:00:00 +08:00",
            "2026-12-13 08:00:00 +08:00",
        ),
        (
            "cron and days intersect",
            r#"[[broadcast]]
name="a"
play=["x.mp3"]
cron="0 8 * * 1-5"
days=["mon"]"#,
            "2026-11-30",
            7,
            1,
            "2026-11-30 08:00:00 +08:00",
            "2026-11-30 08:00:00 +08:00",
        ),
        (
            "cron with from/until",
            r#"[[broadcast]]
name="a"
play=["x.mp3"]
cron="0 8 * * *"
from=2026-12-03
until=2026-12-04"#,
            "2026-11-30",
            7,
            2,
            "2026-12-03 08:00:00 +08:00",
            "2026-12-04 08:00:00 +08:00",
        ),
    ];
    for (what, text, first, days, count, first_local, last_local) in cases {
        let f = over(&bs(text), &sh(), first, *days);
        let l = locals(&f, chrono_tz::Asia::Shanghai);
        assert_eq!(l.len(), *count, "{what}: {l:?}");
        if *count > 0 {
            assert_eq!(l.first().unwrap(), first_local, "{what}");
            assert_eq!(l.last().unwrap(), last_local, "{what}");
        }
    }
}

#[test]
fn cron_weekdays_never_on_weekend() {
    let b = bs(r#"[[broadcast]]
name="a"
play=["x.mp3"]
cron="30 7 * * 1-5""#);
    let f = over(&b, &sh(), "2026-11-01", 60);
    assert!(!f.is_empty());
    for x in &f {
        let local = x.scheduled_at.with_timezone(&chrono_tz::Asia::Shanghai);
        assert!(
            !matches!(local.weekday(), Weekday::Sat | Weekday::Sun),
            "{local}"
        );
        assert_eq!(local.format("%H:%M:%S").to_string(), "07:30:00");
    }
    // 60 days from a Sunday: 8 full weeks (40) + Mon..Fri of the 9th... count weekdays directly.
    let expected = (0..60)
        .map(|i| d("2026-11-01") + TimeDelta::days(i))
        .filter(|d| d.weekday().num_days_from_monday() < 5)
        .count();
    assert_eq!(f.len(), expected);
}

#[test]
fn repeat_gap_chime_priority_volume_catch_up_are_carried() {
    let b = bs(r#"[[broadcast]]
name="信"
play=["a.mp3","b.mp3"]
at=["07:30"]
repeat=3
gap="20s"
chime=true
priority="important"
volume=0.8
catch_up="2m"

[[broadcast]]
name="默认"
play=["a.mp3"]
at=["07:30"]
chime="提示音.mp3"
"#);
    let f = over(&b, &sh(), "2026-12-01", 1);
    assert_eq!(f.len(), 2);
    // Same instant: higher priority first.
    assert_eq!(f[0].broadcast, "信");
    assert_eq!(f[0].repeat, 3);
    assert_eq!(f[0].gap, Duration::from_secs(20));
    assert_eq!(f[0].chime, ChimeFile::Builtin);
    assert_eq!(f[0].priority, Priority::Important);
    assert!((f[0].volume - 0.8).abs() < 1e-6);
    assert_eq!(f[0].catch_up, Duration::from_secs(120));
    assert_eq!(f[1].catch_up, Duration::from_secs(600), "station default");
    assert_eq!(f[1].chime, ChimeFile::File("提示音.mp3".into()));
    assert_eq!(f[1].volume, 1.0);
    assert_eq!(f[1].repeat, 1);

    let len = |p: &str| match p {
        "a.mp3" => Some(Duration::from_secs(30)),
        "b.mp3" => Some(Duration::from_secs(10)),
        "提示音.mp3" => Some(Duration::from_secs(2)),
        _ => None,
    };
    // chime + 3 × (30 + 10) + 2 × 20
    assert_eq!(
        f[0].expected_duration(&len),
        Some(crate::plan::chime::duration() + Duration::from_secs(160))
    );
    assert_eq!(f[1].expected_duration(&len), Some(Duration::from_secs(32)));
    assert_eq!(f[1].expected_duration(&|_| None), None);
}

#[test]
fn date_placeholder_uses_the_local_day() {
    // 00:30 in Shanghai is the previous day in UTC: the file must follow the local day.
    let b = bs(r#"[[broadcast]]
name="公告"
play=["公告/{date}.mp3", "尾声.mp3"]
at=["00:30","08:00"]
chime="提示/{date}.mp3""#);
    let f = over(&b, &sh(), "2026-12-01", 2);
    let files: Vec<_> = f.iter().map(|f| f.files[0].clone()).collect();
    assert_eq!(
        files,
        [
            "公告/2026-12-01.mp3",
            "公告/2026-12-01.mp3",
            "公告/2026-12-02.mp3",
            "公告/2026-12-02.mp3"
        ]
    );
    assert_eq!(f[0].files[1], "尾声.mp3");
    assert_eq!(f[0].chime, ChimeFile::File("提示/2026-12-01.mp3".into()));
    assert_eq!(f[0].local_date, d("2026-12-01"));
    assert_eq!(
        f[0].scheduled_at.date_naive(),
        d("2026-11-30"),
        "UTC day differs"
    );
}

#[test]
fn quiet_hours_and_holidays() {
    let b = bs(r#"[[broadcast]]
name="普通"
play=["x.mp3"]
at=["05:00","12:00","23:00"]

[[broadcast]]
name="重要"
play=["x.mp3"]
at=["23:30"]
priority="important"

[[broadcast]]
name="紧急"
play=["x.mp3"]
at=["23:45"]
priority="emergency"
"#);
    let mut r = sh();
    r.quiet_hours = crate::config::station::QuietHours::parse("22:00-06:00");
    r.holidays.insert(d("2026-12-02"));
    let f = over(&b, &r, "2026-12-01", 2);
    let table: Vec<(String, String, Option<Skip>)> = f
        .iter()
        .map(|f| {
            (
                f.local_date.to_string()
                    + " "
                    + &f.scheduled_at
                        .with_timezone(&r.tz)
                        .format("%H:%M")
                        .to_string(),
                f.broadcast.clone(),
                f.skip,
            )
        })
        .collect();
    let want = vec![
        ("2026-12-01 05:00", "普通", Some(Skip::QuietHours)),
        ("2026-12-01 12:00", "普通", None),
        ("2026-12-01 23:00", "普通", Some(Skip::QuietHours)),
        ("2026-12-01 23:30", "重要", Some(Skip::QuietHours)),
        ("2026-12-01 23:45", "紧急", None),
        ("2026-12-02 05:00", "普通", Some(Skip::Holiday)),
        ("2026-12-02 12:00", "普通", Some(Skip::Holiday)),
        ("2026-12-02 23:00", "普通", Some(Skip::Holiday)),
        ("2026-12-02 23:30", "重要", Some(Skip::Holiday)),
        ("2026-12-02 23:45", "紧急", None),
    ];
    let want: Vec<(String, String, Option<Skip>)> = want
        .into_iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c))
        .collect();
    assert_eq!(table, want);
}

#[test]
fn window_is_half_open() {
    let b = bs(r#"[[broadcast]]
name="a"
play=["x.mp3"]
at=["08:00"]"#);
    let r = sh();
    let at8 = local_instant(r.tz, d("2026-12-01").and_hms_opt(8, 0, 0).unwrap()).unwrap();
    assert_eq!(firings(&b, &r, at8, at8 + TimeDelta::seconds(1)).len(), 1);
    assert_eq!(firings(&b, &r, at8 - TimeDelta::seconds(1), at8).len(), 0);
    assert_eq!(firings(&b, &r, at8, at8).len(), 0);
}

#[test]
fn dst_new_york_fixed_times() {
    let ny = chrono_tz::America::New_York;
    let r = rules(ny);
    // (what, times spec, day, expected UTC instants)
    let cases: &[(&str, &str, &str, &[&str])] = &[
        // 2026-03-08: 02:00 EST jumps to 03:00 EDT. 02:30 does not exist.
        (
            "spring, at in the gap",
            r#"at=["02:30"]"#,
            "2026-03-08",
            &["2026-03-08T07:00:00Z"],
        ),
        (
            "spring, at with seconds in the gap",
            r#"at=["02:30:15"]"#,
            "2026-03-08",
            &["2026-03-08T07:00:00Z"],
        ),
        (
            "spring, at before the gap",
            r#"at=["01:30"]"#,
            "2026-03-08",
            &["2026-03-08T06:30:00Z"],
        ),
        (
            "spring, at after the gap",
            r#"at=["03:30"]"#,
            "2026-03-08",
            &["2026-03-08T07:30:00Z"],
        ),
        (
            "spring, cron in the gap",
            r#"cron="30 2 * * *""#,
            "2026-03-08",
            &["2026-03-08T07:00:00Z"],
        ),
        // 2026-11-01: 02:00 EDT falls back to 01:00 EST. 01:30 happens twice.
        (
            "fall, at in the repeated hour",
            r#"at=["01:30"]"#,
            "2026-11-01",
            &["2026-11-01T05:30:00Z"],
        ),
        (
            "fall, cron in the repeated hour",
            r#"cron="30 1 * * *""#,
            "2026-11-01",
            &["2026-11-01T05:30:00Z"],
        ),
        (
            "fall, at after",
            r#"at=["02:30"]"#,
            "2026-11-01",
            &["2026-11-01T07:30:00Z"],
        ),
        (
            "normal day",
            r#"at=["02:30"]"#,
            "2026-03-09",
            &["2026-03-09T06:30:00Z"],
        ),
    ];
    for (what, times, day, want) in cases {
        let b = bs(&format!(
            "[[broadcast]]\nname=\"a\"\nplay=[\"x.mp3\"]\n{times}\n"
        ));
        let f = over(&b, &r, day, 1);
        let got: Vec<String> = f
            .iter()
            .map(|f| f.scheduled_at.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .collect();
        assert_eq!(got, *want, "{what}");
        for x in &f {
            assert_eq!(
                x.local_date,
                d(day),
                "{what}: belongs to the day it was written for"
            );
        }
    }
}

#[test]
fn dst_whole_weekend_counts() {
    // Around both switches a daily 01:30 and 02:30 each play exactly once a day.
    let ny = chrono_tz::America::New_York;
    let b = bs(r#"[[broadcast]]
name="a"
play=["x.mp3"]
at=["01:30","02:30"]"#);
    for first in ["2026-03-07", "2026-10-31"] {
        let f = over(&b, &rules(ny), first, 3);
        assert_eq!(f.len(), 6, "{first}: {:?}", locals(&f, ny));
    }
}

// Debian cron(8)'s DST rules, which `at` and `cron` follow: a fixed time
// (hour and minute fields both without a leading `*`) in the skipped spring
// interval runs once at the jump, in the repeated autumn interval once, the
// first time; a wildcard hour or minute runs on every real instant whose wall
// clock matches (none in the gap, twice in the repeated hour).

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// One DST table row: (what, the `at`/`cron` line, UTC window `[from, to)`,
/// the expected firings as local times with their offset).
type DstCase<'a> = (&'a str, &'a str, (&'a str, &'a str), &'a [&'a str]);

/// Checks every row and reports all the wrong ones at once, so a failing
/// run shows which rules are broken, not just the first.
fn dst_table(tz: Tz, cases: &[DstCase<'_>]) {
    let r = rules(tz);
    let mut wrong = Vec::new();
    for (what, times, (from, to), want) in cases {
        let b = bs(&format!(
            "[[broadcast]]\nname=\"a\"\nplay=[\"x.mp3\"]\n{times}\n"
        ));
        let f = firings(&b, &r, utc(from), utc(to));
        let got = locals(&f, tz);
        if got != *want {
            wrong.push(format!("{what}:\n   got  {got:?}\n   want {want:?}"));
        }
        for x in &f {
            let local = x.scheduled_at.with_timezone(&tz).date_naive();
            if x.local_date != local {
                wrong.push(format!("{what}: local_date {} at {local}", x.local_date));
            }
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

// Europe/Berlin 2027: on Sunday 03-28 02:00 CET jumps to 03:00 CEST (01:00
// UTC); on Sunday 10-31 03:00 CEST falls back to 02:00 CET (01:00 UTC), so
// 02:00-03:00 happens twice.
const SPRING_DAY: (&str, &str) = ("2027-03-27T23:00:00Z", "2027-03-28T22:00:00Z");
const SPRING_NIGHT: (&str, &str) = ("2027-03-27T23:00:00Z", "2027-03-28T03:00:00Z");
const AUTUMN_DAY: (&str, &str) = ("2027-10-30T22:00:00Z", "2027-10-31T23:00:00Z");
const AUTUMN_NIGHT: (&str, &str) = ("2027-10-30T22:00:00Z", "2027-10-31T04:00:00Z");

#[test]
fn dst_berlin_spring() {
    dst_table(
        chrono_tz::Europe::Berlin,
        &[
            (
                "at before the gap: once",
                r#"at=["01:15"]"#,
                SPRING_DAY,
                &["2027-03-28 01:15:00 +01:00"],
            ),
            (
                "at in the gap: once, at the jump",
                r#"at=["02:30"]"#,
                SPRING_DAY,
                &["2027-03-28 03:00:00 +02:00"],
            ),
            (
                "at with seconds in the gap: at the jump",
                r#"at=["02:30:15"]"#,
                SPRING_DAY,
                &["2027-03-28 03:00:00 +02:00"],
            ),
            (
                "at after the gap: once",
                r#"at=["03:30"]"#,
                SPRING_DAY,
                &["2027-03-28 03:30:00 +02:00"],
            ),
            (
                "at: two times in the gap fire once at the jump",
                r#"at=["02:15","02:45","03:15"]"#,
                SPRING_DAY,
                &["2027-03-28 03:00:00 +02:00", "2027-03-28 03:15:00 +02:00"],
            ),
            (
                "bug 1: cron 15 1 before the gap fires once, not again at the jump",
                r#"cron="15 1 * * *""#,
                SPRING_DAY,
                &["2027-03-28 01:15:00 +01:00"],
            ),
            (
                "cron fixed in the gap: once, at the jump",
                r#"cron="30 2 * * *""#,
                SPRING_DAY,
                &["2027-03-28 03:00:00 +02:00"],
            ),
            (
                "bug 2: cron 45 2,3 on Sunday keeps its 02:45 (at the jump)",
                r#"cron="45 2,3 * * 0""#,
                SPRING_DAY,
                &["2027-03-28 03:00:00 +02:00", "2027-03-28 03:45:00 +02:00"],
            ),
            (
                "cron range 1-5 hour is fixed: 02:10 at the jump",
                r#"cron="10 1-3 * * *""#,
                SPRING_DAY,
                &[
                    "2027-03-28 01:10:00 +01:00",
                    "2027-03-28 03:00:00 +02:00",
                    "2027-03-28 03:10:00 +02:00",
                ],
            ),
            (
                "cron after the gap: once",
                r#"cron="30 3 * * *""#,
                SPRING_DAY,
                &["2027-03-28 03:30:00 +02:00"],
            ),
            (
                "cron: 02:00, 02:30 and 03:00 are one firing at the jump",
                r#"cron="0,30 2-3 * * *""#,
                SPRING_DAY,
                &["2027-03-28 03:00:00 +02:00", "2027-03-28 03:30:00 +02:00"],
            ),
            (
                "cron wildcard minute in the gap: none",
                r#"cron="* 2 * * *""#,
                SPRING_DAY,
                &[],
            ),
            (
                "cron wildcard hour: no 02:43",
                r#"cron="43 * * * *""#,
                SPRING_NIGHT,
                &[
                    "2027-03-28 00:43:00 +01:00",
                    "2027-03-28 01:43:00 +01:00",
                    "2027-03-28 03:43:00 +02:00",
                    "2027-03-28 04:43:00 +02:00",
                ],
            ),
            (
                "cron */30 across the jump",
                r#"cron="*/30 * * * *""#,
                ("2027-03-28T00:30:00Z", "2027-03-28T02:30:00Z"),
                &[
                    "2027-03-28 01:30:00 +01:00",
                    "2027-03-28 03:00:00 +02:00",
                    "2027-03-28 03:30:00 +02:00",
                    "2027-03-28 04:00:00 +02:00",
                ],
            ),
            (
                "6-field cron fixed in the gap: at the jump",
                r#"cron="15 30 2 * * *""#,
                SPRING_DAY,
                &["2027-03-28 03:00:00 +02:00"],
            ),
            (
                "6-field cron, wildcard seconds of a fixed minute in the gap: once",
                r#"cron="* 30 2 * * *""#,
                SPRING_DAY,
                &["2027-03-28 03:00:00 +02:00"],
            ),
            (
                "the day before: normal",
                r#"cron="30 2 * * *""#,
                ("2027-03-26T23:00:00Z", "2027-03-27T23:00:00Z"),
                &["2027-03-27 02:30:00 +01:00"],
            ),
        ],
    );
}

#[test]
fn dst_berlin_autumn() {
    dst_table(
        chrono_tz::Europe::Berlin,
        &[
            (
                "at before the repeated hour: once",
                r#"at=["01:30"]"#,
                AUTUMN_DAY,
                &["2027-10-31 01:30:00 +02:00"],
            ),
            (
                "at in the repeated hour: once, the first time",
                r#"at=["02:30"]"#,
                AUTUMN_DAY,
                &["2027-10-31 02:30:00 +02:00"],
            ),
            (
                "at with seconds in the repeated hour: the first time",
                r#"at=["02:30:15"]"#,
                AUTUMN_DAY,
                &["2027-10-31 02:30:15 +02:00"],
            ),
            (
                "at after the repeated hour: once",
                r#"at=["03:30"]"#,
                AUTUMN_DAY,
                &["2027-10-31 03:30:00 +01:00"],
            ),
            (
                "cron fixed in the repeated hour: once, the first time",
                r#"cron="30 2 * * *""#,
                AUTUMN_DAY,
                &["2027-10-31 02:30:00 +02:00"],
            ),
            (
                "cron list 45 2,3 on Sunday: 02:45 once",
                r#"cron="45 2,3 * * 0""#,
                AUTUMN_DAY,
                &["2027-10-31 02:45:00 +02:00", "2027-10-31 03:45:00 +01:00"],
            ),
            (
                "bug 3: cron 43 * fires on both 02:43s, one hour apart",
                r#"cron="43 * * * *""#,
                AUTUMN_NIGHT,
                &[
                    "2027-10-31 00:43:00 +02:00",
                    "2027-10-31 01:43:00 +02:00",
                    "2027-10-31 02:43:00 +02:00",
                    "2027-10-31 02:43:00 +01:00",
                    "2027-10-31 03:43:00 +01:00",
                    "2027-10-31 04:43:00 +01:00",
                ],
            ),
            (
                "cron wildcard minute in the repeated hour: both passes",
                r#"cron="*/20 2 * * *""#,
                AUTUMN_DAY,
                &[
                    "2027-10-31 02:00:00 +02:00",
                    "2027-10-31 02:20:00 +02:00",
                    "2027-10-31 02:40:00 +02:00",
                    "2027-10-31 02:00:00 +01:00",
                    "2027-10-31 02:20:00 +01:00",
                    "2027-10-31 02:40:00 +01:00",
                ],
            ),
            (
                "cron */30 across the fall-back",
                r#"cron="*/30 * * * *""#,
                ("2027-10-30T23:30:00Z", "2027-10-31T02:30:00Z"),
                &[
                    "2027-10-31 01:30:00 +02:00",
                    "2027-10-31 02:00:00 +02:00",
                    "2027-10-31 02:30:00 +02:00",
                    "2027-10-31 02:00:00 +01:00",
                    "2027-10-31 02:30:00 +01:00",
                    "2027-10-31 03:00:00 +01:00",
                ],
            ),
            (
                "6-field cron fixed in the repeated hour: the first time",
                r#"cron="15 30 2 * * *""#,
                AUTUMN_DAY,
                &["2027-10-31 02:30:15 +02:00"],
            ),
            (
                "6-field cron with a wildcard hour: both passes",
                r#"cron="10 43 * * * *""#,
                ("2027-10-31T00:00:00Z", "2027-10-31T02:00:00Z"),
                &["2027-10-31 02:43:10 +02:00", "2027-10-31 02:43:10 +01:00"],
            ),
            (
                "@hourly is a wildcard hour: both 02:00s",
                r#"cron="@hourly""#,
                ("2027-10-30T23:30:00Z", "2027-10-31T02:30:00Z"),
                &[
                    "2027-10-31 02:00:00 +02:00",
                    "2027-10-31 02:00:00 +01:00",
                    "2027-10-31 03:00:00 +01:00",
                ],
            ),
        ],
    );
}

#[test]
fn dst_new_york_2027() {
    // 2027-03-14: 02:00 EST jumps to 03:00 EDT (07:00 UTC). 2027-11-07:
    // 02:00 EDT falls back to 01:00 EST (06:00 UTC).
    dst_table(
        chrono_tz::America::New_York,
        &[
            (
                "spring, cron fixed in the gap: at the jump",
                r#"cron="30 2 * * *""#,
                ("2027-03-14T05:00:00Z", "2027-03-15T04:00:00Z"),
                &["2027-03-14 03:00:00 -04:00"],
            ),
            (
                "spring, cron wildcard hour: no 02:30",
                r#"cron="30 * * * *""#,
                ("2027-03-14T05:00:00Z", "2027-03-14T09:00:00Z"),
                &[
                    "2027-03-14 00:30:00 -05:00",
                    "2027-03-14 01:30:00 -05:00",
                    "2027-03-14 03:30:00 -04:00",
                    "2027-03-14 04:30:00 -04:00",
                ],
            ),
            (
                "weekday is the local one (Saturday 22:30 is Sunday in UTC)",
                r#"cron="30 22 * * 6""#,
                ("2027-03-13T05:00:00Z", "2027-03-15T04:00:00Z"),
                &["2027-03-13 22:30:00 -05:00"],
            ),
            (
                "fall, cron fixed in the repeated hour: the first time",
                r#"cron="30 1 * * *""#,
                ("2027-11-07T04:00:00Z", "2027-11-08T05:00:00Z"),
                &["2027-11-07 01:30:00 -04:00"],
            ),
            (
                "fall, cron wildcard hour: 01:30 twice",
                r#"cron="30 * * * *""#,
                ("2027-11-07T04:00:00Z", "2027-11-07T08:00:00Z"),
                &[
                    "2027-11-07 00:30:00 -04:00",
                    "2027-11-07 01:30:00 -04:00",
                    "2027-11-07 01:30:00 -05:00",
                    "2027-11-07 02:30:00 -05:00",
                ],
            ),
        ],
    );
}

#[test]
fn dst_fixed_or_wildcard_table() {
    // (cron, fixed wall time?) as Debian cron tells them apart: only a
    // leading `*` in the minute or hour field makes a wildcard job.
    let cases: &[(&str, bool)] = &[
        ("15 1 * * *", true),
        ("45 2,3 * * 0", true),
        ("10 1-5 * * *", true),
        ("0-59 2 * * *", true),
        (" 30 2 * * * ", true),
        ("* 2 * * *", false),
        ("*/15 2 * * *", false),
        ("43 * * * *", false),
        ("43 */2 * * *", false),
        ("15 30 2 * * *", true),
        ("* 30 2 * * *", true),
        ("0 */5 2 * * *", false),
        ("0 0 * * * *", false),
        ("@daily", true),
        ("@weekly", true),
        ("@hourly", false),
        ("@HOURLY", false),
    ];
    for (expr, fixed) in cases {
        assert_eq!(fixed_wall_time(expr), *fixed, "{expr:?}");
    }
}

#[test]
fn dst_split_windows_agree_with_one_window() {
    // The daemon asks in short windows; cutting the transition days into
    // odd-sized pieces must give the same firings as one window, with no
    // firing lost or doubled at a seam.
    let tz = chrono_tz::Europe::Berlin;
    let r = rules(tz);
    for times in [
        r#"cron="*/30 * * * *""#,
        r#"cron="43 * * * *""#,
        r#"cron="45 2,3 * * 0""#,
        r#"cron="15 1 * * *""#,
        r#"cron="15,45 2 * * *""#,
        r#"cron="10 43 * * * *""#,
        r#"at=["02:15","02:30"]"#,
    ] {
        let b = bs(&format!(
            "[[broadcast]]\nname=\"a\"\nplay=[\"x.mp3\"]\n{times}\n"
        ));
        for (from, to) in [SPRING_DAY, AUTUMN_DAY] {
            let (from, to) = (utc(from), utc(to));
            let whole = locals(&firings(&b, &r, from, to), tz);
            let mut pieces = Vec::new();
            let mut a = from;
            while a < to {
                let z = (a + TimeDelta::seconds(7 * 60 + 13)).min(to);
                pieces.extend(locals(&firings(&b, &r, a, z), tz));
                a = z;
            }
            assert_eq!(pieces, whole, "{times} from {from}");
        }
    }
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
    }
}

#[test]
fn simulate_overlap_rules() {
    use Priority::*;
    let t0 = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
    let secs = |s: i64| t0 + TimeDelta::seconds(s);
    // A (0..100) then B at 50 waits until 100, within its 60 s window.
    let f = vec![firing("A", 0, Normal, 600), firing("B", 50, Normal, 60)];
    let o = simulate(
        &f,
        &[
            Some(Duration::from_secs(100)),
            Some(Duration::from_secs(10)),
        ],
    );
    assert_eq!(o[1].start, Some(secs(100)));
    assert_eq!(o[1].waited_for.as_ref().map(|x| x.index), Some(0));
    assert!(o[1].missed_because.is_none());

    // B's window is only 30 s: missed because of A.
    let f = vec![firing("A", 0, Normal, 600), firing("B", 50, Normal, 30)];
    let o = simulate(
        &f,
        &[
            Some(Duration::from_secs(100)),
            Some(Duration::from_secs(10)),
        ],
    );
    assert_eq!(o[1].start, None);
    assert_eq!(o[1].missed_because.as_ref().map(|x| x.index), Some(0));

    // Emergency interrupts routine at once.
    let f = vec![firing("A", 0, Normal, 600), firing("E", 50, Emergency, 0)];
    let o = simulate(
        &f,
        &[
            Some(Duration::from_secs(100)),
            Some(Duration::from_secs(10)),
        ],
    );
    assert_eq!(o[1].start, Some(secs(50)));
    assert_eq!(o[1].interrupts.as_ref().map(|x| x.index), Some(0));
    assert_eq!(o[0].interrupted_by.as_ref().map(|x| x.index), Some(1));

    // Equal priority never interrupts; lower waits; when the output frees,
    // the most urgent waiting one goes first.
    let f = vec![
        firing("A", 0, Important, 600),
        firing("N", 10, Normal, 600),
        firing("I", 20, Important, 600),
    ];
    let o = simulate(
        &f,
        &[
            Some(Duration::from_secs(100)),
            Some(Duration::from_secs(10)),
            Some(Duration::from_secs(10)),
        ],
    );
    assert_eq!(
        o[2].start,
        Some(secs(100)),
        "important before the earlier normal"
    );
    assert_eq!(o[1].start, Some(secs(110)));
    assert!(o.iter().all(|x| x.interrupts.is_none()));

    // Skipped firings take no air time.
    let mut s = firing("S", 0, Normal, 600);
    s.skip = Some(Skip::QuietHours);
    let f = vec![s, firing("B", 5, Normal, 0)];
    let o = simulate(
        &f,
        &[
            Some(Duration::from_secs(100)),
            Some(Duration::from_secs(10)),
        ],
    );
    assert_eq!(o[0].start, None);
    assert_eq!(o[1].start, Some(secs(5)));
    assert!(!o[1].collides());

    // Back-to-back is not a collision.
    let f = vec![firing("A", 0, Normal, 0), firing("B", 100, Normal, 0)];
    let o = simulate(
        &f,
        &[
            Some(Duration::from_secs(100)),
            Some(Duration::from_secs(10)),
        ],
    );
    assert!(!o[1].collides());
}

fn t(s: &str) -> DateTime<Utc> {
    // Local Shanghai "YYYY-MM-DD HH:MM:SS".
    let n = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap();
    local_instant(chrono_tz::Asia::Shanghai, n).unwrap()
}

#[test]
fn window_table() {
    let s = Duration::from_secs;
    // (what, handled_until, prev_wall, prev_mono, now, mono, since, cause)
    let cases: &[(&str, &str, &str, u64, &str, u64, &str, Cause)] = &[
        (
            "normal wake",
            "2026-12-01 07:29:50",
            "2026-12-01 07:29:50",
            100,
            "2026-12-01 07:30:00",
            110,
            "2026-12-01 07:29:50",
            Cause::OnTime,
        ),
        (
            "small drift is not a jump",
            "2026-12-01 07:29:50",
            "2026-12-01 07:29:50",
            100,
            "2026-12-01 07:30:01",
            110,
            "2026-12-01 07:29:50",
            Cause::OnTime,
        ),
        (
            "forward step",
            "2026-12-01 07:00:00",
            "2026-12-01 07:00:00",
            100,
            "2026-12-01 09:00:00",
            105,
            "2026-12-01 07:00:00",
            Cause::ClockJump,
        ),
        (
            "backward step: nothing due",
            "2026-12-01 09:00:00",
            "2026-12-01 09:00:00",
            100,
            "2026-12-01 07:00:00",
            105,
            "2026-12-01 07:00:00",
            Cause::OnTime,
        ),
        (
            "suspend: monotonic stood still",
            "2026-12-01 07:00:00",
            "2026-12-01 07:00:00",
            100,
            "2026-12-01 08:00:00",
            101,
            "2026-12-01 07:00:00",
            Cause::ClockJump,
        ),
    ];
    for (what, hu, pw, pm, now, m, since, cause) in cases {
        let w = window(t(hu), t(pw), s(*pm), t(now), s(*m));
        assert_eq!(w.since, t(since), "{what}");
        assert_eq!(w.cause, *cause, "{what}");
    }
    let w = window(
        t("2026-12-01 09:00:00"),
        t("2026-12-01 09:00:00"),
        s(100),
        t("2026-12-01 07:00:00"),
        s(105),
    );
    assert_eq!(w.step, TimeDelta::seconds(-7205));
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

#[test]
fn due_on_time_and_late() {
    use Decision::*;
    let r = sh();
    // Exactly at the instant: plays on schedule.
    assert_eq!(
        decisions(
            THREE_A_DAY,
            &r,
            "2026-12-01 07:29:59",
            "2026-12-01 07:30:00",
            Cause::OnTime
        ),
        vec![("信".into(), "12-01 07:30".into(), Play(Trigger::Schedule))]
    );
    // The window edges: since is exclusive, now inclusive.
    assert!(decisions(
        THREE_A_DAY,
        &r,
        "2026-12-01 07:30:00",
        "2026-12-01 07:31:00",
        Cause::OnTime
    )
    .is_empty());
    // A slow wake 5 s late is still inside the window: catch-up trigger.
    assert_eq!(
        decisions(
            THREE_A_DAY,
            &r,
            "2026-12-01 07:29:00",
            "2026-12-01 07:30:05",
            Cause::OnTime
        )[0]
        .2,
        Play(Trigger::CatchUp)
    );
    // Past the catch-up window: missed, too late.
    assert_eq!(
        decisions(
            THREE_A_DAY,
            &r,
            "2026-12-01 07:29:00",
            "2026-12-01 07:41:00",
            Cause::OnTime
        )[0]
        .2,
        Miss(reasons::TOO_LATE)
    );
}

#[test]
fn due_after_downtime_plays_only_the_latest_inside_its_window() {
    use Decision::*;
    let r = sh();
    // Down from the evening before until 08:05: 18:30 missed; 07:30 missed
    // (older than 08:00? no: per broadcast) — 信's latest is 07:30, 35 min
    // ago, outside its 10 min window; 公告's latest is 08:00, inside 1 h.
    let d = decisions(
        THREE_A_DAY,
        &r,
        "2026-11-30 13:00:00",
        "2026-12-01 08:05:00",
        Cause::Downtime,
    );
    assert_eq!(
        d,
        vec![
            (
                "信".into(),
                "11-30 18:30".into(),
                Miss(reasons::NOT_RUNNING)
            ),
            (
                "信".into(),
                "12-01 07:30".into(),
                Miss(reasons::NOT_RUNNING)
            ),
            ("公告".into(), "12-01 08:00".into(), Play(Trigger::CatchUp)),
        ]
    );
    // Back at 07:35: 信 07:30 is the latest and inside its window.
    let d = decisions(
        THREE_A_DAY,
        &r,
        "2026-11-30 13:00:00",
        "2026-12-01 07:35:00",
        Cause::Downtime,
    );
    assert_eq!(
        d[1],
        ("信".into(), "12-01 07:30".into(), Play(Trigger::CatchUp))
    );
    assert_eq!(d[0].2, Miss(reasons::NOT_RUNNING));
}

#[test]
fn due_after_forward_jump_is_like_downtime() {
    use Decision::*;
    let r = sh();
    let d = decisions(
        THREE_A_DAY,
        &r,
        "2026-12-01 07:00:00",
        "2026-12-01 12:05:00",
        Cause::ClockJump,
    );
    assert_eq!(
        d,
        vec![
            ("信".into(), "12-01 07:30".into(), Miss(reasons::CLOCK_JUMP)),
            (
                "公告".into(),
                "12-01 08:00".into(),
                Miss(reasons::CLOCK_JUMP)
            ),
            ("信".into(), "12-01 12:00".into(), Play(Trigger::CatchUp)),
        ]
    );
}

#[test]
fn due_skips_quiet_hours_and_holidays_but_not_emergencies() {
    use Decision::*;
    let mut r = sh();
    r.quiet_hours = crate::config::station::QuietHours::parse("22:00-06:00");
    r.holidays.insert(d("2026-12-02"));
    let text = r#"[[broadcast]]
name="夜"
play=["x.mp3"]
at=["23:00"]

[[broadcast]]
name="急"
play=["x.mp3"]
at=["23:00"]
priority="emergency"

[[broadcast]]
name="节"
play=["x.mp3"]
at=["09:00"]
"#;
    let got = decisions(
        text,
        &r,
        "2026-12-01 22:59:59",
        "2026-12-01 23:00:00",
        Cause::OnTime,
    );
    assert_eq!(
        got,
        vec![
            ("急".into(), "12-01 23:00".into(), Play(Trigger::Schedule)),
            (
                "夜".into(),
                "12-01 23:00".into(),
                Skip(super::Skip::QuietHours)
            )
        ]
    );
    let got = decisions(
        text,
        &r,
        "2026-12-02 08:59:59",
        "2026-12-02 09:00:00",
        Cause::OnTime,
    );
    assert_eq!(
        got,
        vec![(
            "节".into(),
            "12-02 09:00".into(),
            Skip(super::Skip::Holiday)
        )]
    );
}

#[test]
fn next_firing_and_lookback_cap() {
    let r = sh();
    let b = bs(THREE_A_DAY);
    assert_eq!(
        next_after(&b, &r, t("2026-12-01 07:30:00")),
        Some(t("2026-12-01 08:00:00"))
    );
    assert_eq!(
        next_after(&b, &r, t("2026-12-01 18:30:00")),
        Some(t("2026-12-02 07:30:00"))
    );
    // A year down: only the last 31 days are looked at.
    let d = due(
        &b,
        &r,
        t("2025-12-01 00:00:00"),
        t("2026-12-01 00:00:00"),
        Cause::Downtime,
    );
    assert_eq!(d.len(), 31 * 4);
}

#[test]
fn cron_firings_are_whole_seconds_whatever_the_window_start() {
    let r = sh();
    for text in [
        r#"[[broadcast]]
name="每秒"
play=["x.mp3"]
cron="* * * * * *""#,
        r#"[[broadcast]]
name="早"
play=["x.mp3"]
cron="30 7 * * *""#,
    ] {
        let b = bs(text);
        let from = t("2026-12-01 07:30:00") + TimeDelta::milliseconds(500);
        let f = firings(
            &b,
            &r,
            from - TimeDelta::seconds(1),
            from + TimeDelta::seconds(3),
        );
        assert!(!f.is_empty());
        assert!(
            f.iter()
                .all(|x| x.scheduled_at.timestamp_subsec_nanos() == 0),
            "{:?}",
            f.iter().map(|x| x.scheduled_at).collect::<Vec<_>>()
        );
        // Successive windows that split a second never invent a second firing.
        let a = due(
            &b,
            &r,
            from - TimeDelta::milliseconds(700),
            from - TimeDelta::milliseconds(300),
            Cause::OnTime,
        );
        let c = due(
            &b,
            &r,
            from - TimeDelta::milliseconds(300),
            from + TimeDelta::milliseconds(100),
            Cause::OnTime,
        );
        assert_eq!(a.len() + c.len(), 1, "exactly the 07:30:00 firing");
    }
}

#[test]
fn cron_every_second_yields_every_second() {
    let b = bs(r#"[[broadcast]]
name="每秒"
play=["x.mp3"]
cron="* * * * * *""#);
    let from = t("2026-12-01 07:30:00");
    let f = firings(&b, &sh(), from, from + TimeDelta::seconds(10));
    assert_eq!(
        f.len(),
        10,
        "{:?}",
        f.iter().map(|x| x.scheduled_at).collect::<Vec<_>>()
    );
    let f = firings(
        &b,
        &sh(),
        from + TimeDelta::milliseconds(1),
        from + TimeDelta::seconds(10),
    );
    assert_eq!(f.len(), 9);
}

#[test]
fn every_reason_code_has_words_and_is_in_the_readme() {
    let readme = include_str!("../../README.md");
    for code in reasons::ALL {
        // Chinese words always differ from the code; English ones may
        // be the code itself ("holiday").
        assert_ne!(
            crate::i18n::reason_text(crate::i18n::Lang::Zh, code),
            *code,
            "{code} has no words"
        );
        assert!(!crate::i18n::reason_text(crate::i18n::Lang::En, code).is_empty());
        assert!(
            readme.contains(&format!("| `{code}` |")),
            "{code} is not in README's reason table"
        );
    }
}
