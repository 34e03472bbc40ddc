//! Showing things to people: tables that measure Chinese text width,
//! instants in the station's zone with its offset, and the `plan` output.
//! It formats what it is given; it must not read the store or the files.

use crate::i18n::show_duration;
use crate::i18n::{word, Lang};
use crate::plan::{ChimeFile, Firing, Outcome, Settled, Skip};
use chrono::{DateTime, Datelike, Duration as TimeDelta, NaiveDate, SecondsFormat, Utc};
use chrono_tz::Tz;
use comfy_table::{presets, ContentArrangement, Table};
use std::io::Write;
use std::time::Duration;

/// A plain table that counts Chinese characters as two columns.
pub fn table() -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_BORDERS_ONLY)
        .set_content_arrangement(ContentArrangement::Disabled);
    t
}

/// At most `max` characters of `s`: a longer text is cut on a character
/// boundary and ends with "…" (which counts as one of the `max`). Lists
/// on the dashboard cut names so one long name cannot swell the page.
pub fn cut(s: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match s.char_indices().nth(max) {
        None => s.into(),
        Some(_) => {
            let keep = s
                .char_indices()
                .nth(max.saturating_sub(1))
                .map_or(s.len(), |(i, _)| i);
            format!("{}…", &s[..keep]).into()
        }
    }
}

/// `2026-12-01 07:30:00 +08:00`: how instants are shown to people.
pub fn show_instant(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz)
        .format("%Y-%m-%d %H:%M:%S %:z")
        .to_string()
}

/// RFC 3339 with the station's offset: `2026-12-01T07:30:00+08:00`.
pub fn rfc3339(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz)
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// RFC 3339 with milliseconds and the station's offset (logs, ledgers).
pub fn rfc3339_ms(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz)
        .to_rfc3339_opts(SecondsFormat::Millis, false)
}

/// `2026-12-01 周二` / `2026-12-01 Tue`.
pub fn date_with_weekday(d: NaiveDate, lang: Lang) -> String {
    const ZH: [&str; 7] = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];
    match lang {
        Lang::Zh => format!("{} {}", d, ZH[d.weekday().num_days_from_monday() as usize]),
        Lang::En => format!("{} {}", d, d.weekday()),
    }
}

fn collision_note(o: &Outcome, tz: Tz, lang: Lang) -> Option<String> {
    let hm = |t: DateTime<Utc>| t.with_timezone(&tz).format("%H:%M:%S").to_string();
    if let Some(b) = &o.missed_because {
        return Some(match lang {
            Lang::Zh => format!("⚠ 冲突：被「{}」占用，超出补播窗口，将漏播", b.broadcast),
            Lang::En => format!(
                "⚠ collides with \"{}\": past its catch-up window, would be missed",
                b.broadcast
            ),
        });
    }
    let mut parts = Vec::new();
    if let (Some(b), Some(start)) = (&o.waited_for, o.start) {
        parts.push(match lang {
            Lang::Zh => format!("⚠ 冲突：等「{}」播完，{} 开始", b.broadcast, hm(start)),
            Lang::En => format!(
                "⚠ collides with \"{}\": waits, starts {}",
                b.broadcast,
                hm(start)
            ),
        });
    }
    if let Some(b) = &o.interrupts {
        parts.push(match lang {
            Lang::Zh => format!("⚠ 冲突：打断「{}」", b.broadcast),
            Lang::En => format!("⚠ collides: interrupts \"{}\"", b.broadcast),
        });
    }
    if let Some(b) = &o.interrupted_by {
        parts.push(match lang {
            Lang::Zh => format!("⚠ 冲突：被「{}」打断", b.broadcast),
            Lang::En => format!("⚠ collides: interrupted by \"{}\"", b.broadcast),
        });
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

fn priority_word(f: &Firing, lang: Lang) -> &'static str {
    word(lang, f.priority.as_str())
}

/// Where `plan` writes its firings, one at a time as the planner settles
/// them, so the output never waits for (or holds) the whole window.
pub trait PlanOut {
    /// One firing, in time order.
    ///
    /// # Errors
    /// When writing fails.
    fn row(&mut self, r: &Settled) -> std::io::Result<()>;
    /// After the last firing.
    ///
    /// # Errors
    /// When writing fails.
    fn end(&mut self) -> std::io::Result<()>;
}

/// The `plan` table: one table per day, its total in the last row. A day
/// is held until it is complete (column widths need all its rows), never
/// more than a day.
pub struct PlanTable<'w> {
    out: &'w mut dyn Write,
    tz: Tz,
    lang: Lang,
    day: Option<(NaiveDate, Table, usize, Duration)>,
    any: bool,
}

