//! Reading TOML with positions: turns a span-carrying TOML tree into typed
//! values, collecting every problem (not just the first) as a [`Diagnostic`].
//!
//! serde's `deny_unknown_fields` stops at the first error; operators need all
//! of them at once, each with its line, so the station and schedule parsers
//! walk the tree through this reader instead.
//!
//! It owns the walk over TOML values; it must not know what a key means
//! (the station and schedule parsers do) nor word a finding.

use crate::config::diag::{Diagnostic, LineIndex, Severity};
use crate::i18n::{Msg, Want};
use chrono::NaiveDate;
use std::ops::Range;
use std::time::Duration;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// A spanned TOML value.
pub type Val<'i> = Spanned<DeValue<'i>>;

/// The reading context for one file: its name, positions and findings.
pub struct Reader<'a> {
    pub file: String,
    lines: LineIndex<'a>,
    pub diags: Vec<Diagnostic>,
    /// The broadcast currently being read, attached to findings.
    pub broadcast: Option<String>,
}

impl<'a> Reader<'a> {
    pub fn new(file: &str, text: &'a str) -> Self {
        Reader {
            file: file.to_string(),
            lines: LineIndex::new(text),
            diags: Vec::new(),
            broadcast: None,
        }
    }

    /// Line and column of a span.
    pub fn pos(&self, span: &Range<usize>) -> (usize, usize) {
        self.lines.span(span)
    }

    /// Records an error at `span` about `key`.
    pub fn error(&mut self, span: &Range<usize>, key: &str, msg: Msg) {
        self.push(Severity::Error, span, key, msg);
    }

    /// Records a warning at `span` about `key`.
    pub fn warn(&mut self, span: &Range<usize>, key: &str, msg: Msg) {
        self.push(Severity::Warning, span, key, msg);
    }

    fn push(&mut self, severity: Severity, span: &Range<usize>, key: &str, msg: Msg) {
        let d = Diagnostic {
            severity,
            file: Some(self.file.clone()),
            line: None,
            col: None,
            key: (!key.is_empty()).then(|| key.to_string()),
            broadcast: self.broadcast.clone(),
            msg,
        }
        .at(Some(self.pos(span)));
        self.diags.push(d);
    }

