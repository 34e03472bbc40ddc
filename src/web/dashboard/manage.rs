//! The operator's page at `/manage` (节目管理): what a village operator
//! does without a terminal — read a typed notice aloud, upload audio and
//! choose it from the library, see the week's plan and each schedule
//! file's problems, pause or enable a broadcast. Server-rendered like the
//! status page, no external assets; it is not reloaded on its own (the
//! operator is typing), so its lists are bounded by what they show.

use super::{library, schedules, week, Ctx, PageOpts, CSS, TEXT};
use crate::daemon::Live;
use crate::i18n::Lang;
use crate::views::text::cut;
use crate::views::Reading;
use chrono::{DateTime, Utc};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use std::path::Path;

/// The page's own styles, after the status page's.
const MANAGE_CSS: &str = r#"
nav.pages{display:flex;gap:1em} nav.pages a{color:#fff;font-weight:bold}
"#;

/// The whole operator's page, from the station read once.
pub fn manage_page(station_dir: &Path, now: DateTime<Utc>, live: &Live, o: &PageOpts) -> String {
    let r = Reading::load(station_dir);
    let lang = o.lang;
    let l = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    let c = Ctx {
        lang,
        tz: r.rules.tz,
        now,
        o,
    };
    let station_name = cut(&r.station.config.name, super::NAME);
    html! {
        (DOCTYPE)
        html lang=(l("zh-CN", "en")) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (l("节目管理", "Programmes")) " · " (station_name) }
                style { (PreEscaped(CSS)) (PreEscaped(MANAGE_CSS)) (PreEscaped(week::CSS)) (PreEscaped(schedules::CSS)) }
            }
            body {
                header.normal {
                    h1 { (station_name) " · " (l("节目管理", "Programmes")) }
                    (nav(lang, "manage"))
                }
                main {
                    @if let Some(m) = &o.msg { p.msg #flash { (cut(m, TEXT)) } }
                    (library::next_steps(&c))
                    @if let Some(e) = &o.err { p.err #flash { (cut(e, TEXT)) } }
                    (notice_form(&c))
                    (library::section(&r, live, &c))
                    (week::section(&r, &c))
                    (schedules::section(&r, &c))
                }
            }
        }
    }
    .into_string()
}

/// The links between the status page and the operator's page.
pub(super) fn nav(lang: Lang, here: &str) -> Markup {
    let l = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    let q = format!("?lang={}", lang.code());
    html! {
        nav.pages {
            @if here != "status" { a href=(format!("/{q}")) { (l("播出状态", "Status")) } }
            @if here != "manage" { a href=(format!("/manage{q}")) { (l("节目管理", "Programmes")) } }
        }
    }
}

/// A typed notice read aloud now (文字广播).
fn notice_form(c: &Ctx<'_>) -> Markup {
    let lang = c.lang;
    let l = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    html! {
        section #notice {
            h2 { (l("文字广播（电脑朗读）", "Typed notice, read aloud")) }
            p.muted { (l("把通知文字粘贴到这里，电脑用普通话朗读后播出（先响提示音）。", "Paste the notice; the PC reads it aloud in Mandarin and puts it on air (after the chime).")) }
            (super::sections::say_form(c, "manage"))
        }
    }
}
