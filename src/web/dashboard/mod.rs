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

mod charts;
mod library;
mod manage;
mod schedules;
mod sections;
mod week;

pub use library::{audio_entries, AudioEntry, MAX_UPLOAD};
pub use manage::manage_page;

use crate::config::load::Station;
use crate::config::schedule::Broadcast;
use crate::daemon::Live;
use crate::i18n::Lang;
use crate::plan::day_start;
use crate::store::PlayRow;
use crate::views::ledger::DayReport;
use crate::views::report::day_reports;
use crate::views::status::{status, Status as StationStatus};
use crate::views::text::cut;
use crate::views::Reading;
use crate::web::live::running;
use charts::{availability, per_hour, timeline, Day};
use chrono::{DateTime, Duration as TimeDelta, Utc};
use chrono_tz::Tz;
use maud::{html, Markup, PreEscaped, DOCTYPE};
use sections::{insert_form, now_playing, recent, repair_list};
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
    /// The operator's page: an audio file to prefill "add to a schedule".
    pub add: Option<String>,
    /// The operator's page: the file just uploaded (its next steps).
    pub uploaded: Option<String>,
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
form.insert{display:flex;flex-wrap:wrap;gap:.6em;align-items:end;margin-bottom:.6em} form.insert label{display:flex;flex-direction:column;font-size:.9em}
form.insert label.wide{flex:1 1 100%} textarea{font-size:1.05em;width:100%;box-sizing:border-box}
input,select,button{font-size:1em;padding:.3em .5em} button.urgent{background:#b3261e;color:#fff;border:0;border-radius:4px;padding:.5em 1.2em}
svg text{font-size:11px;fill:#444}
.scroll{overflow-x:auto;max-height:70vh;overflow-y:auto} #library th,#library td{white-space:nowrap} #library td.name{white-space:normal;min-width:9em;overflow-wrap:anywhere}
form.play-now{display:inline-flex;gap:.3em;margin:0} #upload-next{margin:.5em 0;display:flex;gap:1em;align-items:center;flex-wrap:wrap}
#upload{margin-bottom:.8em} #upload p{margin:.3em 0}
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

/// What every section needs to say things: the language, the zone, the
/// instant of the page and the request's options.
pub(super) struct Ctx<'a> {
    lang: Lang,
    tz: Tz,
    now: DateTime<Utc>,
    o: &'a PageOpts,
}

impl Ctx<'_> {
    fn show(&self, t: DateTime<Utc>) -> String {
        crate::views::text::show_instant(t, self.tz)
    }

    fn hms(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.tz).format("%H:%M:%S").to_string()
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
    let c = Ctx { lang, tz, now, o };
    let broadcasts = station.broadcasts();
    let Tables {
        day,
        recent: recent_rows,
        week,
    } = tables(r, &broadcasts, now, lang);
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
    let names = suggestions(live, station);
    let station_name = cut(&station.config.name, NAME);
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
                    span { (c.show(now)) }
                    (manage::nav(lang, "status"))
                    a href=(other.0) { (other.1) }
                }
                main {
                    @if let Some(m) = &o.msg { p.msg { (cut(m, TEXT)) } }
                    @if let Some(e) = &o.err { p.err { (cut(e, TEXT)) } }
                    (repair_list(status, &c))
                    (now_playing(live, &c))
                    (insert_form(&names, &c))
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
                    (recent(&recent_rows, &c))
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

/// Names for the insert form: the broadcasts on air, then audio files.
fn suggestions(live: &Live, station: &Station) -> Vec<String> {
    live.broadcasts
        .iter()
        .filter(|b| b.name.chars().count() <= SUGGESTION_CHARS)
        .map(|b| b.name.clone())
        .chain(audio_files(station))
        .filter(|n| n.chars().count() <= SUGGESTION_CHARS)
        .take(SUGGESTIONS)
        .collect()
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
    let text =
        crate::i18n::show_duration(std::time::Duration::from_secs(d.num_seconds().max(0) as u64));
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