    /// Parses the text into a tree; a syntax error becomes a finding.
    pub fn parse(&mut self, text: &'a str) -> Option<Spanned<DeTable<'a>>> {
        let (table, errors) = DeTable::parse_recoverable(text);
        if errors.is_empty() {
            return Some(table);
        }
        for e in errors {
            let span = e.span().unwrap_or(0..0);
            self.error(
                &span,
                "",
                Msg::TomlSyntax {
                    detail: e.message().trim().to_string(),
                },
            );
        }
        None
    }

    /// Reports every key of `table` not in `allowed`, suggesting the closest.
    pub fn unknown_keys(
        &mut self,
        table: &DeTable<'_>,
        allowed: &[&'static str],
        aliases: &[(&str, &'static str)],
    ) {
        for (k, _) in table.iter() {
            let key = k.get_ref().as_ref();
            if allowed.contains(&key) {
                continue;
            }
            let suggestion = suggest(key, allowed, aliases);
            self.error(
                &k.span(),
                key,
                Msg::UnknownKey {
                    key: key.to_string(),
                    suggestion,
                    allowed: allowed.to_vec(),
                },
            );
        }
    }

    fn wrong(&mut self, key: &str, v: &Val<'_>, want: Want) {
        self.error(
            &v.span(),
            key,
            Msg::WrongType {
                key: key.to_string(),
                want,
                found: v.get_ref().type_str().to_string(),
            },
        );
    }

    /// A text value.
    pub fn text(&mut self, key: &str, v: &Val<'_>) -> Option<String> {
        match v.get_ref() {
            DeValue::String(s) => Some(s.to_string()),
            _ => {
                self.wrong(key, v, Want::Text);
                None
            }
        }
    }

    /// A boolean value.
    pub fn boolean(&mut self, key: &str, v: &Val<'_>) -> Option<bool> {
        match v.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            _ => {
                self.wrong(key, v, Want::Bool);
                None
            }
        }
    }

    /// An integer value.
    pub fn integer(&mut self, key: &str, v: &Val<'_>) -> Option<i64> {
        match v.get_ref() {
            DeValue::Integer(i) => {
                let digits = i.as_str().replace('_', "");
                let (sign, body) = match digits.strip_prefix('-') {
                    Some(b) => (-1, b.to_string()),
                    None => (1, digits.trim_start_matches('+').to_string()),
                };
                let body = body
                    .trim_start_matches("0x")
                    .trim_start_matches("0o")
                    .trim_start_matches("0b");
                i64::from_str_radix(body, i.radix()).ok().map(|n| sign * n)
            }
            _ => {
                self.wrong(key, v, Want::Integer);
                None
            }
        }
    }

    /// A number (integer or decimal).
    pub fn number(&mut self, key: &str, v: &Val<'_>) -> Option<f64> {
        match v.get_ref() {
            DeValue::Float(f) => f.as_str().replace('_', "").parse().ok(),
            DeValue::Integer(_) => self.integer(key, v).map(|i| i as f64),
            _ => {
                self.wrong(key, v, Want::Number);
                None
            }
        }
    }

    /// A list of texts; a single text counts as a list of one.
    pub fn texts(&mut self, key: &str, v: &Val<'_>) -> Option<Vec<(String, Range<usize>)>> {
        match v.get_ref() {
            DeValue::String(s) => Some(vec![(s.to_string(), v.span())]),
            DeValue::Array(items) => {
                let mut out = Vec::new();
                let mut ok = true;
                for (i, item) in items.iter().enumerate() {
                    match item.get_ref() {
                        DeValue::String(s) => out.push((s.to_string(), item.span())),
                        _ => {
                            self.wrong(&format!("{key}[{}]", i + 1), item, Want::Text);
                            ok = false;
                        }
                    }
                }
                ok.then_some(out)
            }
            _ => {
                self.wrong(key, v, Want::TextOrList);
                None
            }
        }
    }

    /// A date: a TOML local date (`2026-12-01`) or a text holding one.
    pub fn date(&mut self, key: &str, v: &Val<'_>) -> Option<NaiveDate> {
        let shown = match v.get_ref() {
            DeValue::Datetime(dt) => {
                if let (Some(d), None, None) = (dt.date, dt.time, dt.offset) {
                    if let Some(nd) =
                        NaiveDate::from_ymd_opt(d.year as i32, d.month as u32, d.day as u32)
                    {
                        return Some(nd);
                    }
                }
                dt.to_string()
            }
            DeValue::String(s) => {
                if let Ok(nd) = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
                    return Some(nd);
                }
                s.to_string()
            }
            _ => {
                self.wrong(key, v, Want::Date);
                return None;
            }
        };
        self.error(
            &v.span(),
            key,
            Msg::BadDate {
                key: key.to_string(),
                value: shown,
            },
        );
        None
    }

    /// A duration text (`"20s"`, `"10m"`, `"1h 30m"`, `"20秒"`) or whole
    /// seconds, at most `max`.
    pub fn duration(
        &mut self,
        key: &str,
        v: &Val<'_>,
        max: Duration,
        max_text: &'static str,
    ) -> Option<Duration> {
        let (parsed, shown) = match v.get_ref() {
            DeValue::String(s) => (parse_duration(s), s.to_string()),
            DeValue::Integer(_) => {
                let n = self.integer(key, v);
                (
                    n.filter(|n| *n >= 0).map(|n| Duration::from_secs(n as u64)),
                    n.map_or(String::new(), |n| n.to_string()),
                )
            }
            _ => {
                self.wrong(key, v, Want::DurationText);
                return None;
            }
        };
        match parsed {
            Some(d) if d <= max => Some(d),
            _ => {
                self.error(
                    &v.span(),
                    key,
                    Msg::BadDuration {
                        key: key.to_string(),
                        value: shown,
                        max: max_text,
                    },
                );
                None
            }
        }
    }
}

/// Parses `"20s"`, `"10m"`, `"1h 30m"`, `"90"` (seconds) and the Chinese
/// units 秒/分/分钟/小时.
///
/// ```
/// use std::time::Duration;
/// use cunxiang::config::tomlread::parse_duration;
/// assert_eq!(parse_duration("1h 30m"), Some(Duration::from_secs(5400)));
/// assert_eq!(parse_duration("20秒"), Some(Duration::from_secs(20)));
/// ```
pub fn parse_duration(s: &str) -> Option<Duration> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    if let Ok(n) = t.parse::<u64>() {
        return Some(Duration::from_secs(n));
    }
    let t = t
        .replace("小时", "h")
        .replace("分钟", "m")
        .replace('分', "m")
        .replace('秒', "s");
    humantime::parse_duration(&t).ok()
}

/// The closest allowed word to a mistyped one, or a known alias.
pub fn suggest(
    word: &str,
    allowed: &[&'static str],
    aliases: &[(&str, &'static str)],
) -> Option<String> {
    let lower = word.to_lowercase();
    if let Some((_, to)) = aliases.iter().find(|(from, _)| *from == lower) {
        return Some(to.to_string());
    }
    allowed
        .iter()
        .map(|a| (strsim::damerau_levenshtein(&lower, a), *a))
        .filter(|(d, a)| *d <= 2.max(a.len() / 4) && *d < a.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, a)| a.to_string())
}

/// Looks up a key in a table, returning the value with its span.
pub fn get<'t, 'i>(table: &'t DeTable<'i>, key: &str) -> Option<&'t Val<'i>> {
    table
        .iter()
        .find(|(k, _)| k.get_ref().as_ref() == key)
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_both_notations() {
        assert_eq!(parse_duration("20s"), Some(Duration::from_secs(20)));
        assert_eq!(parse_duration("10m"), Some(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h 30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("20秒"), Some(Duration::from_secs(20)));
        assert_eq!(parse_duration("10分钟"), Some(Duration::from_secs(600)));
        assert_eq!(parse_duration("90"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("soon"), None);
        assert_eq!(
            crate::i18n::show_duration(Duration::from_secs(5400)),
            "1h 30m"
        );
    }

    #[test]
    fn suggestions() {
        let allowed = ["repeat", "gap", "name", "play"];
        assert_eq!(suggest("repaet", &allowed, &[]), Some("repeat".into()));
        assert_eq!(
            suggest("files", &allowed, &[("files", "play")]),
            Some("play".into())
        );
        assert_eq!(suggest("zzzzzz", &allowed, &[]), None);
    }
}
