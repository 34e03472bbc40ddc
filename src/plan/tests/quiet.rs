//! Table tests of quiet hours and holidays: routine firings are skipped,
//! emergencies are not.

use super::*;

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
