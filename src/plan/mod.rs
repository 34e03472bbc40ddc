//! The planner: (broadcasts, station rules, time window) → firings. Pure: no
//! clock, no disk, no network. Date ranges, days, quiet hours, holidays,
//! `{date}` resolution and DST all live here, and so does the single-output
//! simulation that tells which firings would collide.

use crate::config::schedule::{Broadcast, Chime, Priority, Times};
use crate::config::station::{QuietHours, StationConfig};
use chrono::{
    DateTime, Duration as TimeDelta, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset,
    TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;
use std::collections::BTreeSet;
use std::time::Duration;

/// The station rules the planner applies on top of each broadcast's own.
#[derive(Debug, Clone)]
pub struct Rules {
    pub tz: Tz,
    pub quiet_hours: Option<QuietHours>,
    pub holidays: BTreeSet<NaiveDate>,
    /// Catch-up window for broadcasts that do not set their own.
    pub catch_up: Duration,
}

impl Rules {
    pub fn from_config(c: &StationConfig) -> Rules {
        Rules {
            tz: c.timezone,
            quiet_hours: c.quiet_hours,
            holidays: c.holidays.clone(),
            catch_up: c.catch_up,
        }
    }
}

/// Why a routine firing will not play.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Skip {
    QuietHours,
    Holiday,
}

/// What sounds before the content of one firing, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChimeFile {
    None,
    Builtin,
    File(String),
}

/// One planned play of a broadcast. Its identity is (broadcast,
/// scheduled_at).
#[derive(Debug, Clone, PartialEq)]
pub struct Firing {
    pub broadcast: String,
    pub scheduled_at: DateTime<Utc>,
    /// The station-local day it belongs to (for `{date}` and reports).
    pub local_date: NaiveDate,
    /// Files for that day, relative to the audio folder, in play order.
    pub files: Vec<String>,
    pub chime: ChimeFile,
    pub priority: Priority,
    pub repeat: u32,
    pub gap: Duration,
    pub volume: f32,
    pub catch_up: Duration,
    pub skip: Option<Skip>,
}

