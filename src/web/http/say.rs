//! Typed notices from the web face (文字广播): the dashboard's text box
//! (`POST /say`) and `say` in `POST /api/play`. The text is checked and
//! read aloud here, on the blocking pool, before the run loop is asked, so
//! the loop only finds the rendered file; a person waits for the answer
//! and sees why a notice cannot be read. It must not play anything
//! itself.

use super::api::{play_request, PlayBody};
use super::error::ApiError;
use super::forms::{back_to, checked_form, form_lang};
use super::notice::render_notice;
use super::{ask, AppState, Shared};
use crate::daemon::Control;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::HeaderMap;
use axum::response::Response;
use std::collections::HashMap;

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
