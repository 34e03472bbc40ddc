//! The dashboard page and its forms (login, play, stop): a form answers
//! with a redirect to the page carrying a result code, never free text.
//! It must not render the page itself (that is `web::dashboard`'s).

use super::api::{play_request, PlayBody};
use super::error::ApiError;
use super::guard::{access, hex, level, same, Access, LangQuery, Peer};
use super::{ask, blocking, AppState, Shared, COOKIE};
use crate::daemon::Control;
use crate::i18n::Lang;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Extension;
use serde::Deserialize;
use std::collections::HashMap;

#[derive(Debug, Deserialize, Default)]
pub(super) struct PageQuery {
    lang: Option<String>,
    /// What a form did (`played`, `stopped`, `idle`) or why it failed
    /// (`token`, `empty`, `repeat`, `notfound`, `refused`, `busy`): codes,
    /// never free text, so a link cannot put words on the page.
    ok: Option<String>,
    err: Option<String>,
    name: Option<String>,
    /// An audio file to prefill the operator's page's "add to a schedule"
    /// form with (the library's and the upload's link).
    add: Option<String>,
}

/// The sentence for a form's result code.
pub(super) fn flash(lang: Lang, q: &PageQuery) -> (Option<String>, Option<String>) {
    let name = q.name.as_deref().unwrap_or_default();
    let ok = q.ok.as_deref().and_then(|c| {
        Some(match (c, lang) {
            ("played", Lang::Zh) => format!("已插播「{name}」"),
            ("played", Lang::En) => format!("\"{name}\" put on air"),
            ("stopped", Lang::Zh) => format!("已停播「{name}」"),
            ("stopped", Lang::En) => format!("stopped \"{name}\""),
            ("idle", _) => lang.pick("现在没有在播。", "Nothing was playing.").into(),
            ("uploaded", Lang::Zh) => format!("已上传「{name}」，已放进音频库。"),
            ("uploaded", Lang::En) => format!("Uploaded \"{name}\" into the audio library."),
            _ => return super::schedule_text::sentence(lang, "ok", c, name),
        })
    });
    let err = q.err.as_deref().and_then(|c| {
        Some(match (c, lang) {
            ("token", _) => lang.pick("口令不对。", "Wrong token.").into(),
            ("empty", _) => lang
                .pick("请填写节目名或音频文件。", "Name a broadcast or an audio file.")
                .into(),
            ("repeat", _) => lang
                .pick("重复次数要写 1 到 20 的数字。", "Repeat must be a number from 1 to 20.")
                .into(),
            ("notfound", Lang::Zh) => format!("没有叫「{name}」的节目，音频文件夹里也没有这个文件。"),
            ("notfound", Lang::En) => {
                format!("No broadcast or audio file is named \"{name}\".")
            }
            ("refused", Lang::Zh) => format!(
                "「{name}」不能播出：只能播放音频文件夹里能打开的文件（运行 cunxiang check 看原因）。"
            ),
            ("refused", Lang::En) => format!(
                "\"{name}\" cannot play: only playable files under the audio folder can (cunxiang check says why)."
            ),
            (c, _) if super::notice::flash_words(c, lang).is_some() => {
                super::notice::flash_words(c, lang)?.to_string()
            }
            ("busy", _) => lang
                .pick(
                    "播控程序没有及时回应，请稍后再试。",
                    "The daemon did not answer in time; try again.",
                )
                .into(),
            (c, _) => {
                return upload_flash(lang, c, name)
                    .or_else(|| super::schedule_text::sentence(lang, "err", c, name))
            }
        })
    });
    (ok, err)
}