impl Firing {
    /// Expected air time: chime + files × repeat + gaps between repeats.
    /// `None` when a file's length is unknown (missing or undecodable).
    pub fn expected_duration(&self, length: &dyn Fn(&str) -> Option<Duration>) -> Option<Duration> {
        let chime = match &self.chime {
            ChimeFile::None => Duration::ZERO,
            ChimeFile::Builtin => chime::duration(),
            ChimeFile::File(f) => length(f)?,
        };
        let mut one = Duration::ZERO;
        for f in &self.files {
            one += length(f)?;
        }
        Some(chime + one * self.repeat + self.gap * self.repeat.saturating_sub(1))
    }
}

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
    }
}

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
        catch_up: b.catch_up.unwrap_or(rules.catch_up),
        skip: skip(b, rules, date, time),
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
fn fixed_wall_time(expr: &str) -> bool {
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

/// The wall times `[lo, hi)` that can name an instant in `[from, to)`. A wall
/// time is its instant plus the offset in force (a time in a gap lands on the
/// jump, so the offset before the jump counts too): `from` plus the smallest
/// and `to` plus the largest offset in force from an hour before `from` until
/// `to` bound them. Sampling hourly is enough, offsets stay in force for
/// months. Where the offset does not change the span is exact, so zones
/// without DST ask croner for the same wall times as before, and a short
/// window near a transition costs at most an hour of extra matches.
fn wall_span(tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> (NaiveDateTime, NaiveDateTime) {
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
fn ceil_second(t: DateTime<Utc>) -> DateTime<Utc> {
    let whole = t - TimeDelta::nanoseconds(t.timestamp_subsec_nanos() as i64);
    if whole == t {
        t
    } else {
        whole + TimeDelta::seconds(1)
    }
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

/// How one firing fares on the single output, given everything before it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// When it would start; `None` if skipped or missed.
    pub start: Option<DateTime<Utc>>,
    /// It had to wait behind this firing.
    pub waited_for: Option<Other>,
    /// It cannot start within its catch-up window because of this firing.
    pub missed_because: Option<Other>,
    /// A higher-priority firing cuts it off.
    pub interrupted_by: Option<Other>,
    /// It cuts off this lower-priority firing.
    pub interrupts: Option<Other>,
}

/// The other firing an [`Outcome`] names: its place in the sequence given
/// to the simulation (0 = the first firing) and its broadcast, so a caller
/// that has let that firing go can still say which it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Other {
    pub index: usize,
    pub broadcast: String,
}

impl Outcome {
    /// Whether this firing collides with another one in any way.
    pub fn collides(&self) -> bool {
        self.waited_for.is_some()
            || self.missed_because.is_some()
            || self.interrupted_by.is_some()
            || self.interrupts.is_some()
    }
}

/// Plays the firings through one output, as the daemon will: free output →
/// start; higher priority → interrupt the current one; otherwise wait and be
/// missed once `scheduled + catch_up` has passed. `durations[i]` is the
/// expected length of `firings[i]` (`None` = unknown, counted as zero).
pub fn simulate(firings: &[Firing], durations: &[Option<Duration>]) -> Vec<Outcome> {
    let mut sim = Simulation::default();
    let mut out = Vec::with_capacity(firings.len());
    for (i, f) in firings.iter().enumerate() {
        sim.push(f.clone(), durations.get(i).copied().flatten());
        out.extend(std::iter::from_fn(|| sim.pop()).map(|p| p.outcome));
    }
    sim.finish();
    out.extend(std::iter::from_fn(|| sim.pop()).map(|p| p.outcome));
    out
}

/// A firing whose outcome is settled, as [`Simulation::pop`] hands it out.
#[derive(Debug, Clone, PartialEq)]
pub struct Settled {
    pub firing: Firing,
    pub duration: Option<Duration>,
    pub outcome: Outcome,
}

/// [`simulate`] fed one firing at a time, in time order, handing each one
/// back as soon as nothing later can change its outcome: what it holds is
/// the firing on the output and those waiting for it (and the settled ones
/// queued behind them), never the whole plan. `plan` streams a year through
/// it.
#[derive(Debug, Default)]
pub struct Simulation {
    /// Index of `held[0]` in the sequence pushed.
    first: usize,
    held: std::collections::VecDeque<Settled>,
    /// The firing on the output and when it ends.
    current: Option<(usize, DateTime<Utc>)>,
    waiting: Vec<usize>,
}

impl Simulation {
    /// Adds the next firing (not earlier than the one before) and its
    /// expected length (`None` = unknown, counted as zero).
    pub fn push(&mut self, firing: Firing, duration: Option<Duration>) {
        let i = self.first + self.held.len();
        let (skip, s, priority) = (firing.skip, firing.scheduled_at, firing.priority);
        self.held.push_back(Settled {
            firing,
            duration,
            outcome: Outcome::default(),
        });
        if skip.is_some() {
            return;
        }
        self.advance(s);
        match self.current {
            None => self.start(i, s),
            Some((cur, _)) if priority > self.get(cur).firing.priority => {
                let (by, cut) = (self.other(i), self.other(cur));
                self.get_mut(cur).outcome.interrupted_by = Some(by);
                self.get_mut(i).outcome.interrupts = Some(cut);
                self.start(i, s);
            }
            Some(_) => self.waiting.push(i),
        }
    }

    /// No more firings: the output runs until everything waiting has
    /// started or been missed.
    pub fn finish(&mut self) {
        self.advance(DateTime::<Utc>::MAX_UTC);
    }

    /// The oldest firing, once its outcome is settled.
    pub fn pop(&mut self) -> Option<Settled> {
        let settled = !self.held.is_empty()
            && self.current.is_none_or(|(c, _)| c != self.first)
            && !self.waiting.contains(&self.first);
        if !settled {
            return None;
        }
        self.first += 1;
        self.held.pop_front()
    }

    fn get(&self, i: usize) -> &Settled {
        &self.held[i - self.first]
    }

    fn get_mut(&mut self, i: usize) -> &mut Settled {
        &mut self.held[i - self.first]
    }

    fn other(&self, i: usize) -> Other {
        Other {
            index: i,
            broadcast: self.get(i).firing.broadcast.clone(),
        }
    }

    fn len(&self, i: usize) -> TimeDelta {
        TimeDelta::from_std(self.get(i).duration.unwrap_or_default()).unwrap_or_default()
    }

    fn deadline(&self, i: usize) -> DateTime<Utc> {
        let f = &self.get(i).firing;
        f.scheduled_at + TimeDelta::from_std(f.catch_up).unwrap_or_default()
    }

    fn start(&mut self, i: usize, at: DateTime<Utc>) {
        self.get_mut(i).outcome.start = Some(at);
        self.current = Some((i, at + self.len(i)));
    }

    /// Frees the output up to `now`, starting waiting firings as it goes.
    fn advance(&mut self, now: DateTime<Utc>) {
        while let Some((cur, end)) = self.current {
            if end > now {
                break;
            }
            self.current = None;
            // Drop the ones whose window has closed, then take the most urgent.
            let waiting = std::mem::take(&mut self.waiting);
            for j in waiting {
                if self.deadline(j) < end {
                    let by = self.other(cur);
                    self.get_mut(j).outcome.missed_because = Some(by);
                } else {
                    self.waiting.push(j);
                }
            }
            if let Some(pos) = (0..self.waiting.len()).max_by(|&a, &b| {
                let (fa, fb) = (
                    &self.get(self.waiting[a]).firing,
                    &self.get(self.waiting[b]).firing,
                );
                fa.priority
                    .cmp(&fb.priority)
                    .then(fb.scheduled_at.cmp(&fa.scheduled_at))
            }) {
                let j = self.waiting.remove(pos);
                let by = self.other(cur);
                self.get_mut(j).outcome.waited_for = Some(by);
                self.start(j, end);
            }
        }
    }
}

#[cfg(test)]
mod tests;

/// The built-in "ding-dong"'s score: what the planner needs to know its
/// length; `sound::media` renders it.
pub mod chime {
    use std::time::Duration;

    /// Sample rate of the built-in chime.
    pub const RATE: u32 = 22_050;
    /// (frequency in Hz, start in seconds) of each note.
    pub const NOTES: [(f32, f32); 2] = [(659.25, 0.0), (523.25, 0.7)];
    /// How long each note sounds, in seconds.
    pub const NOTE_LEN: f32 = 0.9;

    /// Length of the built-in chime, used by the planner for expected ends.
    pub fn duration() -> Duration {
        Duration::from_secs_f64(len() as f64 / RATE as f64)
    }

    /// Length in samples at [`RATE`].
    pub fn len() -> usize {
        let last_start = NOTES.iter().map(|n| n.1).fold(0.0, f32::max);
        ((last_start + NOTE_LEN) * RATE as f32).round() as usize
    }
}

/// What started a play.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// At its scheduled instant.
    Schedule,
    /// Late, after downtime or a forward clock step, inside its window.
    CatchUp,
    /// Asked for by a person.
    Manual,
}

impl Trigger {
    /// The word the as-run log stores (and JSON shows) for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Schedule => "schedule",
            Trigger::CatchUp => "catch_up",
            Trigger::Manual => "manual",
        }
    }

    /// Reads a stored word back; one it does not know is `Schedule`.
    pub fn parse(s: &str) -> Trigger {
        match s {
            "catch_up" => Trigger::CatchUp,
            "manual" => Trigger::Manual,
            _ => Trigger::Schedule,
        }
    }
}

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
