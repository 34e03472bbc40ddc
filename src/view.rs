//! Showing things to people: tables that measure Chinese text width,
//! instants in the station's zone with its offset, and the `plan` output.

use crate::check::{expected, MediaTable};
use crate::i18n::{word, Lang};
use crate::planner::{ChimeFile, Firing, Outcome, Skip};
use crate::tomlread::show_duration;
use chrono::{DateTime, Datelike, Duration as TimeDelta, NaiveDate, SecondsFormat, Utc};
use chrono_tz::Tz;
use comfy_table::{presets, ContentArrangement, Table};
use std::time::Duration;

/// A plain table that counts Chinese characters as two columns.
pub fn table() -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_BORDERS_ONLY)
        .set_content_arrangement(ContentArrangement::Disabled);
    t
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

/// A planned firing with everything `plan` shows about it.
#[derive(Debug, Clone)]
pub struct PlanRow<'a> {
    pub firing: &'a Firing,
    pub duration: Option<Duration>,
    pub outcome: &'a Outcome,
}

fn collision_note(row: &PlanRow<'_>, all: &[Firing], tz: Tz, lang: Lang) -> Option<String> {
    let o = row.outcome;
    let name = |i: usize| all[i].broadcast.clone();
    let hm = |t: DateTime<Utc>| t.with_timezone(&tz).format("%H:%M:%S").to_string();
    if let Some(b) = o.missed_because {
        return Some(match lang {
            Lang::Zh => format!("⚠ 冲突：被「{}」占用，超出补播窗口，将漏播", name(b)),
            Lang::En => format!(
                "⚠ collides with \"{}\": past its catch-up window, would be missed",
                name(b)
            ),
        });
    }
    let mut parts = Vec::new();
    if let (Some(b), Some(start)) = (o.waited_for, o.start) {
        parts.push(match lang {
            Lang::Zh => format!("⚠ 冲突：等「{}」播完，{} 开始", name(b), hm(start)),
            Lang::En => format!(
                "⚠ collides with \"{}\": waits, starts {}",
                name(b),
                hm(start)
            ),
        });
    }
    if let Some(b) = o.interrupts {
        parts.push(match lang {
            Lang::Zh => format!("⚠ 冲突：打断「{}」", name(b)),
            Lang::En => format!("⚠ collides: interrupts \"{}\"", name(b)),
        });
    }
    if let Some(b) = o.interrupted_by {
        parts.push(match lang {
            Lang::Zh => format!("⚠ 冲突：被「{}」打断", name(b)),
            Lang::En => format!("⚠ collides: interrupted by \"{}\"", name(b)),
        });
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

fn priority_word(f: &Firing, lang: Lang) -> &'static str {
    word(lang, f.priority.as_str())
}

/// The `plan` table: one row per firing, a total row after each day.
pub fn plan_table(rows: &[PlanRow<'_>], all: &[Firing], tz: Tz, lang: Lang) -> String {
    let mut t = table();
    t.set_header(vec![
        word(lang, "time"),
        word(lang, "end"),
        word(lang, "broadcast"),
        word(lang, "files"),
        word(lang, "priority"),
        word(lang, "note"),
    ]);
    let mut day: Option<NaiveDate> = None;
    let mut day_count = 0usize;
    let mut day_air = Duration::ZERO;
    let flush = |t: &mut Table, d: NaiveDate, n: usize, air: Duration| {
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
    };
    for row in rows {
        let f = row.firing;
        if day.is_some_and(|d| d != f.local_date) {
            flush(&mut t, day.expect("set"), day_count, day_air);
            day_count = 0;
            day_air = Duration::ZERO;
        }
        day = Some(f.local_date);
        let mut notes = Vec::new();
        match f.skip {
            Some(Skip::QuietHours) => notes.push(word(lang, "skipped_quiet").to_string()),
            Some(Skip::Holiday) => notes.push(word(lang, "skipped_holiday").to_string()),
            None => {
                day_count += 1;
                day_air += row.duration.unwrap_or_default();
            }
        }
        if f.repeat > 1 {
            notes.push(match lang {
                Lang::Zh => format!("循环 {} 次", f.repeat),
                Lang::En => format!("×{}", f.repeat),
            });
        }
        if let Some(n) = collision_note(row, all, tz, lang) {
            notes.push(n);
        }
        if row.duration.is_none() {
            notes.push(word(lang, "unknown_len").to_string());
        }
        let mut files = Vec::new();
        match &f.chime {
            ChimeFile::None => {}
            ChimeFile::Builtin => files.push(format!("({})", word(lang, "chime"))),
            ChimeFile::File(c) => files.push(format!("({c})")),
        }
        files.extend(f.files.iter().cloned());
        let end = row.duration.map_or_else(
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
    }
    if let Some(d) = day {
        flush(&mut t, d, day_count, day_air);
    }
    t.to_string()
}

/// The `plan --format json` array.
pub fn plan_json(rows: &[PlanRow<'_>], all: &[Firing], tz: Tz) -> serde_json::Value {
    let items: Vec<serde_json::Value> = rows
        .iter()
        .map(|row| {
            let f = row.firing;
            let o = row.outcome;
            let name = |i: Option<usize>| i.map(|i| all[i].broadcast.clone());
            let collision = o.collides().then(|| {
                serde_json::json!({
                    "waits_for": name(o.waited_for),
                    "expected_start": o.start.filter(|_| o.waited_for.is_some()).map(|s| rfc3339(s, tz)),
                    "missed_because": name(o.missed_because),
                    "interrupts": name(o.interrupts),
                    "interrupted_by": name(o.interrupted_by),
                })
            });
            serde_json::json!({
                "broadcast": f.broadcast,
                "scheduled_at": rfc3339(f.scheduled_at, tz),
                "ends_at": row.duration.map(|d| rfc3339(f.scheduled_at + TimeDelta::from_std(d).unwrap_or_default(), tz)),
                "duration_s": row.duration.map(|d| (d.as_secs_f64() * 1000.0).round() / 1000.0),
                "date": f.local_date.to_string(),
                "files": f.files,
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
        })
        .collect();
    serde_json::Value::Array(items)
}

/// Builds the rows for a plan: durations from the probed media and the
/// single-output simulation.
pub fn plan_rows<'a>(
    plan: &'a [Firing],
    media: &MediaTable,
    outcomes: &'a [Outcome],
) -> Vec<PlanRow<'a>> {
    plan.iter()
        .zip(outcomes)
        .map(|(f, o)| PlanRow {
            firing: f,
            duration: expected(f, media),
            outcome: o,
        })
        .collect()
}
