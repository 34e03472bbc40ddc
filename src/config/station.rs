//! The station file `cunxiang.toml`: name, time zone, folders, output,
//! quiet hours, holidays, catch-up default and control address. Every key
//! has a default; a station without the file works.

use crate::config::diag::Diagnostic;
use crate::config::schedule::parse_time;
use crate::config::tomlread::{get, suggest, Reader, Val};
use crate::i18n::{Msg, Want};
use chrono::{NaiveDate, NaiveTime};
use chrono_tz::Tz;
use std::collections::BTreeSet;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use toml::de::DeValue;

/// The station file's name inside the station folder.
pub const STATION_FILE: &str = "cunxiang.toml";

/// A daily span when routine broadcasts stay silent; may wrap midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl QuietHours {
    /// Parses `"22:00-06:00"`.
    pub fn parse(s: &str) -> Option<QuietHours> {
        let s = s.replace(['–', '—', '～', '~', '至'], "-");
        let (a, b) = s.split_once('-')?;
        let q = QuietHours {
            start: parse_time(a)?,
            end: parse_time(b)?,
        };
        (q.start != q.end).then_some(q)
    }

    /// Whether a local time of day falls inside (start inclusive, end
    /// exclusive).
    pub fn contains(&self, t: NaiveTime) -> bool {
        if self.start < self.end {
            t >= self.start && t < self.end
        } else {
            t >= self.start || t < self.end
        }
    }
}

impl fmt::Display for QuietHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}",
            self.start.format("%H:%M"),
            self.end.format("%H:%M")
        )
    }
}

/// Where sound goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputSpec {
    /// The default sound device, or one by name.
    Rodio(Option<String>),
    /// Discards samples at real-time pace.
    Null,
    /// Discards at real-time pace and records what played to a file.
    Capture(PathBuf),
}

impl OutputSpec {
    /// Parses `rodio`, `rodio:NAME`, `null`, `capture:PATH`.
    pub fn parse(s: &str) -> Option<OutputSpec> {
        let s = s.trim();
        match s.split_once(':') {
            None if s == "rodio" || s == "default" => Some(OutputSpec::Rodio(None)),
            None if s == "null" => Some(OutputSpec::Null),
            Some(("rodio", name)) if !name.is_empty() => {
                Some(OutputSpec::Rodio(Some(name.to_string())))
            }
            Some(("capture", path)) if !path.is_empty() => {
                Some(OutputSpec::Capture(PathBuf::from(path)))
            }
            _ => None,
        }
    }
}

impl fmt::Display for OutputSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutputSpec::Rodio(None) => f.write_str("rodio"),
            OutputSpec::Rodio(Some(n)) => write!(f, "rodio:{n}"),
            OutputSpec::Null => f.write_str("null"),
            OutputSpec::Capture(p) => write!(f, "capture:{}", p.display()),
        }
    }
}

/// Proof of air: where the monitor input comes from and when silence is a
/// fault.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorConfig {
    pub input: MonitorSpec,
    /// A window under this RMS level (dBFS) is silence.
    pub silence_db: f32,
    /// Silence this long while we play is a `signal` outage.
    pub silence_after: Duration,
    /// A daily self-test (the built-in chime) at this local time.
    pub self_test: Option<NaiveTime>,
}

/// How a terminal is asked whether it is up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// A TCP connection is accepted.
    Tcp,
    /// `GET path` answers 2xx.
    Http(String),
}

/// An IP loudspeaker (网络音柱) the PC watches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminalConfig {
    pub name: String,
    /// Where it stands (村东头), shown in the repair list.
    pub location: String,
    /// `host:port`.
    pub address: String,
    pub probe: Probe,
    pub interval: Duration,
    /// Failed probes in a row before it counts as down.
    pub failures: u32,
}

impl TerminalConfig {
    /// The outage subject: name and location.
    pub fn subject(&self) -> String {
        if self.location.is_empty() {
            self.name.clone()
        } else {
            format!("{}（{}）", self.name, self.location)
        }
    }
}

