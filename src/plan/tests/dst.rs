//! Table tests of daylight saving time: Debian cron(8)'s rules for fixed
//! and wildcard times in the spring gap and the repeated autumn hour.
#![allow(clippy::type_complexity)]

use super::*;
use crate::plan::generate::fixed_wall_time;

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
