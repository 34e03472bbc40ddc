//! The CLI commands as library functions: each takes its options, writes
//! to the given streams and returns the process exit code.

pub mod client;

use crate::config::diag;
use crate::config::load::Station;
use crate::i18n::{word, Lang};
use crate::plan::{self, Rules};
use crate::views::check::{self, MediaTable};
use crate::views::text;
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
pub fn check(
    station_dir: &Path,
    now: DateTime<Utc>,
    lang: Lang,
    format: CheckFormat,
    deep: bool,
    out: &mut dyn Write,
) -> std::io::Result<i32> {
    let station = Station::load(station_dir);
    let report = check::check_with(&station, now, deep);
    match format {
        CheckFormat::Text => out.write_all(check::render(&report, lang).as_bytes())?,
        CheckFormat::Json => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&check::to_json(&report, lang)).expect("json")
        )?,
    }
    Ok(if report.errors() > 0 {
        crate::EXIT_CONFIG
    } else {
        crate::EXIT_OK
    })
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
        let (a, b) = (check::day_start(&rules, d), check::day_start(&rules, next));
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

/// The `heard` column in words: 听到 / 无声 / (blank: no monitor).
pub fn heard_word(lang: Lang, heard: Option<bool>) -> &'static str {
    match heard {
        Some(true) => lang.pick("听到", "heard"),
        Some(false) => lang.pick("无声", "silent"),
        None => "",
    }
}

/// Output format of `log`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Table,
    Csv,
    Json,
    /// As-run records with emergency-broadcast state codes.
    Gdj,
}

