//! Fixed words of the reports, the log and the dashboard (headers, play
//! statuses, triggers, stored reason codes, durations), in both languages.
//! Words only: the codes themselves are the planner's and the store's.

use super::lang::Lang;
use std::time::Duration;

/// Fixed UI words (headers, labels) that are not findings.
pub fn word(lang: Lang, key: &str) -> &'static str {
    let (zh, en) = match key {
        "error" => ("错误", "error"),
        "warning" => ("警告", "warning"),
        "time" => ("播出时间", "scheduled"),
        "end" => ("预计结束", "ends"),
        "broadcast" => ("节目", "broadcast"),
        "files" => ("文件", "files"),
        "priority" => ("优先级", "priority"),
        "note" => ("备注", "note"),
        "normal" => ("普通", "normal"),
        "important" => ("重要", "important"),
        "emergency" => ("紧急", "emergency"),
        "day_total" => ("当日合计", "day total"),
        "firings" => ("次", "firings"),
        "air_time" => ("播出时长", "air time"),
        "skipped_quiet" => ("静音时段，不播", "skipped: quiet hours"),
        "skipped_holiday" => ("节假日，不播", "skipped: holiday"),
        "chime" => ("提示音", "chime"),
        "unknown_len" => ("时长未知", "length unknown"),
        _ => ("?", "?"),
    };
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

/// A play status in the operator's words.
pub fn status_word(lang: Lang, status: &str) -> &'static str {
    let (zh, en) = match status {
        "playing" => ("播出中", "playing"),
        "played" => ("已播出", "played"),
        "partial" => ("未播完", "partial"),
        "failed" => ("失败", "failed"),
        "missed" => ("漏播", "missed"),
        "skipped" => ("不播", "skipped"),
        "interrupted" => ("中断", "interrupted"),
        _ => ("?", "?"),
    };
    lang.pick(zh, en)
}

/// What started a play, in the operator's words.
pub fn trigger_word(lang: Lang, trigger: &str) -> &'static str {
    let (zh, en) = match trigger {
        "schedule" => ("定时", "schedule"),
        "catch_up" => ("补播", "catch-up"),
        "manual" => ("手动", "manual"),
        _ => ("?", "?"),
    };
    lang.pick(zh, en)
}

/// A stored reason code (`busy: 一封信`, `quiet_hours`, ...) in words.
pub fn reason_text(lang: Lang, reason: &str) -> String {
    reason
        .split("; ")
        .map(|part| {
            let (code, detail) = match part.split_once(": ") {
                Some((c, d)) => (c, d),
                None => (part, ""),
            };
            match (code, lang) {
                ("not_running", Lang::Zh) => "程序没有运行（停电、关机或死机）".to_string(),
                ("not_running", Lang::En) => {
                    "cunxiang was not running (power cut, shutdown or crash)".to_string()
                }
                ("clock_jump", Lang::Zh) => "电脑时间跳变，跳过了这个时间".to_string(),
                ("clock_jump", Lang::En) => "the PC clock jumped over it".to_string(),
                ("superseded", Lang::Zh) => "同一节目已补播较晚的一次".to_string(),
                ("superseded", Lang::En) => {
                    "a later firing of the same broadcast was played instead".to_string()
                }
                ("too_late", Lang::Zh) => "超过补播窗口".to_string(),
                ("too_late", Lang::En) => "past its catch-up window".to_string(),
                ("busy", Lang::Zh) => format!("一直在播「{detail}」，超过补播窗口"),
                ("busy", Lang::En) => {
                    format!("the output was busy with \"{detail}\" past its catch-up window")
                }
                ("quiet_hours", Lang::Zh) => "静音时段".to_string(),
                ("quiet_hours", Lang::En) => "quiet hours".to_string(),
                ("holiday", Lang::Zh) => "节假日".to_string(),
                ("holiday", Lang::En) => "holiday".to_string(),
                ("interrupted_by", Lang::Zh) => format!("被「{detail}」打断"),
                ("interrupted_by", Lang::En) => format!("interrupted by \"{detail}\""),
                ("resumed", Lang::Zh) => "之后续播完成".to_string(),
                ("resumed", Lang::En) => "then resumed to the end".to_string(),
                ("stopped", Lang::Zh) => "程序被停止".to_string(),
                ("stopped", Lang::En) => "cunxiang was stopped".to_string(),
                ("operator_stop", Lang::Zh) => "被人工停播".to_string(),
                ("operator_stop", Lang::En) => "stopped by a person".to_string(),
                ("content", Lang::Zh) => format!("音频文件有问题：{detail}"),
                ("content", Lang::En) => format!("audio file problem: {detail}"),
                ("device", Lang::Zh) => format!("声卡故障：{detail}"),
                ("device", Lang::En) => format!("sound device failure: {detail}"),
                ("config", Lang::Zh) => format!("节目单文件有错误，这条节目没有生效：{detail}"),
                ("config", Lang::En) => {
                    format!("its schedule file has errors, so it was off air: {detail}")
                }
                ("source", Lang::Zh) => format!("转播信号源中断：{detail}"),
                ("source", Lang::En) => format!("the relayed source was lost: {detail}"),
                ("daemon stopped during the play", Lang::Zh) => {
                    "播出中程序中断（停电或被强行结束）".to_string()
                }
                ("daemon stopped during the play", Lang::En) => {
                    "cunxiang stopped during the play (power cut or killed)".to_string()
                }
                _ => part.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join(lang.pick("；", "; "))
}

/// Shows a duration the way operators write it (`10m`, `1h 30m`, `20s`).
pub fn show_duration(d: Duration) -> String {
    let secs = d.as_secs();
    let ms = d.subsec_millis();
    if secs == 0 && ms > 0 {
        return format!("{ms}ms");
    }
    humantime::format_duration(Duration::from_secs(secs)).to_string()
}
