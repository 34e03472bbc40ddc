//! The relay keys of a `[[broadcast]]` entry (转播): `relay` (the source),
//! `duration` or an `until` time (the slot), `fallback` (files played
//! while the source is lost). Text in, values and findings out: it must
//! not open the source (`check --sources` does that, when asked).

use super::{parse_time, AudioPath, Times};
use crate::config::tomlread::{get, Reader, Val};
use crate::i18n::Msg;
use chrono::NaiveTime;
use std::fmt;
use std::time::Duration;
use toml::de::{DeTable, DeValue};

/// Where a relay's sound comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RelaySource {
    /// An HTTP (Icecast, Shoutcast) stream.
    Http(String),
    /// A capture device: the default input, or one named.
    LineIn(Option<String>),
}

impl RelaySource {
    /// `http://…`, `line-in`, `line-in:DEVICE` (also `线路输入`).
    pub fn parse(raw: &str) -> Option<RelaySource> {
        let s = raw.trim();
        let lower = s.to_ascii_lowercase();
        if lower.starts_with("http://") && s.len() > "http://".len() {
            return Some(RelaySource::Http(s.to_string()));
        }
        if lower == "line-in" || s == "线路输入" {
            return Some(RelaySource::LineIn(None));
        }
        let dev = lower
            .strip_prefix("line-in:")
            .map(|_| &s["line-in:".len()..])
            .or_else(|| s.strip_prefix("线路输入:"))?;
        (!dev.trim().is_empty()).then(|| RelaySource::LineIn(Some(dev.trim().to_string())))
    }

    /// How the ledger names it (the outage subject): the URL, or
    /// `line-in` / `line-in:DEVICE`.
    pub fn subject(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for RelaySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RelaySource::Http(u) => f.write_str(u),
            RelaySource::LineIn(None) => f.write_str("line-in"),
            RelaySource::LineIn(Some(d)) => write!(f, "line-in:{d}"),
        }
    }
}

/// A validated relay: what to relay, for how long from each firing's
/// instant, and what plays while the source is lost.
#[derive(Debug, Clone, PartialEq)]
pub struct Relay {
    pub source: RelaySource,
    /// The slot, from the firing's instant: the relay is cut at its end.
    pub length: Duration,
    /// Played (in a loop) while the source is lost; silence when empty.
    pub fallback: Vec<(AudioPath, usize)>,
}

/// The longest relay slot.
pub const MAX_RELAY: Duration = Duration::from_secs(12 * 3600);

/// The keys only a relay may have.
pub(super) const RELAY_ONLY: &[&str] = &["duration", "fallback"];

/// The `until` value when it is a time of day (`"10:40"`), which for a
/// relay ends the slot; a date keeps its meaning (the last day).
pub(super) fn until_time<'t, 'i>(table: &'t DeTable<'i>) -> Option<(NaiveTime, &'t Val<'i>)> {
    let v = get(table, "until")?;
    match v.get_ref() {
        DeValue::String(s) => parse_time(s).map(|t| (t, v)),
        _ => None,
    }
}

/// Reads the relay keys of an entry that has `relay`; reports keys that
/// only a relay may have on an entry without one. `None` (with errors
/// recorded) when a key is wrong or the entry is not a relay.
pub(super) fn relay(
    r: &mut Reader<'_>,
    table: &DeTable<'_>,
    item: &Val<'_>,
    times: Option<&Times>,
) -> Option<Relay> {
    let Some(v) = get(table, "relay") else {
        for key in RELAY_ONLY {
            if let Some(k) = get(table, key) {
                r.error(&k.span(), key, Msg::RelayOnlyKey { key });
            }
        }
        return None;
    };
    if let Some(p) = get(table, "play") {
        r.error(&p.span(), "play", Msg::PlayAndRelay);
    }
    for key in ["repeat", "gap"] {
        if let Some(k) = get(table, key) {
            r.error(&k.span(), key, Msg::NotForRelay { key });
        }
    }
    let source = r
        .text("relay", v)
        .and_then(|s| match RelaySource::parse(&s) {
            Some(src) => Some(src),
            None => {
                r.error(&v.span(), "relay", Msg::BadRelaySource { value: s });
                None
            }
        });
    let length = length(r, table, item, times);
    let fallback = match get(table, "fallback") {
        None => Some(Vec::new()),
        Some(f) => r.texts("fallback", f).map(|items| {
            let mut out = Vec::new();
            for (raw, span) in items {
                match AudioPath::parse(&raw) {
                    Ok(p) => out.push((p, r.pos(&span).0)),
                    Err(m) => r.error(&span, "fallback", m),
                }
            }
            out
        }),
    };
    Some(Relay {
        source: source?,
        length: length?,
        fallback: fallback?,
    })
}