/// Parses `--since`: a duration back from now (`2d`, `12h`), a local date
/// (`2026-12-01`) or `all`.
///
/// # Errors
/// A message for the operator when it is neither.
pub fn parse_since(
    s: &str,
    now: DateTime<Utc>,
    rules: &Rules,
) -> Result<Option<DateTime<Utc>>, String> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("all") {
        return Ok(None);
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(Some(check::day_start(rules, d)));
    }
    if let Some(d) = crate::config::tomlread::parse_duration(s) {
        if let Some(t) = TimeDelta::from_std(d)
            .ok()
            .and_then(|d| now.checked_sub_signed(d))
        {
            return Ok(Some(t));
        }
    }
    Err(format!(
        "--since {s}: write a duration like 2d or 12h, a date like 2026-12-01, or all"
    ))
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
    let rows = match open_store(&station).and_then(|s| {
        s.map(|s| {
            s.plays(&crate::store::PlayFilter {
                since,
                status,
                ..Default::default()
            })
        })
        .transpose()
    }) {
        Ok(Some(r)) => r,
        Ok(None) => {
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
            return Ok(crate::EXIT_OK);
        }
        Err(e) => return store_failed(&e, lang, err),
    };
    let tz = rules.tz;
    let rfc = |t: Option<DateTime<Utc>>| {
        t.map(|t| {
            t.with_timezone(&tz)
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, false)
        })
    };
    match format {
        LogFormat::Gdj => {
            let v: Vec<serde_json::Value> = rows
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "id": r.id,
                        "station": station.config.name,
                        "title": r.broadcast,
                        "scheduled": rfc(Some(r.scheduled_at)),
                        "start": rfc(r.started_at),
                        "end": rfc(r.ended_at),
                        "result": r.status,
                        "state": crate::views::ledger::play_state(r),
                        "reason": r.reason,
                        "files": r.files,
                        "heard": r.heard,
                    })
                })
                .collect();
            writeln!(out, "{}", serde_json::to_string_pretty(&v).expect("json"))?;
        }
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
                        "outage_id": r.outage_id,
                        "heard": r.heard,
                    })
                })
                .collect();
            writeln!(out, "{}", serde_json::to_string_pretty(&v).expect("json"))?;
        }
        LogFormat::Csv => {
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
            let show =
                |t: Option<DateTime<Utc>>| t.map(|t| text::show_instant(t, tz)).unwrap_or_default();
            let data: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    vec![
                        r.id.to_string(),
                        r.broadcast.clone(),
                        show(Some(r.scheduled_at)),
                        show(r.started_at),
                        show(r.ended_at),
                        crate::i18n::status_word(lang, r.status.as_str()).to_string(),
                        r.reason
                            .as_deref()
                            .map(|x| crate::i18n::reason_text(lang, x))
                            .unwrap_or_default(),
                        crate::i18n::trigger_word(lang, r.trigger.as_str()).to_string(),
                        crate::i18n::word(lang, &r.priority).to_string(),
                        r.files.join(" "),
                        heard_word(lang, r.heard).to_string(),
                    ]
                })
                .collect();
            write_csv(out, &header, &data)?;
        }
        LogFormat::Table => {
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
            for r in &rows {
                t.add_row(vec![
                    text::show_instant(r.scheduled_at, tz),
                    r.broadcast.clone(),
                    crate::i18n::status_word(lang, r.status.as_str()).to_string(),
                    hms(r.started_at),
                    hms(r.ended_at),
                    crate::i18n::trigger_word(lang, r.trigger.as_str()).to_string(),
                    heard_word(lang, r.heard).to_string(),
                    r.reason
                        .as_deref()
                        .map(|x| crate::i18n::reason_text(lang, x))
                        .unwrap_or_default(),
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
            )?;
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
#[allow(clippy::too_many_arguments)]
pub fn run(
    station_dir: &Path,
    lang: Lang,
    output: Option<&str>,
    listen: Option<std::net::SocketAddr>,
    watch: bool,
    heartbeat: Duration,
    store_alarm: Duration,
    out: &mut dyn Write,
) -> std::io::Result<i32> {
    let station = Station::load(station_dir);
    let listen = listen.unwrap_or(station.config.listen);
    let token = station.config.token.clone();
    if !listen.ip().is_loopback() && token.is_none() {
        writeln!(
            out,
            "{}",
            crate::i18n::Msg::ListenNeedsToken {
                value: listen.to_string()
            }
            .render(lang)
        )?;
        return Ok(crate::EXIT_CONFIG);
    }
    let spec = match output {
        Some(s) => match crate::config::station::OutputSpec::parse(s) {
            Some(o) => o,
            None => {
                writeln!(
                    out,
                    "{}",
                    crate::i18n::Msg::BadOutput {
                        value: s.to_string()
                    }
                    .render(lang)
                )?;
                return Ok(crate::EXIT_CONFIG);
            }
        },
        None => station.config.output.clone(),
    };
    // Refuse a second daemon before printing anything else (the daemon
    // takes the lock itself; this early look only saves a confusing header).
    if let Err(e) = crate::daemon::lock_station(&station.dir, &station.data_dir()) {
        return run_failed(e, lang, out);
    }
    let clock = crate::clock::SystemClock::new();
    let now = crate::clock::Clock::now(clock.as_ref());
    let rules = Rules::from_config(&station.config);
    writeln!(
        out,
        "{} · {} ({})",
        lang.pick("村响 开始播控", "cunxiang running"),
        station.config.name,
        rules.tz.name()
    )?;
    writeln!(out, "{}: {spec}", lang.pick("输出", "output"))?;
    writeln!(
        out,
        "{}: {}",
        lang.pick("播出记录", "as-run log"),
        station.data_dir().join(crate::store::DB_FILE).display()
    )?;
    // Errors, and loudly which settings a broken station file left us on.
    let errors: Vec<_> = station
        .diagnostics()
        .into_iter()
        .filter(|d| {
            d.is_error()
                || matches!(
                    d.msg,
                    crate::i18n::Msg::StationOnGoodCopy { .. }
                        | crate::i18n::Msg::StationOnDefaults { .. }
                )
        })
        .collect();
    for e in &errors {
        writeln!(out, "{}", e.render(lang))?;
    }
    let upcoming = plan::upcoming(&station.broadcasts(), &rules, now, 5);
    writeln!(out, "{}", lang.pick("接下来播出：", "Next up:"))?;
    if upcoming.is_empty() {
        writeln!(
            out,
            "  {}",
            lang.pick("（两天内没有节目）", "(nothing in the next two days)")
        )?;
    }
    for f in &upcoming {
        writeln!(
            out,
            "  {}  {}",
            text::show_instant(f.scheduled_at, rules.tz),
            f.broadcast
        )?;
    }
    if matches!(spec, crate::config::station::OutputSpec::Rodio(_))
        && crate::sound::output::list_devices().is_empty()
    {
        writeln!(out, "{}", lang.pick(
            "警告：没有找到声卡。程序会继续运行并记录每次播出失败；接好声卡后会自动重试。",
            "warning: no sound device found; cunxiang keeps running, logs each failed play and retries the device at every firing."
        ))?;
    }
    let listener = match std::net::TcpListener::bind(listen) {
        Ok(l) => {
            if let Ok(a) = l.local_addr() {
                writeln!(out, "{}: http://{a}/", lang.pick("控制页面", "dashboard"))?;
            }
            Some(l)
        }
        Err(e) => {
            writeln!(
                out,
                "{}",
                match lang {
                    Lang::Zh => format!("警告：控制地址 {listen} 用不了（{e}），没有控制页面和 API；广播照常。请改 [control] listen 或关掉占用端口的程序。"),
                    Lang::En => format!("warning: cannot listen on {listen} ({e}): no dashboard or API; broadcasting goes on. Change [control] listen or stop what holds the port."),
                }
            )?;
            None
        }
    };
    writeln!(
        out,
        "{}",
        lang.pick("按 Ctrl-C 停止。", "Press Ctrl-C to stop.")
    )?;
    out.flush()?;
    // One thread drives the loop and its timers: an idle daemon wakes once
    // per sleep, not once per worker. Blocking work (SQLite, decoding) has
    // its own threads; keep the blocking-pool thread alive between firings.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_keep_alive(Duration::from_secs(3600))
        .build()?;
    // Install the signal handlers before any work, so a stop request that
    // comes early is never the default (fatal) action.
    let (shutdown, hangup) = {
        let _guard = rt.enter();
        (shutdown_signal(), hangup_reloads())
    };
    let result = rt.block_on(async {
        let output = crate::sound::output::from_spec(&spec, clock.clone(), station_dir);
        let mut cfg = crate::daemon::RunConfig::new(station_dir);
        cfg.output_factory = Some({
            let (spec, clock, dir) = (spec.clone(), clock.clone(), station_dir.to_path_buf());
            let clock: std::sync::Arc<dyn crate::clock::Clock> = clock;
            Box::new(move || crate::sound::output::from_spec(&spec, clock.clone(), &dir))
        });
        cfg.watch = watch;
        cfg.heartbeat = heartbeat.max(Duration::from_millis(100));
        cfg.store_alarm = store_alarm;
        cfg.face =
            listener.map(|l| crate::web::http::face(l, token, station.config.read_token.clone()));
        cfg.monitor = station.config.monitor.as_ref().map(|m| {
            use crate::sound::monitor::{open_source, MonitorHandle, MonitorSpec};
            let spec = match &m.input {
                MonitorSpec::File(p) if p.is_relative() => MonitorSpec::File(station_dir.join(p)),
                other => other.clone(),
            };
            let c = clock.clone();
            MonitorHandle::spawn(
                m.input.to_string(),
                m.silence_db,
                m.silence_after,
                clock.clone(),
                Box::new(move || open_source(&spec, c.clone())),
            )
        });
        crate::daemon::run(cfg, clock, output, hangup, shutdown).await
    });
    match result {
        Ok(()) => Ok(crate::EXIT_OK),
        Err(e) => run_failed(e, lang, out),
    }
}

/// Says why the daemon stopped or did not start; the exit code.
fn run_failed(e: crate::daemon::RunError, lang: Lang, out: &mut dyn Write) -> std::io::Result<i32> {
    match e {
        e @ crate::daemon::RunError::AlreadyRunning { .. } => {
            writeln!(
                out,
                "cunxiang: {}: {e}",
                crate::i18n::Msg::SecondDaemonRefused.render(lang)
            )?;
            Ok(crate::EXIT_CONFIG)
        }
        e => {
            // The store is lost: say so on every channel a technician reads
            // (the log file may be on the very disk that failed).
            tracing::error!(error = %e, "the event store failed; stopping (nothing can be recorded)");
            writeln!(
                out,
                "cunxiang: {}: {e}",
                crate::i18n::Msg::StoreLostStopping.render(lang)
            )?;
            Ok(crate::EXIT_FINDINGS)
        }
    }
}

/// SIGHUP (the terminal or SSH session that started the daemon closed, or
/// `systemctl reload`) reloads the station instead of killing the daemon:
/// the handler is installed now, and its requests come on the returned
/// channel. Call inside a runtime context. None where there is no SIGHUP.
fn hangup_reloads() -> Option<tokio::sync::mpsc::Receiver<crate::daemon::Control>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut hup = signal(SignalKind::hangup()).ok()?;
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tokio::spawn(async move {
            while hup.recv().await.is_some() {
                tracing::info!("SIGHUP: reloading the station");
                if tx.send(crate::daemon::Control::Reload).await.is_err() {
                    return;
                }
            }
        });
        Some(rx)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Registers SIGINT/SIGTERM handlers now (Ctrl-C on Windows) and returns a
/// future that resolves on either. Call inside a runtime context.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let term = signal(SignalKind::terminate()).ok();
        let int = signal(SignalKind::interrupt()).ok();
        async move {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = wait(term) => {}
                _ = wait(int) => {}
            }
            tracing::info!("stop requested");
        }
    }
    #[cfg(not(unix))]
    {
        async move {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("stop requested");
        }
    }
}

