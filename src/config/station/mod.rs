//! The station file `cunxiang.toml`: name, time zone, folders, output,
//! quiet hours, holidays, catch-up default and control address. Every key
//! has a default; a station without the file works. It reads text into a
//! [`StationConfig`] with findings; it must not touch the disk, a device
//! or the network (the caller reads the file; `config::load` does).
//!
//! Not to be confused with `config::load::Station`: that is the whole
//! station folder as loaded (this file's [`StationConfig`] plus every
//! schedule and the good copies); this is only what `cunxiang.toml` says.

use crate::config::diag::Diagnostic;
use crate::config::tomlread::{get, suggest, Reader};
use crate::i18n::{Msg, Want};
use chrono::NaiveDate;
use chrono_tz::Tz;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use toml::de::{DeTable, DeValue};

mod sections;
mod values;

pub use values::{
    MonitorConfig, MonitorSpec, OutputSpec, Probe, QuietHours, RelayConfig, SpeechConfig,
    TerminalConfig,
};

/// The station file's name inside the station folder.
pub const STATION_FILE: &str = "cunxiang.toml";

/// The validated station file (`cunxiang.toml`) and nothing else; the
/// loaded station folder around it is `config::load::Station`.
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
    /// The control socket (`[control] listen`): where the CLI, the
    /// dashboard and the API reach the daemon. Nothing to do with the
    /// monitor's listening for proof of air ([`MonitorConfig`]).
    pub listen: SocketAddr,
    /// Opens everything (dashboard forms, play, stop, reload).
    pub token: Option<String>,
    /// Opens only what reads (GET: dashboard, API, `/metrics`), for a
    /// county's monitoring server.
    pub read_token: Option<String>,
    /// Proof of air; `None`: plays are unverified.
    pub monitor: Option<MonitorConfig>,
    /// When a relayed source counts as lost.
    pub relay: RelayConfig,
    /// How typed notices are read aloud.
    pub speech: SpeechConfig,
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
            relay: RelayConfig::default(),
            speech: SpeechConfig::default(),
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
    "relay",
    "speech",
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
const SPEECH_KEYS: &[&str] = &["engine", "voice", "rate", "volume"];
const RELAY_KEYS: &[&str] = &[
    "no_data_after",
    "silence_db",
    "silence_after",
    "reconnect_max",
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
    top_level(&mut r, &root, &mut c);
    if let Some(t) = section(&mut r, &root, "folders", FOLDER_KEYS) {
        folders(&mut r, t, &mut c);
    }
    if let Some(t) = section(&mut r, &root, "output", OUTPUT_KEYS) {
        output(&mut r, t, &mut c);
    }
    if let Some(t) = section(&mut r, &root, "control", CONTROL_KEYS) {
        control(&mut r, t, &mut c);
    }
    if let Some(t) = section(&mut r, &root, "monitor", MONITOR_KEYS) {
        c.monitor = sections::monitor(&mut r, t);
    }
    if let Some(t) = section(&mut r, &root, "relay", RELAY_KEYS) {
        c.relay = sections::relay(&mut r, t);
    }
    if let Some(t) = section(&mut r, &root, "speech", SPEECH_KEYS) {
        c.speech = sections::speech(&mut r, t);
    }
    if let Some(v) = get(&root, "terminal") {
        sections::terminals(&mut r, v, &mut c.terminals);
    }
    let mut diagnostics = r.diags;
    crate::config::diag::sort(&mut diagnostics);
    ParsedStation {
        config: c,
        diagnostics,
    }
}

/// The top-level keys: name, zone, catch-up, quiet hours, holidays.
fn top_level(r: &mut Reader<'_>, root: &DeTable<'_>, c: &mut StationConfig) {
    if let Some(v) = get(root, "name") {
        if let Some(n) = r.text("name", v).filter(|n| !n.trim().is_empty()) {
            c.name = n.trim().to_string();
        }
    }
    if let Some(v) = get(root, "timezone") {
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
    if let Some(v) = get(root, "catch_up") {
        if let Some(d) = r.duration("catch_up", v, Duration::from_secs(24 * 3600), "24h") {
            c.catch_up = d;
        }
    }
    if let Some(v) = get(root, "quiet_hours") {
        if let Some(s) = r.text("quiet_hours", v) {
            match QuietHours::parse(&s) {
                Some(q) => c.quiet_hours = Some(q),
                None => r.error(&v.span(), "quiet_hours", Msg::BadQuietHours { value: s }),
            }
        }
    }
    if let Some(v) = get(root, "holidays") {
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
}

/// `[folders]`: where audio, schedules and data live.
fn folders(r: &mut Reader<'_>, t: &DeTable<'_>, c: &mut StationConfig) {
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

/// `[output]`: the sound device.
fn output(r: &mut Reader<'_>, t: &DeTable<'_>, c: &mut StationConfig) {
    if let Some(v) = get(t, "device") {
        if let Some(s) = r.text("output.device", v) {
            match OutputSpec::parse(&s) {
                Some(o) => c.output = o,
                None => r.error(&v.span(), "output.device", Msg::BadOutput { value: s }),
            }
        }
    }
}

/// `[control]`: the control address and its tokens.
fn control(r: &mut Reader<'_>, t: &DeTable<'_>, c: &mut StationConfig) {
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

fn section<'t, 'i>(
    r: &mut Reader<'_>,
    root: &'t DeTable<'i>,
    key: &str,
    allowed: &[&'static str],
) -> Option<&'t DeTable<'i>> {
    let v = get(root, key)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveTime;

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
