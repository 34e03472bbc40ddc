//! The dashboard at `/`: one server-rendered page a village operator reads
//! at a glance — state, what is on air, the repair list first, today's
//! timeline, the last week's availability, recent plays and an emergency
//! insert form. No external assets (the PC may be offline); every name is
//! escaped by the template engine (maud).
//!
//! The page is reloaded every 15 s, so its size is bounded whatever the
//! schedule: a busy day is drawn as counts per hour, the recent plays are
//! the last [`RECENT_ROWS`], every list that can grow shows its first few
//! and says how many more, and names and texts are cut with an ellipsis.

use crate::config::load::Station;
use crate::config::schedule::Broadcast;
use crate::daemon::Live;
use crate::i18n::{status_word, trigger_word, word, Lang};
use crate::plan::{self, Rules, Slot};
use crate::store::{PlayFilter, PlayRow, Status, Store};
use crate::views::check::day_start;
use crate::views::ledger::DayReport;
use crate::views::report::day_reports;
use crate::views::status::{status, OpenOutage, State, Status as StationStatus};
use crate::views::text::cut;
use crate::views::text::Stamp;
use crate::views::{heard_word, Reading};
use crate::web::live::running;
use chrono::{DateTime, Duration as TimeDelta, NaiveDate, Utc};
use chrono_tz::Tz;
use maud::{html, Markup, PreEscaped, DOCTYPE};
use std::path::Path;

/// Rows in the recent-plays table (the full log: `cunxiang log`).
pub const RECENT_ROWS: usize = 50;
/// Characters of a name in a list or table.
const NAME: usize = 60;
/// Characters of a name in a chart's tooltip.
const TIP_NAME: usize = 40;
/// Characters of a longer text: an error, a warning, a fault's detail.
const TEXT: usize = 200;
/// Characters of a reason in the recent-plays table.
const REASON: usize = 60;
/// Entries shown of the repair list, and of the schedule problems.
const LISTED: usize = 10;
/// Waiting firings named under "now playing".
const QUEUED: usize = 10;
/// Up to this many firings (and plays) today are drawn one by one;
/// beyond, the timeline shows counts per hour.
const MARKS: usize = 48;
/// Suggestions in the insert form, and the longest one offered (a longer
/// name can still be typed; a cut one would not play).
const SUGGESTIONS: usize = 80;
const SUGGESTION_CHARS: usize = 60;