impl<'w> PlanTable<'w> {
    pub fn new(out: &'w mut dyn Write, tz: Tz, lang: Lang) -> Self {
        PlanTable {
            out,
            tz,
            lang,
            day: None,
            any: false,
        }
    }

    fn header(&self) -> Table {
        let lang = self.lang;
        let mut t = table();
        t.set_header(vec![
            word(lang, "time"),
            word(lang, "end"),
            word(lang, "broadcast"),
            word(lang, "files"),
            word(lang, "priority"),
            word(lang, "note"),
        ]);
        t
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let lang = self.lang;
        let Some((d, mut t, n, air)) = self.day.take() else {
            return Ok(());
        };
        let label = match lang {
            Lang::Zh => format!(
                "{} {n} 次，共 {}",
                word(lang, "day_total"),
                show_duration(air)
            ),
            Lang::En => format!(
                "{}: {n} firings, {}",
                word(lang, "day_total"),
                show_duration(air)
            ),
        };
        t.add_row(vec![
            date_with_weekday(d, lang),
            String::new(),
            label,
            String::new(),
            String::new(),
            String::new(),
        ]);
        writeln!(self.out, "{t}")
    }
}

impl PlanOut for PlanTable<'_> {
    fn row(&mut self, r: &Settled) -> std::io::Result<()> {
        let (lang, tz) = (self.lang, self.tz);
        let f = &r.firing;
        self.any = true;
        if self.day.as_ref().is_some_and(|d| d.0 != f.local_date) {
            self.flush()?;
        }
        if self.day.is_none() {
            self.day = Some((f.local_date, self.header(), 0, Duration::ZERO));
        }
        let (_, t, day_count, day_air) = self.day.as_mut().expect("set");
        let mut notes = Vec::new();
        match f.skip {
            Some(Skip::QuietHours) => notes.push(word(lang, "skipped_quiet").to_string()),
            Some(Skip::Holiday) => notes.push(word(lang, "skipped_holiday").to_string()),
            None => {
                *day_count += 1;
                *day_air += r.duration.unwrap_or_default();
            }
        }
        if f.repeat > 1 {
            notes.push(match lang {
                Lang::Zh => format!("循环 {} 次", f.repeat),
                Lang::En => format!("×{}", f.repeat),
            });
        }
        if let Some(n) = collision_note(&r.outcome, tz, lang) {
            notes.push(n);
        }
        if r.duration.is_none() {
            notes.push(word(lang, "unknown_len").to_string());
        }
        let mut files = Vec::new();
        match &f.chime {
            ChimeFile::None => {}
            ChimeFile::Builtin => files.push(format!("({})", word(lang, "chime"))),
            ChimeFile::File(c) => files.push(format!("({c})")),
        }
        files.extend(f.files.iter().cloned());
        if let Some(s) = &f.say {
            let head: String = s.chars().take(20).collect();
            let more = if s.chars().count() > 20 { "…" } else { "" };
            files.push(format!(
                "{}「{head}{more}」",
                lang.pick("朗读", "read aloud")
            ));
        }
        let end = r.duration.map_or_else(
            || "?".to_string(),
            |d| {
                (f.scheduled_at + TimeDelta::from_std(d).unwrap_or_default())
                    .with_timezone(&tz)
                    .format("%H:%M:%S")
                    .to_string()
            },
        );
        t.add_row(vec![
            show_instant(f.scheduled_at, tz),
            end,
            f.broadcast.clone(),
            files.join("\n"),
            priority_word(f, lang).to_string(),
            notes.join("; "),
        ]);
        Ok(())
    }

    fn end(&mut self) -> std::io::Result<()> {
        if !self.any {
            // Nothing planned: the header alone says so.
            let t = self.header();
            return writeln!(self.out, "{t}");
        }
        self.flush()
    }
}

/// The `plan --format json` array, written an element at a time (the same
/// text `serde_json::to_string_pretty` gives for the whole array).
pub struct PlanJson<'w> {
    out: &'w mut dyn Write,
    tz: Tz,
    any: bool,
}

impl<'w> PlanJson<'w> {
    pub fn new(out: &'w mut dyn Write, tz: Tz) -> Self {
        PlanJson {
            out,
            tz,
            any: false,
        }
    }
}

