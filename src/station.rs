//! The station file `cunxiang.toml`: name, time zone, folders, output,
//! quiet hours, holidays, catch-up default and control address. Every key
//! has a default; a station without the file works.

use crate::diag::Diagnostic;
use crate::i18n::{Msg, Want};
use crate::schedule::parse_time;
use crate::tomlread::{get, suggest, Reader, Val};
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
    let mut diagnostics = r.diags;
    crate::diag::sort(&mut diagnostics);
    ParsedStation {
        config: c,
        diagnostics,
    }
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
