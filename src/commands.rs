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
use std::time::Duration;

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
pub fn check(station_dir: &Path, now: DateTime<Utc>, lang: Lang, format: CheckFormat, deep: bool, out: &mut dyn Write) -> std::io::Result<i32> {
    let station = Station::load(station_dir);
    let report = check::check_with(&station, now, deep);
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

/// Output format of `log`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Table,
    Csv,
    Json,
}

/// Parses `--since`: a duration back from now (`2d`, `12h`), a local date
/// (`2026-12-01`) or `all`.
///
/// # Errors
/// A message for the operator when it is neither.
pub fn parse_since(s: &str, now: DateTime<Utc>, rules: &Rules) -> Result<Option<DateTime<Utc>>, String> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("all") {
        return Ok(None);
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(Some(check::day_start(rules, d)));
    }
    if let Some(d) = crate::tomlread::parse_duration(s) {
        return Ok(Some(now - TimeDelta::from_std(d).unwrap_or_default()));
    }
    Err(format!("--since {s}: write a duration like 2d or 12h, a date like 2026-12-01, or all"))
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
    let station = Station::load(station_dir);
    let rules = Rules::from_config(&station.config);
    let since = match parse_since(since, now, &rules) {
        Ok(s) => s,
        Err(m) => {
            writeln!(err, "cunxiang: {m}")?;
            return Ok(crate::EXIT_CONFIG);
        }
    };
    let rows = match crate::store::Store::open_existing(&station.data_dir()).and_then(|s| s.plays(&crate::store::PlayFilter { since, status, limit: None })) {
        Ok(r) => r,
        Err(e) => {
            if matches!(format, LogFormat::Json) {
                writeln!(out, "[]")?;
            }
            writeln!(err, "{}: {e}", lang.pick("还没有播出记录（cunxiang run 还没运行过？）", "no as-run log yet (has cunxiang run been started?)"))?;
            return Ok(crate::EXIT_OK);
        }
    };
    let tz = rules.tz;
    let rfc = |t: Option<DateTime<Utc>>| t.map(|t| t.with_timezone(&tz).to_rfc3339_opts(chrono::SecondsFormat::Millis, false));
    match format {
        LogFormat::Json => {
            let v: Vec<serde_json::Value> = rows
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "id": r.id,
                        "broadcast": r.broadcast,
                        "scheduled_at": rfc(Some(r.scheduled_at)),
                        "started_at": rfc(r.started_at),
                        "ended_at": rfc(r.ended_at),
                        "status": r.status,
                        "reason": r.reason,
                        "trigger": r.trigger,
                        "priority": r.priority,
                        "files": r.files,
                    })
                })
                .collect();
            writeln!(out, "{}", serde_json::to_string_pretty(&v).expect("json"))?;
        }
        LogFormat::Csv => {
            out.write_all(b"\xEF\xBB\xBF")?;
            let mut w = csv::Writer::from_writer(out);
            let header: Vec<&str> = match lang {
                Lang::Zh => vec!["编号", "节目", "计划时间", "开始时间", "结束时间", "状态", "原因", "触发方式", "优先级", "文件"],
                Lang::En => vec!["id", "broadcast", "scheduled_at", "started_at", "ended_at", "status", "reason", "trigger", "priority", "files"],
            };
            w.write_record(&header).map_err(std::io::Error::other)?;
            for r in &rows {
                let show = |t: Option<DateTime<Utc>>| t.map(|t| view::show_instant(t, tz)).unwrap_or_default();
                w.write_record([
                    r.id.to_string(),
                    r.broadcast.clone(),
                    show(Some(r.scheduled_at)),
                    show(r.started_at),
                    show(r.ended_at),
                    crate::i18n::status_word(lang, r.status.as_str()).to_string(),
                    r.reason.as_deref().map(|x| crate::i18n::reason_text(lang, x)).unwrap_or_default(),
                    crate::i18n::trigger_word(lang, r.trigger.as_str()).to_string(),
                    crate::i18n::word(lang, &r.priority).to_string(),
                    r.files.join(" "),
                ])
                .map_err(std::io::Error::other)?;
            }
            w.flush()?;
        }
        LogFormat::Table => {
            let mut t = view::table();
            let l = |zh: &'static str, en: &'static str| lang.pick(zh, en);
            t.set_header(vec![l("计划时间", "scheduled"), l("节目", "broadcast"), l("状态", "status"), l("开始", "started"), l("结束", "ended"), l("方式", "trigger"), l("原因", "reason")]);
            let hms = |t: Option<DateTime<Utc>>| t.map(|t| t.with_timezone(&tz).format("%H:%M:%S").to_string()).unwrap_or_default();
            for r in &rows {
                t.add_row(vec![
                    view::show_instant(r.scheduled_at, tz),
                    r.broadcast.clone(),
                    crate::i18n::status_word(lang, r.status.as_str()).to_string(),
                    hms(r.started_at),
                    hms(r.ended_at),
                    crate::i18n::trigger_word(lang, r.trigger.as_str()).to_string(),
                    r.reason.as_deref().map(|x| crate::i18n::reason_text(lang, x)).unwrap_or_default(),
                ]);
            }
            writeln!(out, "{t}")?;
            writeln!(out, "{}", match lang {
                Lang::Zh => format!("共 {} 条", rows.len()),
                Lang::En => format!("{} rows", rows.len()),
            })?;
        }
    }
    Ok(crate::EXIT_OK)
}

