//! The `cunxiang` binary: parses arguments and calls the library. It must
//! not hold logic a test would want (that lives in the library).

use chrono::NaiveDate;
use clap::{Parser, Subcommand};
use cunxiang::cli::{self, CheckFormat, PlanFormat, PlanOpts};
use cunxiang::i18n::Lang;
use std::path::PathBuf;

/// 村响 — village emergency-broadcast daemon / 村村响应急广播播控程序
#[derive(Parser, Debug)]
#[command(name = "cunxiang", version, about)]
struct Cli {
    /// Station folder (holds cunxiang.toml, audio/, schedules/) / 广播站文件夹
    #[arg(long, global = true, env = "CUNXIANG_STATION", default_value = ".")]
    station: PathBuf,
    /// Language of messages: zh (default) or en / 提示语言
    #[arg(long, global = true)]
    lang: Option<String>,
    /// More log output (-v, -vv)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check the station, every schedule and every audio file / 检查节目单和音频文件
    Check {
        #[arg(long, value_enum, default_value = "text")]
        format: CheckFormat,
        /// Decode every audio file to the end (slower; finds truncated files)
        #[arg(long)]
        deep: bool,
        /// Also connect to each relayed source once, now (never by default)
        #[arg(long)]
        sources: bool,
    },
    /// Show every firing in a window / 列出将要播出的节目
    Plan {
        /// First day, YYYY-MM-DD (default: today)
        #[arg(long)]
        from: Option<chrono::NaiveDate>,
        /// Number of days, 1 to 366 (a year); written as planned, so memory stays flat / 天数，1 到 366
        #[arg(long, default_value_t = 1, value_parser = plan_days)]
        days: u32,
        #[arg(long, value_enum, default_value = "table")]
        format: PlanFormat,
    },
    /// Run the daemon: play every broadcast on time / 开始播控
    Run {
        /// Output: rodio, rodio:NAME, null, capture:PATH (default: [output] device)
        #[arg(long)]
        output: Option<String>,
        /// Do not watch schedule files for changes
        #[arg(long)]
        no_watch: bool,
        /// Heartbeat interval (a power cut is a silence longer than two)
        #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
        heartbeat: std::time::Duration,
        /// Records the database cannot take yet are held in memory; held
        /// longer than this, they are said loudly (and again each time)
        #[arg(long, default_value = "5m", value_parser = humantime::parse_duration)]
        store_alarm: std::time::Duration,
        /// Dashboard/API address (default: [control] listen, 127.0.0.1:7878)
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
    },
    /// Put a broadcast or an audio file on air now (the daemon must run) / 立即插播
    Play {
        /// A broadcast's name, or a file under the audio folder
        #[arg(required_unless_present = "relay")]
        name: Option<String>,
        /// Relay a live source now instead: http://… or line-in[:DEVICE]
        #[arg(long, conflicts_with = "name", requires = "length")]
        relay: Option<String>,
        /// How long to relay (30m, 1h)
        #[arg(long = "for", value_name = "DURATION")]
        length: Option<String>,
        /// normal, important or emergency (emergency cuts what is on air)
        #[arg(long)]
        priority: Option<String>,
        /// How many times to play the files
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=20))]
        repeat: Option<u32>,
    },
    /// Read a typed notice aloud now (the daemon must run), or into a WAV file / 文字广播
    Say {
        /// The notice, in Chinese (at most 1000 characters)
        text: String,
        /// normal, important or emergency (emergency cuts what is on air)
        #[arg(long)]
        priority: Option<String>,
        /// How many times to read it
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=20))]
        repeat: Option<u32>,
        /// Only read it into this WAV file (no daemon; nothing goes on air)
        #[arg(long, value_name = "FILE", conflicts_with_all = ["priority", "repeat"])]
        wav: Option<std::path::PathBuf>,
    },
    /// Stop the broadcast on air (the daemon keeps running) / 停止当前播出
    Stop,
    /// Show the as-run log / 播出记录
    Log {
        /// How far back: 2d, 12h, a date (2026-12-01) or all
        #[arg(long, default_value = "1d")]
        since: String,
        /// Only rows with this status
        #[arg(long, value_enum)]
        status: Option<cunxiang::store::Status>,
        #[arg(long, value_enum, default_value = "table")]
        format: cli::LogFormat,
    },
    /// The outage ledger; --open is the repair list / 故障记录与待维修清单
    Outages {
        /// Only open faults (the repair list)
        #[arg(long)]
        open: bool,
        /// How far back: 2d, 12h, a date or all
        #[arg(long)]
        since: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: cli::LedgerFormat,
    },
    /// Per-day report: planned, aired, failed, missed, availability / 播出报表
    Report {
        /// First day, YYYY-MM-DD (default: N-1 days ago)
        #[arg(long)]
        from: Option<chrono::NaiveDate>,
        #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=366))]
        days: u32,
        #[arg(long, value_enum, default_value = "table")]
        format: cli::LedgerFormat,
    },
    /// A county's month per village from its Prometheus: online, plays, availability, fault minutes (CSV with BOM) / 县级月报
    CountyReport {
        /// The county's Prometheus, e.g. http://10.0.0.5:9090
        #[arg(long)]
        prometheus: String,
        /// The month, YYYY-MM
        #[arg(long, value_parser = month)]
        month: NaiveDate,
        /// The villages' time zone (their day ends)
        #[arg(long, default_value = "Asia/Shanghai")]
        timezone: chrono_tz::Tz,
        /// A file holding a bearer token for Prometheus, if it needs one
        #[arg(long)]
        token_file: Option<std::path::PathBuf>,
        /// JSON instead of CSV
        #[arg(long)]
        json: bool,
    },
    /// The county's view as one static HTML page: townships, failing villages longest first / 县级监控页面
    CountyPage {
        /// The county's Prometheus, e.g. http://10.0.0.5:9090
        #[arg(long)]
        prometheus: String,
        /// The villages' time zone
        #[arg(long, default_value = "Asia/Shanghai")]
        timezone: chrono_tz::Tz,
        /// A file holding a bearer token for Prometheus, if it needs one
        #[arg(long)]
        token_file: Option<std::path::PathBuf>,
    },
    /// Live state from the daemon (or the store); exit 1 when something needs repair / 状态
    Status {
        #[arg(long)]
        json: bool,
    },
    /// List sound output devices (for [output] device = "rodio:NAME") / 列出声卡
    Devices,
}

