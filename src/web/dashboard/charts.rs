//! The dashboard's charts: today's timeline (planned above, aired below,
//! counts per hour on a busy day), the per-hour table and the week's
//! availability bars, as inline SVG. It draws what it is given; it must
//! not read the store beyond today's counts and plays ([`Day::load`]).

use super::{cut, MARKS, TIP_NAME};
use crate::config::schedule::Broadcast;
use crate::i18n::{status_word, Lang};
use crate::plan::{self, Rules, Slot};
use crate::store::{PlayFilter, PlayRow, Status, Store};
use crate::views::ledger::DayReport;
use chrono::{DateTime, Duration as TimeDelta, NaiveDate, Utc};
use chrono_tz::Tz;
use maud::{html, Markup};

/// The statuses in the order the per-hour counts show them.
pub(super) const HOUR_STATUSES: [Status; 7] = [
    Status::Played,
    Status::Partial,
    Status::Failed,
    Status::Missed,
    Status::Skipped,
    Status::Interrupted,
    Status::Playing,
];

/// One hour of today (whole hours from the start of the day, so a DST day
/// has 23 or 25 of them).
#[derive(Debug, Clone, Default)]
pub(super) struct Hour {
    start: DateTime<Utc>,
    planned: usize,
    skipped: usize,
    /// Plays by status, in [`HOUR_STATUSES`] order.
    plays: [i64; 7],
}

impl Hour {
    fn aired(&self) -> i64 {
        self.plays.iter().sum()
    }
}

/// Today as the page draws it: the firings (cheap slots) and, when few,
/// the plays one by one; always the counts per hour.
pub(super) struct Day<'a> {
    a: DateTime<Utc>,
    b: DateTime<Utc>,
    broadcasts: &'a [Broadcast],
    slots: Vec<Slot>,
    /// Today's plays, when there are at most [`MARKS`].
    plays: Option<Vec<PlayRow>>,
    hours: Vec<Hour>,
}

impl<'a> Day<'a> {
    pub(super) fn load(
        store: Option<&Store>,
        broadcasts: &'a [Broadcast],
        rules: &Rules,
        a: DateTime<Utc>,
        b: DateTime<Utc>,
    ) -> Day<'a> {
        let slots = plan::slots(broadcasts, rules, a, b);
        let n = ((b - a).num_seconds().max(1) + 3599) / 3600;
        let mut hours: Vec<Hour> = (0..n)
            .map(|h| Hour {
                start: a + TimeDelta::hours(h),
                ..Default::default()
            })
            .collect();
        let hour = |t: DateTime<Utc>| ((t - a).num_seconds() / 3600).clamp(0, n - 1) as usize;
        for s in &slots {
            let h = &mut hours[hour(s.at)];
            h.planned += 1;
            h.skipped += usize::from(s.skip.is_some());
        }
        let mut plays = None;
        if let Some(store) = store {
            for (h, status, count) in store.hourly_counts(a, b).unwrap_or_default() {
                let i = HOUR_STATUSES.iter().position(|x| *x == status).unwrap_or(0);
                hours[h.clamp(0, n - 1) as usize].plays[i] += count;
            }
            plays = store
                .plays(&PlayFilter {
                    since: Some(a),
                    until: Some(b),
                    limit: Some(MARKS + 1),
                    ..Default::default()
                })
                .ok()
                .filter(|v| v.len() <= MARKS);
        }
        Day {
            a,
            b,
            broadcasts,
            slots,
            plays,
            hours,
        }
    }
}

pub(super) fn status_color(s: Status) -> &'static str {
    match s {
        Status::Played => "#2f6f3e",
        Status::Playing => "#1f5fa8",
        Status::Partial => "#c76b00",
        Status::Skipped => "#999",
        _ => "#b3261e",
    }
}

/// Where things go on the timeline: instants to x, hours to bars, and an
/// hour's counts in words for its tooltip.
struct Strip<'d, 'a> {
    day: &'d Day<'a>,
    now: DateTime<Utc>,
    tz: Tz,
    lang: Lang,
}

const LEFT: f64 = 60.0;
const WIDTH: f64 = 920.0;

impl Strip<'_, '_> {
    fn x(&self, t: DateTime<Utc>) -> f64 {
        let (a, b) = (self.day.a, self.day.b);
        let span = (b - a).num_milliseconds().max(1) as f64;
        LEFT + ((t - a).num_milliseconds() as f64 / span).clamp(0.0, 1.0) * WIDTH
    }