/// `cunxiang run`: the daemon, until SIGINT/SIGTERM (Ctrl-C on Windows).
/// Prints what a newcomer wants to see first; the as-run log goes to the
/// store, the running commentary to stderr.
///
/// # Errors
/// Only when writing fails.
pub fn run(station_dir: &Path, lang: Lang, output: Option<&str>, watch: bool, heartbeat: Duration, out: &mut dyn Write) -> std::io::Result<i32> {
    let station = Station::load(station_dir);
    let spec = match output {
        Some(s) => match crate::station::OutputSpec::parse(s) {
            Some(o) => o,
            None => {
                writeln!(out, "{}", crate::i18n::Msg::BadOutput { value: s.to_string() }.render(lang))?;
                return Ok(crate::EXIT_CONFIG);
            }
        },
        None => station.config.output.clone(),
    };
    let clock = crate::clock::SystemClock::new();
    let now = crate::clock::Clock::now(clock.as_ref());
    let rules = Rules::from_config(&station.config);
    writeln!(out, "{} · {} ({})", lang.pick("村响 开始播控", "cunxiang running"), station.config.name, rules.tz.name())?;
    writeln!(out, "{}: {spec}", lang.pick("输出", "output"))?;
    writeln!(out, "{}: {}", lang.pick("播出记录", "as-run log"), station.data_dir().join(crate::store::DB_FILE).display())?;
    let errors: Vec<_> = station.diagnostics().into_iter().filter(|d| d.is_error()).collect();
    for e in &errors {
        writeln!(out, "{}", e.render(lang))?;
    }
    let upcoming: Vec<_> = planner::firings(&station.broadcasts(), &rules, now, now + TimeDelta::days(2)).into_iter().filter(|f| f.skip.is_none()).take(5).collect();
    writeln!(out, "{}", lang.pick("接下来播出：", "Next up:"))?;
    if upcoming.is_empty() {
        writeln!(out, "  {}", lang.pick("（两天内没有节目）", "(nothing in the next two days)"))?;
    }
    for f in &upcoming {
        writeln!(out, "  {}  {}", view::show_instant(f.scheduled_at, rules.tz), f.broadcast)?;
    }
    if matches!(spec, crate::station::OutputSpec::Rodio(_)) && crate::output::list_devices().is_empty() {
        writeln!(out, "{}", lang.pick(
            "警告：没有找到声卡。程序会继续运行并记录每次播出失败；接好声卡后会自动重试。",
            "warning: no sound device found; cunxiang keeps running, logs each failed play and retries the device at every firing."
        ))?;
    }
    writeln!(out, "{}", lang.pick("按 Ctrl-C 停止。", "Press Ctrl-C to stop."))?;
    out.flush()?;
    // One thread drives the loop and its timers: an idle daemon wakes once
    // per sleep, not once per worker. Blocking work (SQLite, decoding) has
    // its own threads; keep the blocking-pool thread alive between firings.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().thread_keep_alive(Duration::from_secs(3600)).build()?;
    let result = rt.block_on(async {
        let output = crate::output::from_spec(&spec, clock.clone(), station_dir);
        let mut cfg = crate::daemon::RunConfig::new(station_dir);
        cfg.watch = watch;
        cfg.heartbeat = heartbeat.max(Duration::from_millis(100));
        crate::daemon::run(cfg, clock, output, None, shutdown_signal()).await
    });
    match result {
        Ok(()) => Ok(crate::EXIT_OK),
        Err(e) => {
            writeln!(out, "cunxiang: {e}")?;
            Ok(crate::EXIT_FINDINGS)
        }
    }
}

/// Resolves on SIGINT or SIGTERM (Ctrl-C on Windows).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("stop requested");
}
