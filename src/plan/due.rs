//! What a wake of the daemon must handle: the span of wall time since the
//! last look (after running, a stop or a clock step), which firings in it
//! play, catch up, are missed or skipped, and when to wake next. Pure: the
//! daemon passes in the clock readings; this never reads a clock.

use super::generate::firings;
use super::{Firing, Rules, Skip, Trigger};
use crate::config::schedule::Broadcast;
use chrono::{DateTime, Duration as TimeDelta, Utc};
use std::time::Duration;

/// Why the firings in a window came due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// Time passed normally since the last look.
    OnTime,
    /// The daemon was not running (start-up after a stop or power cut).
    Downtime,
    /// The wall clock jumped forward (set by hand, NTP, resume).
    ClockJump,
}

/// A wall-clock step larger than this (wall time moving differently from
/// monotonic time) counts as a jump.
pub const STEP_TOLERANCE: TimeDelta = TimeDelta::seconds(2);

/// The span of wall time whose firings are due at this wake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Firings with `since < scheduled_at <= now` are due.
    pub since: DateTime<Utc>,
    pub cause: Cause,
    /// How far the wall clock stepped relative to monotonic time (0 when
    /// it did not).
    pub step: TimeDelta,
}

/// Decides which span of wall time to handle, from what was handled last
/// (`handled_until`), the wall and monotonic readings at the last wake and
/// now. Forward step = like downtime; backward step = nothing is due until
/// wall time passes `handled_until` again (firings already recorded are
/// never replayed: the store refuses a second row for the same firing).
pub fn window(
    handled_until: DateTime<Utc>,
    prev_wall: DateTime<Utc>,
    prev_mono: Duration,
    now: DateTime<Utc>,
    mono: Duration,
) -> Window {
    let mono_elapsed = TimeDelta::from_std(mono.saturating_sub(prev_mono)).unwrap_or_default();
    let step = (now - prev_wall) - mono_elapsed;
    let jumped = step > STEP_TOLERANCE || step < -STEP_TOLERANCE;
    if now <= handled_until {
        return Window {
            since: now,
            cause: Cause::OnTime,
            step: if jumped { step } else { TimeDelta::zero() },
        };
    }
    Window {
        since: handled_until,
        cause: if step > STEP_TOLERANCE {
            Cause::ClockJump
        } else {
            Cause::OnTime
        },
        step: if jumped { step } else { TimeDelta::zero() },
    }
}

/// What to do with a due firing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Play(Trigger),
    /// Logged `missed`, with a reason code.
    Miss(&'static str),
    /// Logged `skipped` (quiet hours, holiday).
    Skip(Skip),
}

/// Reason codes written to the as-run log.
pub mod reasons {
    /// It came due while the daemon was not running.
    pub const NOT_RUNNING: &str = "not_running";
    /// It came due while the wall clock jumped over it.
    pub const CLOCK_JUMP: &str = "clock_jump";
    /// A later firing of the same broadcast was caught up instead.
    pub const SUPERSEDED: &str = "superseded";
    /// Its catch-up window had passed when it came due.
    pub const TOO_LATE: &str = "too_late";
    /// The output was busy until its catch-up window passed.
    pub const BUSY: &str = "busy";
    pub const QUIET_HOURS: &str = "quiet_hours";
    pub const HOLIDAY: &str = "holiday";
    /// Cut by a higher-priority play.
    pub const INTERRUPTED_BY: &str = "interrupted_by";
    /// The daemon was stopped during the play.
    pub const STOPPED: &str = "stopped";
    /// A person stopped the play (`cunxiang stop`, the dashboard).
    pub const OPERATOR_STOP: &str = "operator_stop";
    /// A file was missing or undecodable at air time.
    pub const CONTENT: &str = "content";
    /// The sound device failed.
    pub const DEVICE: &str = "device";
    /// Its schedule file has errors and no good version was on air.
    pub const CONFIG: &str = "config";
    /// A relay's source was lost for part (or all) of its slot.
    pub const SOURCE: &str = "source";
    /// Written by the store when a play was on air at a crash or power
    /// cut (the row becomes `interrupted`).
    pub const DAEMON_STOPPED: &str = "daemon stopped during the play";
    /// Every code, for the documentation test.
    pub const ALL: &[&str] = &[
        NOT_RUNNING,
        CLOCK_JUMP,
        SUPERSEDED,
        TOO_LATE,
        BUSY,
        QUIET_HOURS,
        HOLIDAY,
        INTERRUPTED_BY,
        STOPPED,
        OPERATOR_STOP,
        CONTENT,
        DEVICE,
        CONFIG,
        SOURCE,
        DAEMON_STOPPED,
    ];
}

