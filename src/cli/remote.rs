//! `cunxiang play` and `cunxiang stop`: requests to the running daemon
//! over its HTTP face, and their answers in words. Rendering only: it
//! must not decide what plays (the daemon does) nor read the store.

use crate::config::load::Station;
use crate::i18n::{word, Lang};
use std::io::Write;
use std::path::Path;

/// The daemon of `station`, or a message saying it does not answer.
fn daemon_client(
    station: &Station,
    lang: Lang,
    err: &mut dyn Write,
) -> std::io::Result<Option<super::client::Client>> {
    let c = super::client::Client::find(station);
    if c.is_none() {
        writeln!(
            err,
            "{}",
            lang.pick(
                "播控程序没有在运行（先运行 cunxiang run）。",
                "the daemon is not running (start cunxiang run first)"
            )
        )?;
    }
    Ok(c)
}

/// This station's running daemon, checked to answer as itself; else the
/// exit code (the reason is written to `err`).
fn connected(
    station_dir: &Path,
    lang: Lang,
    err: &mut dyn Write,
) -> std::io::Result<Result<super::client::Client, i32>> {
    let station = Station::load(station_dir);
    let Some(c) = daemon_client(&station, lang, err)? else {
        return Ok(Err(crate::EXIT_FINDINGS));
    };
    match c.status(lang) {
        Ok(_) => Ok(Ok(c)),
        Err(e) => Ok(Err(client_error(&e, lang, err)?)),
    }
}

/// Prints a failed request to the daemon; returns the exit code.
fn client_error(
    e: &super::client::ClientError,
    lang: Lang,
    err: &mut dyn Write,
) -> std::io::Result<i32> {
    use super::client::ClientError;
    match e {
        ClientError::NotRunning { .. } => {
            writeln!(
                err,
                "{}: {e}",
                lang.pick(
                    "播控程序没有回应（没有运行？）",
                    "the daemon does not answer (not running?)"
                )
            )?;
            Ok(crate::EXIT_FINDINGS)
        }
        ClientError::Api {
            status,
            message,
            message_zh,
            ..
        } => {
            let m = if lang == Lang::Zh && !message_zh.is_empty() {
                message_zh
            } else {
                message
            };
            writeln!(err, "cunxiang: {m}")?;
            Ok(if (400..500).contains(status) {
                crate::EXIT_CONFIG
            } else {
                crate::EXIT_FINDINGS
            })
        }
    }
}

/// `cunxiang play NAME`: asks the running daemon to put a broadcast (by
/// name) or an audio file on air now; logged with trigger `manual`.
///
/// # Errors
/// Only when writing fails.
pub fn play(
    station_dir: &Path,
    lang: Lang,
    args: &PlayArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> std::io::Result<i32> {
    let c = match connected(station_dir, lang, err)? {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let mut body = match (&args.relay, &args.say, &args.name) {
        (Some(r), _, _) => serde_json::json!({ "relay": r, "for": args.length }),
        (None, Some(s), _) => serde_json::json!({ "say": s }),
        (None, None, n) => serde_json::json!({ "name": n }),
    };
    if let Some(p) = &args.priority {
        body["priority"] = p.as_str().into();
    }
    if let Some(r) = args.repeat {
        body["repeat"] = r.into();
    }
    match c.post("/api/play", &body) {
        Ok(v) => {
            let name = v["broadcast"].as_str().unwrap_or_default();
            let prio = word(lang, v["priority"].as_str().unwrap_or_default());
            let text = match (v["state"].as_str().unwrap_or_default(), lang) {
                ("playing", Lang::Zh) => format!("已开始播出「{name}」（{prio}）"),
                ("playing", Lang::En) => format!("\"{name}\" is on air ({prio})"),
                ("interrupting", Lang::Zh) => {
                    format!("正在打断当前节目，马上播出「{name}」（{prio}）")
                }
                ("interrupting", Lang::En) => {
                    format!("cutting the current play: \"{name}\" goes on air now ({prio})")
                }
                (_, Lang::Zh) => format!("「{name}」（{prio}）已排队，等当前节目播完"),
                (_, Lang::En) => {
                    format!("\"{name}\" ({prio}) is queued after the current play")
                }
            };
            writeln!(out, "{text}")?;
            Ok(crate::EXIT_OK)
        }
        Err(e) => client_error(&e, lang, err),
    }
}

/// What `cunxiang play` asks for: a broadcast or file by name, or a
/// relay for a time.
#[derive(Debug, Clone, Default)]
pub struct PlayArgs {
    pub name: Option<String>,
    pub relay: Option<String>,
    pub length: Option<String>,
    pub priority: Option<String>,
    pub repeat: Option<u32>,
    /// A typed notice to read aloud instead.
    pub say: Option<String>,
}

/// `cunxiang stop`: asks the running daemon to stop the play on air.
///
/// # Errors
/// Only when writing fails.
pub fn stop(
    station_dir: &Path,
    lang: Lang,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> std::io::Result<i32> {
    let c = match connected(station_dir, lang, err)? {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    match c.post("/api/stop", &serde_json::json!({})) {
        Ok(v) => {
            match v["stopped"].as_str() {
                Some(n) => writeln!(
                    out,
                    "{}",
                    match lang {
                        Lang::Zh => format!("已停播「{n}」"),
                        Lang::En => format!("stopped \"{n}\""),
                    }
                )?,
                None => writeln!(
                    out,
                    "{}",
                    lang.pick("现在没有在播。", "nothing was playing")
                )?,
            }
            Ok(crate::EXIT_OK)
        }
        Err(e) => client_error(&e, lang, err),
    }
}
