//! The station file's sections with entries of their own: `[monitor]`
//! (proof of air) and `[[terminal]]` (IP loudspeakers). Reads TOML into
//! validated values and reports what is wrong; opens no device, probes
//! nothing.

use super::values::{MonitorConfig, MonitorSpec, Probe, RelayConfig, SpeechConfig, TerminalConfig};
use crate::config::schedule::parse_time;
use crate::config::tomlread::{get, Reader, Val};
use crate::i18n::{Msg, Want};
use std::time::Duration;
use toml::de::{DeTable, DeValue};

const TERMINAL_KEYS: &[&str] = &[
    "name", "location", "address", "probe", "path", "interval", "failures",
];

/// `[monitor]`: proof of air. `None` when `input` is wrong (reported):
/// a wrong input listens on nothing.
pub(super) fn monitor(r: &mut Reader<'_>, t: &DeTable<'_>) -> Option<MonitorConfig> {
    let mut m = MonitorConfig {
        input: MonitorSpec::Device(None),
        silence_db: -45.0,
        silence_after: Duration::from_secs(15),
        self_test: None,
    };
    let input = monitor_input(r, t);
    monitor_levels(r, t, &mut m);
    // A [monitor] section listens on the default input unless told
    // otherwise; a wrong `input` (reported above) listens on nothing.
    match (input, get(t, "input")) {
        (Some(spec), _) => {
            m.input = spec;
            Some(m)
        }
        (None, None) => Some(m),
        (None, Some(_)) => None,
    }
}

/// `monitor.input`, when given and right.
fn monitor_input(r: &mut Reader<'_>, t: &DeTable<'_>) -> Option<MonitorSpec> {
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
    input
}

/// `[relay]`: when a relayed source counts as lost. A wrong key keeps
/// its default (reported).
pub(super) fn relay(r: &mut Reader<'_>, t: &DeTable<'_>) -> RelayConfig {
    let mut c = RelayConfig::default();
    let secs = |r: &mut Reader<'_>, key: &str, max: u64, max_text: &'static str| {
        get(t, key).and_then(|v| {
            r.duration(
                &format!("relay.{key}"),
                v,
                Duration::from_secs(max),
                max_text,
            )
            .map(|d| d.max(Duration::from_secs(1)))
        })
    };
    c.no_data_after = secs(r, "no_data_after", 60, "60s");
    c.silence_after = secs(r, "silence_after", 3600, "1h");
    c.reconnect_max = secs(r, "reconnect_max", 300, "5m");
    if let Some(v) = get(t, "silence_db") {
        if let Some(n) = r.number("relay.silence_db", v) {
            if (-100.0..0.0).contains(&n) {
                c.silence_db = Some(n as f32);
            } else {
                r.error(
                    &v.span(),
                    "relay.silence_db",
                    Msg::BadSetting {
                        key: "relay.silence_db".into(),
                        value: n.to_string(),
                        zh: "请写 -100 到 0 之间的负数，例如 silence_db = -45",
                        en: "write a negative number between -100 and 0, like silence_db = -45",
                    },
                );
            }
        }
    }
    c
}

/// `[speech]`: the engine, voice, rate and volume of typed notices. A
/// wrong key keeps its default (reported).
pub(super) fn speech(r: &mut Reader<'_>, t: &DeTable<'_>) -> SpeechConfig {
    let mut c = SpeechConfig::default();
    let text = |r: &mut Reader<'_>, key: &str| {
        get(t, key)
            .and_then(|v| r.text(&format!("speech.{key}"), v))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    c.engine = text(r, "engine");
    c.voice = text(r, "voice");
    if let Some(v) = get(t, "rate") {
        match r.integer("speech.rate", v) {
            Some(n) if (80..=300).contains(&n) => c.rate = Some(n as u32),
            Some(n) => r.error(
                &v.span(),
                "speech.rate",
                Msg::BadSetting {
                    key: "speech.rate".into(),
                    value: n.to_string(),
                    zh: "语速请写 80 到 300 之间的整数（每分钟字数），例如 rate = 150",
                    en: "write the rate as a whole number from 80 to 300 (words a minute), like rate = 150",
                },
            ),
            None => {}
        }
    }
    if let Some(v) = get(t, "volume") {
        match r.number("speech.volume", v) {
            Some(n) if (0.0..=2.0).contains(&n) => c.volume = Some(n as f32),
            Some(n) => r.error(
                &v.span(),
                "speech.volume",
                Msg::BadSetting {
                    key: "speech.volume".into(),
                    value: n.to_string(),
                    zh: "音量请写 0 到 2 之间的数，1 是正常音量，例如 volume = 1.2",
                    en: "write the volume as a number from 0 to 2, 1 being normal, like volume = 1.2",
                },
            ),
            None => {}
        }
    }
    c
}

/// `monitor.silence_db`, `silence_after` and `self_test`.
fn monitor_levels(r: &mut Reader<'_>, t: &DeTable<'_>, m: &mut MonitorConfig) {
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
        if let Some(d) = r.duration("monitor.silence_after", v, Duration::from_secs(3600), "1h") {
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
}

/// `[[terminal]]`: every IP loudspeaker watched; a wrong entry is left
/// out (reported).
pub(super) fn terminals(r: &mut Reader<'_>, v: &Val<'_>, out: &mut Vec<TerminalConfig>) {
    match v.get_ref() {
        DeValue::Array(items) => {
            for item in items {
                match item.get_ref() {
                    DeValue::Table(t) => {
                        if let Some(term) = terminal(r, &item.span(), t) {
                            out.push(term);
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
    let address = terminal_address(r, t, address);
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
                    bad_setting(r, v, "terminal.probe", other.to_string(), "请写 \"tcp\"（能连上就算在线）或 \"http\"（GET path 返回 2xx 算在线）", "write \"tcp\" (a connection is accepted) or \"http\" (GET path answers 2xx)");
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
    let failures = terminal_failures(r, t)?;
    Some(TerminalConfig {
        name: name?,
        location,
        address: address?,
        probe,
        interval,
        failures,
    })
}

/// A setting with a value it cannot take, reported with how to write it.
fn bad_setting(
    r: &mut Reader<'_>,
    v: &Val<'_>,
    key: &str,
    value: String,
    zh: &'static str,
    en: &'static str,
) {
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
}

/// `terminal.address` when it reads `host:port`; else reported, `None`.
fn terminal_address(
    r: &mut Reader<'_>,
    t: &DeTable<'_>,
    address: Option<String>,
) -> Option<String> {
    match address {
        Some(a)
            if a.rsplit_once(':')
                .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok()) =>
        {
            Some(a)
        }
        Some(a) => {
            if let Some(v) = get(t, "address") {
                bad_setting(
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
    }
}

/// `terminal.failures` (default 3); `None` when wrong (reported).
fn terminal_failures(r: &mut Reader<'_>, t: &DeTable<'_>) -> Option<u32> {
    Some(match get(t, "failures") {
        None => 3,
        Some(v) => match r.integer("terminal.failures", v) {
            Some(n) if (1..=100).contains(&n) => n as u32,
            Some(n) => {
                bad_setting(
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
    })
}
