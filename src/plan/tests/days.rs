//! Table tests of dates and days: every schedule key, weekdays, `{date}`
//! files, half-open windows and cron's whole seconds.
#![allow(clippy::type_complexity)]

use super::*;

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
