//! `cunxiang status`: the station's state in words or as JSON — the
//! running daemon's own view when it answers, else what the store and
//! the files say. Rendering only: the model is `views::status`'s; it must
//! not decide the state or what needs repair.

use super::out::{human_duration, write_json};
use crate::config::load::Station;
use crate::i18n::{trigger_word, word, Lang};
use crate::views::status::{NowPlaying, State, Status};
use crate::views::text::Stamp;
use crate::views::Reading;
use chrono::{DateTime, Duration as TimeDelta, Utc};
use std::io::Write;
use std::path::Path;

/// `cunxiang status`: the running daemon's live view when it answers over
/// HTTP, else what the store says. Exit 1 when something needs repair (an
/// open fault outage, or a daemon that stopped beating without a clean stop).
///
/// # Errors
/// Only when writing fails.
pub fn status(
    station_dir: &Path,
    now: DateTime<Utc>,
    lang: Lang,
    json: bool,
    out: &mut dyn Write,
) -> std::io::Result<i32> {
    let station = Station::load(station_dir);
    let from_daemon: Option<Status> = super::client::Client::find(&station)
        .and_then(|c| c.status(lang).ok())
        .and_then(|v| serde_json::from_value(v).ok());
    let v = from_daemon
        .unwrap_or_else(|| crate::views::status::status(&Reading::of(station), now, lang, None));
    let code = if v.needs_repair {
        crate::EXIT_FINDINGS
    } else {
        crate::EXIT_OK
    };
    if json {
        write_json(out, &v)?;
    } else {
        render(&v, lang, out)?;
    }
    Ok(code)
}

/// How long before the status's `now` an instant was.
fn ago(t: &Stamp, v: &Status) -> String {
    human_duration(v.now.utc() - t.utc())
}

/// The text form of a status.
fn render(v: &Status, lang: Lang, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "{} · {} ({})",
        lang.pick("村响 状态", "cunxiang status"),
        v.station,
        v.timezone
    )?;
    let hb_text = match &v.last_heartbeat {
        None => lang.pick("无", "none").to_string(),
        Some(hb) => format!("{} ({} {})", hb.shown(), ago(hb, v), lang.pick("前", "ago")),
    };
    writeln!(
        out,
        "{}: {}",
        lang.pick("最后心跳", "last heartbeat"),
        hb_text
    )?;
    writeln!(
        out,
        "{}: {}",
        lang.pick("程序状态", "daemon"),
        state_text(v.state, lang)
    )?;
    monitor(v, lang, out)?;
    on_air(v, lang, out)?;
    repair_list(v, lang, out)?;
    writeln!(out, "{}", lang.pick("接下来播出：", "Next up:"))?;
    for f in &v.next {
        writeln!(out, "  {}  {}", f.scheduled_at.shown(), f.broadcast)?;
    }
    for w in &v.warnings {
        writeln!(out, "{}{w}", lang.pick("警告：", "warning: "))?;
    }
    for e in &v.schedule_errors {
        writeln!(out, "{e}")?;
    }
    Ok(())
}

fn state_text(s: State, lang: Lang) -> &'static str {
    match (s, lang) {
        (State::NeverRun, Lang::Zh) => "还没有运行过 cunxiang run",
        (State::NeverRun, Lang::En) => "cunxiang run has never run here",
        (State::Unknown, Lang::Zh) => "不知道（数据库读不出来）",
        (State::Unknown, Lang::En) => "unknown (the database cannot be read)",
        (State::Stopped, Lang::Zh) => "已被人为停止",
        (State::Stopped, Lang::En) => "stopped by a person",
        (State::Down, Lang::Zh) => "没有在运行（停电、死机或被强行结束）——请检查广播电脑",
        (State::Down, Lang::En) => {
            "NOT running (power cut, crash or killed): check the broadcast PC"
        }
        (State::Running, Lang::Zh) => "运行中",
        (State::Running, Lang::En) => "running",
    }
}

