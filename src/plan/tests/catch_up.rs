//! Table tests of what a wake handles: the window after a stop or a clock
//! step, catch-up, superseded and missed firings, the next deadline, and
//! the reason codes' words.
#![allow(clippy::type_complexity)]

use super::*;

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
fn every_reason_code_has_words_and_is_in_the_readme() {
    let readme = include_str!("../../../README.md");
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