/// A bearer token kept in a file (`--token-file`), trimmed.
fn token_from(file: Option<PathBuf>) -> Option<String> {
    file.and_then(|f| std::fs::read_to_string(f).ok())
        .map(|t| t.trim().to_string())
}

/// `--month YYYY-MM` (its first day).
fn month(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(&format!("{}-01", s.trim()), "%Y-%m-%d")
        .map_err(|_| format!("月份请写成 2026-12 这样 / write the month like 2026-12: {s:?}"))
}

/// `plan --days`: 1 to [`cli::PLAN_MAX_DAYS`]. The refusal is in both
/// languages: `--lang` is not known while clap parses.
fn plan_days(s: &str) -> Result<u32, String> {
    match s.trim().parse::<u32>() {
        Ok(n) if (1..=cli::PLAN_MAX_DAYS).contains(&n) => Ok(n),
        _ => {
            let m = cunxiang::i18n::Msg::PlanDaysOutOfRange {
                value: s.to_string(),
                max: cli::PLAN_MAX_DAYS,
            };
            Err(format!("{}\n{}", m.render(Lang::Zh), m.render(Lang::En)))
        }
    }
}

/// What must outlive the run for the log to be complete: the writer
/// threads of the non-blocking stderr and file logs, flushed when dropped.
type LogGuards = Vec<tracing_appender::non_blocking::WorkerGuard>;

/// Sets up tracing: stderr always, and daily files under `dir` when given.
///
/// Neither sink can block the thread that logs: each is a bounded queue
/// drained by its own writer thread, and a full queue drops lines rather
/// than wait (a stalled journal or a full disk must never stop a
/// broadcast). Wave 1 wrote to a locked stderr and froze every thread
/// but the main one at its first log line.
fn init_logging(default: &str, dir: Option<std::path::PathBuf>) -> LogGuards {
    use std::io::IsTerminal;
    use tracing_appender::non_blocking::NonBlockingBuilder;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;
    let filter =
        || tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| default.into());
    let mut guards = Vec::new();
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let (w, g) = NonBlockingBuilder::default()
        .lossy(true)
        .thread_name("log-stderr")
        .finish(cunxiang::logline::OneLine(std::io::stderr()));
    guards.push(g);
    let stderr = tracing_subscriber::fmt::layer()
        .with_ansi(ansi)
        .with_writer(w)
        .with_filter(filter());
    let file = dir.and_then(|dir| {
        // The appender prunes old files by listing the folder: it must
        // exist first, or the first run prints a stray error.
        let made = std::fs::create_dir_all(&dir);
        let appender = made.map_err(|e| e.to_string()).and_then(|()| {
            tracing_appender::rolling::Builder::new()
                .rotation(tracing_appender::rolling::Rotation::DAILY)
                .filename_prefix("cunxiang.log")
                .max_log_files(30)
                .build(&dir)
                .map_err(|e| e.to_string())
        });
        match appender {
            Ok(a) => {
                let (w, g) = NonBlockingBuilder::default()
                    .lossy(true)
                    .thread_name("log-file")
                    .finish(cunxiang::logline::OneLine(a));
                guards.push(g);
                Some(
                    tracing_subscriber::fmt::layer()
                        .with_ansi(false)
                        .with_writer(w)
                        .with_filter(filter()),
                )
            }
            Err(e) => {
                eprintln!("cunxiang: cannot write log files in {}: {e}", dir.display());
                None
            }
        }
    });
    tracing_subscriber::registry()
        .with(stderr)
        .with(file)
        .init();
    guards
}