/// Why an upload was refused (`upload_*`), and what to do.
fn upload_flash(lang: Lang, code: &str, name: &str) -> Option<String> {
    let name = crate::sound::media::visible(name);
    Some(match (code, lang) {
        ("upload_big", _) => lang
            .pick(
                "文件太大（超过 100 MB）：请先压缩成 MP3 再上传。",
                "The file is too big (over 100 MB): compress it to MP3 first, then upload it.",
            )
            .into(),
        ("upload_not_audio", Lang::Zh) => format!(
            "「{name}」不是能播放的音频（文件坏了，或只是改了扩展名）：请重新导出成 MP3 再上传。"
        ),
        ("upload_not_audio", Lang::En) => format!(
            "\"{name}\" is not playable audio (damaged, or only renamed): export it again as MP3, then upload it."
        ),
        ("upload_long", Lang::Zh) => {
            format!("「{name}」超过 2 小时：请剪短或分成几段再上传。")
        }
        ("upload_long", Lang::En) => format!(
            "\"{name}\" is longer than 2 hours: cut it or split it into parts, then upload them."
        ),
        ("upload_name", Lang::Zh) => format!(
            "文件名「{name}」不能用：不能有 / \\ : * ? \" < > | 、“..”或控制字符，不能以“.”开头，最多 100 个字。请改名后再上传。"
        ),
        ("upload_name", Lang::En) => format!(
            "The file name \"{name}\" cannot be used: no / \\ : * ? \" < > |, \"..\" or control characters, no leading \".\", at most 100 characters. Rename the file, then upload it."
        ),
        ("upload_type", Lang::Zh) => format!(
            "「{name}」不是支持的音频格式：只能上传 MP3、WAV、M4A、AAC、OGG 或 FLAC 文件。"
        ),
        ("upload_type", Lang::En) => format!(
            "\"{name}\" is not a supported audio format: upload MP3, WAV, M4A, AAC, OGG or FLAC."
        ),
        ("upload_empty", _) => lang
            .pick(
                "没有收到文件（没有选文件，或文件是空的）：请选一个音频文件再上传。",
                "No file came (none chosen, or it is empty): choose an audio file, then upload it.",
            )
            .into(),
        ("upload_failed", _) => lang
            .pick(
                "上传没有完成（连接断了，或广播电脑的磁盘写不进去）：请重试；再不行请检查磁盘空间。",
                "The upload did not finish (the connection broke, or the PC's disk could not be written): try again, then check the disk space.",
            )
            .into(),
        _ => return None,
    })
}