/// The validated station configuration.
#[derive(Debug, Clone)]
pub struct StationConfig {
    pub name: String,
    pub timezone: Tz,
    /// Folders, relative to the station folder unless absolute.
    pub audio_dir: PathBuf,
    pub schedules_dir: PathBuf,
    pub data_dir: PathBuf,
    pub output: OutputSpec,
    pub quiet_hours: Option<QuietHours>,
    /// Dates on which routine (non-emergency) broadcasts are skipped.
    pub holidays: BTreeSet<NaiveDate>,
    /// How late a firing may still start when no broadcast says otherwise.
    pub catch_up: Duration,
    pub listen: SocketAddr,
    /// Opens everything (dashboard forms, play, stop, reload).
    pub token: Option<String>,
    /// Opens only what reads (GET: dashboard, API, `/metrics`), for a
    /// county's monitoring server.
    pub read_token: Option<String>,
    /// Proof of air; `None`: plays are unverified.
    pub monitor: Option<MonitorConfig>,
    pub terminals: Vec<TerminalConfig>,
}

impl Default for StationConfig {
    fn default() -> Self {
        StationConfig {
            name: "村响广播站".to_string(),
            timezone: chrono_tz::Asia::Shanghai,
            audio_dir: PathBuf::from("audio"),
            schedules_dir: PathBuf::from("schedules"),
            data_dir: PathBuf::from("var"),
            output: OutputSpec::Rodio(None),
            quiet_hours: None,
            holidays: BTreeSet::new(),
            catch_up: Duration::from_secs(600),
            listen: SocketAddr::from(([127, 0, 0, 1], 7878)),
            token: None,
            read_token: None,
            monitor: None,
            terminals: Vec::new(),
        }
    }
}

const TOP_KEYS: &[&str] = &[
    "name",
    "timezone",
    "catch_up",
    "quiet_hours",
    "holidays",
    "folders",
    "output",
    "control",
    "monitor",
    "terminal",
];
const TOP_ALIASES: &[(&str, &str)] = &[
    ("station", "name"),
    ("tz", "timezone"),
    ("time_zone", "timezone"),
    ("zone", "timezone"),
    ("quiet", "quiet_hours"),
    ("holiday", "holidays"),
    ("catchup", "catch_up"),
];
const FOLDER_KEYS: &[&str] = &["audio", "schedules", "data"];
const OUTPUT_KEYS: &[&str] = &["device"];
const CONTROL_KEYS: &[&str] = &["listen", "token", "read_token"];
const MONITOR_KEYS: &[&str] = &["input", "silence_db", "silence_after", "self_test"];
const TERMINAL_KEYS: &[&str] = &[
    "name", "location", "address", "probe", "path", "interval", "failures",
];

