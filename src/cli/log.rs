//! `cunxiang log`: the as-run log as a table, CSV, JSON or GDJ records.
//! Rendering only: the rows and the JSON fields are `views::log`'s; it
//! must not query the store itself.

use super::out::{read_failed, write_csv, write_json};
use crate::config::load::Station;
use crate::i18n::{reason_text, status_word, trigger_word, word, Lang};
use crate::store::PlayRow;
use crate::views::log::{heard_word, plays, relay_text, GdjPlay, PlayEntry};
use crate::views::{text, Reading};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use std::io::Write;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Table,
    Csv,
    Json,
    /// As-run records with emergency-broadcast state codes.
    Gdj,
}

/// `cunxiang log`: the as-run log from the store (works while the daemon
/// runs).
///
/// # Errors
/// Only when writing fails.
#[allow(clippy::too_many_arguments)]
pub fn log(
    station_dir: &Path,
    now: DateTime<Utc>,
    lang: Lang,
    since: &str,
    status: Option<crate::store::Status>,
    format: LogFormat,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> std::io::Result<i32> {
    let r = Reading::load(station_dir);
    let rows = match plays(&r, now, since, status) {
        Ok(Some(rows)) => rows,
        Ok(None) => return no_log_yet(&r.station, lang, format, out, err),
        Err(e) => return read_failed(&e, lang, err),
    };
    let tz = r.rules.tz;
    match format {
        LogFormat::Gdj => {
            let name = &r.station.config.name;
            let v: Vec<GdjPlay> = rows.iter().map(|p| GdjPlay::new(p, name, tz)).collect();
            write_json(out, &v)?;
        }
        LogFormat::Json => {
            let v: Vec<PlayEntry> = rows.iter().map(|p| PlayEntry::new(p, tz)).collect();
            write_json(out, &v)?;
        }
        LogFormat::Csv => csv(&rows, tz, lang, out)?,
        LogFormat::Table => table(&rows, tz, lang, out)?,
    }
    Ok(crate::EXIT_OK)
}

/// No store yet: an empty list for tools, and why on `err`.
fn no_log_yet(
    station: &Station,
    lang: Lang,
    format: LogFormat,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> std::io::Result<i32> {
    if matches!(format, LogFormat::Json | LogFormat::Gdj) {
        writeln!(out, "[]")?;
    }
    writeln!(
        err,
        "{}: {}",
        lang.pick(
            "还没有播出记录（cunxiang run 还没运行过？）",
            "no as-run log yet (has cunxiang run been started?)"
        ),
        station.data_dir().join(crate::store::DB_FILE).display()
    )?;
    Ok(crate::EXIT_OK)
}

/// The reason in words, and a relay's counts after it.
fn reason(lang: Lang, r: &PlayRow) -> String {
    let why = r.reason.as_deref().map(|x| reason_text(lang, x));
    match (why, relay_text(lang, r)) {
        (Some(w), Some(rl)) => format!("{w}{}{rl}", lang.pick("；", "; ")),
        (w, rl) => w.or(rl).unwrap_or_default(),
    }
}

fn csv(rows: &[PlayRow], tz: Tz, lang: Lang, out: &mut dyn Write) -> std::io::Result<()> {
    let header: Vec<&str> = match lang {
        Lang::Zh => vec![
            "编号",
            "节目",
            "计划时间",
            "开始时间",
            "结束时间",
            "状态",
            "原因",
            "触发方式",
            "优先级",
            "文件",
            "监听",
        ],
        Lang::En => vec![
            "id",
            "broadcast",
            "scheduled_at",
            "started_at",
            "ended_at",
            "status",
            "reason",
            "trigger",
            "priority",
            "files",
            "heard",
        ],
    };
    let show = |t: Option<DateTime<Utc>>| t.map(|t| text::show_instant(t, tz)).unwrap_or_default();
    let data: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.id.to_string(),
                r.broadcast.clone(),
                show(Some(r.scheduled_at)),
                show(r.started_at),
                show(r.ended_at),
                status_word(lang, r.status.as_str()).to_string(),
                reason(lang, r),
                trigger_word(lang, r.trigger.as_str()).to_string(),
                word(lang, &r.priority).to_string(),
                r.files.join(" "),
                heard_word(lang, r.heard).to_string(),
            ]
        })
        .collect();
    write_csv(out, &header, &data)
}

fn table(rows: &[PlayRow], tz: Tz, lang: Lang, out: &mut dyn Write) -> std::io::Result<()> {
    let mut t = text::table();
    let l = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    t.set_header(vec![
        l("计划时间", "scheduled"),
        l("节目", "broadcast"),
        l("状态", "status"),
        l("开始", "started"),
        l("结束", "ended"),
        l("方式", "trigger"),
        l("监听", "heard"),
        l("原因", "reason"),
    ]);
    let hms = |t: Option<DateTime<Utc>>| {
        t.map(|t| t.with_timezone(&tz).format("%H:%M:%S").to_string())
            .unwrap_or_default()
    };
    for r in rows {
        t.add_row(vec![
            text::show_instant(r.scheduled_at, tz),
            r.broadcast.clone(),
            status_word(lang, r.status.as_str()).to_string(),
            hms(r.started_at),
            hms(r.ended_at),
            trigger_word(lang, r.trigger.as_str()).to_string(),
            heard_word(lang, r.heard).to_string(),
            reason(lang, r),
        ]);
    }
    writeln!(out, "{t}")?;
    writeln!(
        out,
        "{}",
        match lang {
            Lang::Zh => format!("共 {} 条", rows.len()),
            Lang::En => format!("{} rows", rows.len()),
        }
    )
}