/// The daemon of `station`, or a message saying it does not answer.
fn daemon_client(
    station: &Station,
    lang: Lang,
    err: &mut dyn Write,
) -> std::io::Result<Option<crate::cli::client::Client>> {
    let c = crate::cli::client::Client::find(station);
    if c.is_none() {
        writeln!(
            err,
            "{}",
            lang.pick(
                "播控程序没有在运行（先运行 cunxiang run）。",
                "the daemon is not running (start cunxiang run first)"
            )
        )?;
    }
    Ok(c)
}

/// This station's running daemon, checked to answer as itself; else the
/// exit code (the reason is written to `err`).
fn connected(
    station_dir: &Path,
    lang: Lang,
    err: &mut dyn Write,
) -> std::io::Result<Result<crate::cli::client::Client, i32>> {
    let station = Station::load(station_dir);
    let Some(c) = daemon_client(&station, lang, err)? else {
        return Ok(Err(crate::EXIT_FINDINGS));
    };
    match c.status(lang) {
        Ok(_) => Ok(Ok(c)),
        Err(e) => Ok(Err(client_error(&e, lang, err)?)),
    }
}

/// Prints a failed request to the daemon; returns the exit code.
fn client_error(
    e: &crate::cli::client::ClientError,
    lang: Lang,
    err: &mut dyn Write,
) -> std::io::Result<i32> {
    use crate::cli::client::ClientError;
    match e {
        ClientError::NotRunning { .. } => {
            writeln!(
                err,
                "{}: {e}",
                lang.pick(
                    "播控程序没有回应（没有运行？）",
                    "the daemon does not answer (not running?)"
                )
            )?;
            Ok(crate::EXIT_FINDINGS)
        }
        ClientError::Api {
            status,
            message,
            message_zh,
            ..
        } => {
            let m = if lang == Lang::Zh && !message_zh.is_empty() {
                message_zh
            } else {
                message
            };
            writeln!(err, "cunxiang: {m}")?;
            Ok(if (400..500).contains(status) {
                crate::EXIT_CONFIG
            } else {
                crate::EXIT_FINDINGS
            })
        }
    }
}

