//! `cunxiang plan`: every firing in a window, written as it is planned
//! (table or JSON). Rendering only: the planning is `plan`'s, the media
//! lengths `views::check`'s; it must not keep the window in memory.

use crate::config::diag;
use crate::config::load::Station;
use crate::i18n::Lang;
use crate::plan::{self, Rules};
use crate::views::check::{self, MediaTable};
use crate::views::text;
use chrono::{DateTime, Duration as TimeDelta, NaiveDate, Utc};
use std::io::Write;
use std::path::Path;

/// Output format of `plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlanFormat {
    Table,
    Json,
}

/// Options of `cunxiang plan`.
#[derive(Debug, Clone)]
pub struct PlanOpts {
    /// First local day; `None` = today.
    pub from: Option<NaiveDate>,
    pub days: u32,
    pub format: PlanFormat,
}

/// The most days one `plan` covers: a year, leap years included. The plan
/// is written as it is computed (memory stays flat in the number of days);
/// the limit keeps one run's output to what a person or a script asks for.
pub const PLAN_MAX_DAYS: u32 = 366;

/// `cunxiang plan`: every firing in the window, in time order. The plan
/// covers the files that go on air; findings that keep a file off air go to
/// `err` and make the exit code 2.
///
/// The window is planned a day at a time and each firing is written as
/// soon as its collisions are settled: memory holds one day's instants,
/// not the window's firings (a year of a 10-second cron is 3.2 million).
///
/// # Errors
/// Only when writing fails.
pub fn plan(
    station_dir: &Path,
    now: DateTime<Utc>,
    lang: Lang,
    opts: &PlanOpts,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> std::io::Result<i32> {
    let station = Station::load(station_dir);
    let rules = Rules::from_config(&station.config);
    let first = opts
        .from
        .unwrap_or_else(|| now.with_timezone(&rules.tz).date_naive());
    let days = opts.days.clamp(1, PLAN_MAX_DAYS);
    let broadcasts = station.broadcasts();
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, out);
    let mut sink: Box<dyn text::PlanOut + '_> = match opts.format {
        PlanFormat::Table => {
            writeln!(
                out,
                "{} · {} ({})",
                lang.pick("村响 节目计划", "cunxiang plan"),
                station.config.name,
                rules.tz.name()
            )?;
            Box::new(text::PlanTable::new(&mut out, rules.tz, lang))
        }
        PlanFormat::Json => Box::new(text::PlanJson::new(&mut out, rules.tz)),
    };
    let mut media = MediaTable::default();
    let mut sim = plan::Simulation::default();
    // A window running past the calendar's end stops there.
    let day = |n: u32| first.checked_add_signed(TimeDelta::days(n as i64));
    for n in 0..days {
        let (Some(d), Some(next)) = (day(n), day(n + 1)) else {
            break;
        };
        let (a, b) = (
            crate::plan::day_start(&rules, d),
            crate::plan::day_start(&rules, next),
        );
        for slot in plan::slots(&broadcasts, &rules, a, b) {
            let f = slot.firing(&broadcasts, &rules);
            for file in f.files.iter().chain(match &f.chime {
                plan::ChimeFile::File(c) => Some(c),
                _ => None,
            }) {
                media.probe(&station, file);
            }
            let duration = check::expected(&f, &media);
            sim.push(f, duration);
            while let Some(r) = sim.pop() {
                sink.row(&r)?;
            }
        }
    }
    sim.finish();
    while let Some(r) = sim.pop() {
        sink.row(&r)?;
    }
    sink.end()?;
    drop(sink);
    out.flush()?;
    drop(out);
    plan_errors(&station, lang, err)
}

/// The findings that keep files out of the plan, on `err`; the exit code.
fn plan_errors(station: &Station, lang: Lang, err: &mut dyn Write) -> std::io::Result<i32> {
    let mut errors: Vec<_> = station
        .diagnostics()
        .into_iter()
        .filter(|d| d.is_error())
        .collect();
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