/// The result of reading the station file: the config (defaults where a
/// key was missing or wrong) and every finding.
#[derive(Debug)]
pub struct ParsedStation {
    pub config: StationConfig,
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses the station file's text. A key with an error keeps its default
/// and the error is reported; the caller decides whether to go on.
pub fn parse(file: &str, text: &str) -> ParsedStation {
    let mut r = Reader::new(file, text);
    let mut c = StationConfig::default();
    let Some(root) = r.parse(text) else {
        return ParsedStation {
            config: c,
            diagnostics: r.diags,
        };
    };
    let root = root.into_inner();
    r.unknown_keys(&root, TOP_KEYS, TOP_ALIASES);
    if let Some(v) = get(&root, "name") {
        if let Some(n) = r.text("name", v).filter(|n| !n.trim().is_empty()) {
            c.name = n.trim().to_string();
        }
    }
    if let Some(v) = get(&root, "timezone") {
        if let Some(z) = r.text("timezone", v) {
            match z.trim().parse::<Tz>() {
                Ok(tz) => c.timezone = tz,
                Err(_) => {
                    let suggestion = suggest_zone(&z);
                    r.error(
                        &v.span(),
                        "timezone",
                        Msg::BadTimezone {
                            value: z,
                            suggestion,
                        },
                    );
                }
            }
        }
    }
    if let Some(v) = get(&root, "catch_up") {
        if let Some(d) = r.duration("catch_up", v, Duration::from_secs(24 * 3600), "24h") {
            c.catch_up = d;
        }
    }
    if let Some(v) = get(&root, "quiet_hours") {
        if let Some(s) = r.text("quiet_hours", v) {
            match QuietHours::parse(&s) {
                Some(q) => c.quiet_hours = Some(q),
                None => r.error(&v.span(), "quiet_hours", Msg::BadQuietHours { value: s }),
            }
        }
    }
    if let Some(v) = get(&root, "holidays") {
        match v.get_ref() {
            DeValue::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    if let Some(d) = r.date(&format!("holidays[{}]", i + 1), item) {
                        c.holidays.insert(d);
                    }
                }
            }
            other => r.error(
                &v.span(),
                "holidays",
                Msg::WrongType {
                    key: "holidays".into(),
                    want: Want::DateList,
                    found: other.type_str().into(),
                },
            ),
        }
    }
    if let Some(t) = section(&mut r, &root, "folders", FOLDER_KEYS) {
        for (key, slot) in [
            ("audio", &mut c.audio_dir),
            ("schedules", &mut c.schedules_dir),
            ("data", &mut c.data_dir),
        ] {
            if let Some(v) = get(t, key) {
                if let Some(p) = r
                    .text(&format!("folders.{key}"), v)
                    .filter(|p| !p.trim().is_empty())
                {
                    *slot = PathBuf::from(p.trim());
                }
            }
        }
    }
    if let Some(t) = section(&mut r, &root, "output", OUTPUT_KEYS) {
        if let Some(v) = get(t, "device") {
            if let Some(s) = r.text("output.device", v) {
                match OutputSpec::parse(&s) {
                    Some(o) => c.output = o,
                    None => r.error(&v.span(), "output.device", Msg::BadOutput { value: s }),
                }
            }
        }
    }
    if let Some(t) = section(&mut r, &root, "control", CONTROL_KEYS) {
        if let Some(v) = get(t, "listen") {
            if let Some(s) = r.text("control.listen", v) {
                match s.trim().parse::<SocketAddr>() {
                    Ok(a) => c.listen = a,
                    Err(_) => r.error(&v.span(), "control.listen", Msg::BadListen { value: s }),
                }
            }
        }
        if let Some(v) = get(t, "token") {
            if let Some(s) = r.text("control.token", v) {
                c.token = (!s.trim().is_empty()).then(|| s.trim().to_string());
            }
        }
        if let Some(v) = get(t, "read_token") {
            if let Some(s) = r.text("control.read_token", v) {
                c.read_token = (!s.trim().is_empty()).then(|| s.trim().to_string());
            }
        }
        if let (Some(v), None) = (get(t, "listen"), &c.token) {
            if !c.listen.ip().is_loopback() {
                r.error(
                    &v.span(),
                    "control.listen",
                    Msg::ListenNeedsToken {
                        value: c.listen.to_string(),
                    },
                );
            }
        }
    }
    if let Some(t) = section(&mut r, &root, "monitor", MONITOR_KEYS) {
        let mut m = MonitorConfig {
            input: MonitorSpec::Device(None),
            silence_db: -45.0,
            silence_after: Duration::from_secs(15),
            self_test: None,
        };
        let mut input = None;
        if let Some(v) = get(t, "input") {
            if let Some(s) = r.text("monitor.input", v) {
                match MonitorSpec::parse(&s) {
                    Some(spec) => input = Some(spec),
                    None => r.error(
                        &v.span(),
                        "monitor.input",
                        Msg::BadSetting {
                            key: "monitor.input".into(),
                            value: s,
                            zh: "请写 \"rodio\"（默认录音输入）、\"rodio:设备名\" 或 \"file:WAV文件\"",
                            en: "write \"rodio\" (default capture input), \"rodio:NAME\" or \"file:PATH.wav\"",
                        },
                    ),
                }
            }
        }
        if let Some(v) = get(t, "silence_db") {
            if let Some(n) = r.number("monitor.silence_db", v) {
                if (-100.0..0.0).contains(&n) {
                    m.silence_db = n as f32;
                } else {
                    r.error(
                        &v.span(),
                        "monitor.silence_db",
                        Msg::BadSetting {
                            key: "monitor.silence_db".into(),
                            value: n.to_string(),
                            zh: "请写 -100 到 0 之间的负数，例如 silence_db = -45",
                            en: "write a negative number between -100 and 0, like silence_db = -45",
                        },
                    );
                }
            }
        }
        if let Some(v) = get(t, "silence_after") {
            if let Some(d) = r.duration("monitor.silence_after", v, Duration::from_secs(3600), "1h")
            {
                m.silence_after = d.max(Duration::from_secs(1));
            }
        }
        if let Some(v) = get(t, "self_test") {
            if let Some(s) = r.text("monitor.self_test", v) {
                match parse_time(&s) {
                    Some(tm) => m.self_test = Some(tm),
                    None => r.error(
                        &v.span(),
                        "monitor.self_test",
                        Msg::BadSetting {
                            key: "monitor.self_test".into(),
                            value: s,
                            zh: "请写时间，例如 self_test = \"06:30\"",
                            en: "write a time of day, like self_test = \"06:30\"",
                        },
                    ),
                }
            }
        }
        // A [monitor] section listens on the default input unless told
        // otherwise; a wrong `input` (reported above) listens on nothing.
        match (input, get(t, "input")) {
            (Some(spec), _) => {
                m.input = spec;
                c.monitor = Some(m);
            }
            (None, None) => c.monitor = Some(m),
            (None, Some(_)) => {}
        }
    }
    if let Some(v) = get(&root, "terminal") {
        match v.get_ref() {
            DeValue::Array(items) => {
                for item in items {
                    match item.get_ref() {
                        DeValue::Table(t) => {
                            if let Some(term) = terminal(&mut r, &item.span(), t) {
                                c.terminals.push(term);
                            }
                        }
                        other => r.error(
                            &item.span(),
                            "terminal",
                            Msg::WrongType {
                                key: "terminal".into(),
                                want: Want::Table,
                                found: other.type_str().into(),
                            },
                        ),
                    }
                }
            }
            other => r.error(
                &v.span(),
                "terminal",
                Msg::WrongType {
                    key: "terminal".into(),
                    want: Want::Table,
                    found: other.type_str().into(),
                },
            ),
        }
    }
    let mut diagnostics = r.diags;
    crate::config::diag::sort(&mut diagnostics);
    ParsedStation {
        config: c,
        diagnostics,
    }
}