/// `cunxiang play NAME`: asks the running daemon to put a broadcast (by
/// name) or an audio file on air now; logged with trigger `manual`.
///
/// # Errors
/// Only when writing fails.
pub fn play(
    station_dir: &Path,
    lang: Lang,
    name: &str,
    priority: Option<&str>,
    repeat: Option<u32>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> std::io::Result<i32> {
    let c = match connected(station_dir, lang, err)? {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let mut body = serde_json::json!({ "name": name });
    if let Some(p) = priority {
        body["priority"] = p.into();
    }
    if let Some(r) = repeat {
        body["repeat"] = r.into();
    }
    match c.post("/api/play", &body) {
        Ok(v) => {
            let name = v["broadcast"].as_str().unwrap_or_default();
            let prio = word(lang, v["priority"].as_str().unwrap_or_default());
            let text = match (v["state"].as_str().unwrap_or_default(), lang) {
                ("playing", Lang::Zh) => format!("已开始播出「{name}」（{prio}）"),
                ("playing", Lang::En) => format!("\"{name}\" is on air ({prio})"),
                ("interrupting", Lang::Zh) => {
                    format!("正在打断当前节目，马上播出「{name}」（{prio}）")
                }
                ("interrupting", Lang::En) => {
                    format!("cutting the current play: \"{name}\" goes on air now ({prio})")
                }
                (_, Lang::Zh) => format!("「{name}」（{prio}）已排队，等当前节目播完"),
                (_, Lang::En) => {
                    format!("\"{name}\" ({prio}) is queued after the current play")
                }
            };
            writeln!(out, "{text}")?;
            Ok(crate::EXIT_OK)
        }
        Err(e) => client_error(&e, lang, err),
    }
}

/// `cunxiang stop`: asks the running daemon to stop the play on air.
///
/// # Errors
/// Only when writing fails.
pub fn stop(
    station_dir: &Path,
    lang: Lang,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> std::io::Result<i32> {
    let c = match connected(station_dir, lang, err)? {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    match c.post("/api/stop", &serde_json::json!({})) {
        Ok(v) => {
            match v["stopped"].as_str() {
                Some(n) => writeln!(
                    out,
                    "{}",
                    match lang {
                        Lang::Zh => format!("已停播「{n}」"),
                        Lang::En => format!("stopped \"{n}\""),
                    }
                )?,
                None => writeln!(
                    out,
                    "{}",
                    lang.pick("现在没有在播。", "nothing was playing")
                )?,
            }
            Ok(crate::EXIT_OK)
        }
        Err(e) => client_error(&e, lang, err),
    }
}

/// Output format of `outages` and `report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LedgerFormat {
    Table,
    Csv,
    Json,
    /// JSON records with emergency-broadcast state codes, for a county platform.
    Gdj,
}

/// What to say of a store that cannot be read: damaged, or unreadable.
fn store_msg(e: &crate::store::StoreError) -> crate::i18n::Msg {
    if e.is_damage() {
        crate::i18n::Msg::StoreDamaged
    } else {
        crate::i18n::Msg::StoreUnreadable
    }
}

/// Says the database cannot be read (never "nothing recorded"); exit 1.
fn store_failed(
    e: &crate::store::StoreError,
    lang: Lang,
    err: &mut dyn Write,
) -> std::io::Result<i32> {
    writeln!(err, "cunxiang: {}: {e}", store_msg(e).render(lang))?;
    Ok(crate::EXIT_FINDINGS)
}

/// The station's store, for reading: `Ok(None)` when there is none yet
/// (never run, or being created this instant).
///
/// # Errors
/// When a database exists but cannot be read, or is missing while a
/// daemon runs on the station (deleted under it): callers must show that
/// as a fault, never as "nothing recorded".
pub fn open_store(
    station: &Station,
) -> Result<Option<crate::store::Store>, crate::store::StoreError> {
    use crate::store::{Store, StoreError};
    match Store::open_existing(&station.data_dir()) {
        Ok(s) => Ok(Some(s)),
        // The running daemon noted its folder once its store existed:
        // missing now, it was deleted.
        Err(StoreError::Missing { path }) if matches!(station.running, Some(Some(_))) => {
            Err(StoreError::MissingWhileRunning { path })
        }
        Err(StoreError::Missing { .. } | StoreError::NotReady { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

fn write_csv(out: &mut dyn Write, header: &[&str], rows: &[Vec<String>]) -> std::io::Result<()> {
    // The writer's own I/O error, kind kept: a reader that closed the pipe
    // (`| head -1`) is a quiet end, not a failure.
    fn io(e: csv::Error) -> std::io::Error {
        match e.into_kind() {
            csv::ErrorKind::Io(e) => e,
            k => std::io::Error::other(format!("{k:?}")),
        }
    }
    out.write_all(b"\xEF\xBB\xBF")?;
    let mut w = csv::Writer::from_writer(out);
    w.write_record(header).map_err(io)?;
    for r in rows {
        w.write_record(r).map_err(io)?;
    }
    w.flush()
}

fn human_duration(d: TimeDelta) -> String {
    crate::config::tomlread::show_duration(Duration::from_secs(d.num_seconds().max(0) as u64))
}

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
    use crate::views::ledger;
    let station = Station::load(station_dir);
    let rules = Rules::from_config(&station.config);
    let since = match since.map(|s| parse_since(s, now, &rules)).transpose() {
        Ok(s) => s.flatten(),
        Err(m) => {
            writeln!(err, "cunxiang: {m}")?;
            return Ok(crate::EXIT_CONFIG);
        }
    };
    let rows = match open_store(&station).and_then(|s| match s {
        Some(s) => s.outages(open_only, since),
        None => Ok(Vec::new()),
    }) {
        Ok(r) => r,
        Err(e) => return store_failed(&e, lang, err),
    };
    let tz = rules.tz;
    let show = |t: Option<DateTime<Utc>>| t.map(|t| text::show_instant(t, tz)).unwrap_or_default();
    let rfc = |t: Option<DateTime<Utc>>| t.map(|t| text::rfc3339_ms(t, tz));
    match format {
        LedgerFormat::Json | LedgerFormat::Gdj => {
            let v: Vec<serde_json::Value> = rows
                .iter()
                .map(|o| {
                    let dur = (o.ended_at.unwrap_or(now) - o.started_at).num_seconds();
                    if format == LedgerFormat::Gdj {
                        serde_json::json!({
                            "id": o.id, "type": o.kind, "subject": o.subject, "state": ledger::outage_state(o),
                            "start": rfc(Some(o.started_at)), "end": rfc(o.ended_at), "duration_s": dur,
                            "detail": o.detail, "lost": o.lost, "station": station.config.name,
                        })
                    } else {
                        serde_json::json!({
                            "id": o.id, "kind": o.kind, "subject": o.subject, "started_at": rfc(Some(o.started_at)),
                            "ended_at": rfc(o.ended_at), "duration_s": dur, "open": o.ended_at.is_none(), "fault": o.kind.is_fault(),
                            "detail": o.detail, "lost": o.lost, "advice": ledger::advice(lang, o.kind),
                        })
                    }
                })
                .collect();
            writeln!(out, "{}", serde_json::to_string_pretty(&v).expect("json"))?;
        }
        LedgerFormat::Csv => {
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
            let data: Vec<Vec<String>> = rows
                .iter()
                .map(|o| {
                    vec![
                        o.id.to_string(),
                        ledger::kind_word(lang, o.kind).to_string(),
                        o.subject.clone(),
                        show(Some(o.started_at)),
                        show(o.ended_at),
                        human_duration(o.ended_at.unwrap_or(now) - o.started_at),
                        o.lost.to_string(),
                        o.detail.clone().unwrap_or_default(),
                        ledger::advice(lang, o.kind).to_string(),
                    ]
                })
                .collect();
            write_csv(out, &header, &data)?;
        }
        LedgerFormat::Table => {
            if open_only {
                writeln!(
                    out,
                    "{}",
                    lang.pick("待维修清单（未恢复的故障）", "Repair list (open faults)")
                )?;
            }
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
            for o in &rows {
                t.add_row(vec![
                    ledger::kind_word(lang, o.kind).to_string(),
                    o.subject.clone(),
                    show(Some(o.started_at)),
                    o.ended_at.map_or_else(
                        || lang.pick("未恢复", "open").to_string(),
                        |e| show(Some(e)),
                    ),
                    human_duration(o.ended_at.unwrap_or(now) - o.started_at),
                    o.lost.to_string(),
                    ledger::advice(lang, o.kind).to_string(),
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
            )?;
        }
    }
    Ok(crate::EXIT_OK)
}

/// The years a report may start in (dates far outside overflow the
/// calendar arithmetic).
pub const REPORT_YEARS: std::ops::RangeInclusive<i32> = 1970..=2200;

/// One report row per local day from `first`, `days` days long: planned
/// (from the schedules), the as-run log's outcomes, fault minutes and
/// availability.
pub fn day_reports(
    station: &Station,
    store: Option<&crate::store::Store>,
    now: DateTime<Utc>,
    first: NaiveDate,
    days: i64,
) -> Vec<crate::views::ledger::DayReport> {
    let rules = Rules::from_config(&station.config);
    let start = check::day_start(&rules, first);
    let end = check::day_start(&rules, first + TimeDelta::days(days));
    let plays = store
        .and_then(|s| {
            // Counted and measured only: no names, so a long name on a
            // busy day costs nothing here.
            s.plays(&crate::store::PlayFilter {
                since: Some(start),
                until: Some(end),
                bare: true,
                ..Default::default()
            })
            .ok()
        })
        .unwrap_or_default();
    let outages = store
        .and_then(|s| s.outages(false, Some(start)).ok())
        .unwrap_or_default();
    let broadcasts = station.broadcasts();
    let records_from = store.and_then(|s| s.first_record().ok().flatten());
    (0..days)
        .map(|n| {
            let d = first + TimeDelta::days(n);
            let (a, b) = (
                check::day_start(&rules, d),
                check::day_start(&rules, d + TimeDelta::days(1)),
            );
            let planned = plan::slots(&broadcasts, &rules, a, b).len();
            let mut r =
                crate::views::ledger::day_report(d, a, b.min(end), now, planned, &plays, &outages);
            // A day over before the station's records begin has no data.
            if records_from.is_none_or(|f| b <= f) {
                r.availability = None;
            }
            r
        })
        .collect()
}

/// `cunxiang report`: per day planned vs aired vs failed vs missed, minutes
/// on air, fault minutes by kind, availability.
///
/// # Errors
/// Only when writing fails.
pub fn report(
    station_dir: &Path,
    now: DateTime<Utc>,
    lang: Lang,
    from: Option<NaiveDate>,
    days: u32,
    format: LedgerFormat,
    out: &mut dyn Write,
) -> std::io::Result<i32> {
    use crate::views::ledger;
    let station = Station::load(station_dir);
    let rules = Rules::from_config(&station.config);
    let today = now.with_timezone(&rules.tz).date_naive();
    let days = days.max(1) as i64;
    let first = from.unwrap_or(today - TimeDelta::days(days - 1));
    if !(REPORT_YEARS).contains(&chrono::Datelike::year(&first)) {
        writeln!(
            out,
            "cunxiang: --from {first}: give a date between 1970 and 2200"
        )?;
        return Ok(crate::EXIT_CONFIG);
    }
    let store = match open_store(&station) {
        Ok(s) => s,
        Err(e) => return store_failed(&e, lang, &mut std::io::stderr()),
    };
    let reports = day_reports(&station, store.as_ref(), now, first, days);
    let pct = |a: Option<f64>| a.map(|a| format!("{:.2}%", a * 100.0)).unwrap_or_default();
    let faults = |r: &ledger::DayReport| -> String {
        r.fault_minutes
            .iter()
            .map(|(k, m)| format!("{}:{m}", k))
            .collect::<Vec<_>>()
            .join(" ")
    };
    match format {
        LedgerFormat::Json | LedgerFormat::Gdj => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&reports).expect("json")
        )?,
        LedgerFormat::Csv => {
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
                    ]
                })
                .collect();
            write_csv(out, &header, &data)?;
        }
        LedgerFormat::Table => {
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
                l("故障分钟", "fault min"),
                l("可用率", "availability"),
            ]);
            for r in &reports {
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
                    faults(r),
                    pct(r.availability),
                ]);
            }
            writeln!(
                out,
                "{} · {}",
                lang.pick("村响 播出报表", "cunxiang report"),
                station.config.name
            )?;
            writeln!(out, "{t}")?;
        }
    }
    Ok(crate::EXIT_OK)
}

