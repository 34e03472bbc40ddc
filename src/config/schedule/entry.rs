//! Reading one `[[broadcast]]` entry into a [`Broadcast`], key by key,
//! reporting every wrong key with its line. Text in, values and findings
//! out: it must not look at the disk (whether files exist is `check`'s).

use super::{
    parse_cron, parse_time, AudioPath, Broadcast, Chime, Days, Priority, Times, BROADCAST_KEYS,
    KEY_ALIASES, MAX_REPEAT,
};
use crate::config::tomlread::{get, suggest, Reader, Val};
use crate::i18n::{Msg, Want};
use chrono::{NaiveDate, NaiveTime};
use std::time::Duration;
use toml::de::{DeTable, DeValue};

/// One `[[broadcast]]` entry, key by key; `None` (with the errors
/// recorded) when any key is wrong.
pub(super) fn broadcast(r: &mut Reader<'_>, item: &Val<'_>) -> Option<Broadcast> {
    let table = item.get_ref().as_table()?;
    let start_errors = r.diags.iter().filter(|d| d.is_error()).count();
    let (line, _) = r.pos(&item.span());

    let name = name(r, table, item);
    r.broadcast = name.clone();
    r.unknown_keys(table, BROADCAST_KEYS, KEY_ALIASES);
    let is_relay = get(table, "relay").is_some();
    let is_say = get(table, "say").is_some();
    let play = if is_relay || is_say {
        Some(Vec::new())
    } else {
        play(r, table, item)
    };
    let times = times(r, table, item);
    let relay = super::relay::relay(r, table, item, times.as_ref());
    let say = super::say::say(r, table, item);
    let days = days(r, table);
    let (from, until) = date_range(r, table, is_relay);
    let repeat = repeat(r, table);
    let gap = match get(table, "gap") {
        None => Some(Duration::ZERO),
        Some(v) => r.duration("gap", v, Duration::from_secs(3600), "1h"),
    };
    let (chime, chime_line) = chime(r, table, line);
    let priority = priority(r, table);
    let volume = volume(r, table);
    let catch_up = match get(table, "catch_up") {
        None => Some(None),
        Some(v) => r
            .duration("catch_up", v, Duration::from_secs(24 * 3600), "24h")
            .map(Some),
    };
    let enabled = match get(table, "enabled") {
        None => Some(true),
        Some(v) => r.boolean("enabled", v),
    };

    let errors_now = r.diags.iter().filter(|d| d.is_error()).count();
    if errors_now > start_errors {
        return None;
    }
    Some(Broadcast {
        name: name?,
        file: r.file.clone(),
        line,
        play: play?,
        times: times?,
        days: days?,
        from,
        until,
        repeat: repeat?,
        gap: gap?,
        chime: chime?,
        chime_line,
        priority: priority?,
        volume: volume?,
        catch_up: catch_up?,
        enabled: enabled?,
        relay,
        say,
    })
}

/// `name`: required, not blank.
fn name(r: &mut Reader<'_>, table: &DeTable<'_>, item: &Val<'_>) -> Option<String> {
    match get(table, "name") {
        Some(v) => r.text("name", v).and_then(|n| {
            let n = n.trim().to_string();
            if n.is_empty() {
                r.error(&v.span(), "name", Msg::EmptyName);
                None
            } else {
                Some(n)
            }
        }),
        None => {
            r.error(
                &item.span(),
                "name",
                Msg::MissingKey {
                    key: "name",
                    example: "name = \"致广大市民朋友的一封信\"",
                },
            );
            None
        }
    }
}

/// `play`: required, each path inside the audio folder, with its line.
fn play(
    r: &mut Reader<'_>,
    table: &DeTable<'_>,
    item: &Val<'_>,
) -> Option<Vec<(AudioPath, usize)>> {
    match get(table, "play") {
        Some(v) => r.texts("play", v).and_then(|items| {
            if items.is_empty() {
                r.error(&v.span(), "play", Msg::EmptyValue { key: "play".into() });
                return None;
            }
            let mut out = Vec::new();
            for (raw, span) in items {
                match AudioPath::parse(&raw) {
                    Ok(p) => out.push((p, r.pos(&span).0)),
                    Err(m) => r.error(&span, "play", m),
                }
            }
            Some(out)
        }),
        None => {
            r.error(
                &item.span(),
                "play",
                Msg::MissingKey {
                    key: "play",
                    example: "play = [\"一封信.mp3\"]",
                },
            );
            None
        }
    }
}

/// `at` or `cron`, exactly one of them.
fn times(r: &mut Reader<'_>, table: &DeTable<'_>, item: &Val<'_>) -> Option<Times> {
    match (get(table, "at"), get(table, "cron")) {
        (Some(a), Some(c)) => {
            r.error(&a.span(), "at", Msg::AtAndCron);
            let _ = c;
            None
        }
        (Some(a), None) => at_times(r, a),
        (None, Some(c)) => r.text("cron", c).and_then(|expr| match parse_cron(&expr) {
            Ok(cron) => Some(Times::Cron {
                expr,
                cron: Box::new(cron),
            }),
            Err(detail) => {
                r.error(
                    &c.span(),
                    "cron",
                    Msg::BadCron {
                        value: expr,
                        detail,
                    },
                );
                None
            }
        }),
        (None, None) => {
            r.error(&item.span(), "at", Msg::NoTimes);
            None
        }
    }
}