/// One `[[terminal]]` entry; `None` (with the error recorded) when a
/// required key is missing or wrong.
fn terminal(
    r: &mut Reader<'_>,
    span: &std::ops::Range<usize>,
    t: &toml::de::DeTable<'_>,
) -> Option<TerminalConfig> {
    r.unknown_keys(t, TERMINAL_KEYS, &[]);
    let need = |r: &mut Reader<'_>, key: &'static str, example: &'static str| match get(t, key) {
        Some(v) => r
            .text(&format!("terminal.{key}"), v)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty()),
        None => {
            r.error(span, key, Msg::MissingKey { key, example });
            None
        }
    };
    let name = need(r, "name", "name = \"东头音柱\"");
    let address = need(r, "address", "address = \"192.168.1.50:80\"");
    let location = get(t, "location")
        .and_then(|v| r.text("terminal.location", v))
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let bad = |r: &mut Reader<'_>, v: &Val<'_>, key: &str, value: String, zh, en| {
        r.error(
            &v.span(),
            key,
            Msg::BadSetting {
                key: key.into(),
                value,
                zh,
                en,
            },
        );
    };
    let address = match address {
        Some(a)
            if a.rsplit_once(':')
                .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok()) =>
        {
            Some(a)
        }
        Some(a) => {
            if let Some(v) = get(t, "address") {
                bad(
                    r,
                    v,
                    "terminal.address",
                    a,
                    "请写成 主机:端口，例如 \"192.168.1.50:80\"",
                    "write host:port, like \"192.168.1.50:80\"",
                );
            }
            None
        }
        None => None,
    };
    let path = get(t, "path")
        .and_then(|v| r.text("terminal.path", v))
        .map(|p| {
            if p.starts_with('/') {
                p
            } else {
                format!("/{p}")
            }
        })
        .unwrap_or_else(|| "/".into());
    let probe = match get(t, "probe") {
        None => Probe::Tcp,
        Some(v) => {
            match r.text("terminal.probe", v).as_deref().map(str::trim) {
                Some("tcp") => Probe::Tcp,
                Some("http") => Probe::Http(path),
                Some(other) => {
                    bad(r, v, "terminal.probe", other.to_string(), "请写 \"tcp\"（能连上就算在线）或 \"http\"（GET path 返回 2xx 算在线）", "write \"tcp\" (a connection is accepted) or \"http\" (GET path answers 2xx)");
                    return None;
                }
                None => return None,
            }
        }
    };
    let interval = get(t, "interval")
        .and_then(|v| r.duration("terminal.interval", v, Duration::from_secs(3600), "1h"))
        .unwrap_or(Duration::from_secs(60))
        .max(Duration::from_millis(100));
    let failures = match get(t, "failures") {
        None => 3,
        Some(v) => match r.integer("terminal.failures", v) {
            Some(n) if (1..=100).contains(&n) => n as u32,
            Some(n) => {
                bad(
                    r,
                    v,
                    "terminal.failures",
                    n.to_string(),
                    "请写 1 到 100 之间的整数",
                    "write a whole number from 1 to 100",
                );
                return None;
            }
            None => return None,
        },
    };
    Some(TerminalConfig {
        name: name?,
        location,
        address: address?,
        probe,
        interval,
        failures,
    })
}