impl PlanOut for PlanJson<'_> {
    fn row(&mut self, r: &Settled) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(&plan_item(r, self.tz)).expect("json");
        // Raw line breaks only occur between tokens (strings escape
        // theirs), so indenting every line nests the object in the array.
        let text = text.replace('\n', "\n  ");
        let sep = if self.any { ",\n  " } else { "[\n  " };
        self.any = true;
        self.out.write_all(sep.as_bytes())?;
        self.out.write_all(text.as_bytes())
    }

    fn end(&mut self) -> std::io::Result<()> {
        self.out
            .write_all(if self.any { b"\n]\n" } else { b"[]\n" })
    }
}

/// One firing of `plan --format json`.
pub fn plan_item(r: &Settled, tz: Tz) -> serde_json::Value {
    let f = &r.firing;
    let o = &r.outcome;
    let name = |x: &Option<crate::plan::Other>| x.as_ref().map(|x| x.broadcast.clone());
    let collision = o.collides().then(|| {
        serde_json::json!({
            "waits_for": name(&o.waited_for),
            "expected_start": o.start.filter(|_| o.waited_for.is_some()).map(|s| rfc3339(s, tz)),
            "missed_because": name(&o.missed_because),
            "interrupts": name(&o.interrupts),
            "interrupted_by": name(&o.interrupted_by),
        })
    });
    serde_json::json!({
        "broadcast": f.broadcast,
        "scheduled_at": rfc3339(f.scheduled_at, tz),
        "ends_at": r.duration.map(|d| rfc3339(f.scheduled_at + TimeDelta::from_std(d).unwrap_or_default(), tz)),
        "duration_s": r.duration.map(|d| (d.as_secs_f64() * 1000.0).round() / 1000.0),
        "date": f.local_date.to_string(),
        "files": f.files,
        "say": f.say,
        "chime": match &f.chime {
            ChimeFile::None => serde_json::Value::Null,
            ChimeFile::Builtin => serde_json::json!("builtin"),
            ChimeFile::File(c) => serde_json::json!(c),
        },
        "priority": f.priority,
        "repeat": f.repeat,
        "gap_s": f.gap.as_secs_f64(),
        "volume": (f.volume as f64 * 1000.0).round() / 1000.0,
        "catch_up_s": f.catch_up.as_secs(),
        "skipped": f.skip,
        "collision": collision,
    })
}

#[cfg(test)]
mod tests {
    use super::cut;

    #[test]
    fn cut_keeps_short_text_and_ends_long_text_with_an_ellipsis() {
        assert_eq!(cut("每日公告", 4), "每日公告");
        assert_eq!(cut("每日公告!", 4), "每日公…");
        assert_eq!(cut("", 3), "");
        assert_eq!(cut("abc", 0), "…");
        let long: String = "长名".repeat(5000);
        let c = cut(&long, 60);
        assert_eq!(c.chars().count(), 60);
        assert!(c.ends_with('…') && long.starts_with(c.trim_end_matches('…')));
    }
}

/// An instant in the station's zone: written and read as RFC 3339 with
/// the station's offset (`2026-12-01T07:30:00+08:00`), as the status JSON
/// carries it; typed, so readers never parse strings back by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Stamp(pub DateTime<chrono::FixedOffset>);

impl Stamp {
    /// `t` in the zone `tz`.
    pub fn at(t: DateTime<Utc>, tz: Tz) -> Stamp {
        Stamp(t.with_timezone(&tz).fixed_offset())
    }

    pub fn utc(&self) -> DateTime<Utc> {
        self.0.with_timezone(&Utc)
    }

    /// `2026-12-01 07:30:00 +08:00`.
    pub fn shown(&self) -> String {
        self.0.format("%Y-%m-%d %H:%M:%S %:z").to_string()
    }
}

impl serde::Serialize for Stamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_rfc3339_opts(SecondsFormat::Secs, false))
    }
}

impl<'de> serde::Deserialize<'de> for Stamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Stamp, D::Error> {
        let s = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&s)
            .map(Stamp)
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod stamp_tests {
    use super::Stamp;
    use chrono::{TimeZone, Utc};

    #[test]
    fn a_stamp_is_written_with_the_station_offset_and_read_back() {
        let t = Utc.with_ymd_and_hms(2026, 11, 30, 23, 30, 0).unwrap();
        let s = Stamp::at(t, chrono_tz::Asia::Shanghai);
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(json, "\"2026-12-01T07:30:00+08:00\"");
        assert_eq!(
            json.trim_matches('"'),
            super::rfc3339(t, chrono_tz::Asia::Shanghai)
        );
        assert_eq!(s.shown(), "2026-12-01 07:30:00 +08:00");
        let back: Stamp = serde_json::from_str(&json).unwrap();
        assert_eq!((back, back.utc()), (s, t));
    }
}
