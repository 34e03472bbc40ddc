//! `cunxiang outages`: the outage ledger (`--open`: the repair list) as a
//! table, CSV, JSON or GDJ records. Rendering only: the rows and JSON
//! fields are `views::outages`'s; it must not query the store itself.

use super::out::{human_duration, read_failed, write_csv, write_json};
use super::LedgerFormat;
use crate::i18n::Lang;
use crate::store::OutageRow;
use crate::views::ledger::{advice_for, kind_word};
use crate::views::outages::{outages as read, GdjOutage, OutageEntry};
use crate::views::{text, Reading};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use std::io::Write;
use std::path::Path;

/// `cunxiang outages`: the ledger, newest first; `--open` is the repair list.
///
/// # Errors
/// Only when writing fails.
#[allow(clippy::too_many_arguments)]
pub fn outages(
    station_dir: &Path,
    now: DateTime<Utc>,
    lang: Lang,
    open_only: bool,
    since: Option<&str>,
    format: LedgerFormat,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> std::io::Result<i32> {
    let r = Reading::load(station_dir);
    let rows = match read(&r, now, open_only, since) {
        Ok(rows) => rows,
        Err(e) => return read_failed(&e, lang, err),
    };
    let tz = r.rules.tz;
    match format {
        LedgerFormat::Gdj => {
            let name = &r.station.config.name;
            let v: Vec<GdjOutage> = rows
                .iter()
                .map(|o| GdjOutage::new(o, now, tz, name))
                .collect();
            write_json(out, &v)?;
        }
        LedgerFormat::Json => {
            let v: Vec<OutageEntry> = rows
                .iter()
                .map(|o| OutageEntry::new(o, now, tz, lang))
                .collect();
            write_json(out, &v)?;
        }
        LedgerFormat::Csv => csv(&rows, now, tz, lang, out)?,
        LedgerFormat::Table => table(&rows, now, tz, lang, open_only, out)?,
    }
    Ok(crate::EXIT_OK)
}

fn lasted(o: &OutageRow, now: DateTime<Utc>) -> String {
    human_duration(o.ended_at.unwrap_or(now) - o.started_at)
}

fn csv(
    rows: &[OutageRow],
    now: DateTime<Utc>,
    tz: Tz,
    lang: Lang,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let header: Vec<&str> = match lang {
        Lang::Zh => vec![
            "编号",
            "类型",
            "对象",
            "开始时间",
            "结束时间",
            "持续",
            "损失节目数",
            "详情",
            "检查建议",
        ],
        Lang::En => vec![
            "id",
            "kind",
            "subject",
            "started_at",
            "ended_at",
            "duration",
            "broadcasts_lost",
            "detail",
            "what_to_check",
        ],
    };
    let show = |t: Option<DateTime<Utc>>| t.map(|t| text::show_instant(t, tz)).unwrap_or_default();
    let data: Vec<Vec<String>> = rows
        .iter()
        .map(|o| {
            vec![
                o.id.to_string(),
                kind_word(lang, o.kind).to_string(),
                o.subject.clone(),
                show(Some(o.started_at)),
                show(o.ended_at),
                lasted(o, now),
                o.lost.to_string(),
                o.detail.clone().unwrap_or_default(),
                advice_for(lang, o.kind, &o.subject).to_string(),
            ]
        })
        .collect();
    write_csv(out, &header, &data)
}

fn table(
    rows: &[OutageRow],
    now: DateTime<Utc>,
    tz: Tz,
    lang: Lang,
    open_only: bool,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    if open_only {
        writeln!(
            out,
            "{}",
            lang.pick("待维修清单（未恢复的故障）", "Repair list (open faults)")
        )?;
    }
    let show = |t: DateTime<Utc>| text::show_instant(t, tz);
    let mut t = text::table();
    let l = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    t.set_header(vec![
        l("类型", "kind"),
        l("对象", "subject"),
        l("开始", "since"),
        l("结束", "until"),
        l("持续", "lasted"),
        l("损失节目", "lost"),
        l("检查", "check"),
    ]);
    for o in rows {
        t.add_row(vec![
            kind_word(lang, o.kind).to_string(),
            o.subject.clone(),
            show(o.started_at),
            o.ended_at
                .map_or_else(|| lang.pick("未恢复", "open").to_string(), show),
            lasted(o, now),
            o.lost.to_string(),
            advice_for(lang, o.kind, &o.subject).to_string(),
        ]);
    }
    writeln!(out, "{t}")?;
    writeln!(
        out,
        "{}",
        match (lang, open_only, rows.len()) {
            (Lang::Zh, true, 0) => "没有待维修的故障。".to_string(),
            (Lang::En, true, 0) => "Nothing needs repair.".to_string(),
            (Lang::Zh, _, n) => format!("共 {n} 条"),
            (Lang::En, _, n) => format!("{n} outages"),
        }
    )
}
