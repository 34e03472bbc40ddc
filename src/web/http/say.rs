//! Typed notices from the web face (文字广播): the dashboard's text box
//! (`POST /say`) and `say` in `POST /api/play`. The text is checked and
//! read aloud here, on the blocking pool, before the run loop is asked, so
//! the loop only finds the rendered file; a person waits for the answer
//! and sees why a notice cannot be read. It must not play anything
//! itself.

use super::api::{play_request, PlayBody};
use super::error::ApiError;
use super::forms::{back_to, checked_form, form_lang};
use super::{ask, blocking, AppState, Shared};
use crate::config::load::Station;
use crate::daemon::notice::{self, Notice};
use crate::daemon::Control;
use crate::i18n::Lang;
use crate::sound::speech::SpeechError;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::HeaderMap;
use axum::response::Response;
use std::collections::HashMap;

/// Reads `text` aloud into the station's notice cache (a cache hit when
/// it was read before).
///
/// # Errors
/// Why it cannot be read aloud, in both languages.
pub(super) async fn render_notice(st: &AppState, text: String) -> Result<(), ApiError> {
    let dir = st.station_dir.clone();
    let rendered = blocking(st, move || {
        let station = Station::load(&dir);
        let n = Notice::new(notice::voice(&station.config), &station.data_dir());
        n.render(&text).map(|_| ())
    })
    .await?;
    rendered.map_err(|e| {
        let (en, zh) = speech_words(&e);
        ApiError::bad(en, zh)
    })
}

/// What a person is told when a notice cannot be read aloud.
pub(super) fn speech_words(e: &SpeechError) -> (String, String) {
    match e {
        SpeechError::EngineMissing { program } => (
            format!("the text-to-speech program {program} is missing: apt-get install espeak-ng"),
            format!("没有找到朗读程序 {program}：请安装（apt-get install espeak-ng）"),
        ),
        SpeechError::VoiceMissing { voice } => (
            format!("the voice {voice} is missing: check [speech] voice in cunxiang.toml"),
            format!("朗读程序没有 {voice} 这个声音：请检查 cunxiang.toml 的 [speech] voice"),
        ),
        other => (
            format!("the notice could not be read aloud: {other}"),
            format!("通知没能朗读出来：{other}"),
        ),
    }
}

/// The result code a refused notice takes back to the page.
fn code_of(e: &ApiError) -> &'static str {
    match e {
        ApiError::Unavailable => "busy",
        ApiError::BadRequest { en, .. } if en.contains("is empty") => "say_empty",
        ApiError::BadRequest { en, .. } if en.contains("too long") => "say_long",
        ApiError::BadRequest { en, .. } if en.contains("is missing") => "say_engine",
        _ => "say_failed",
    }
}

/// `POST /say`: the text box. Back to the page it was sent from (`back`:
/// `manage` or the status page).
pub(super) async fn form_say(
    State(st): State<Shared>,
    headers: HeaderMap,
    f: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let f = match checked_form(&st, &headers, f) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let lang = form_lang(&f);
    let page = match f.get("back").map(String::as_str) {
        Some("manage") => "/manage",
        _ => "/",
    };
    let text = f.get("say").cloned().unwrap_or_default();
    let repeat = f
        .get("repeat")
        .map(|r| r.trim())
        .filter(|r| !r.is_empty())
        .map(|r| r.parse().unwrap_or(0));
    let body = PlayBody {
        say: Some(text),
        priority: f.get("priority").cloned(),
        repeat,
        ..PlayBody::default()
    };
    match say_now(&st, body).await {
        Ok(name) => back_to(page, lang, "ok", "played", &name),
        Err(e) => {
            tracing::info!(error = %e, "typed notice refused");
            back_to(page, lang, "err", code_of(&e), "")
        }
    }
}

/// Checks, renders and asks the run loop to play a notice; its name in
/// the as-run log.
///
/// # Errors
/// A text that cannot be read aloud, a refused play, a loop that does not
/// answer.
pub(super) async fn say_now(st: &AppState, body: PlayBody) -> Result<String, ApiError> {
    let req = play_request(body)?;
    if let crate::daemon::PlayTarget::Say(text) = &req.target {
        render_notice(st, text.clone()).await?;
    }
    let accepted = ask(st, |tx| Control::Play(req, tx)).await??;
    Ok(accepted.broadcast)
}

/// The sentence for a refused notice's result code.
pub(super) fn flash_words(code: &str, lang: Lang) -> Option<&'static str> {
    Some(match code {
        "say_empty" => lang.pick(
            "请先写上要朗读的通知文字。",
            "Write the notice to read aloud first.",
        ),
        "say_long" => lang.pick(
            "通知太长（最多 1000 个字）：请分成几条，或录成音频文件上传。",
            "The notice is too long (at most 1000 characters): split it, or record it and upload the file.",
        ),
        "say_engine" => lang.pick(
            "广播电脑上没有朗读程序：请县里技术员安装 espeak-ng（apt-get install espeak-ng）。",
            "The PC has no text-to-speech program: ask the technician to install espeak-ng (apt-get install espeak-ng).",
        ),
        "say_failed" => lang.pick(
            "通知没能朗读出来：请看 cunxiang log 或稍后再试。",
            "The notice could not be read aloud: see cunxiang log, or try again.",
        ),
        _ => return None,
    })
}
