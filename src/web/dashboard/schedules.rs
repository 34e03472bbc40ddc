//! The schedule files on the operator's page: each file with its errors
//! and warnings (file:line, in the page's language), its broadcasts with
//! a pause/enable button, and the form that adds a broadcast. Rendering
//! only: the forms post to `/schedule/enabled` and `/schedule/add`
//! (`web::http::schedules`), which edit the files.

use super::{Ctx, NAME, TEXT};
use crate::config::diag::Severity;
use crate::config::load::ScheduleFile;
use crate::config::schedule::edit;
use crate::config::schedule::{Broadcast, Days, Priority, Times};
use crate::i18n::{word, Lang};
use crate::views::text::cut;
use crate::views::Reading;
use chrono::Weekday;
use maud::{html, Markup};

/// The section's styles.
pub(super) const CSS: &str = r#"
.file{margin:.6em 0 1em}.file h3{font-size:1em;margin:.3em 0}.scroll{overflow-x:auto}
.ok-tag{color:#2f6f3e;font-size:.85em}.err-tag{color:#b3261e;font-size:.85em}
ul.findings li.error{color:#b3261e}ul.findings li.warning{color:#c76b00}
tr.paused td{color:#777}.paused-tag{color:#c76b00;font-weight:bold}
form.toggle{margin:0;display:flex;gap:.3em}button.toggle{white-space:nowrap}
@media (max-width:640px){table.broadcasts thead{display:none}table.broadcasts tr{display:block;border-bottom:1px solid #e3e5e8;padding:.3em 0}table.broadcasts td{display:inline-block;border:0;padding:.1em .4em}}
form#add{border-top:1px solid #e3e5e8;padding-top:.6em}form#add h3{width:100%;margin:.2em 0;font-size:1em}
"#;

/// Broadcast rows drawn over all files; beyond, the page says how many.
pub(super) const ROWS: usize = 200;
/// Findings drawn per file (`cunxiang check` lists them all).
const FINDINGS: usize = 20;

pub(super) fn section(r: &Reading, c: &Ctx<'_>) -> Markup {
    let lang = c.lang;
    let l = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    let files = &r.station.files;
    let mut budget = ROWS;
    html! {
        section #schedules {
            h2 { (l("节目单文件", "Schedule files")) }
            p.muted { (l("暂停的节目留在文件里（enabled = false），随时可以再启用。文件里的注释都会保留。",
                "A paused broadcast stays in its file (enabled = false) and can be enabled again. Comments in the file are kept.")) }
            @if files.is_empty() {
                p.advice { (l("还没有节目单文件。用下面的表单添加第一个节目。", "No schedule files yet. Add the first broadcast with the form below.")) }
            }
            @for f in files {
                (file_block(f, &mut budget, c))
            }
            @let total: usize = files.iter().map(|f| f.parsed.broadcasts.len()).sum();
            @if total > ROWS {
                p.muted { (match lang {
                    Lang::Zh => format!("还有 {} 个节目没有列出，全部请看 cunxiang check", total - ROWS),
                    Lang::En => format!("{} more broadcasts not listed: see cunxiang check", total - ROWS),
                }) }
            }
            (add_form(r, c))
        }
    }
}

/// One file: its name and state, its findings, its broadcasts.
fn file_block(f: &ScheduleFile, budget: &mut usize, c: &Ctx<'_>) -> Markup {
    let lang = c.lang;
    let l = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    let diags = &f.parsed.diagnostics;
    let shown_rows = f.parsed.broadcasts.len().min(*budget);
    *budget -= shown_rows;
    let version = f.text.as_deref().map(edit::version);
    // Positions of the [[broadcast]] tables, by name, for the toggle.
    let entries = f
        .text
        .as_deref()
        .and_then(|t| edit::entries(t).ok())
        .unwrap_or_default();
    html! {
        div.file data-file=(f.shown) {
            h3 {
                (f.shown) " "
                @if f.is_valid() { span.ok-tag { (l("正常", "OK")) } }
                @else { span.err-tag { (l("有错误，未生效", "has errors, not applied")) } }
            }
            @if !f.is_valid() {
                p.advice { (l("改正前，这个文件的改动不会上线。请按下面的行号在文本编辑器里改正。",
                    "Until fixed, changes to this file do not go on air. Fix the lines below in a text editor.")) }
            }
            @if !diags.is_empty() {
                ul.findings {
                    @for d in diags.iter().take(FINDINGS) {
                        li class=(if d.severity == Severity::Error { "error" } else { "warning" }) {
                            (cut(&d.render(lang), TEXT))
                        }
                    }
                    (super::more(lang, diags.len().saturating_sub(FINDINGS), "cunxiang check"))
                }
            }
            @if shown_rows > 0 {
                div.scroll { table.broadcasts {
                    thead { tr {
                        th { (l("节目", "broadcast")) } th { (l("时间", "when")) }
                        th { (l("内容", "content")) } th { (l("状态", "state")) } th {}
                    } }
                    tbody {
                        @for b in f.parsed.broadcasts.iter().take(shown_rows) {
                            @let index = entries.iter().position(|(n, _)| n.as_deref().map(str::trim) == Some(b.name.as_str()));
                            (row(f, b, index, version.as_deref(), c))
                        }
                    }
                } }
            }
        }
    }
}

/// One broadcast's row, with its toggle when the file can be edited.
fn row(
    f: &ScheduleFile,
    b: &Broadcast,
    index: Option<usize>,
    version: Option<&str>,
    c: &Ctx<'_>,
) -> Markup {
    let (lang, o) = (c.lang, c.o);
    let l = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    html! {
        tr.broadcast.paused[!b.enabled] data-file=(f.shown) data-name=(b.name) {
            td { (cut(&b.name, NAME)) (priority_tag(b.priority, lang)) }
            td { (when(b, lang)) }
            td { (content(b, lang)) }
            td.state { @if b.enabled { (l("启用", "enabled")) } @else { span.paused-tag { (l("已暂停", "paused")) } } }
            td {
                @if let (Some(i), Some(v)) = (index, version) {
                    form.toggle method="post" action="/schedule/enabled" {
                        input type="hidden" name="lang" value=(lang.code());
                        input type="hidden" name="csrf" value=(o.csrf);
                        input type="hidden" name="file" value=(f.shown);
                        input type="hidden" name="index" value=(i);
                        input type="hidden" name="name" value=(b.name);
                        input type="hidden" name="version" value=(v);
                        input type="hidden" name="enabled" value=(if b.enabled { "false" } else { "true" });
                        @if o.token_required {
                            input type="password" name="token" required size="8" placeholder=(l("口令", "token"));
                        }
                        button.toggle type="submit" { @if b.enabled { (l("暂停", "Pause")) } @else { (l("启用", "Enable")) } }
                    }
                }
            }
        }
    }
}

/// `紧急` in red, `重要` in bold; nothing for normal.
pub(super) fn priority_tag(p: Priority, lang: Lang) -> Markup {
    html! {
        @match p {
            Priority::Emergency => { " " span.prio-emergency { (word(lang, "emergency")) } }
            Priority::Important => { " " span.prio-important { (word(lang, "important")) } }
            Priority::Normal => {}
        }
    }
}

/// Times, days, date range and repeats in a few words.
fn when(b: &Broadcast, lang: Lang) -> String {
    let times = match &b.times {
        Times::At(ts) => ts
            .iter()
            .map(|t| {
                t.format(if t.format("%S").to_string() == "00" {
                    "%H:%M"
                } else {
                    "%H:%M:%S"
                })
                .to_string()
            })
            .collect::<Vec<_>>()
            .join(lang.pick("、", ", ")),
        Times::Cron { expr, .. } => format!("cron {expr}"),
    };
    // A cron expression names its own days.
    let mut out = match b.times {
        Times::At(_) => format!("{} {}", days(b.days, lang), times),
        Times::Cron { .. } => times,
    };
    if b.from.is_some() || b.until.is_some() {
        let d = |x: Option<chrono::NaiveDate>| x.map(|d| d.to_string()).unwrap_or_default();
        out.push_str(&format!(" ({}–{})", d(b.from), d(b.until)));
    }
    if b.repeat > 1 {
        out.push_str(&match lang {
            Lang::Zh => format!("，每次 {} 遍", b.repeat),
            Lang::En => format!(", {} times each", b.repeat),
        });
    }
    cut(&out, TEXT).into_owned()
}

fn days(d: Days, lang: Lang) -> String {
    use Weekday::*;
    let all = [Mon, Tue, Wed, Thu, Fri, Sat, Sun];
    let has: Vec<Weekday> = all.into_iter().filter(|w| d.contains(*w)).collect();
    let l = |zh: &'static str, en: &'static str| lang.pick(zh, en).to_string();
    match has.as_slice() {
        [Mon, Tue, Wed, Thu, Fri, Sat, Sun] => l("每天", "daily"),
        [Mon, Tue, Wed, Thu, Fri] => l("周一至周五", "Mon–Fri"),
        [Sat, Sun] => l("周末", "weekends"),
        some => some
            .iter()
            .map(|w| match lang {
                Lang::Zh => weekday_zh(*w).to_string(),
                Lang::En => w.to_string(),
            })
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// `周一`…`周日`.
pub(super) fn weekday_zh(w: Weekday) -> &'static str {
    ["周一", "周二", "周三", "周四", "周五", "周六", "周日"][w.num_days_from_monday() as usize]
}

/// What it plays: its files, the source it relays, or the notice it reads.
fn content(b: &Broadcast, lang: Lang) -> String {
    let text = match (&b.relay, &b.say) {
        (Some(r), _) => format!("{} {}", lang.pick("转播", "relay"), r.source),
        (None, Some(s)) => format!("{}「{s}」", lang.pick("朗读", "read aloud")),
        (None, None) => b
            .play
            .iter()
            .map(|(p, _)| p.template().to_string())
            .collect::<Vec<_>>()
            .join(lang.pick("、", ", ")),
    };
    cut(&text, NAME).into_owned()
}

/// Adding a broadcast to a schedule file (anchor `#add`).
fn add_form(r: &Reading, c: &Ctx<'_>) -> Markup {
    let (lang, o) = (c.lang, c.o);
    let l = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    let files = &r.station.files;
    let play = o.add.as_deref().unwrap_or_default();
    // Offered first: a file that goes on air (a broken one's additions
    // would wait for its fix).
    let first_valid = files.iter().find(|f| f.is_valid()).map(|f| &f.shown);
    let suggested = play
        .rsplit('/')
        .next()
        .and_then(|n| n.rsplit_once('.').map(|(s, _)| s).or(Some(n)))
        .unwrap_or_default();
    html! {
        form.insert #add method="post" action="/schedule/add" {
            h3 { (l("加入节目单", "Add to a schedule")) }
            input type="hidden" name="lang" value=(lang.code());
            input type="hidden" name="csrf" value=(o.csrf);
            label { (l("节目名", "name")) input name="name" required size="24" value=(suggested); }
            label { (l("音频文件（audio 文件夹里）", "audio file (in audio/)")) input name="play" list="audio-files" autocomplete="off" required size="28" value=(play); }
            label { (l("播出时间（可写几个）", "times (one or more)")) input name="at" required size="18" placeholder="07:30 12:00 18:30"; }
            label { (l("哪几天（每天、工作日、周末，或 周一 周三）", "days (daily, weekdays, weekends, or mon wed)"))
                input name="days" list="day-words" size="14" value=(l("每天", "daily"));
            }
            datalist #day-words {
                @for w in ["每天", "工作日", "周末", "daily", "weekdays", "weekends"] { option value=(w) {} }
            }
            label { (l("优先级", "priority"))
                select name="priority" {
                    option value="normal" { (word(lang, "normal")) }
                    option value="important" { (word(lang, "important")) }
                    option value="emergency" { (word(lang, "emergency")) }
                }
            }
            label { (l("加到文件", "into file"))
                select name="file" {
                    @for f in files { option value=(f.shown) selected[Some(&f.shown) == first_valid] { (f.shown) } }
                    option value="" selected[files.is_empty()] { (l("新建文件…", "new file…")) }
                }
            }
            label { (l("新文件名（选了新建时）", "new file name (for a new file)")) input name="new_file" size="14" placeholder="通知.toml"; }
            @if o.token_required {
                label { (l("口令", "token")) input type="password" name="token" required; }
            }
            button type="submit" { (l("加入", "Add")) }
        }
    }
}