    fn hm(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.tz).format("%H:%M").to_string()
    }

    /// An hour's bar: its x and width.
    fn bar(&self, h: &Hour) -> (f64, f64) {
        let (x0, x1) = (
            self.x(h.start),
            self.x((h.start + TimeDelta::hours(1)).min(self.day.b)),
        );
        (x0 + 1.0, (x1 - x0 - 2.0).max(1.0))
    }

    fn counts(&self, h: &Hour) -> String {
        let l = |zh: &'static str, en: &'static str| self.lang.pick(zh, en);
        let mut parts = vec![format!("{} {}", l("计划", "planned"), h.planned)];
        if h.skipped > 0 {
            parts.push(format!(
                "{} {}",
                l("其中不播", "of which skipped"),
                h.skipped
            ));
        }
        for (s, n) in HOUR_STATUSES.iter().zip(h.plays) {
            if n > 0 {
                parts.push(format!("{} {n}", status_word(self.lang, s.as_str())));
            }
        }
        format!("{} {}", self.hm(h.start), parts.join(" · "))
    }
}

/// Today as a 24-hour strip: planned firings above, what aired below
/// (coloured by outcome), the current time as a line. Up to [`MARKS`]
/// firings (and plays) are drawn one by one; a busier day is drawn as a
/// bar per hour, its height the hour's count.
pub(super) fn timeline(day: &Day<'_>, now: DateTime<Utc>, tz: Tz, lang: Lang) -> Markup {
    let l = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    let st = Strip { day, now, tz, lang };
    html! {
        svg #timeline xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1000 110" width="100%" role="img"
            aria-label=(l("今日时间线", "today's timeline")) {
            text x="0" y="32" { (l("计划", "planned")) }
            text x="0" y="72" { (l("实播", "aired")) }
            @for h in (0..=24).step_by(3) {
                @let hx = LEFT + WIDTH * h as f64 / 24.0;
                line x1=(hx) y1="15" x2=(hx) y2="88" stroke="#e3e5e8" {}
                text x=(hx - 8.0) y="104" { (format!("{h:02}")) }
            }
            (planned(&st))
            (aired(&st))
            @if now >= day.a && now < day.b {
                line x1=(st.x(now)) y1="12" x2=(st.x(now)) y2="90" stroke="#b3261e" stroke-dasharray="4 3" {}
            }
        }
    }
}

/// The planned row: each firing, or a bar per hour on a busy day.
fn planned(st: &Strip<'_, '_>) -> Markup {
    let day = st.day;
    let max_planned = day
        .hours
        .iter()
        .map(|h| h.planned)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    html! {
        @if day.slots.len() <= MARKS {
            @for s in &day.slots {
                @let fx = st.x(s.at);
                line.planned x1=(fx) y1="20" x2=(fx) y2="40"
                    stroke=(if s.skip.is_some() { "#bbb" } else { "#555" }) stroke-width="2" {
                    title { (st.hm(s.at)) " " (cut(&day.broadcasts[s.broadcast].name, TIP_NAME)) }
                }
            }
        } @else {
            @for h in day.hours.iter().filter(|h| h.planned > 0) {
                @let (bx, bw) = st.bar(h);
                @let bh = 2.0 + 18.0 * h.planned as f64 / max_planned;
                rect.planned x=(bx) y=(40.0 - bh) width=(bw) height=(bh) fill="#555" {
                    title { (st.counts(h)) }
                }
            }
        }
    }
}

