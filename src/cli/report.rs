//! `cunxiang report`: day reports as a table, CSV or JSON. Rendering
//! only: the numbers are `views::report`'s; it must not count itself.

use super::out::{read_failed, write_csv, write_json};
use super::LedgerFormat;
use crate::i18n::Lang;
use crate::views::ledger::DayReport;
use crate::views::{text, ReadError, Reading};
use chrono::{DateTime, NaiveDate, Utc};
use std::io::Write;
use std::path::Path;

/// `cunxiang report`: per day planned vs aired vs failed vs missed, minutes
/// on air, fault minutes by kind, availability.
///
/// # Errors
/// Only when writing fails.
#[allow(clippy::too_many_arguments)]
pub fn report(
    station_dir: &Path,
    now: DateTime<Utc>,
    lang: Lang,
    from: Option<NaiveDate>,
    days: u32,
    format: LedgerFormat,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> std::io::Result<i32> {
    let r = Reading::load(station_dir);
    let reports = match crate::views::report::report(&r, now, from, days) {
        Ok(v) => v,
        // A bad --from has always been said on stdout.
        Err(e @ ReadError::Usage(_)) => return read_failed(&e, lang, out),
        Err(e) => return read_failed(&e, lang, err),
    };
    match format {
        LedgerFormat::Json | LedgerFormat::Gdj => write_json(out, &reports)?,
        LedgerFormat::Csv => csv(&reports, lang, out)?,
        LedgerFormat::Table => {
            writeln!(
                out,
                "{} · {}",
                lang.pick("村响 播出报表", "cunxiang report"),
                r.station.config.name
            )?;
            table(&reports, lang, out)?;
        }
    }
    Ok(crate::EXIT_OK)
}

fn pct(a: Option<f64>) -> String {
    a.map(|a| format!("{:.2}%", a * 100.0)).unwrap_or_default()
}

fn csv(reports: &[DayReport], lang: Lang, out: &mut dyn Write) -> std::io::Result<()> {
    let header: Vec<&str> = match lang {
        Lang::Zh => vec![
            "日期",
            "计划",
            "已播出",
            "未播完",
            "失败",
            "漏播",
            "不播",
            "中断",
            "手动",
            "确认播出",
            "播出分钟",
            "断电分钟",
            "声卡故障分钟",
            "文件故障分钟",
            "时钟故障分钟",
            "可用率",
            "转播分钟",
            "转播中断分钟",
        ],
        Lang::En => vec![
            "date",
            "planned",
            "played",
            "partial",
            "failed",
            "missed",
            "skipped",
            "interrupted",
            "manual",
            "verified",
            "minutes_on_air",
            "power_minutes",
            "output_minutes",
            "content_minutes",
            "clock_minutes",
            "availability",
            "relay_minutes",
            "relay_lost_minutes",
        ],
    };
    let data: Vec<Vec<String>> = reports
        .iter()
        .map(|r| {
            let fm = |k: &str| r.fault_minutes.get(k).copied().unwrap_or(0.0).to_string();
            vec![
                r.date.to_string(),
                r.planned.to_string(),
                r.played.to_string(),
                r.partial.to_string(),
                r.failed.to_string(),
                r.missed.to_string(),
                r.skipped.to_string(),
                r.interrupted.to_string(),
                r.manual.to_string(),
                r.verified.to_string(),
                r.minutes_on_air.to_string(),
                fm("power"),
                fm("output"),
                fm("content"),
                fm("clock"),
                pct(r.availability),
                r.relay_minutes.to_string(),
                r.relay_lost_minutes.to_string(),
            ]
        })
        .collect();
    write_csv(out, &header, &data)
}

/// Relayed minutes, and lost ones when any (`38.5 (-1.5)`).
fn relay_min(r: &DayReport) -> String {
    match (r.relay_minutes, r.relay_lost_minutes) {
        (0.0, 0.0) => String::new(),
        (m, 0.0) => m.to_string(),
        (m, l) => format!("{m} (-{l})"),
    }
}

fn table(reports: &[DayReport], lang: Lang, out: &mut dyn Write) -> std::io::Result<()> {
    let faults = |r: &DayReport| -> String {
        r.fault_minutes
            .iter()
            .map(|(k, m)| format!("{}:{m}", k))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut t = text::table();
    let l = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    t.set_header(vec![
        l("日期", "date"),
        l("计划", "planned"),
        l("已播", "played"),
        l("未播完", "partial"),
        l("失败", "failed"),
        l("漏播", "missed"),
        l("不播", "skipped"),
        l("中断", "interrupted"),
        l("确认播出", "verified"),
        l("播出分钟", "on air min"),
        l("转播分钟", "relay min"),
        l("故障分钟", "fault min"),
        l("可用率", "availability"),
    ]);
    for r in reports {
        t.add_row(vec![
            text::date_with_weekday(r.date, lang),
            r.planned.to_string(),
            r.played.to_string(),
            r.partial.to_string(),
            r.failed.to_string(),
            r.missed.to_string(),
            r.skipped.to_string(),
            r.interrupted.to_string(),
            r.verified.to_string(),
            r.minutes_on_air.to_string(),
            relay_min(r),
            faults(r),
            pct(r.availability),
        ]);
    }
    writeln!(out, "{t}")
}