/// The slot: `duration`, or an `until` time after the one `at` time.
fn length(
    r: &mut Reader<'_>,
    table: &DeTable<'_>,
    item: &Val<'_>,
    times: Option<&Times>,
) -> Option<Duration> {
    match (get(table, "duration"), until_time(table)) {
        (Some(d), Some(_)) => {
            r.error(&d.span(), "duration", Msg::RelayLengthTwice);
            None
        }
        (Some(d), None) => {
            let len = r.duration("duration", d, MAX_RELAY, "12h")?;
            if len.is_zero() {
                r.error(&d.span(), "duration", Msg::RelayNeedsLength);
                return None;
            }
            Some(len)
        }
        (None, Some((until, uv))) => match times {
            Some(Times::At(at)) if at.len() == 1 => {
                if until <= at[0] {
                    r.error(
                        &uv.span(),
                        "until",
                        Msg::RelayUntilBeforeAt {
                            at: at[0].format("%H:%M:%S").to_string(),
                            until: until.format("%H:%M:%S").to_string(),
                        },
                    );
                    return None;
                }
                Some((until - at[0]).to_std().unwrap_or_default())
            }
            Some(_) => {
                r.error(&uv.span(), "until", Msg::RelayUntilNeedsOneTime);
                None
            }
            // The times are wrong and said so already.
            None => None,
        },
        (None, None) => {
            r.error(&item.span(), "duration", Msg::RelayNeedsLength);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relay_entry_with_an_end_time_or_a_duration_and_a_last_day() {
        let text = "[[broadcast]]\nname = \"省新闻发布会转播\"\nrelay = \"http://192.168.1.10:8000/county.mp3\"\nat = [\"10:00\"]\nuntil = \"10:40\"\nchime = true\npriority = \"important\"\nfallback = [\"转播中断提示.mp3\"]\n\n[[broadcast]]\nname = \"县台\"\nrelay = \"line-in\"\nat = [\"07:00\", \"19:00\"]\nduration = \"30m\"\nuntil = 2026-12-31\n";
        let p = crate::config::schedule::parse("schedules/r.toml", text);
        assert!(p.is_valid(), "{:?}", p.diagnostics);
        let r = p.broadcasts[0].relay.as_ref().unwrap();
        assert_eq!(r.length, Duration::from_secs(40 * 60));
        assert_eq!(r.fallback[0].0.template(), "转播中断提示.mp3");
        assert_eq!(r.fallback[0].1, 8, "the fallback's line");
        assert!(p.broadcasts[0].play.is_empty());
        assert_eq!(
            p.broadcasts[0].until, None,
            "a time ends the slot, not the days"
        );
        let line_in = &p.broadcasts[1];
        assert_eq!(
            line_in.relay.as_ref().unwrap().source,
            RelaySource::LineIn(None)
        );
        assert_eq!(
            line_in.until,
            chrono::NaiveDate::from_ymd_opt(2026, 12, 31),
            "a date keeps its meaning"
        );
        let paths: Vec<_> = p.broadcasts[0]
            .audio_paths()
            .map(|(a, _, k)| (a.template().to_string(), k))
            .collect();
        assert_eq!(paths, [("转播中断提示.mp3".to_string(), "fallback")]);
    }

    #[test]
    fn sources_in_every_spelling() {
        assert_eq!(
            RelaySource::parse(" http://10.0.0.1:8000/a.mp3 "),
            Some(RelaySource::Http("http://10.0.0.1:8000/a.mp3".into()))
        );
        assert_eq!(
            RelaySource::parse("line-in"),
            Some(RelaySource::LineIn(None))
        );
        assert_eq!(
            RelaySource::parse("线路输入"),
            Some(RelaySource::LineIn(None))
        );
        assert_eq!(
            RelaySource::parse("Line-In:hw:1,0"),
            Some(RelaySource::LineIn(Some("hw:1,0".into())))
        );
        assert_eq!(RelaySource::parse("line-in:"), None);
        assert_eq!(RelaySource::parse("https://x/a.mp3"), None);
        assert_eq!(RelaySource::parse("ftp://x"), None);
        assert_eq!(RelaySource::parse("http://"), None);
        assert_eq!(
            RelaySource::LineIn(Some("hw:1".into())).subject(),
            "line-in:hw:1"
        );
    }
}
