//! `cunxiang run`: starts the daemon in the foreground, with what a
//! newcomer wants to see first (output, as-run log, next firings, the
//! dashboard's address) and the signal handling of a service. It owns the
//! process's runtime and signals; it must not hold any of the daemon's
//! state (that is `daemon::run`'s) nor serve requests (that is `web`'s).

use crate::config::load::Station;
use crate::config::station::OutputSpec;
use crate::i18n::{Lang, Msg};
use crate::plan::{self, Rules};
use crate::views::text;
use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::time::Duration;

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
    listen: Option<SocketAddr>,
    watch: bool,
    heartbeat: Duration,
    store_alarm: Duration,
    out: &mut dyn Write,
) -> std::io::Result<i32> {
    let station = Station::load(station_dir);
    let listen = listen.unwrap_or(station.config.listen);
    let spec = match settings(&station, listen, output, lang, out)? {
        Ok(spec) => spec,
        Err(code) => return Ok(code),
    };
    // Refuse a second daemon before printing anything else (the daemon
    // takes the lock itself; this early look only saves a confusing header).
    if let Err(e) = crate::daemon::lock_station(&station.dir, &station.data_dir()) {
        return run_failed(e, lang, out);
    }
    let clock = crate::clock::SystemClock::new();
    header(
        &station,
        &spec,
        crate::clock::Clock::now(clock.as_ref()),
        lang,
        out,
    )?;
    let listener = bind(listen, lang, out)?;
    writeln!(
        out,
        "{}",
        lang.pick("按 Ctrl-C 停止。", "Press Ctrl-C to stop.")
    )?;
    out.flush()?;
    let parts = Parts {
        station,
        spec,
        listener,
        watch,
        heartbeat,
        store_alarm,
    };
    match serve(station_dir, parts, clock)? {
        Ok(()) => Ok(crate::EXIT_OK),
        Err(e) => run_failed(e, lang, out),
    }
}

/// The output to use, or the exit code after saying why there is none
/// (or why the control address needs a token).
fn settings(
    station: &Station,
    listen: SocketAddr,
    output: Option<&str>,
    lang: Lang,
    out: &mut dyn Write,
) -> std::io::Result<Result<OutputSpec, i32>> {
    if !listen.ip().is_loopback() && station.config.token.is_none() {
        let m = Msg::ListenNeedsToken {
            value: listen.to_string(),
        };
        writeln!(out, "{}", m.render(lang))?;
        return Ok(Err(crate::EXIT_CONFIG));
    }
    Ok(Ok(match output {
        Some(s) => match OutputSpec::parse(s) {
            Some(o) => o,
            None => {
                let m = Msg::BadOutput {
                    value: s.to_string(),
                };
                writeln!(out, "{}", m.render(lang))?;
                return Ok(Err(crate::EXIT_CONFIG));
            }
        },
        None => station.config.output.clone(),
    }))
}

/// The first lines: station, output, as-run log, the errors and fallbacks
/// of the station files, the next firings, a missing sound card.
fn header(
    station: &Station,
    spec: &OutputSpec,
    now: chrono::DateTime<chrono::Utc>,
    lang: Lang,
    out: &mut dyn Write,
) -> std::io::Result<()> {
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
    if matches!(spec, OutputSpec::Rodio(_)) && crate::sound::output::list_devices().is_empty() {
        writeln!(out, "{}", lang.pick(
            "警告：没有找到声卡。程序会继续运行并记录每次播出失败；接好声卡后会自动重试。",
            "warning: no sound device found; cunxiang keeps running, logs each failed play and retries the device at every firing."
        ))?;
    }
    Ok(())
}

/// The control address, or a warning that there is none (broadcasting
/// goes on without the dashboard).
fn bind(
    listen: SocketAddr,
    lang: Lang,
    out: &mut dyn Write,
) -> std::io::Result<Option<TcpListener>> {
    Ok(match TcpListener::bind(listen) {
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
    })
}

/// What the daemon is started with, once the header is out.
struct Parts {
    station: Station,
    spec: OutputSpec,
    listener: Option<TcpListener>,
    watch: bool,
    heartbeat: Duration,
    store_alarm: Duration,
}

/// Runs the daemon on its runtime until a stop signal.
fn serve(
    station_dir: &Path,
    p: Parts,
    clock: std::sync::Arc<crate::clock::SystemClock>,
) -> std::io::Result<Result<(), crate::daemon::RunError>> {
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
        let output = crate::sound::output::from_spec(&p.spec, clock.clone(), station_dir);
        let mut cfg = crate::daemon::RunConfig::new(station_dir);
        cfg.output_factory = Some({
            let (spec, clock, dir) = (p.spec.clone(), clock.clone(), station_dir.to_path_buf());
            let clock: std::sync::Arc<dyn crate::clock::Clock> = clock;
            Box::new(move || crate::sound::output::from_spec(&spec, clock.clone(), &dir))
        });
        cfg.watch = p.watch;
        cfg.heartbeat = p.heartbeat.max(Duration::from_millis(100));
        cfg.store_alarm = p.store_alarm;
        cfg.face = p.listener.map(|l| {
            let c = &p.station.config;
            crate::web::http::face(l, c.token.clone(), c.read_token.clone())
        });
        cfg.monitor = p.station.config.monitor.as_ref().map(|m| {
            use crate::config::station::MonitorSpec;
            use crate::sound::monitor::{open_source, MonitorHandle};
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
    Ok(result)
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