/// The station's state as JSON: what `status --json`, `/api/status` and
/// the dashboard show. `live` is the running daemon's own view (now
/// playing with progress, queue, next firings, current errors); without it
/// the store and the schedule files tell what they can.
pub fn status_value(
    station: &Station,
    now: DateTime<Utc>,
    lang: Lang,
    live: Option<&crate::daemon::Live>,
) -> serde_json::Value {
    use crate::store::keys;
    use crate::views::ledger;
    use serde_json::json;
    let rules = Rules::from_config(&station.config);
    let tz = rules.tz;
    // A store that cannot be read is a fault shown as such, never "all
    // clear": every failed read is kept and makes `needs_repair`.
    let store_error = std::cell::RefCell::new(None::<String>);
    let fail = |e: crate::store::StoreError| {
        store_error
            .borrow_mut()
            .get_or_insert_with(|| format!("{}: {e}", store_msg(&e).render(lang)));
    };
    let store = open_store(station).unwrap_or_else(|e| {
        fail(e);
        None
    });
    let read = |f: &dyn Fn(&crate::store::Store) -> Result<(), crate::store::StoreError>| {
        if let Some(s) = &store {
            if let Err(e) = f(s) {
                fail(e);
            }
        }
    };
    let meta = |k: &str| {
        let v = std::cell::RefCell::new(None);
        read(&|s| {
            *v.borrow_mut() = s.meta(k)?;
            Ok(())
        });
        v.into_inner()
    };
    let hb = meta(keys::HEARTBEAT)
        .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
        .map(|t| t.with_timezone(&Utc));
    let clean = meta(keys::CLEAN_STOP).is_some();
    let every = meta(keys::HEARTBEAT_EVERY)
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(crate::daemon::HEARTBEAT.as_millis() as i64);
    let down = live.is_none()
        && !clean
        && hb.is_some_and(|h| now - h > TimeDelta::milliseconds(3 * every));
    let state = match (live.is_some(), hb, clean, down) {
        (true, _, _, _) => "running",
        // Nothing can be read: not "never ran".
        (_, None, _, _) if store_error.borrow().is_some() => "unknown",
        (_, None, _, _) => "never_run",
        (_, _, true, _) => "stopped",
        (_, _, _, true) => "down",
        _ => "running",
    };
    let mut open = {
        let v = std::cell::RefCell::new(Vec::new());
        read(&|s| {
            *v.borrow_mut() = s.outages(true, None)?;
            Ok(())
        });
        v.into_inner()
    };
    // The daemon's records waiting in memory for a database that cannot
    // be written: a `store` fault the file itself cannot show yet.
    if let Some(h) = live.and_then(|l| l.store.as_ref()).and_then(|s| s.held()) {
        let detail = format!(
            "{} {}: {}",
            h.rows,
            lang.pick(
                "条记录暂存在内存中，尚未写入数据库",
                "records held in memory, not yet in the database"
            ),
            h.error
        );
        open.insert(0, h.outage(detail));
    }
    let rfc = |t: DateTime<Utc>| text::rfc3339(t, tz);
    let now_playing = match live {
        Some(l) => l.now_playing.as_ref().map(|p| {
            let item = p.items.get(p.index);
            json!({
                "broadcast": p.broadcast,
                "priority": p.priority,
                "trigger": p.trigger,
                "scheduled_at": rfc(p.scheduled_at),
                "item": item.map(|i| &i.0),
                "item_index": p.index,
                "items": p.items.len(),
                "position_s": p.position(now).as_secs_f64(),
                "duration_s": p.total().as_secs_f64(),
                "cut_by": p.cut_by,
            })
        }),
        None if state == "running" => store
            .as_ref()
            .and_then(|s| {
                s.plays(&crate::store::PlayFilter {
                    status: Some(crate::store::Status::Playing),
                    ..Default::default()
                })
                .ok()
            })
            .and_then(|v| v.into_iter().next())
            .map(|p| {
                json!({
                    "broadcast": p.broadcast,
                    "priority": p.priority,
                    "trigger": p.trigger,
                    "scheduled_at": rfc(p.scheduled_at),
                    "started_at": p.started_at.map(rfc),
                })
            }),
        None => None,
    };
    let upcoming = |v: &[(String, DateTime<Utc>, crate::config::schedule::Priority)]| {
        v.iter()
            .map(|(b, at, p)| json!({"broadcast": b, "scheduled_at": rfc(*at), "priority": p}))
            .collect::<Vec<_>>()
    };
    let next = match live {
        Some(l) => upcoming(&l.next(now, 5)),
        None => upcoming(
            &plan::upcoming(&station.broadcasts(), &rules, now, 5)
                .into_iter()
                .map(|f| (f.broadcast, f.scheduled_at, f.priority))
                .collect::<Vec<_>>(),
        ),
    };
    let errors: Vec<String> = match live {
        Some(l) => l.errors.iter().map(|d| d.render(lang)).collect(),
        None if store.is_some() && state == "running" => meta(keys::SCHEDULE_ERRORS)
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default(),
        None => station
            .diagnostics()
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.render(lang))
            .collect(),
    };
    let warnings: Vec<serde_json::Value> = meta(keys::WARNINGS)
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    let mut warnings: Vec<String> = warnings
        .iter()
        .filter(|w| {
            w["scheduled_at"]
                .as_str()
                .is_some_and(|t| t >= crate::store::ts(now).as_str())
        })
        .filter_map(|w| w[lang.pick("zh", "en")].as_str().map(str::to_string))
        .collect();
    // An edit that waits for a restart (the data folder) is said here,
    // where the technician looks.
    warnings.extend(
        station
            .station_diags
            .iter()
            .filter(|d| matches!(d.msg, crate::i18n::Msg::DataFolderChanged { .. }))
            .map(|d| d.render(lang)),
    );
    let store_error = store_error.into_inner();
    // A file off air is broadcasts lost: schedule and station errors need
    // repair as much as an open outage does.
    let needs_repair = down
        || store_error.is_some()
        || !errors.is_empty()
        || open.iter().any(|o| o.kind.is_fault());
    let state_code = if needs_repair {
        ledger::state::FAULT
    } else if now_playing.is_some() {
        ledger::state::BROADCASTING
    } else if state == "stopped" {
        ledger::state::STOPPED
    } else {
        ledger::state::NORMAL
    };
    json!({
        "station": station.config.name,
        "timezone": tz.name(),
        "version": env!("CARGO_PKG_VERSION"),
        "now": rfc(now),
        "state": state,
        "state_code": state_code,
        "live": live.is_some(),
        "running_since": live.and_then(|l| l.since).map(rfc),
        "instance": live.map(|l| l.instance.clone()),
        "output": live.map(|l| l.output.clone()),
        "monitor": live.and_then(|l| l.monitor.as_ref()).map(|(name, h)| json!({
            "input": name,
            "last_db": h.last_db.map(|d| (d * 10.0).round() / 10.0),
            "last_at": h.last_at.map(rfc),
            "last_heard": h.last_heard.map(rfc),
            "error": h.error,
        })),
        "last_heartbeat": hb.map(rfc),
        "now_playing": now_playing,
        "queued": live.map(|l| upcoming(&l.queued)).unwrap_or_default(),
        "open_outages": open.iter().map(|o| json!({
            "id": o.id, "kind": o.kind, "subject": o.subject, "since": rfc(o.started_at),
            "lost": o.lost, "fault": o.kind.is_fault(), "detail": o.detail,
            "what": ledger::kind_word(lang, o.kind), "advice": ledger::advice(lang, o.kind),
        })).collect::<Vec<_>>(),
        "next": next,
        "schedule_errors": errors,
        "warnings": warnings,
        "store_error": store_error,
        "needs_repair": needs_repair,
    })
}

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
    let v = crate::cli::client::Client::find(&station)
        .and_then(|c| c.status(lang).ok())
        .unwrap_or_else(|| status_value(&station, now, lang, None));
    let code = if v["needs_repair"].as_bool() == Some(true) {
        crate::EXIT_FINDINGS
    } else {
        crate::EXIT_OK
    };
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&v).expect("json"))?;
    } else {
        render_status(&v, lang, out)?;
    }
    Ok(code)
}