/// The most downtime whose firings are looked at (and logged `missed`).
pub const MAX_LOOKBACK: TimeDelta = TimeDelta::days(31);

/// The firings due in `(since, now]` and what to do with each: per
/// broadcast only the latest may play, and only inside its catch-up window
/// (systemd `Persistent=` / Kubernetes "most recent only"); every other is
/// missed with the cause. Routine firings in quiet hours or on holidays are
/// skipped.
pub fn due(
    broadcasts: &[Broadcast],
    rules: &Rules,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
    cause: Cause,
) -> Vec<(Firing, Decision)> {
    let since = since.max(now - MAX_LOOKBACK);
    // (since, now] = [since + 1 ns, now + 1 ns)
    let all = firings(
        broadcasts,
        rules,
        since + TimeDelta::nanoseconds(1),
        now + TimeDelta::nanoseconds(1),
    );
    let mut latest: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (i, f) in all.iter().enumerate() {
        if f.skip.is_none() {
            latest.insert(f.broadcast.as_str(), i);
        }
    }
    let older = match cause {
        Cause::OnTime => reasons::SUPERSEDED,
        Cause::Downtime => reasons::NOT_RUNNING,
        Cause::ClockJump => reasons::CLOCK_JUMP,
    };
    all.iter()
        .enumerate()
        .map(|(i, f)| {
            let d = if let Some(s) = f.skip {
                Decision::Skip(s)
            } else if latest.get(f.broadcast.as_str()) != Some(&i) {
                Decision::Miss(older)
            } else if now > f.scheduled_at + TimeDelta::from_std(f.catch_up).unwrap_or_default() {
                Decision::Miss(if cause == Cause::OnTime {
                    reasons::TOO_LATE
                } else {
                    older
                })
            } else if cause == Cause::OnTime && now - f.scheduled_at <= STEP_TOLERANCE {
                Decision::Play(Trigger::Schedule)
            } else {
                Decision::Play(Trigger::CatchUp)
            };
            (f.clone(), d)
        })
        .collect()
}

/// The next `n` firings that will play (not skipped) after `now`, within a
/// week, looking in widening windows so frequent crons stay cheap.
pub fn upcoming(
    broadcasts: &[Broadcast],
    rules: &Rules,
    now: DateTime<Utc>,
    n: usize,
) -> Vec<Firing> {
    // Widen the window step by step: the daemon asks after every wake, and
    // a broadcast firing every second must cost a minute's firings, not an
    // hour's.
    for w in [
        TimeDelta::minutes(1),
        TimeDelta::hours(1),
        TimeDelta::days(1),
        TimeDelta::days(7),
    ] {
        let f: Vec<Firing> = firings(broadcasts, rules, now, now + w)
            .into_iter()
            .filter(|f| f.skip.is_none())
            .take(n)
            .collect();
        if f.len() == n || w == TimeDelta::days(7) {
            return f;
        }
    }
    Vec::new()
}

/// The first firing strictly after `now` within two days, if any (skipped
/// ones included: they are logged when they come due).
pub fn next_after(
    broadcasts: &[Broadcast],
    rules: &Rules,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    // Widen the window step by step so a broadcast firing every second
    // costs a handful of firings, not two days' worth.
    let from = now + TimeDelta::nanoseconds(1);
    broadcasts
        .iter()
        .filter_map(|b| {
            [
                TimeDelta::minutes(1),
                TimeDelta::hours(1),
                TimeDelta::days(2),
            ]
            .into_iter()
            .find_map(|w| {
                firings(std::slice::from_ref(b), rules, from, from + w)
                    .first()
                    .map(|f| f.scheduled_at)
            })
        })
        .min()
}