/// `days`: weekday words; every day when absent.
fn days(r: &mut Reader<'_>, table: &DeTable<'_>) -> Option<Days> {
    match get(table, "days") {
        None => Some(Days::ALL),
        Some(v) => r.texts("days", v).and_then(|words| {
            if words.is_empty() {
                r.error(&v.span(), "days", Msg::EmptyValue { key: "days".into() });
                return None;
            }
            let mut set = Days(0);
            let mut ok = true;
            for (w, span) in words {
                match Days::parse_word(&w) {
                    Some(d) => set.0 |= d.0,
                    None => {
                        let suggestion = suggest(
                            &w,
                            &[
                                "mon", "tue", "wed", "thu", "fri", "sat", "sun", "weekdays",
                                "weekends",
                            ],
                            &[],
                        );
                        r.error(
                            &span,
                            "days",
                            Msg::BadDay {
                                value: w,
                                suggestion,
                            },
                        );
                        ok = false;
                    }
                }
            }
            ok.then_some(set)
        }),
    }
}

/// `from` and `until`, each a date; `until` not before `from`.
/// A relay's `until` may be a time of day instead (the end of its slot).
fn date_range(
    r: &mut Reader<'_>,
    table: &DeTable<'_>,
    is_relay: bool,
) -> (Option<NaiveDate>, Option<NaiveDate>) {
    let from = get(table, "from").map(|v| (r.date("from", v), v));
    let slot_end = is_relay && super::relay::until_time(table).is_some();
    let until = get(table, "until")
        .filter(|_| !slot_end)
        .map(|v| (r.date("until", v), v));
    if let (Some((Some(f), _)), Some((Some(u), uv))) = (&from, &until) {
        if u < f {
            r.error(
                &uv.span(),
                "until",
                Msg::UntilBeforeFrom {
                    from: f.to_string(),
                    until: u.to_string(),
                },
            );
        }
    }
    (from.and_then(|(d, _)| d), until.and_then(|(d, _)| d))
}

/// `repeat`: 1 to [`MAX_REPEAT`]; 1 when absent.
fn repeat(r: &mut Reader<'_>, table: &DeTable<'_>) -> Option<u32> {
    match get(table, "repeat") {
        None => Some(1),
        Some(v) => r.integer("repeat", v).and_then(|n| {
            if (1..=MAX_REPEAT).contains(&n) {
                Some(n as u32)
            } else {
                r.error(&v.span(), "repeat", Msg::BadRepeat { value: n });
                None
            }
        }),
    }
}

/// `chime`: true, false or a file, with the line it was written on
/// (the entry's own `line` when absent).
fn chime(r: &mut Reader<'_>, table: &DeTable<'_>, line: usize) -> (Option<Chime>, usize) {
    match get(table, "chime") {
        None => (Some(Chime::None), line),
        Some(v) => {
            let l = r.pos(&v.span()).0;
            let c = match v.get_ref() {
                DeValue::Boolean(true) => Some(Chime::Builtin),
                DeValue::Boolean(false) => Some(Chime::None),
                DeValue::String(s) => match AudioPath::parse(s) {
                    Ok(p) => Some(Chime::File(p)),
                    Err(m) => {
                        r.error(&v.span(), "chime", m);
                        None
                    }
                },
                other => {
                    r.error(
                        &v.span(),
                        "chime",
                        Msg::WrongType {
                            key: "chime".into(),
                            want: Want::BoolOrText,
                            found: other.type_str().into(),
                        },
                    );
                    None
                }
            };
            (c, l)
        }
    }
}

/// `priority`: normal, important or emergency; normal when absent.
fn priority(r: &mut Reader<'_>, table: &DeTable<'_>) -> Option<Priority> {
    match get(table, "priority") {
        None => Some(Priority::Normal),
        Some(v) => r
            .text("priority", v)
            .and_then(|s| match Priority::parse(&s) {
                Some(p) => Some(p),
                None => {
                    let suggestion = suggest(
                        &s,
                        &["normal", "important", "emergency"],
                        &[
                            ("urgent", "emergency"),
                            ("high", "important"),
                            ("low", "normal"),
                        ],
                    );
                    r.error(
                        &v.span(),
                        "priority",
                        Msg::BadPriority {
                            value: s,
                            suggestion,
                        },
                    );
                    None
                }
            }),
    }
}

/// `volume`: 0 to 1; 1 when absent.
fn volume(r: &mut Reader<'_>, table: &DeTable<'_>) -> Option<f32> {
    match get(table, "volume") {
        None => Some(1.0),
        Some(v) => r.number("volume", v).and_then(|x| {
            if (0.0..=1.0).contains(&x) {
                Some(x as f32)
            } else {
                r.error(
                    &v.span(),
                    "volume",
                    Msg::BadVolume {
                        value: x.to_string(),
                    },
                );
                None
            }
        }),
    }
}

fn at_times(r: &mut Reader<'_>, v: &Val<'_>) -> Option<Times> {
    let items = r.texts("at", v)?;
    if items.is_empty() {
        r.error(&v.span(), "at", Msg::EmptyValue { key: "at".into() });
        return None;
    }
    let mut out: Vec<NaiveTime> = Vec::new();
    let mut ok = true;
    for (s, span) in items {
        match parse_time(&s) {
            Some(t) if out.contains(&t) => {
                r.error(&span, "at", Msg::DuplicateTime { value: s });
                ok = false;
            }
            Some(t) => out.push(t),
            None => {
                r.error(&span, "at", Msg::BadTime { value: s });
                ok = false;
            }
        }
    }
    out.sort();
    ok.then_some(Times::At(out))
}