/// `2026-12-01 07:30:00 +08:00` from the RFC 3339 text in a status value.
fn shown(v: &serde_json::Value) -> String {
    v.as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.format("%Y-%m-%d %H:%M:%S %:z").to_string())
        .unwrap_or_default()
}

/// How long ago an RFC 3339 instant in a status value was, before `now`.
fn ago(v: &serde_json::Value, now: &serde_json::Value) -> String {
    let p = |v: &serde_json::Value| {
        v.as_str()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
    };
    match (p(v), p(now)) {
        (Some(a), Some(n)) => human_duration(n.with_timezone(&Utc) - a.with_timezone(&Utc)),
        _ => String::new(),
    }
}

/// The text form of a status value.
fn render_status(v: &serde_json::Value, lang: Lang, out: &mut dyn Write) -> std::io::Result<()> {
    let s = |k: &str| v[k].as_str().unwrap_or_default();
    writeln!(
        out,
        "{} · {} ({})",
        lang.pick("村响 状态", "cunxiang status"),
        s("station"),
        s("timezone")
    )?;
    let hb = &v["last_heartbeat"];
    let hb_text = if hb.is_null() {
        lang.pick("无", "none").to_string()
    } else {
        format!(
            "{} ({} {})",
            shown(hb),
            ago(hb, &v["now"]),
            lang.pick("前", "ago")
        )
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
        match (s("state"), lang) {
            ("never_run", Lang::Zh) => "还没有运行过 cunxiang run",
            ("never_run", Lang::En) => "cunxiang run has never run here",
            ("unknown", Lang::Zh) => "不知道（数据库读不出来）",
            ("unknown", Lang::En) => "unknown (the database cannot be read)",
            ("stopped", Lang::Zh) => "已被人为停止",
            ("stopped", Lang::En) => "stopped by a person",
            ("down", Lang::Zh) => "没有在运行（停电、死机或被强行结束）——请检查广播电脑",
            ("down", Lang::En) =>
                "NOT running (power cut, crash or killed): check the broadcast PC",
            (_, Lang::Zh) => "运行中",
            (_, Lang::En) => "running",
        }
    )?;
    let m = &v["monitor"];
    if !m.is_null() {
        let level = m["last_db"]
            .as_f64()
            .map(|d| format!("{d:.1} dBFS"))
            .unwrap_or_else(|| lang.pick("还没测量", "not measured yet").to_string());
        match m["error"].as_str() {
            Some(e) => writeln!(
                out,
                "{}: {} — {}: {e}",
                lang.pick("监听输入", "monitor input"),
                m["input"].as_str().unwrap_or_default(),
                lang.pick("故障", "failing")
            )?,
            None => writeln!(
                out,
                "{}: {} — {}: {level}",
                lang.pick("监听输入", "monitor input"),
                m["input"].as_str().unwrap_or_default(),
                lang.pick("最近电平", "last level")
            )?,
        }
    }
    let p = &v["now_playing"];
    if !p.is_null() {
        let name = p["broadcast"].as_str().unwrap_or_default();
        let prio = crate::i18n::word(lang, p["priority"].as_str().unwrap_or_default());
        let trig = crate::i18n::trigger_word(lang, p["trigger"].as_str().unwrap_or_default());
        match (p["position_s"].as_f64(), p["duration_s"].as_f64()) {
            (Some(pos), Some(total)) => {
                let secs = |x: f64| human_duration(TimeDelta::seconds(x as i64));
                writeln!(
                    out,
                    "{}: {name}（{prio}，{trig}）{} / {}，{} {}",
                    lang.pick("正在播出", "now playing"),
                    secs(pos),
                    secs(total),
                    lang.pick("当前", "item"),
                    p["item"].as_str().unwrap_or_default()
                )?;
            }
            _ => writeln!(
                out,
                "{}: {name}（{prio}，{trig}）",
                lang.pick("正在播出", "now playing")
            )?,
        }
    }
    for q in v["queued"].as_array().into_iter().flatten() {
        writeln!(
            out,
            "{}: {}（{}）",
            lang.pick("等待播出", "waiting"),
            q["broadcast"].as_str().unwrap_or_default(),
            crate::i18n::word(lang, q["priority"].as_str().unwrap_or_default())
        )?;
    }
    let open = v["open_outages"].as_array().cloned().unwrap_or_default();
    if let Some(e) = v["store_error"].as_str() {
        // The ledger cannot be read: never "nothing to repair".
        writeln!(out, "{}: {e}", lang.pick("待维修", "Repair list"))?;
    } else if open.is_empty() {
        writeln!(out, "{}", lang.pick("待维修：无", "Repair list: nothing"))?;
    } else {
        writeln!(out, "{}", lang.pick("待维修：", "Repair list:"))?;
        for o in &open {
            writeln!(
                out,
                "  [{}] {} {} {}{} {} {} — {}",
                o["what"].as_str().unwrap_or_default(),
                o["subject"].as_str().unwrap_or_default(),
                lang.pick("自", "since"),
                shown(&o["since"]),
                match lang {
                    Lang::Zh => format!("（{}）", ago(&o["since"], &v["now"])),
                    Lang::En => format!(" ({})", ago(&o["since"], &v["now"])),
                },
                lang.pick("损失节目", "lost"),
                o["lost"],
                o["advice"].as_str().unwrap_or_default()
            )?;
        }
    }
    writeln!(out, "{}", lang.pick("接下来播出：", "Next up:"))?;
    for f in v["next"].as_array().into_iter().flatten() {
        writeln!(
            out,
            "  {}  {}",
            shown(&f["scheduled_at"]),
            f["broadcast"].as_str().unwrap_or_default()
        )?;
    }
    for w in v["warnings"].as_array().into_iter().flatten() {
        writeln!(
            out,
            "{}{}",
            lang.pick("警告：", "warning: "),
            w.as_str().unwrap_or_default()
        )?;
    }
    for e in v["schedule_errors"].as_array().into_iter().flatten() {
        writeln!(out, "{}", e.as_str().unwrap_or_default())?;
    }
    Ok(())
}