#[tracing::instrument(skip_all)]
pub(super) async fn dashboard(
    State(st): State<Shared>,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Html<String>, ApiError> {
    let Query(q) = q?;
    let lang = LangQuery {
        lang: q.lang.clone(),
    }
    .lang();
    let (msg, err) = flash(lang, &q);
    let opts = crate::web::dashboard::PageOpts {
        lang,
        token_required: st.token.is_some(),
        csrf: st.csrf.clone(),
        msg,
        err,
        add: q.add.clone(),
        uploaded: uploaded(&q),
    };
    let live = st.live.borrow().clone();
    let (dir, now) = (st.station_dir.clone(), st.clock.now());
    let page = blocking(&st, move || {
        crate::web::dashboard::page(&dir, now, &live, &opts)
    })
    .await?;
    Ok(Html(page))
}

/// The file just uploaded, for the next steps offered beside the message.
fn uploaded(q: &PageQuery) -> Option<String> {
    (q.ok.as_deref() == Some("uploaded"))
        .then(|| q.name.clone())
        .flatten()
        .filter(|n| !n.is_empty())
}

/// The operator's page (`/manage`), with a form's result.
#[tracing::instrument(skip_all)]
pub(super) async fn manage(
    State(st): State<Shared>,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Html<String>, ApiError> {
    let Query(q) = q?;
    let lang = LangQuery {
        lang: q.lang.clone(),
    }
    .lang();
    let (msg, err) = flash(lang, &q);
    let opts = crate::web::dashboard::PageOpts {
        lang,
        token_required: st.token.is_some(),
        csrf: st.csrf.clone(),
        msg,
        err,
        add: q.add.clone(),
        uploaded: uploaded(&q),
    };
    let live = st.live.borrow().clone();
    let (dir, now) = (st.station_dir.clone(), st.clock.now());
    let page = blocking(&st, move || {
        crate::web::dashboard::manage_page(&dir, now, &live, &opts)
    })
    .await?;
    Ok(Html(page))
}

/// Back to the dashboard with a result code (a redirect, so reloading the
/// page never repeats the action).
pub(super) fn back(lang: Lang, key: &str, code: &str, name: &str) -> Response {
    back_to("/", lang, key, code, name)
}

/// Back to `page` (`/` or `/manage`) with a result code.
pub(super) fn back_to(page: &str, lang: Lang, key: &str, code: &str, name: &str) -> Response {
    let q = serde_urlencoded::to_string([("lang", lang.code()), (key, code), ("name", name)])
        .unwrap_or_default();
    Redirect::to(&format!("{page}?{q}")).into_response()
}

pub(super) fn form_lang(f: &HashMap<String, String>) -> Lang {
    f.get("lang")
        .and_then(|l| Lang::parse(l))
        .unwrap_or(Lang::Zh)
}

/// A form from a page this daemon served (its CSRF field), by someone with
/// the full token (login cookie, bearer header or the form's own field).
pub(super) async fn form_refusal(
    st: &AppState,
    peer: Option<std::net::IpAddr>,
    h: &HeaderMap,
    f: &HashMap<String, String>,
) -> Option<Response> {
    form_refusal_to("/", st, peer, h, f).await
}

/// [`form_refusal`] for a form of `page` (a wrong token goes back there).
///
/// A token typed into the form is a guess like a header's: an address
/// whose last guess was wrong waits (429 meanwhile), and each wrong one
/// costs [`FAILED_AUTH_DELAY`](super::FAILED_AUTH_DELAY), so a read-token
/// holder (who sees the CSRF field) cannot try full tokens at speed.
pub(super) async fn form_refusal_to(
    page: &str,
    st: &AppState,
    peer: Option<std::net::IpAddr>,
    h: &HeaderMap,
    f: &HashMap<String, String>,
) -> Option<Response> {
    if !f.get("csrf").is_some_and(|c| same(c, &st.csrf)) {
        tracing::warn!("form without this page's CSRF field refused");
        return Some(ApiError::CrossSite.into_response());
    }
    if access(st, h) == Access::Full {
        return None;
    }
    let refused = || Some(back_to(page, form_lang(f), "err", "token", ""));
    let Some(t) = f.get("token").filter(|t| !t.is_empty()) else {
        return refused();
    };
    if !st.may_guess(peer) {
        return Some(ApiError::TooManyGuesses.into_response());
    }
    if level(st, t) == Access::Full {
        return None;
    }
    st.wrong_token(peer).await;
    refused()
}

/// A dashboard form's fields, once it passed [`form_refusal`].
pub(super) async fn checked_form(
    st: &AppState,
    peer: Option<std::net::IpAddr>,
    h: &HeaderMap,
    f: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<HashMap<String, String>, Box<Response>> {
    let Form(f) = f.map_err(|e| Box::new(ApiError::from(e).into_response()))?;
    match form_refusal(st, peer, h, &f).await {
        Some(r) => Err(Box::new(r)),
        None => Ok(f),
    }
}

pub(super) async fn login(
    State(st): State<Shared>,
    axum::Extension(Peer(peer)): axum::Extension<Peer>,
    f: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let f = match f {
        Ok(Form(f)) => f,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let lang = form_lang(&f);
    let presented = f.get("token").map(String::as_str).unwrap_or_default();
    if st.token.is_some() && level(&st, presented) == Access::None {
        st.wrong_token(peer).await;
        return (
            StatusCode::UNAUTHORIZED,
            Html(crate::web::dashboard::login_page(lang, true)),
        )
            .into_response();
    }
    let cookie = format!(
        "{COOKIE}={}; HttpOnly; SameSite=Strict; Path=/",
        hex(presented.trim())
    );
    (
        [(header::SET_COOKIE, cookie)],
        Redirect::to(&format!("/?lang={}", lang.code())),
    )
        .into_response()
}

pub(super) async fn form_play(
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
    let field = |k: &str| {
        f.get(k)
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
    };
    let (relay, length) = (field("relay"), field("for"));
    let name = field("name").or_else(|| relay.clone()).unwrap_or_default();
    if name.is_empty() {
        return back(lang, "err", "empty", "");
    }
    let repeat = match f.get("repeat").map(|r| r.trim()).filter(|r| !r.is_empty()) {
        None => None,
        Some(r) => match r.parse() {
            Ok(n) => Some(n),
            Err(_) => return back(lang, "err", "repeat", &name),
        },
    };
    let body = PlayBody {
        name: relay.is_none().then(|| name.clone()),
        relay,
        length,
        priority: f.get("priority").cloned(),
        repeat,
        ..PlayBody::default()
    };
    let result = match play_request(body) {
        Ok(req) => ask(&st, |tx| Control::Play(req, tx))
            .await
            .and_then(|r| r.map_err(ApiError::from)),
        Err(e) => Err(e),
    };
    match result {
        Ok(a) => back(lang, "ok", "played", &a.broadcast),
        Err(ApiError::NotFound { .. }) => back(lang, "err", "notfound", &name),
        Err(ApiError::Unavailable) => back(lang, "err", "busy", &name),
        Err(_) => back(lang, "err", "refused", &name),
    }
}

pub(super) async fn form_stop(
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
    match ask(&st, Control::Stop).await {
        Ok(Some(n)) => back(lang, "ok", "stopped", &n),
        Ok(None) => back(lang, "ok", "idle", ""),
        Err(_) => back(lang, "err", "busy", ""),
    }
}
