//! The CLI commands as library functions: each takes its options, writes
//! to the given streams and returns the process exit code.

use crate::check::{self, MediaTable};
use crate::diag;
use crate::i18n::Lang;
use crate::load::Station;
use crate::planner::{self, Rules};
use crate::view;
use chrono::{DateTime, Duration as TimeDelta, NaiveDate, Utc};
use std::io::Write;
use std::path::Path;

/// Output format of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    Text,
    Json,
}

/// Output format of `plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlanFormat {
    Table,
    Json,
}

/// `cunxiang check`: 0 clean or warnings only, 2 errors.
///
/// # Errors
/// Only when writing to `out` fails.
pub fn check(station_dir: &Path, now: DateTime<Utc>, lang: Lang, format: CheckFormat, out: &mut dyn Write) -> std::io::Result<i32> {
    let station = Station::load(station_dir);
    let report = check::check(&station, now);
    match format {
        CheckFormat::Text => out.write_all(check::render(&report, lang).as_bytes())?,
        CheckFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&check::to_json(&report, lang)).expect("json"))?,
    }
    Ok(if report.errors() > 0 { crate::EXIT_CONFIG } else { crate::EXIT_OK })
}

/// Options of `cunxiang plan`.
#[derive(Debug, Clone)]
pub struct PlanOpts {
    /// First local day; `None` = today.
    pub from: Option<NaiveDate>,
    pub days: u32,
    pub format: PlanFormat,
}

/// `cunxiang plan`: every firing in the window, in time order. The plan
/// covers the files that go on air; findings that keep a file off air go to
/// `err` and make the exit code 2.
///
/// # Errors
/// Only when writing fails.
pub fn plan(station_dir: &Path, now: DateTime<Utc>, lang: Lang, opts: &PlanOpts, out: &mut dyn Write, err: &mut dyn Write) -> std::io::Result<i32> {
    let station = Station::load(station_dir);
    let rules = Rules::from_config(&station.config);
    let first = opts.from.unwrap_or_else(|| now.with_timezone(&rules.tz).date_naive());
    let from = check::day_start(&rules, first);
    let to = check::day_start(&rules, first + TimeDelta::days(opts.days.max(1) as i64));
    let broadcasts = station.broadcasts();
    let firings = planner::firings(&broadcasts, &rules, from, to);
    let mut media = MediaTable::default();
    for f in &firings {
        for file in f.files.iter().chain(match &f.chime {
            planner::ChimeFile::File(c) => Some(c),
            _ => None,
        }) {
            media.probe(&station, file);
        }
    }
    let durations: Vec<_> = firings.iter().map(|f| check::expected(f, &media)).collect();
    let outcomes = planner::simulate(&firings, &durations);
    let rows = view::plan_rows(&firings, &media, &outcomes);
    match opts.format {
        PlanFormat::Table => {
            writeln!(out, "{} · {} ({})", lang.pick("村响 节目计划", "cunxiang plan"), station.config.name, rules.tz.name())?;
            out.write_all(view::plan_table(&rows, &firings, rules.tz, lang).as_bytes())?;
            writeln!(out)?;
        }
        PlanFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&view::plan_json(&rows, &firings, rules.tz)).expect("json"))?,
    }
    let mut errors: Vec<_> = station.diagnostics().into_iter().filter(|d| d.is_error()).collect();
    diag::sort(&mut errors);
    for d in &errors {
        writeln!(err, "{}", d.render(lang))?;
    }
    if !errors.is_empty() {
        writeln!(
            err,
            "{}",
            lang.pick(
                "有错误的节目单文件不在上面的计划里。请运行 cunxiang check 查看并改正。",
                "Schedule files with errors are not in the plan above; run cunxiang check and fix them."
            )
        )?;
        return Ok(crate::EXIT_CONFIG);
    }
    Ok(crate::EXIT_OK)
}