/// The statuses in the order the per-hour counts show them.
const HOUR_STATUSES: [Status; 7] = [
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
struct Hour {
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
struct Day<'a> {
    a: DateTime<Utc>,
    b: DateTime<Utc>,
    broadcasts: &'a [Broadcast],
    slots: Vec<Slot>,
    /// Today's plays, when there are at most [`MARKS`].
    plays: Option<Vec<PlayRow>>,
    hours: Vec<Hour>,
}

impl<'a> Day<'a> {
    fn load(
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

/// "and N more" under a list cut short, with where to see them all.
fn more(lang: Lang, n: usize, whole: &str) -> Markup {
    html! {
        @if n > 0 {
            li.muted {
                (match lang {
                    Lang::Zh => format!("还有 {n} 项，全部请看 {whole}"),
                    Lang::En => format!("and {n} more: {whole}"),
                })
            }
        }
    }
}

/// What the request adds to the page.
#[derive(Debug, Clone)]
pub struct PageOpts {
    pub lang: Lang,
    /// Show a token field on the forms.
    pub token_required: bool,
    /// The daemon's CSRF secret, carried by every form.
    pub csrf: String,
    /// A message after a form action.
    pub msg: Option<String>,
    pub err: Option<String>,
}

const CSS: &str = r#"
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;margin:0;background:#f4f5f7;color:#1d2330}
header{display:flex;align-items:center;gap:1em;padding:.8em 1.2em;color:#fff;background:#2f6f3e}
header.fault{background:#b3261e} header.broadcasting{background:#1f5fa8}
header h1{font-size:1.4em;margin:0;flex:1} header .state{font-size:1.3em;font-weight:bold}
header a{color:#fff}
main{padding:1em 1.2em;max-width:1100px}
section{background:#fff;border-radius:6px;padding:.8em 1em;margin-bottom:1em;box-shadow:0 1px 2px #0002}
h2{font-size:1.1em;margin:.2em 0 .6em}
#repair-list{border-left:8px solid #b3261e}
#repair-list.ok{border-left-color:#2f6f3e}
#repair-list li{margin:.4em 0;font-size:1.1em}
.advice{color:#b3261e;font-weight:bold}
table{border-collapse:collapse;width:100%} td,th{padding:.25em .5em;border-bottom:1px solid #e3e5e8;text-align:left;font-size:.95em}
.s-played{color:#2f6f3e}.s-partial{color:#c76b00}.s-failed,.s-missed,.s-interrupted{color:#b3261e}.s-skipped{color:#777}.s-playing{color:#1f5fa8}
.msg{background:#e6f4ea;padding:.5em 1em;border-radius:4px}.err{background:#fce8e6;padding:.5em 1em;border-radius:4px}
.bar{background:#e3e5e8;height:14px;border-radius:7px;overflow:hidden}.bar>div{background:#1f5fa8;height:100%}
form.insert{display:flex;flex-wrap:wrap;gap:.6em;align-items:end} form.insert label{display:flex;flex-direction:column;font-size:.9em}
input,select,button{font-size:1em;padding:.3em .5em} button.urgent{background:#b3261e;color:#fff;border:0;border-radius:4px;padding:.5em 1.2em}
svg text{font-size:11px;fill:#444}
.muted{color:#777}
"#;

/// Reloads every 15 s unless the operator is typing in a form; without
/// scripts, a meta refresh every 30 s.
const REFRESH: &str = r#"setInterval(function(){var a=document.activeElement;if(!a||!a.form){location.reload();}},15000);"#;

/// The whole page: the station read once (its files and its store).
pub fn page(station_dir: &Path, now: DateTime<Utc>, live: &Live, o: &PageOpts) -> String {
    let reading = Reading::load(station_dir);
    let status = status(&reading, now, o.lang, Some(&running(live, now)));
    render(&reading, &status, now, live, o)
}

/// What the page shows besides the status, read from the one store.
struct Tables<'a> {
    day: Day<'a>,
    recent: Vec<PlayRow>,
    /// The last seven days, or why they cannot be read.
    week: Result<Vec<DayReport>, String>,
}

fn tables<'a>(
    r: &Reading,
    broadcasts: &'a [Broadcast],
    now: DateTime<Utc>,
    lang: Lang,
) -> Tables<'a> {
    let rules = &r.rules;
    // A store that cannot be read shows in `status` (store_error, needs
    // repair); the page's tables are then empty, under that banner.
    let store = r.store();
    let today = now.with_timezone(&rules.tz).date_naive();
    let day_a = day_start(rules, today);
    let day_b = day_start(rules, today + TimeDelta::days(1));
    Tables {
        day: Day::load(store, broadcasts, rules, day_a, day_b),
        recent: store
            .and_then(|s| s.latest_plays(RECENT_ROWS).ok())
            .unwrap_or_default(),
        week: day_reports(r, now, today - TimeDelta::days(6), 7).map_err(|e| e.render(lang)),
    }
}

fn render(
    r: &Reading,
    status: &StationStatus,
    now: DateTime<Utc>,
    live: &Live,
    o: &PageOpts,
) -> String {
    let lang = o.lang;
    let l = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    let station = &r.station;
    let tz = r.rules.tz;
    let broadcasts = station.broadcasts();
    let Tables { day, recent, week } = tables(r, &broadcasts, now, lang);
    let faults: Vec<&OpenOutage> = status.faults().collect();
    let (state_class, state_text) = if status.needs_repair {
        ("fault", l("故障", "FAULT"))
    } else if live.now_playing.is_some() {
        ("broadcasting", l("正在播出", "broadcasting"))
    } else {
        ("normal", l("正常", "normal"))
    };
    let other = match lang {
        Lang::Zh => ("?lang=en", "English"),
        Lang::En => ("?lang=zh", "中文"),
    };
    let show = |t: DateTime<Utc>| crate::views::text::show_instant(t, tz);
    let hm = |t: DateTime<Utc>| t.with_timezone(&tz).format("%H:%M:%S").to_string();
    let since_ago = |t: &Stamp| {
        let t = t.utc();
        match lang {
            Lang::Zh => format!("{}（{}）", show(t), ago(lang, now - t)),
            Lang::En => format!("{} ({})", show(t), ago(lang, now - t)),
        }
    };
    let names: Vec<String> = live
        .broadcasts
        .iter()
        .filter(|b| b.name.chars().count() <= SUGGESTION_CHARS)
        .map(|b| b.name.clone())
        .chain(audio_files(station))
        .filter(|n| n.chars().count() <= SUGGESTION_CHARS)
        .take(SUGGESTIONS)
        .collect();
    let station_name = cut(&station.config.name, NAME);
    let problems: Vec<(bool, &String)> = status
        .schedule_errors
        .iter()
        .map(|e| (true, e))
        .chain(status.warnings.iter().map(|w| (false, w)))
        .collect();
    let markup = html! {
        (DOCTYPE)
        html lang=(l("zh-CN", "en")) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                noscript { meta http-equiv="refresh" content="30"; }
                title { (station_name) " · " (l("村响", "cunxiang")) }
                style { (PreEscaped(CSS)) }
            }
            body {
                header class=(state_class) id="state" {
                    h1 { (station_name) }
                    span.state { (state_text) }
                    span { (show(now)) }
                    a href=(other.0) { (other.1) }
                }
                main {
                    @if let Some(m) = &o.msg { p.msg { (cut(m, TEXT)) } }
                    @if let Some(e) = &o.err { p.err { (cut(e, TEXT)) } }
                    section #repair-list class=(if faults.is_empty() { "ok" } else { "" }) {
                        h2 { (l("待维修", "Repair list")) }
                        @if status.state == State::Down {
                            p.advice { (l("播控程序没有在运行：检查广播电脑", "the daemon is not running: check the broadcast PC")) }
                        }
                        @if faults.is_empty() {
                            p { (l("没有待维修的故障。", "Nothing needs repair.")) }
                        } @else {
                            ul {
                                @for f in faults.iter().take(LISTED) {
                                    li {
                                        strong { "[" (f.what) "] " (cut(&f.subject, NAME)) }
                                        " " (l("自", "since")) " " (since_ago(&f.since))
                                        " · " (l("损失节目", "broadcasts lost")) " " (f.lost)
                                        @if let Some(d) = &f.detail { br; span.muted { (cut(d, TEXT)) } }
                                        br;
                                        span.advice { (l("检查：", "Check: ")) (cut(&f.advice, TEXT)) }
                                    }
                                }
                                (more(lang, faults.len().saturating_sub(LISTED), "cunxiang outages --open"))
                            }
                        }
                        @if !problems.is_empty() {
                            h2 { (l("节目单问题", "Schedule problems")) }
                            ul {
                                @for (error, e) in problems.iter().take(LISTED) {
                                    @if *error { li { code { (cut(e, TEXT)) } } }
                                    @else { li { (cut(e, TEXT)) } }
                                }
                                (more(lang, problems.len().saturating_sub(LISTED), "cunxiang check"))
                            }
                        }
                    }
                    section #now-playing {
                        h2 { (l("正在播出", "Now playing")) }
                        @match &live.now_playing {
                            Some(p) => {
                                @let pos = p.position(now).as_secs_f64();
                                @let total = p.total().as_secs_f64().max(0.001);
                                p {
                                    strong { (cut(&p.broadcast, NAME)) }
                                    " · " (word(lang, p.priority.as_str()))
                                    " · " (trigger_word(lang, p.trigger.as_str()))
                                    @if let Some(i) = p.items.get(p.index) { " · " (cut(&i.0, NAME)) }
                                    " · " (format!("{:.0}/{:.0} s", pos, total))
                                }
                                div.bar { div style=(format!("width:{:.1}%", (pos / total * 100.0).min(100.0))) {} }
                                form method="post" action="/stop" {
                                    input type="hidden" name="lang" value=(lang.code());
                                    input type="hidden" name="csrf" value=(o.csrf);
                                    @if o.token_required { input type="password" name="token" placeholder=(l("口令", "token")); }
                                    " " button type="submit" { (l("停止播出", "Stop")) }
                                }
                            }
                            None => p.muted { (l("现在没有播出。", "Nothing on air.")) }
                        }
                        @if !live.queued.is_empty() {
                            p { (l("等待：", "Waiting: "))
                                @for (n, _, pr) in live.queued.iter().take(QUEUED) { (cut(n, NAME)) " (" (word(lang, pr.as_str())) ") " }
                                @let left = live.queued.len().saturating_sub(QUEUED);
                                @if left > 0 { span.muted { (match lang { Lang::Zh => format!("还有 {left} 项"), Lang::En => format!("and {left} more") }) } }
                            }
                        }
                        @if let Some((name, h)) = &live.monitor {
                            p #monitor {
                                (l("监听输入 ", "Monitor input "))
                                code { (cut(name, NAME)) } " · "
                                @match (&h.error, h.last_db) {
                                    (Some(e), _) => span.advice { (l("故障：", "failing: ")) (cut(e, TEXT)) },
                                    (None, Some(db)) => { (l("最近电平 ", "last level ")) (format!("{db:.1} dBFS")) },
                                    (None, None) => { (l("还没测量（只在播出时测量）", "not measured yet (measured while playing)")) },
                                }
                            }
                        }
                        p { (l("接下来：", "Next: "))
                            @for (n, at, _) in live.next(now, 3) { (show(at)) " " (cut(&n, NAME)) "　" }
                        }
                    }
                    section #insert {
                        h2 { (l("紧急插播", "Emergency insert")) }
                        form.insert method="post" action="/play" {
                            input type="hidden" name="lang" value=(lang.code());
                            input type="hidden" name="csrf" value=(o.csrf);
                            label { (l("节目名或音频文件", "broadcast or audio file"))
                                input name="name" list="names" required size="32";
                            }
                            datalist #names { @for n in &names { option value=(n) {} } }
                            label { (l("优先级", "priority"))
                                select name="priority" {
                                    option value="emergency" selected { (word(lang, "emergency")) }
                                    option value="important" { (word(lang, "important")) }
                                    option value="normal" { (word(lang, "normal")) }
                                }
                            }
                            label { (l("重复次数", "repeat"))
                                input name="repeat" type="number" min="1" max="20" value="1";
                            }
                            @if o.token_required {
                                label { (l("口令", "token")) input type="password" name="token" required; }
                            }
                            button.urgent type="submit" { (l("立即播出", "Play now")) }
                        }
                    }
                    section {
                        h2 { (l("今日节目：计划与实播", "Today: planned and aired")) }
                        (timeline(&day, now, tz, lang))
                        (per_hour(&day, tz, lang))
                    }
                    section {
                        h2 { (l("近 7 天可用率", "Availability, last 7 days")) }
                        @match &week {
                            Ok(w) => (availability(w, lang)),
                            Err(e) => p.advice { (cut(e, TEXT)) },
                        }
                    }
                    section #recent {
                        h2 { (l("最近播出", "Recent plays")) }
                        table {
                            tr {
                                th { (l("计划时间", "scheduled")) } th { (l("节目", "broadcast")) }
                                th { (l("状态", "status")) } th { (l("开始", "started")) }
                                th { (l("方式", "trigger")) } th { (l("监听", "heard")) } th { (l("原因", "reason")) }
                            }
                            @for r in &recent {
                                tr {
                                    td { (show(r.scheduled_at)) }
                                    td { (cut(&r.broadcast, NAME)) }
                                    td class=(format!("s-{}", r.status.as_str())) { (status_word(lang, r.status.as_str())) }
                                    td { (r.started_at.map(hm).unwrap_or_default()) }
                                    td { (trigger_word(lang, r.trigger.as_str())) }
                                    td class=(match r.heard { Some(true) => "s-played", Some(false) => "s-failed", None => "" }) {
                                        (heard_word(lang, r.heard))
                                    }
                                    td { (r.reason.as_deref().map(|x| cut(&crate::i18n::reason_text(lang, x), REASON).into_owned()).unwrap_or_default()) }
                                }
                            }
                        }
                        @if recent.len() == RECENT_ROWS {
                            p.muted { (match lang {
                                Lang::Zh => format!("最近 {RECENT_ROWS} 条；全部记录请看 cunxiang log"),
                                Lang::En => format!("the last {RECENT_ROWS}; the whole log: cunxiang log"),
                            }) }
                        }
                    }
                    p.muted {
                        "cunxiang " (env!("CARGO_PKG_VERSION")) " · "
                        (l("输出", "output")) " " (cut(&live.output, NAME)) " · "
                        a href="/api/status" { "API" } " · " a href="/metrics" { "metrics" }
                    }
                }
                script { (PreEscaped(REFRESH)) }
            }
        }
    };
    markup.into_string()
}

/// The login form shown instead of the page when a token is set.
pub fn login_page(lang: Lang, failed: bool) -> String {
    let l = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    html! {
        (DOCTYPE)
        html {
            head { meta charset="utf-8"; title { (l("村响 登录", "cunxiang login")) } style { (PreEscaped(CSS)) } }
            body { main { section {
                h2 { (l("请输入口令", "Enter the token")) }
                @if failed { p.err { (l("口令不对。", "Wrong token.")) } }
                p.muted { (l("口令在广播电脑的 cunxiang.toml 的 [control] token 里。", "The token is [control] token in cunxiang.toml on the broadcast PC.")) }
                form method="post" action="/login" {
                    input type="hidden" name="lang" value=(lang.code());
                    input type="password" name="token" required autofocus;
                    " " button type="submit" { (l("进入", "Enter")) }
                }
            } } }
        }
    }
    .into_string()
}

fn ago(lang: Lang, d: TimeDelta) -> String {
    let text = crate::config::tomlread::show_duration(std::time::Duration::from_secs(
        d.num_seconds().max(0) as u64,
    ));
    match lang {
        Lang::Zh => format!("{text}前"),
        Lang::En => format!("{text} ago"),
    }
}

/// Audio files for the insert form's suggestions (at most 200).
fn audio_files(station: &Station) -> Vec<String> {
    let root = station.audio_dir();
    let mut out = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(d) = dirs.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if let Ok(rel) = p.strip_prefix(&root) {
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
            if out.len() >= 200 {
                return out;
            }
        }
    }
    out.sort();
    out
}

fn status_color(s: Status) -> &'static str {
    match s {
        Status::Played => "#2f6f3e",
        Status::Playing => "#1f5fa8",
        Status::Partial => "#c76b00",
        Status::Skipped => "#999",
        _ => "#b3261e",
    }
}

/// Today as a 24-hour strip: planned firings above, what aired below
/// (coloured by outcome), the current time as a line. Up to [`MARKS`]
/// firings (and plays) are drawn one by one; a busier day is drawn as a
/// bar per hour, its height the hour's count.
fn timeline(day: &Day<'_>, now: DateTime<Utc>, tz: Tz, lang: Lang) -> Markup {
    let l = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    let (a, b) = (day.a, day.b);
    let (left, width) = (60.0, 920.0);
    let span = (b - a).num_milliseconds().max(1) as f64;
    let x = |t: DateTime<Utc>| {
        left + ((t - a).num_milliseconds() as f64 / span).clamp(0.0, 1.0) * width
    };
    let hm = |t: DateTime<Utc>| t.with_timezone(&tz).format("%H:%M").to_string();
    let bar = |h: &Hour| {
        let (x0, x1) = (x(h.start), x((h.start + TimeDelta::hours(1)).min(b)));
        (x0 + 1.0, (x1 - x0 - 2.0).max(1.0))
    };
    let max_planned = day
        .hours
        .iter()
        .map(|h| h.planned)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let max_aired = day.hours.iter().map(Hour::aired).max().unwrap_or(0).max(1) as f64;
    let counts = |h: &Hour| {
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
                parts.push(format!("{} {n}", status_word(lang, s.as_str())));
            }
        }
        format!("{} {}", hm(h.start), parts.join(" · "))
    };
    html! {
        svg #timeline xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1000 110" width="100%" role="img"
            aria-label=(l("今日时间线", "today's timeline")) {
            text x="0" y="32" { (l("计划", "planned")) }
            text x="0" y="72" { (l("实播", "aired")) }
            @for h in (0..=24).step_by(3) {
                @let hx = left + width * h as f64 / 24.0;
                line x1=(hx) y1="15" x2=(hx) y2="88" stroke="#e3e5e8" {}
                text x=(hx - 8.0) y="104" { (format!("{h:02}")) }
            }
            @if day.slots.len() <= MARKS {
                @for s in &day.slots {
                    @let fx = x(s.at);
                    line.planned x1=(fx) y1="20" x2=(fx) y2="40"
                        stroke=(if s.skip.is_some() { "#bbb" } else { "#555" }) stroke-width="2" {
                        title { (hm(s.at)) " " (cut(&day.broadcasts[s.broadcast].name, TIP_NAME)) }
                    }
                }
            } @else {
                @for h in day.hours.iter().filter(|h| h.planned > 0) {
                    @let (bx, bw) = bar(h);
                    @let bh = 2.0 + 18.0 * h.planned as f64 / max_planned;
                    rect.planned x=(bx) y=(40.0 - bh) width=(bw) height=(bh) fill="#555" {
                        title { (counts(h)) }
                    }
                }
            }
            @match &day.plays {
                Some(plays) => {
                    @for p in plays {
                        @match p.started_at {
                            Some(s) => {
                                @let e = p.ended_at.unwrap_or(now);
                                rect.aired x=(x(s)) y="58" width=((x(e) - x(s)).max(3.0)) height="20"
                                    fill=(status_color(p.status)) {
                                    title { (hm(s)) " " (cut(&p.broadcast, TIP_NAME)) " · " (status_word(lang, p.status.as_str())) }
                                }
                            }
                            None => {
                                circle.notaired cx=(x(p.scheduled_at)) cy="68" r="5" fill=(status_color(p.status)) {
                                    title { (hm(p.scheduled_at)) " " (cut(&p.broadcast, TIP_NAME)) " · " (status_word(lang, p.status.as_str())) }
                                }
                            }
                        }
                    }
                }
                None => {
                    @for h in day.hours.iter().filter(|h| h.aired() > 0) {
                        @let (bx, bw) = bar(h);
                        @let total = 2.0 + 18.0 * h.aired() as f64 / max_aired;
                        g.aired {
                            title { (counts(h)) }
                            @for (st, y, sh) in stack(h, 78.0, total) {
                                rect x=(bx) y=(format!("{y:.1}")) width=(bw) height=(format!("{sh:.1}")) fill=(status_color(st)) {}
                            }
                        }
                    }
                }
            }
            @if now >= a && now < b {
                line x1=(x(now)) y1="12" x2=(x(now)) y2="90" stroke="#b3261e" stroke-dasharray="4 3" {}
            }
        }
    }
}

/// An hour's plays as a stacked bar standing on `bottom`, `height` tall:
/// (status, top, height) of each non-empty segment.
fn stack(h: &Hour, bottom: f64, height: f64) -> Vec<(Status, f64, f64)> {
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
fn per_hour(day: &Day<'_>, tz: Tz, lang: Lang) -> Markup {
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
fn availability(week: &[DayReport], lang: Lang) -> Markup {
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
