//! The week's plan on the operator's page: seven days from today in the
//! station's zone, each day's firings in time order, as the planner gives
//! them (`plan::slots`, the same call `cunxiang plan` makes), with the
//! planner's reason when one will not play (quiet hours, a holiday).
//! Rendering only: it must not decide what fires.

use super::schedules::{priority_tag, weekday_zh};
use super::{Ctx, NAME};
use crate::config::schedule::Broadcast;
use crate::i18n::{word, Lang};
use crate::plan::{self, Firing, Skip};
use crate::views::text::cut;
use crate::views::Reading;
use chrono::{Datelike, Duration as TimeDelta, NaiveDate};
use maud::{html, Markup};

/// The section's styles: days side by side on a wide screen, one under
/// the other on a phone.
pub(super) const CSS: &str = r#"
.week{display:grid;grid-template-columns:repeat(auto-fill,minmax(175px,1fr));gap:.6em}
.day{border:1px solid #e3e5e8;border-radius:4px;padding:.3em .6em}.day.today{border-color:#1f5fa8;border-width:2px}
.day h3{font-size:1em;margin:.2em 0}ol.firings{list-style:none;padding:0;margin:0}
li.firing{padding:.15em 0;font-size:.95em;border-bottom:1px dotted #e3e5e8}li.past{color:#999}li.skipped .name{color:#777}
.time{font-variant-numeric:tabular-nums;font-weight:bold}.skip,.holiday{color:#c76b00}
.prio-emergency{color:#fff;background:#b3261e;padding:0 .3em;border-radius:3px;font-size:.9em}
.prio-important{color:#c76b00;font-weight:bold;font-size:.9em}
"#;

/// Days drawn, today first.
const DAYS: i64 = 7;
/// Firings drawn per day; beyond, the day says how many more.
pub(super) const PER_DAY: usize = 60;

pub(super) fn section(r: &Reading, c: &Ctx<'_>) -> Markup {
    let lang = c.lang;
    let l = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    let rules = &r.rules;
    let broadcasts = r.station.broadcasts();
    let today = c.now.with_timezone(&rules.tz).date_naive();
    html! {
        section #week {
            h2 { (l("本周节目", "This week")) }
            p.muted {
                (l("按节目单算出的计划（暂停的节目和有错误的文件不在里面）。", "The plan the schedules give (paused broadcasts and files with errors are not in it)."))
                @if let Some(q) = rules.quiet_hours {
                    " " (match lang {
                        Lang::Zh => format!("静音时段 {}–{}：日常节目不播。", q.start.format("%H:%M"), q.end.format("%H:%M")),
                        Lang::En => format!("Quiet hours {}–{}: routine broadcasts do not play.", q.start.format("%H:%M"), q.end.format("%H:%M")),
                    })
                }
            }
            div.week {
                @for n in 0..DAYS {
                    @let d = today + TimeDelta::days(n);
                    (day(&broadcasts, r, d, n == 0, c))
                }
            }
        }
    }
}

/// One day: its date, why it is special, its firings.
fn day(broadcasts: &[Broadcast], r: &Reading, d: NaiveDate, today: bool, c: &Ctx<'_>) -> Markup {
    let lang = c.lang;
    let l = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    let rules = &r.rules;
    let (a, b) = (
        plan::day_start(rules, d),
        plan::day_start(rules, d + TimeDelta::days(1)),
    );
    let slots = plan::slots(broadcasts, rules, a, b);
    let holiday = rules.holidays.contains(&d);
    html! {
        div.day.today[today] data-date=(d) {
            h3 {
                (day_title(d, lang))
                @if today { " " span.muted { (l("今天", "today")) } }
                @if holiday { " " span.holiday { (l("节假日", "holiday")) } }
            }
            @if holiday {
                p.muted { (l("节假日：日常节目不播，紧急节目照常。", "Holiday: routine broadcasts do not play; emergencies do.")) }
            }
            @if slots.is_empty() {
                p.muted { (l("这天没有节目。", "Nothing planned.")) }
            } @else {
                ol.firings {
                    @for s in slots.iter().take(PER_DAY) {
                        (firing(&s.firing(broadcasts, rules), s.at < c.now, c))
                    }
                    @if slots.len() > PER_DAY {
                        li.muted { (match lang {
                            Lang::Zh => format!("还有 {} 项，全部请看 cunxiang plan", slots.len() - PER_DAY),
                            Lang::En => format!("and {} more: cunxiang plan", slots.len() - PER_DAY),
                        }) }
                    }
                }
            }
        }
    }
}

/// `12月3日 周四` / `Thu 3 Dec`.
fn day_title(d: NaiveDate, lang: Lang) -> String {
    match lang {
        Lang::Zh => format!("{}月{}日 {}", d.month(), d.day(), weekday_zh(d.weekday())),
        Lang::En => d.format("%a %-d %b").to_string(),
    }
}

/// One firing: time, name, priority, what kind of content, and why it
/// will not play when the planner says so.
fn firing(f: &Firing, past: bool, c: &Ctx<'_>) -> Markup {
    let lang = c.lang;
    let l = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    let local = f.scheduled_at.with_timezone(&c.tz);
    let time = if local.format("%S").to_string() == "00" {
        local.format("%H:%M").to_string()
    } else {
        local.format("%H:%M:%S").to_string()
    };
    let kind = match (&f.relay, f.files.len()) {
        (Some(_), _) => l("转播", "relay").to_string(),
        (None, _) if f.say.is_some() => l("文字朗读", "read aloud").to_string(),
        (None, 1) => l("音频", "audio").to_string(),
        (None, n) => match lang {
            Lang::Zh => format!("音频 {n} 个"),
            Lang::En => format!("{n} audio files"),
        },
    };
    html! {
        li.firing.past[past].skipped[f.skip.is_some()] class=(format!("p-{}", f.priority.as_str())) {
            span.time { (time) } " "
            span.name { (cut(&f.broadcast, NAME)) }
            (priority_tag(f.priority, lang)) " "
            span.kind.muted { (kind) }
            @if f.repeat > 1 { span.muted { " ×" (f.repeat) } }
            @match f.skip {
                Some(Skip::QuietHours) => { " " span.skip { (word(lang, "skipped_quiet")) } }
                Some(Skip::Holiday) => { " " span.skip { (word(lang, "skipped_holiday")) } }
                None => {}
            }
        }
    }
}