fn section<'t, 'i>(
    r: &mut Reader<'_>,
    root: &'t toml::de::DeTable<'i>,
    key: &str,
    allowed: &[&'static str],
) -> Option<&'t toml::de::DeTable<'i>> {
    let v: &Val<'i> = get(root, key)?;
    match v.get_ref() {
        DeValue::Table(t) => {
            r.unknown_keys(t, allowed, &[]);
            Some(t)
        }
        other => {
            r.error(
                &v.span(),
                key,
                Msg::WrongType {
                    key: key.into(),
                    want: Want::Table,
                    found: other.type_str().into(),
                },
            );
            None
        }
    }
}

fn suggest_zone(z: &str) -> Option<String> {
    let lower = z.trim().to_lowercase();
    if ["beijing", "china", "北京", "中国", "cst", "prc", "北京时间"].contains(&lower.as_str())
    {
        return Some("Asia/Shanghai".into());
    }
    let names: Vec<&'static str> = chrono_tz::TZ_VARIANTS.iter().map(|t| t.name()).collect();
    if let Some(n) = names.iter().find(|n| n.to_lowercase() == lower) {
        return Some(n.to_string());
    }
    suggest(z, &names, &[])
}

/// Where monitor samples come from.
#[derive(Debug, Clone, PartialEq)]
pub enum MonitorSpec {
    /// A capture device through cpal: the default one, or by name.
    Device(Option<String>),
    /// A WAV (any format rodio decodes) read at real-time pace, looping.
    File(PathBuf),
}

impl MonitorSpec {
    /// `rodio`, `rodio:NAME` or `file:PATH`.
    pub fn parse(s: &str) -> Option<MonitorSpec> {
        let s = s.trim();
        match s.split_once(':') {
            None if s == "rodio" => Some(MonitorSpec::Device(None)),
            Some(("rodio", n)) if !n.trim().is_empty() => {
                Some(MonitorSpec::Device(Some(n.trim().to_string())))
            }
            Some(("file", p)) if !p.trim().is_empty() => {
                Some(MonitorSpec::File(PathBuf::from(p.trim())))
            }
            _ => None,
        }
    }
}

impl std::fmt::Display for MonitorSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MonitorSpec::Device(None) => f.write_str("rodio"),
            MonitorSpec::Device(Some(n)) => write!(f, "rodio:{n}"),
            MonitorSpec::File(p) => write!(f, "file:{}", p.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_without_file() {
        let p = parse("cunxiang.toml", "");
        assert!(p.diagnostics.is_empty());
        assert_eq!(p.config.timezone, chrono_tz::Asia::Shanghai);
        assert_eq!(p.config.catch_up, Duration::from_secs(600));
        assert_eq!(p.config.listen.to_string(), "127.0.0.1:7878");
    }

    #[test]
    fn monitor_and_terminals() {
        let text = r#"
[monitor]
input = "file:monitor.wav"
silence_db = -40
silence_after = "20s"
self_test = "06:30"

[[terminal]]
name = "东头音柱"
location = "村东头"
address = "192.168.1.50:80"
probe = "http"
path = "status"
interval = "30s"
failures = 2

[[terminal]]
name = "西头音柱"
address = "192.168.1.51:7000"
"#;
        let p = parse("cunxiang.toml", text);
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        let m = p.config.monitor.unwrap();
        assert_eq!(m.input, MonitorSpec::File("monitor.wav".into()));
        assert_eq!(
            (m.silence_db, m.silence_after),
            (-40.0, Duration::from_secs(20))
        );
        assert_eq!(m.self_test, NaiveTime::from_hms_opt(6, 30, 0));
        let t = &p.config.terminals;
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].probe, Probe::Http("/status".into()));
        assert_eq!((t[0].interval, t[0].failures), (Duration::from_secs(30), 2));
        assert_eq!(t[0].subject(), "东头音柱（村东头）");
        assert_eq!(t[1].probe, Probe::Tcp);
        assert_eq!((t[1].interval, t[1].failures), (Duration::from_secs(60), 3));

        let bad = parse(
            "cunxiang.toml",
            "[monitor]\ninput = \"mic\"\nsilence_db = 5\n\n[[terminal]]\nname = \"x\"\naddress = \"nohost\"\n\n[[terminal]]\naddress = \"a:1\"\n",
        );
        let lines: Vec<usize> = bad.diagnostics.iter().filter_map(|d| d.line).collect();
        assert_eq!(lines, [2, 3, 7, 9], "{:?}", bad.diagnostics);
        assert!(bad.config.monitor.is_none(), "a bad input is no monitor");
        assert!(bad.config.terminals.is_empty());
    }

    #[test]
    fn quiet_hours_wrap_midnight() {
        let q = QuietHours::parse("22:00-06:00").unwrap();
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
        assert!(q.contains(t(22, 0)));
        assert!(q.contains(t(3, 0)));
        assert!(!q.contains(t(6, 0)));
        assert!(!q.contains(t(12, 0)));
        let day = QuietHours::parse("12:00-13:30").unwrap();
        assert!(day.contains(t(12, 30)) && !day.contains(t(13, 30)));
        assert!(QuietHours::parse("22:00").is_none());
    }

    #[test]
    fn every_key() {
        let text = r#"
name = "李家村广播站"
timezone = "America/New_York"
catch_up = "5m"
quiet_hours = "22:00-06:00"
holidays = [2026-10-01, "2026-10-02"]
[folders]
audio = "sound"
schedules = "plans"
data = "/var/lib/cunxiang"
[output]
device = "capture:/tmp/cap.jsonl"
[control]
listen = "0.0.0.0:8080"
token = "s3cret"
"#;
        let p = parse("cunxiang.toml", text);
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        let c = p.config;
        assert_eq!(c.name, "李家村广播站");
        assert_eq!(c.timezone, chrono_tz::America::New_York);
        assert_eq!(c.catch_up, Duration::from_secs(300));
        assert_eq!(c.holidays.len(), 2);
        assert_eq!(c.audio_dir, PathBuf::from("sound"));
        assert_eq!(c.output, OutputSpec::Capture("/tmp/cap.jsonl".into()));
        assert_eq!(c.token.as_deref(), Some("s3cret"));
    }
}
