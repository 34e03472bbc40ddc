//! The schedule language: `schedules/*.toml` files of `[[broadcast]]`
//! entries, parsed from text into validated [`Broadcast`] values.
//!
//! Parsing is pure (text in, values and findings out). Code past this module
//! never re-checks a broadcast: a `Broadcast` is valid by construction.
//! It must not read the disk, the clock or the store.

use crate::config::tomlread::{get, Reader};
use crate::i18n::{Msg, Want};
use chrono::{NaiveDate, NaiveTime, Timelike, Weekday};
use croner::parser::{CronParser, Seconds, Year};
use croner::Cron;
use std::collections::HashSet;
use std::fmt;
use std::time::Duration;

use toml::de::DeValue;

pub mod edit;
mod entry;
mod relay;
mod say;

pub use relay::{Relay, RelaySource, MAX_RELAY};
pub use say::{notice_text, MAX_SAY_CHARS};

/// How urgent a broadcast is. Higher interrupts lower; emergency also
/// ignores quiet hours and holidays ("应急优先于日常").
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Normal,
    Important,
    Emergency,
}

impl Priority {
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Normal => "normal",
            Priority::Important => "important",
            Priority::Emergency => "emergency",
        }
    }

    /// Parses English or Chinese names (`emergency`, `紧急`).
    pub fn parse(s: &str) -> Option<Priority> {
        match s.trim().to_lowercase().as_str() {
            "normal" | "普通" | "日常" => Some(Priority::Normal),
            "important" | "重要" => Some(Priority::Important),
            "emergency" | "紧急" | "应急" => Some(Priority::Emergency),
            _ => None,
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What plays before the content.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Chime {
    None,
    /// The chime built into cunxiang.
    Builtin,
    /// A file under the audio folder.
    File(AudioPath),
}

/// A path under the audio folder, checked to stay inside it. It may hold
/// the `{date}` placeholder, resolved per firing.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AudioPath {
    template: String,
}

/// The only placeholder a file name may carry.
pub const DATE_PLACEHOLDER: &str = "{date}";

impl AudioPath {
    /// Validates a path as written in a schedule: relative, no `..`, no
    /// unknown `{placeholder}`.
    pub fn parse(raw: &str) -> Result<AudioPath, Msg> {
        let p = raw.trim().replace('\\', "/");
        if p.is_empty() {
            return Err(Msg::EmptyValue { key: "play".into() });
        }
        let looks_windows_abs = p.len() >= 2 && p.as_bytes()[1] == b':';
        if p.starts_with('/') || looks_windows_abs {
            return Err(Msg::PathAbsolute {
                path: raw.to_string(),
            });
        }
        if p.split('/').any(|seg| seg == "..") {
            return Err(Msg::PathEscapes {
                path: raw.to_string(),
            });
        }
        let mut rest = p.as_str();
        while let Some(i) = rest.find('{') {
            let tail = &rest[i..];
            let end = tail.find('}').map_or(tail.len(), |e| e + 1);
            let ph = &tail[..end];
            if ph != DATE_PLACEHOLDER {
                return Err(Msg::BadPlaceholder {
                    path: raw.to_string(),
                    placeholder: ph.to_string(),
                });
            }
            rest = &tail[end..];
        }
        let cleaned: Vec<&str> = p
            .split('/')
            .filter(|s| !s.is_empty() && *s != ".")
            .collect();
        Ok(AudioPath {
            template: cleaned.join("/"),
        })
    }

    /// The path as written (normalised to `/`).
    pub fn template(&self) -> &str {
        &self.template
    }

    /// Whether the file changes with the day it plays.
    pub fn is_dated(&self) -> bool {
        self.template.contains(DATE_PLACEHOLDER)
    }

    /// The file for a given local date, relative to the audio folder.
    pub fn resolve(&self, date: NaiveDate) -> String {
        self.template
            .replace(DATE_PLACEHOLDER, &date.format("%Y-%m-%d").to_string())
    }
}

/// When a broadcast fires within a day.
#[derive(Debug, Clone)]
pub enum Times {
    /// Fixed local times of day, sorted.
    At(Vec<NaiveTime>),
    /// A POSIX cron expression (croner), evaluated in the station's zone.
    Cron { expr: String, cron: Box<Cron> },
}

/// A set of weekdays (bit 0 = Monday).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Days(u8);

impl Days {
    pub const ALL: Days = Days(0x7f);

    pub fn contains(self, d: Weekday) -> bool {
        self.0 & (1 << d.num_days_from_monday()) != 0
    }

    fn add(&mut self, d: Weekday) {
        self.0 |= 1 << d.num_days_from_monday();
    }

    /// Parses one day word, English or Chinese, or a group word.
    fn parse_word(s: &str) -> Option<Days> {
        use Weekday::*;
        let one = |d: Weekday| {
            let mut x = Days(0);
            x.add(d);
            Some(x)
        };
        match s.trim().to_lowercase().as_str() {
            "mon" | "monday" | "周一" | "星期一" => one(Mon),
            "tue" | "tuesday" | "周二" | "星期二" => one(Tue),
            "wed" | "wednesday" | "周三" | "星期三" => one(Wed),
            "thu" | "thursday" | "周四" | "星期四" => one(Thu),
            "fri" | "friday" | "周五" | "星期五" => one(Fri),
            "sat" | "saturday" | "周六" | "星期六" => one(Sat),
            "sun" | "sunday" | "周日" | "周天" | "星期日" | "星期天" => one(Sun),
            "weekdays" | "workdays" | "工作日" => Some(Days(0x1f)),
            "weekends" | "周末" => Some(Days(0x60)),
            "daily" | "everyday" | "每天" => Some(Days::ALL),
            _ => None,
        }
    }
}

/// One validated `[[broadcast]]` entry.
#[derive(Debug, Clone)]
pub struct Broadcast {
    pub name: String,
    /// Where it was written, for messages (`schedules/x.toml:12`).
    pub file: String,
    pub line: usize,
    /// Files played in sequence, each with the line it was written on.
    pub play: Vec<(AudioPath, usize)>,
    pub times: Times,
    pub days: Days,
    pub from: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
    pub repeat: u32,
    pub gap: Duration,
    pub chime: Chime,
    /// Line of the `chime` key, for file findings.
    pub chime_line: usize,
    pub priority: Priority,
    pub volume: f32,
    /// `None` = the station's default catch-up window.
    pub catch_up: Option<Duration>,
    pub enabled: bool,
    /// A live relay instead of files (`play` is then empty).
    pub relay: Option<Relay>,
    /// A typed notice read aloud instead of files (`play` is then empty).
    pub say: Option<String>,
}

impl Broadcast {
    /// Whether the broadcast may fire on a local date (range and days;
    /// holidays are a station rule, applied by the planner).
    pub fn runs_on(&self, date: NaiveDate) -> bool {
        use chrono::Datelike;
        self.enabled
            && self.from.is_none_or(|f| date >= f)
            && self.until.is_none_or(|u| date <= u)
            && self.days.contains(date.weekday())
    }

    /// Every audio path this broadcast references (chime file included).
    /// Yields (path, line, key).
    pub fn audio_paths(&self) -> impl Iterator<Item = (&AudioPath, usize, &'static str)> {
        let chime = match &self.chime {
            Chime::File(p) => Some((p, self.chime_line, "chime")),
            _ => None,
        };
        let fallback = self
            .relay
            .iter()
            .flat_map(|r| r.fallback.iter().map(|(p, l)| (p, *l, "fallback")));
        self.play
            .iter()
            .map(|(p, l)| (p, *l, "play"))
            .chain(chime)
            .chain(fallback)
    }
}

/// The keys a `[[broadcast]]` entry may have.
pub const BROADCAST_KEYS: &[&str] = &[
    "name", "play", "at", "cron", "days", "from", "until", "repeat", "gap", "chime", "priority",
    "volume", "catch_up", "enabled", "relay", "duration", "fallback", "say",
];

/// Words operators write for a key, mapped to the real key.
const KEY_ALIASES: &[(&str, &str)] = &[
    ("file", "play"),
    ("files", "play"),
    ("audio", "play"),
    ("time", "at"),
    ("times", "at"),
    ("weekdays", "days"),
    ("day", "days"),
    ("start", "from"),
    ("begin", "from"),
    ("to", "until"),
    ("end", "until"),
    ("repeats", "repeat"),
    ("times_per_slot", "repeat"),
    ("loop", "repeat"),
    ("count", "repeat"),
    ("interval", "gap"),
    ("pause", "gap"),
    ("title", "name"),
    ("level", "priority"),
    ("vol", "volume"),
    ("catchup", "catch_up"),
    ("grace", "catch_up"),
    ("enable", "enabled"),
    ("disabled", "enabled"),
    ("crontab", "cron"),
    ("stream", "relay"),
    ("url", "relay"),
    ("source", "relay"),
    ("length", "duration"),
    ("for", "duration"),
];

/// The most times a firing may repeat its files.
pub const MAX_REPEAT: i64 = 100;

/// The result of parsing one schedule file.
#[derive(Debug, Default)]
pub struct Parsed {
    pub broadcasts: Vec<Broadcast>,
    pub diagnostics: Vec<crate::config::diag::Diagnostic>,
}

impl Parsed {
    /// Whether the file is fit to go on air (no errors).
    pub fn is_valid(&self) -> bool {
        !self.diagnostics.iter().any(|d| d.is_error())
    }
}

/// Parses one schedule file's text. `file` is the name used in messages.
/// Every problem in the file is reported, not just the first.
pub fn parse(file: &str, text: &str) -> Parsed {
    let mut r = Reader::new(file, text);
    let mut out = Parsed::default();
    let Some(root) = r.parse(text) else {
        out.diagnostics = r.diags;
        return out;
    };
    let root_span = root.span();
    let root = root.into_inner();
    r.unknown_keys(
        &root,
        &["broadcast"],
        &[("broadcasts", "broadcast"), ("program", "broadcast")],
    );
    let mut seen: HashSet<String> = HashSet::new();
    match get(&root, "broadcast") {
        None => {
            if r.diags.is_empty() {
                r.warn(&(root_span.start..root_span.start), "", Msg::NoBroadcasts);
            }
        }
        Some(v) => match v.get_ref() {
            DeValue::Array(items) if items.iter().all(|i| i.get_ref().is_table()) => {
                for item in items.iter() {
                    r.broadcast = None;
                    if let Some(b) = entry::broadcast(&mut r, item) {
                        if !seen.insert(b.name.clone()) {
                            let first = out
                                .broadcasts
                                .iter()
                                .find(|x: &&Broadcast| x.name == b.name)
                                .map(|x| x.line);
                            let first = format!("{}:{}", file, first.unwrap_or(0));
                            let span = get(item.get_ref().as_table().expect("checked"), "name")
                                .map_or(item.span(), |n| n.span());
                            r.error(
                                &span,
                                "name",
                                Msg::DuplicateName {
                                    name: b.name.clone(),
                                    first,
                                },
                            );
                        } else {
                            out.broadcasts.push(b);
                        }
                    }
                }
            }
            _ => {
                r.error(
                    &v.span(),
                    "broadcast",
                    Msg::WrongType {
                        key: "broadcast".into(),
                        want: Want::TableList,
                        found: v.get_ref().type_str().into(),
                    },
                );
            }
        },
    }
    out.diagnostics = r.diags;
    crate::config::diag::sort(&mut out.diagnostics);
    out
}

/// Parses `"07:30"` or `"07:30:15"` (24-hour; one-digit hours accepted).
///
/// ```
/// use chrono::NaiveTime;
/// use cunxiang::config::schedule::parse_time;
/// assert_eq!(parse_time("7:30"), NaiveTime::from_hms_opt(7, 30, 0));
/// assert_eq!(parse_time("18:30:15"), NaiveTime::from_hms_opt(18, 30, 15));
/// assert_eq!(parse_time("24:00"), None);
/// ```
pub fn parse_time(s: &str) -> Option<NaiveTime> {
    let s = s.trim().replace('：', ":");
    let parts: Vec<&str> = s.split(':').collect();
    if !(2..=3).contains(&parts.len())
        || parts
            .iter()
            .any(|p| p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let h: u32 = parts[0].parse().ok()?;
    let m: u32 = parts[1].parse().ok()?;
    let sec: u32 = parts.get(2).map_or(Some(0), |x| x.parse().ok())?;
    if parts[1].len() != 2 || parts.get(2).is_some_and(|x| x.len() != 2) {
        return None;
    }
    NaiveTime::from_hms_opt(h, m, sec).filter(|t| t.hour() < 24)
}

/// Parses a POSIX cron expression: 5 fields, or 6 with seconds first;
/// `0` and `7` are Sunday, `1-5` is Monday to Friday, names allowed.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// let cron = cunxiang::config::schedule::parse_cron("30 7 * * 1-5").unwrap();
/// // Saturday 2026-11-28 → the next firing is Monday 07:30.
/// let sat = Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap();
/// let next = cron.find_next_occurrence(&sat, false).unwrap();
/// assert_eq!(next, Utc.with_ymd_and_hms(2026, 11, 30, 7, 30, 0).unwrap());
/// ```
pub fn parse_cron(expr: &str) -> Result<Cron, String> {
    let fields = expr.split_whitespace().count();
    if !expr.trim().starts_with('@') && !(5..=6).contains(&fields) {
        return Err(format!("{fields} fields, expected 5 or 6"));
    }
    CronParser::builder()
        .seconds(Seconds::Optional)
        .year(Year::Disallowed)
        .build()
        .parse(expr)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_parsing() {
        assert_eq!(parse_time("07:30"), NaiveTime::from_hms_opt(7, 30, 0));
        assert_eq!(parse_time("7:30"), NaiveTime::from_hms_opt(7, 30, 0));
        assert_eq!(parse_time("12:00:15"), NaiveTime::from_hms_opt(12, 0, 15));
        assert_eq!(parse_time("07：30"), NaiveTime::from_hms_opt(7, 30, 0));
        for bad in [
            "24:00",
            "7:3",
            "07:60",
            "0730",
            "07:30:61",
            "aa:bb",
            "",
            "07:30:00:00",
            "-1:30",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn audio_paths_stay_inside() {
        assert!(AudioPath::parse("公告/{date}.mp3").unwrap().is_dated());
        assert_eq!(
            AudioPath::parse("./a//b.mp3").unwrap().template(),
            "a/b.mp3"
        );
        assert!(matches!(
            AudioPath::parse("../x.mp3"),
            Err(Msg::PathEscapes { .. })
        ));
        assert!(matches!(
            AudioPath::parse("a/../../x.mp3"),
            Err(Msg::PathEscapes { .. })
        ));
        assert!(matches!(
            AudioPath::parse("/etc/passwd"),
            Err(Msg::PathAbsolute { .. })
        ));
        assert!(matches!(
            AudioPath::parse("C:\\x.mp3"),
            Err(Msg::PathAbsolute { .. })
        ));
        assert!(matches!(
            AudioPath::parse("{day}.mp3"),
            Err(Msg::BadPlaceholder { .. })
        ));
        let d = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        assert_eq!(
            AudioPath::parse("公告/{date}.mp3").unwrap().resolve(d),
            "公告/2026-12-01.mp3"
        );
    }

    #[test]
    fn cron_field_counts() {
        assert!(parse_cron("30 7 * * 1-5").is_ok());
        assert!(parse_cron("15 30 7 * * mon-fri").is_ok());
        assert!(parse_cron("30 7 * *").is_err());
        assert!(parse_cron("0 30 7 * * * 2026").is_err());
        assert!(parse_cron("61 7 * * *").is_err());
    }
}
