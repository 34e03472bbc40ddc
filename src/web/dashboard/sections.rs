//! The dashboard's sections in words: the repair list (with the schedule
//! problems), what is on air and waits, the emergency insert form and the
//! recent plays. It renders the status and the live view it is given; it
//! must not read the store or the station's files.

use super::{ago, more, Ctx, LISTED, NAME, QUEUED, REASON, RECENT_ROWS, TEXT};
use crate::daemon::Live;
use crate::i18n::{status_word, trigger_word, word, Lang};
use crate::store::PlayRow;
use crate::views::heard_word;
use crate::views::status::{OpenOutage, State, Status};
use crate::views::text::{cut, Stamp};
use maud::{html, Markup};

/// Faults first, then what keeps files off air and the warnings.
pub(super) fn repair_list(status: &Status, c: &Ctx<'_>) -> Markup {
    let (lang, now) = (c.lang, c.now);
    let l = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    let faults: Vec<&OpenOutage> = status.faults().collect();
    let problems: Vec<(bool, &String)> = status
        .schedule_errors
        .iter()
        .map(|e| (true, e))
        .chain(status.warnings.iter().map(|w| (false, w)))
        .collect();
    let since_ago = |t: &Stamp| {
        let t = t.utc();
        match lang {
            Lang::Zh => format!("{}（{}）", c.show(t), ago(lang, now - t)),
            Lang::En => format!("{} ({})", c.show(t), ago(lang, now - t)),
        }
    };
    html! {
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
    }
}

/// A relay's live state: its link (connected, reconnecting with why),
/// whether the fallback is on air, what went out so far.
fn relay_line(v: &crate::sound::relay::RelayView, c: &Ctx<'_>) -> Markup {
    use crate::sound::relay::LinkState;
    let l = |zh: &'static str, en: &'static str| c.lang.pick(zh, en);
    html! {
        p #relay {
            (l("转播 ", "Relay "))
            code { (cut(&v.source, NAME)) } " · "
            @match v.state {
                LinkState::Connected => strong { (l("已连接", "connected")) },
                LinkState::Connecting => span { (l("正在连接", "connecting")) },
                LinkState::Lost => span.advice {
                    (l("信号中断，正在重连", "lost, reconnecting"))
                    @if let Some(w) = &v.why { "（" (cut(w, TEXT)) "）" }
                },
            }
            @if v.fallback { " · " span.advice { (l("正在播放中断提示", "fallback on air")) } }
            " · " (match c.lang {
                Lang::Zh => format!("已转播 {:.0} 秒，中断 {:.0} 秒，重连 {} 次", v.stats.relayed.as_secs_f64(), v.stats.lost.as_secs_f64(), v.stats.reconnects),
                Lang::En => format!("relayed {:.0} s, lost {:.0} s, {} reconnects", v.stats.relayed.as_secs_f64(), v.stats.lost.as_secs_f64(), v.stats.reconnects),
            })
        }
    }
}

/// The play on air with its progress and stop button, what waits, the
/// monitor, the next firings.
pub(super) fn now_playing(live: &Live, c: &Ctx<'_>) -> Markup {
    let (lang, now, o) = (c.lang, c.now, c.o);
    let l = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    let show = |t| c.show(t);
    html! {
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
                    @if let Some(feed) = &p.relay { (relay_line(&feed.view(), c)) }
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
    }
}

/// The emergency insert: a broadcast or audio file, priority, repeat.
pub(super) fn insert_form(names: &[String], c: &Ctx<'_>) -> Markup {
    let (lang, o) = (c.lang, c.o);
    let l = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    html! {
        section #insert {
            h2 { (l("紧急插播", "Emergency insert")) }
            form.insert method="post" action="/play" {
                input type="hidden" name="lang" value=(lang.code());
                input type="hidden" name="csrf" value=(o.csrf);
                label { (l("节目名或音频文件", "broadcast or audio file"))
                    input name="name" list="names" required size="32";
                }
                datalist #names { @for n in names { option value=(n) {} } }
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
            form.insert #relay-now method="post" action="/play" {
                input type="hidden" name="lang" value=(lang.code());
                input type="hidden" name="csrf" value=(o.csrf);
                label { (l("转播地址", "relay source"))
                    input name="relay" required size="40" placeholder=(l("http://… 直播流，或 line-in", "http://… stream, or line-in"));
                }
                label { (l("时长", "for"))
                    input name="for" required size="6" value="30m";
                }
                label { (l("优先级", "priority"))
                    select name="priority" {
                        option value="important" selected { (word(lang, "important")) }
                        option value="emergency" { (word(lang, "emergency")) }
                        option value="normal" { (word(lang, "normal")) }
                    }
                }
                @if o.token_required {
                    label { (l("口令", "token")) input type="password" name="token" required; }
                }
                button type="submit" { (l("立即转播", "Relay now")) }
            }
            (say_form(c, "status"))
        }
    }
}

/// A typed notice read aloud now (文字广播): the text, priority and
/// repeat; `back` is the page the answer returns to (`manage` or
/// `status`).
pub(super) fn say_form(c: &Ctx<'_>, back: &str) -> Markup {
    let (lang, o) = (c.lang, c.o);
    let l = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    html! {
        form.insert #say method="post" action="/say" {
            input type="hidden" name="lang" value=(lang.code());
            input type="hidden" name="csrf" value=(o.csrf);
            input type="hidden" name="back" value=(back);
            label.wide { (l("通知文字（电脑用普通话朗读，最多 1000 字）", "Notice text (read aloud in Mandarin, at most 1000 characters)"))
                textarea name="say" rows="3" maxlength="1000" required
                    placeholder=(l("例如：今晚8点停水，请各户提前储水。", "e.g. 今晚8点停水，请各户提前储水。")) {}
            }
            label { (l("优先级", "priority"))
                select name="priority" {
                    option value="important" selected { (word(lang, "important")) }
                    option value="emergency" { (word(lang, "emergency")) }
                    option value="normal" { (word(lang, "normal")) }
                }
            }
            label { (l("重复次数", "repeat"))
                input name="repeat" type="number" min="1" max="20" value="2";
            }
            @if o.token_required {
                label { (l("口令", "token")) input type="password" name="token" required; }
            }
            button.urgent type="submit" { (l("朗读并播出", "Read aloud now")) }
        }
    }
}

/// The last [`RECENT_ROWS`] plays.
pub(super) fn recent(rows: &[PlayRow], c: &Ctx<'_>) -> Markup {
    let lang = c.lang;
    let l = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    let show = |t| c.show(t);
    let hm = |t| c.hms(t);
    html! {
        section #recent {
            h2 { (l("最近播出", "Recent plays")) }
            table {
                tr {
                    th { (l("计划时间", "scheduled")) } th { (l("节目", "broadcast")) }
                    th { (l("状态", "status")) } th { (l("开始", "started")) }
                    th { (l("方式", "trigger")) } th { (l("监听", "heard")) } th { (l("原因", "reason")) }
                }
                @for r in rows {
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
            @if rows.len() == RECENT_ROWS {
                p.muted { (match lang {
                    Lang::Zh => format!("最近 {RECENT_ROWS} 条；全部记录请看 cunxiang log"),
                    Lang::En => format!("the last {RECENT_ROWS}; the whole log: cunxiang log"),
                }) }
            }
        }
    }
}
