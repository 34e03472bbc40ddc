//! Turning broadcasts into firings: the instants of `at` and `cron` times in
//! a window, the date-range and day filters, quiet hours and holidays,
//! `{date}` files, and the firings a person asks for. Pure: no clock, no
//! disk, no sound.

use super::calendar::{ceil_second, local_instant, wall_span};
use super::{ChimeFile, Firing, RelayPlan, Rules, Skip};
use crate::config::schedule::{Broadcast, Chime, Priority, RelaySource, Times};
use chrono::{DateTime, Duration as TimeDelta, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use std::time::Duration;

/// Every firing of `broadcasts` with `from <= scheduled_at < to`, in time
/// order (ties: higher priority first, then name). Skipped firings (quiet
/// hours, holidays) are included, marked, so they can be logged.
pub fn firings(
    broadcasts: &[Broadcast],
    rules: &Rules,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<Firing> {
    slots(broadcasts, rules, from, to)
        .into_iter()
        .map(|s| s.firing(broadcasts, rules))
        .collect()
}

/// A firing before it is built: when, and which broadcast (an index into
/// the slice it was planned from). A few bytes, where a [`Firing`] carries
/// the name and the day's files: counting a day's firings, or building
/// them one at a time, costs no more than the instants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub at: DateTime<Utc>,
    pub broadcast: usize,
    pub skip: Option<Skip>,
}

impl Slot {
    /// The firing this slot stands for.
    pub fn firing(&self, broadcasts: &[Broadcast], rules: &Rules) -> Firing {
        let local = self.at.with_timezone(&rules.tz);
        make_firing(
            &broadcasts[self.broadcast],
            rules,
            self.at,
            local.date_naive(),
            local.time(),
        )
    }
}

/// The slots of [`firings`], in the same order.
pub fn slots(
    broadcasts: &[Broadcast],
    rules: &Rules,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<Slot> {
    let mut out = Vec::new();
    if to <= from {
        return out;
    }
    for (i, b) in broadcasts.iter().enumerate().filter(|(_, b)| b.enabled) {
        for at in instants(b, rules.tz, from, to) {
            let local = at.with_timezone(&rules.tz);
            let date = local.date_naive();
            if !b.runs_on(date) {
                continue;
            }
            out.push(Slot {
                at,
                broadcast: i,
                skip: skip(b, rules, date, local.time()),
            });
        }
    }
    out.sort_by(|x, y| {
        let (a, b) = (&broadcasts[x.broadcast], &broadcasts[y.broadcast]);
        x.at.cmp(&y.at)
            .then(b.priority.cmp(&a.priority))
            .then(a.name.cmp(&b.name))
    });
    out
}

/// A person's request to play a broadcast now: its files for today, its
/// settings, never skipped (a person asked for it).
pub fn manual_firing(b: &Broadcast, rules: &Rules, at: DateTime<Utc>) -> Firing {
    let local = at.with_timezone(&rules.tz);
    let mut f = make_firing(b, rules, at, local.date_naive(), local.time());
    f.skip = None;
    f
}

/// A person's request to play one file (relative to the audio folder) now,
/// with the built-in chime before it.
pub fn manual_file_firing(
    file: &str,
    priority: Priority,
    repeat: u32,
    rules: &Rules,
    at: DateTime<Utc>,
) -> Firing {
    Firing {
        broadcast: file.to_string(),
        scheduled_at: at,
        local_date: at.with_timezone(&rules.tz).date_naive(),
        files: vec![file.to_string()],
        chime: ChimeFile::Builtin,
        priority,
        repeat: repeat.max(1),
        gap: Duration::from_secs(3),
        volume: 1.0,
        catch_up: rules.catch_up,
        skip: None,
        relay: None,
        say: None,
    }
}

/// A person's request to relay a source now, for `length`, with the
/// built-in chime before it.
pub fn manual_relay_firing(
    source: &RelaySource,
    length: Duration,
    priority: Priority,
    rules: &Rules,
    at: DateTime<Utc>,
) -> Firing {
    let subject = source.subject();
    Firing {
        broadcast: format!("转播 {subject}"),
        scheduled_at: at,
        local_date: at.with_timezone(&rules.tz).date_naive(),
        files: Vec::new(),
        chime: ChimeFile::Builtin,
        priority,
        repeat: 1,
        gap: Duration::ZERO,
        volume: 1.0,
        catch_up: rules.catch_up.min(length),
        skip: None,
        relay: Some(RelayPlan {
            source: source.clone(),
            subject,
            length,
            fallback: Vec::new(),
        }),
        say: None,
    }
}

/// A person's typed notice, read aloud now once with the built-in chime
/// before it. Its name in the as-run log is the notice's beginning.
pub fn manual_say_firing(
    text: &str,
    priority: Priority,
    repeat: u32,
    rules: &Rules,
    at: DateTime<Utc>,
) -> Firing {
    let head: String = text
        .chars()
        .take(SAY_NAME_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let more = if text.chars().count() > SAY_NAME_CHARS {
        "…"
    } else {
        ""
    };
    Firing {
        broadcast: format!("文字广播：{head}{more}"),
        scheduled_at: at,
        local_date: at.with_timezone(&rules.tz).date_naive(),
        files: Vec::new(),
        chime: ChimeFile::Builtin,
        priority,
        repeat: repeat.max(1),
        gap: Duration::from_secs(3),
        volume: 1.0,
        catch_up: rules.catch_up,
        skip: None,
        relay: None,
        say: Some(text.to_string()),
    }
}

/// Characters of a typed notice that name its manual play.
const SAY_NAME_CHARS: usize = 16;

fn make_firing(
    b: &Broadcast,
    rules: &Rules,
    at: DateTime<Utc>,
    date: NaiveDate,
    time: NaiveTime,
) -> Firing {
    Firing {
        broadcast: b.name.clone(),
        scheduled_at: at,
        local_date: date,
        files: b.play.iter().map(|(p, _)| p.resolve(date)).collect(),
        chime: match &b.chime {
            Chime::None => ChimeFile::None,
            Chime::Builtin => ChimeFile::Builtin,
            Chime::File(p) => ChimeFile::File(p.resolve(date)),
        },
        priority: b.priority,
        repeat: b.repeat,
        gap: b.gap,
        volume: b.volume,
        // A relay started late still ends with its slot: never later.
        catch_up: b
            .catch_up
            .unwrap_or(rules.catch_up)
            .min(b.relay.as_ref().map_or(Duration::MAX, |r| r.length)),
        skip: skip(b, rules, date, time),
        relay: b.relay.as_ref().map(|r| RelayPlan {
            source: r.source.clone(),
            subject: r.source.subject(),
            length: r.length,
            fallback: r.fallback.iter().map(|(p, _)| p.resolve(date)).collect(),
        }),
        say: b.say.clone(),
    }
}

/// Why a routine firing at this local date and time will not play.
fn skip(b: &Broadcast, rules: &Rules, date: NaiveDate, time: NaiveTime) -> Option<Skip> {
    if b.priority == Priority::Emergency {
        None
    } else if rules.holidays.contains(&date) {
        Some(Skip::Holiday)
    } else if rules.quiet_hours.is_some_and(|q| q.contains(time)) {
        Some(Skip::QuietHours)
    } else {
        None
    }
}

/// The instants a broadcast's times produce in `[from, to)`, before the
/// date-range and day filters, sorted, each once.
///
/// DST follows Debian's cron(8): a fixed wall time (every `at` time; a cron
/// whose hour and minute fields both name fixed values) in a skipped spring
/// interval plays once at the jump, in a repeated autumn interval once, the
/// first time ([`local_instant`]); a cron with a wildcard hour or minute plays
/// at every real instant whose wall clock matches: none in the gap, twice in
/// the repeated hour. Several wall times that land on the same jump instant
/// are one firing.
fn instants(b: &Broadcast, tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let mut v = Vec::new();
    match &b.times {
        Times::At(times) => {
            let first = from.with_timezone(&tz).date_naive() - TimeDelta::days(1);
            let last = to.with_timezone(&tz).date_naive() + TimeDelta::days(1);
            let mut d = first;
            while d <= last {
                for t in times {
                    v.extend(local_instant(tz, d.and_time(*t)));
                }
                d += TimeDelta::days(1);
            }
        }
        Times::Cron { expr, cron } => {
            // croner is asked on a timeline without DST (the wall clock read
            // as if it were UTC), so it only ever answers "which wall times
            // match", and weekdays and days of the month are the local ones;
            // turning wall times into instants is ours. (On a zoned datetime
            // croner's own DST handling fires fixed jobs at the jump even when
            // the gap is not theirs, drops list-hour jobs in the gap and the
            // second pass of wildcard jobs.)
            let fixed = fixed_wall_time(expr);
            let (lo, hi) = wall_span(tz, ceil_second(from), to);
            // croner matches at whole seconds but keeps a start's fraction:
            // `lo` is a whole second, so firings are whole seconds. Its own
            // iterator skips a second after each match of a pattern that
            // fires every second; step with find_next instead.
            let mut t = (lo - TimeDelta::seconds(1)).and_utc();
            while let Ok(next) = cron.find_next_occurrence(&t, false) {
                let wall = next.naive_utc();
                if wall >= hi {
                    break;
                }
                if fixed {
                    v.extend(local_instant(tz, wall));
                } else {
                    match tz.from_local_datetime(&wall) {
                        LocalResult::Single(a) => v.push(a.with_timezone(&Utc)),
                        LocalResult::Ambiguous(a, b) => {
                            v.push(a.with_timezone(&Utc));
                            v.push(b.with_timezone(&Utc));
                        }
                        LocalResult::None => {}
                    }
                }
                t = next;
            }
        }
    }
    v.retain(|at| *at >= from && *at < to);
    v.sort();
    v.dedup();
    v
}

/// Whether a cron expression names fixed wall times in Debian cron's sense:
/// neither the minute nor the hour field starts with `*` (so `2,3` and
/// `1-5` are fixed, `*` and `*/15` are not; `@hourly` is a wildcard hour,
/// the other nicknames are fixed). A seconds field does not count: Debian
/// has none, and the minute it sits in decides.
pub(super) fn fixed_wall_time(expr: &str) -> bool {
    let expr = expr.trim();
    if let Some(nick) = expr.strip_prefix('@') {
        return !nick.eq_ignore_ascii_case("hourly");
    }
    let fields: Vec<&str> = expr.split_whitespace().collect();
    let clock = if fields.len() == 6 {
        &fields[1..3]
    } else {
        &fields[..2.min(fields.len())]
    };
    !clock.iter().any(|f| f.starts_with('*'))
}
