//! Typed notices from the web face (文字广播): the dashboard's text box
//! (`POST /say`) and `say` in `POST /api/play`. The text is checked and
//! read aloud here, on the blocking pool, before the run loop is asked, so
//! the loop only finds the rendered file; a person waits for the answer
//! and sees why a notice cannot be read. It must not play anything
//! itself.

use super::api::{play_request, PlayBody};
use super::error::ApiError;
use super::forms::{back_to, checked_form, form_lang};
use super::guard::Peer;
use super::notice::{code_of, render_notice};
use super::{ask, AppState, Shared};
use crate::config::schedule::notice_text;
use crate::daemon::Control;
use crate::i18n::Msg;
use crate::sound::speech::SpeechError;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Extension;
use std::collections::HashMap;

/// `POST /say`: the text box. Back to the page it was sent from (`back`:
/// `manage` or the status page).
pub(super) async fn form_say(
    State(st): State<Shared>,
    Extension(Peer(peer)): Extension<Peer>,
    headers: HeaderMap,
    f: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let f = match checked_form(&st, peer, &headers, f).await {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let lang = form_lang(&f);
    let page = match f.get("back").map(String::as_str) {
        Some("manage") => "/manage",
        _ => "/",
    };
    let text = match notice_text(f.get("say").map(String::as_str).unwrap_or_default()) {
        Ok(t) => t,
        Err(Msg::SayTooLong { .. }) => return back_to(page, lang, "err", "say_long", ""),
        Err(_) => return back_to(page, lang, "err", "say_empty", ""),
    };
    let repeat = match f.get("repeat").map(|r| r.trim()).filter(|r| !r.is_empty()) {
        None => None,
        Some(r) => match r.parse::<u32>() {
            Ok(n) if (1..=20).contains(&n) => Some(n),
            _ => return back_to(page, lang, "err", "repeat", ""),
        },
    };
    let body = PlayBody {
        say: Some(text),
        priority: f.get("priority").cloned(),
        repeat,
        ..PlayBody::default()
    };
    match say_now(&st, body).await {
        Ok(Ok(name)) => back_to(page, lang, "ok", "played", &name),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "a typed notice cannot be read aloud");
            back_to(page, lang, "err", code_of(&e), "")
        }
        Err(ApiError::Unavailable) => back_to(page, lang, "err", "busy", ""),
        Err(e) => {
            tracing::info!(error = %e, "typed notice refused");
            back_to(page, lang, "err", "say_failed", "")
        }
    }
}

/// Checks, renders and asks the run loop to play a notice; its name in
/// the as-run log.
///
/// # Errors
/// A text that cannot be read aloud, a refused play, a loop that does not
/// answer.
pub(super) async fn say_now(
    st: &AppState,
    body: PlayBody,
) -> Result<Result<String, SpeechError>, ApiError> {
    let req = play_request(body)?;
    if let crate::daemon::PlayTarget::Say(text) = &req.target {
        if let Err(e) = render_notice(st, text.clone()).await? {
            return Ok(Err(e));
        }
    }
    let accepted = ask(st, |tx| Control::Play(req, tx)).await??;
    Ok(Ok(accepted.broadcast))
}