/// The aired row: each play, or a stacked bar per hour on a busy day.
fn aired(st: &Strip<'_, '_>) -> Markup {
    let (day, lang) = (st.day, st.lang);
    let max_aired = day.hours.iter().map(Hour::aired).max().unwrap_or(0).max(1) as f64;
    html! {
        @match &day.plays {
            Some(plays) => {
                @for p in plays {
                    @match p.started_at {
                        Some(s) => {
                            @let e = p.ended_at.unwrap_or(st.now);
                            rect.aired x=(st.x(s)) y="58" width=((st.x(e) - st.x(s)).max(3.0)) height="20"
                                fill=(status_color(p.status)) {
                                title { (st.hm(s)) " " (cut(&p.broadcast, TIP_NAME)) " · " (status_word(lang, p.status.as_str())) }
                            }
                        }
                        None => {
                            circle.notaired cx=(st.x(p.scheduled_at)) cy="68" r="5" fill=(status_color(p.status)) {
                                title { (st.hm(p.scheduled_at)) " " (cut(&p.broadcast, TIP_NAME)) " · " (status_word(lang, p.status.as_str())) }
                            }
                        }
                    }
                }
            }
            None => {
                @for h in day.hours.iter().filter(|h| h.aired() > 0) {
                    @let (bx, bw) = st.bar(h);
                    @let total = 2.0 + 18.0 * h.aired() as f64 / max_aired;
                    g.aired {
                        title { (st.counts(h)) }
                        @for (c, y, sh) in stack(h, 78.0, total) {
                            rect x=(bx) y=(format!("{y:.1}")) width=(bw) height=(format!("{sh:.1}")) fill=(status_color(c)) {}
                        }
                    }
                }
            }
        }
    }
}

/// An hour's plays as a stacked bar standing on `bottom`, `height` tall:
/// (status, top, height) of each non-empty segment.
pub(super) fn stack(h: &Hour, bottom: f64, height: f64) -> Vec<(Status, f64, f64)> {
    let total = h.aired().max(1) as f64;
    let mut top = bottom;
    HOUR_STATUSES
        .iter()
        .zip(h.plays)
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| {
            let sh = height * n as f64 / total;
            top -= sh;
            (*s, top, sh)
        })
        .collect()
}

/// Today's counts per hour: planned, and the plays by outcome. Open when
/// the timeline is summarised, folded away when every firing is drawn.
pub(super) fn per_hour(day: &Day<'_>, tz: Tz, lang: Lang) -> Markup {
    let l = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    let dense = day.slots.len() > MARKS || day.plays.is_none();
    let rows: Vec<&Hour> = day
        .hours
        .iter()
        .filter(|h| h.planned > 0 || h.aired() > 0)
        .collect();
    let hm = |t: DateTime<Utc>| t.with_timezone(&tz).format("%H:%M").to_string();
    html! {
        @if !rows.is_empty() {
            details open[dense] {
                summary { (l("每小时统计", "Per hour")) }
                table #hours {
                    tr {
                        th { (l("时段", "hour")) } th { (l("计划", "planned")) }
                        @for s in &HOUR_STATUSES { th { (status_word(lang, s.as_str())) } }
                    }
                    @for h in &rows {
                        tr {
                            td { (hm(h.start)) }
                            td { (h.planned) }
                            @for (s, n) in HOUR_STATUSES.iter().zip(h.plays) {
                                td class=(if n > 0 { format!("s-{}", s.as_str()) } else { "muted".to_string() }) { (n) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// One bar per day: the share of the day with no fault outage open.
pub(super) fn availability(week: &[DayReport], lang: Lang) -> Markup {
    let (h, top) = (110.0, 20.0);
    let label = |d: NaiveDate| d.format("%m-%d").to_string();
    html! {
        svg #availability xmlns="http://www.w3.org/2000/svg" viewBox="0 0 560 160" width="560" role="img"
            aria-label=(lang.pick("近 7 天可用率", "availability, last 7 days")) {
            @for (i, r) in week.iter().enumerate() {
                @let bx = 20.0 + i as f64 * 76.0;
                @match r.availability {
                    Some(av) => {
                        @let bh = (av * h).max(1.0);
                        @let color = if av >= 0.99 { "#2f6f3e" } else if av >= 0.9 { "#c76b00" } else { "#b3261e" };
                        rect.day x=(bx) y=(top + h - bh) width="50" height=(bh) fill=(color) {
                            title { (r.date) ": " (format!("{:.2}%", av * 100.0)) }
                        }
                        text x=(bx) y=(top + h - bh - 4.0) { (format!("{:.1}%", av * 100.0)) }
                    }
                    None => {
                        rect.day x=(bx) y=(top + h - 1.0) width="50" height="1" fill="#bbb" {
                            title { (r.date) ": " (lang.pick("无数据", "no data")) }
                        }
                        text x=(bx) y=(top + h - 5.0) { (lang.pick("无数据", "no data")) }
                    }
                }
                text x=(bx + 8.0) y="150" { (label(r.date)) }
            }
        }
    }
}