/// Runs one command: the match table from arguments to the library.
fn dispatch(
    command: Command,
    station: &std::path::Path,
    lang: Lang,
    now: chrono::DateTime<chrono::Utc>,
) -> std::io::Result<i32> {
    // Unlocked handles: each write takes the lock for that write only. A
    // lock held for the whole run would block every other thread's first
    // line to the same stream.
    let mut out = std::io::stdout();
    let mut err = std::io::stderr();
    match command {
        Command::Check {
            format,
            deep,
            sources,
        } => cli::check(station, now, lang, format, (deep, sources), &mut out),
        Command::Plan { from, days, format } => cli::plan(
            station,
            now,
            lang,
            &PlanOpts { from, days, format },
            &mut out,
            &mut err,
        ),
        Command::Run {
            output,
            no_watch,
            heartbeat,
            store_alarm,
            listen,
        } => cli::run(
            station,
            lang,
            output.as_deref(),
            listen,
            !no_watch,
            heartbeat,
            store_alarm,
            &mut out,
        ),
        Command::Play {
            name,
            relay,
            length,
            priority,
            repeat,
        } => cli::play(
            station,
            lang,
            &cli::PlayArgs {
                name,
                relay,
                length,
                priority,
                repeat,
                say: None,
            },
            &mut out,
            &mut err,
        ),
        Command::Say {
            text,
            wav: Some(wav),
            ..
        } => cli::say_to_wav(station, lang, &text, &wav, &mut out, &mut err),
        Command::Say {
            text,
            priority,
            repeat,
            wav: None,
        } => cli::play(
            station,
            lang,
            &cli::PlayArgs {
                say: Some(text),
                priority,
                repeat,
                ..Default::default()
            },
            &mut out,
            &mut err,
        ),
        Command::Stop => cli::stop(station, lang, &mut out, &mut err),
        Command::Log {
            since,
            status,
            format,
        } => cli::log(
            station, now, lang, &since, status, format, &mut out, &mut err,
        ),
        Command::Outages {
            open,
            since,
            format,
        } => cli::outages(
            station,
            now,
            lang,
            open,
            since.as_deref(),
            format,
            &mut out,
            &mut err,
        ),
        Command::Report { from, days, format } => {
            cli::report(station, now, lang, from, days, format, &mut out, &mut err)
        }
        Command::Status { json } => cli::status(station, now, lang, json, &mut out),
        Command::CountyPage {
            prometheus,
            timezone,
            token_file,
        } => {
            let token = token_from(token_file);
            cli::county_page::county_page(
                &prometheus,
                token.as_deref(),
                timezone,
                now,
                lang,
                &mut out,
                &mut err,
            )
        }
        Command::CountyReport {
            prometheus,
            month,
            timezone,
            token_file,
            json,
        } => {
            let token = token_from(token_file);
            cli::county::county_report(
                &prometheus,
                token.as_deref(),
                month,
                timezone,
                now,
                json,
                lang,
                &mut out,
                &mut err,
            )
        }
        Command::Devices => {
            let devs = cunxiang::sound::output::list_devices();
            for (id, name) in &devs {
                println!("{id}\t{name}");
            }
            if devs.is_empty() {
                eprintln!(
                    "{}",
                    lang.pick("没有找到声卡。", "no sound output devices found")
                );
            }
            Ok(if devs.is_empty() { 1 } else { 0 })
        }
    }
}

fn main() {
    let cli = Cli::parse();
    // A station folder that is not there (a typo in --station or
    // CUNXIANG_STATION) is a usage error for every command: "never ran,
    // nothing to repair" would keep a monitoring script green.
    if !matches!(cli.command, Command::Devices) && !cli.station.is_dir() {
        let lang = Lang::detect(cli.lang.as_deref(), |k| std::env::var(k).ok());
        eprintln!(
            "cunxiang: {}",
            cunxiang::i18n::Msg::StationFolderMissing {
                path: cli.station.display().to_string()
            }
            .render(lang)
        );
        std::process::exit(cunxiang::EXIT_CONFIG);
    }
    let filter = match cli.verbose {
        0 if matches!(cli.command, Command::Run { .. }) => "info",
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    // The daemon also writes its log to daily files under the data folder
    // (var/logs/cunxiang.log.YYYY-MM-DD), keeping the last 30 days.
    let log_guards = init_logging(
        filter,
        matches!(cli.command, Command::Run { .. }).then(|| {
            cunxiang::config::load::Station::load(&cli.station)
                .data_dir()
                .join("logs")
        }),
    );
    // alsa-lib prints its errors to stderr itself: route them through
    // tracing (debug lines; the daemon logs each device state change).
    #[cfg(target_os = "linux")]
    cunxiang::sound::alsa_log::route_to_tracing();
    let lang = Lang::detect(cli.lang.as_deref(), |k| std::env::var(k).ok());
    let now = chrono::Utc::now();
    let code = dispatch(cli.command, &cli.station, lang, now);
    let code = match code {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("cunxiang: {e:#}");
            1
        }
    };
    // `exit` runs no destructors: flush the log writers first.
    drop(log_guards);
    std::process::exit(code);
}