fn monitor(v: &Status, lang: Lang, out: &mut dyn Write) -> std::io::Result<()> {
    let Some(m) = &v.monitor else { return Ok(()) };
    let level = m
        .last_db
        .map(|d| format!("{d:.1} dBFS"))
        .unwrap_or_else(|| lang.pick("还没测量", "not measured yet").to_string());
    let input = lang.pick("监听输入", "monitor input");
    match &m.error {
        Some(e) => writeln!(
            out,
            "{input}: {} — {}: {e}",
            m.input,
            lang.pick("故障", "failing")
        ),
        None => writeln!(
            out,
            "{input}: {} — {}: {level}",
            m.input,
            lang.pick("最近电平", "last level")
        ),
    }
}

/// What is on air, and what waits.
fn on_air(v: &Status, lang: Lang, out: &mut dyn Write) -> std::io::Result<()> {
    let now_playing = lang.pick("正在播出", "now playing");
    match &v.now_playing {
        Some(NowPlaying::Live {
            broadcast,
            priority,
            trigger,
            item,
            position_s,
            duration_s,
            relay,
            ..
        }) => {
            let secs = |x: f64| human_duration(TimeDelta::seconds(x as i64));
            writeln!(
                out,
                "{now_playing}: {broadcast}（{}，{}）{} / {}，{} {}",
                word(lang, priority.as_str()),
                trigger_word(lang, trigger.as_str()),
                secs(*position_s),
                secs(*duration_s),
                lang.pick("当前", "item"),
                item.as_deref().unwrap_or_default()
            )?;
            if let Some(r) = relay {
                relay_line(r, lang, out)?;
            }
        }
        Some(NowPlaying::Recorded {
            broadcast,
            priority,
            trigger,
            ..
        }) => writeln!(
            out,
            "{now_playing}: {broadcast}（{}，{}）",
            word(lang, priority),
            trigger_word(lang, trigger.as_str())
        )?,
        None => {}
    }
    for q in &v.queued {
        writeln!(
            out,
            "{}: {}（{}）",
            lang.pick("等待播出", "waiting"),
            q.broadcast,
            word(lang, q.priority.as_str())
        )?;
    }
    Ok(())
}

/// A relay's link and counts so far.
fn relay_line(
    r: &crate::views::status::RelayOnAir,
    lang: Lang,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let state = match (r.state.as_str(), lang) {
        ("connected", Lang::Zh) => "已连接".to_string(),
        ("connected", Lang::En) => "connected".to_string(),
        ("connecting", Lang::Zh) => "正在连接".to_string(),
        ("connecting", Lang::En) => "connecting".to_string(),
        (_, Lang::Zh) => format!("信号中断，正在重连（{}）", r.why.as_deref().unwrap_or("")),
        (_, Lang::En) => format!("lost, reconnecting ({})", r.why.as_deref().unwrap_or("")),
    };
    let fallback = if r.fallback {
        lang.pick("，正在播放中断提示", ", fallback on air")
    } else {
        ""
    };
    match lang {
        Lang::Zh => writeln!(
            out,
            "转播: {} {state}{fallback}；已转播 {:.0} 秒，中断 {:.0} 秒，重连 {} 次",
            r.source, r.relayed_s, r.lost_s, r.reconnects
        ),
        Lang::En => writeln!(
            out,
            "relay: {} {state}{fallback}; relayed {:.0} s, lost {:.0} s, {} reconnects",
            r.source, r.relayed_s, r.lost_s, r.reconnects
        ),
    }
}

fn repair_list(v: &Status, lang: Lang, out: &mut dyn Write) -> std::io::Result<()> {
    if let Some(e) = &v.store_error {
        // The ledger cannot be read: never "nothing to repair".
        return writeln!(out, "{}: {e}", lang.pick("待维修", "Repair list"));
    }
    if v.open_outages.is_empty() {
        return writeln!(out, "{}", lang.pick("待维修：无", "Repair list: nothing"));
    }
    writeln!(out, "{}", lang.pick("待维修：", "Repair list:"))?;
    for o in &v.open_outages {
        writeln!(
            out,
            "  [{}] {} {} {}{} {} {} — {}",
            o.what,
            o.subject,
            lang.pick("自", "since"),
            o.since.shown(),
            match lang {
                Lang::Zh => format!("（{}）", ago(&o.since, v)),
                Lang::En => format!(" ({})", ago(&o.since, v)),
            },
            lang.pick("损失节目", "lost"),
            o.lost,
            o.advice
        )?;
    }
    Ok(())
}
