//! The HTTP face of the daemon: the dashboard for people, a JSON API for
//! tools and the CLI, `/metrics` for Prometheus. It listens on loopback
//! unless told otherwise, and then every request needs the token.
//!
//! Handlers never touch the run loop's state: they read the published
//! [`Live`] view, ask the loop over the control channel (play, stop,
//! reload) and read the store on the blocking pool.

use crate::clock::Clock;
use crate::commands::{self, LedgerFormat, LogFormat};
use crate::daemon::{Control, Live, PlayRefused, PlayRequest, PlayTarget};
use crate::i18n::Lang;
use crate::load::Station;
use crate::schedule::Priority;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Form, Query, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};

/// What the handlers share.
pub struct AppState {
    pub station_dir: PathBuf,
    pub clock: Arc<dyn Clock>,
    /// Requests to the run loop.
    pub control: mpsc::Sender<Control>,
    /// The run loop's published view.
    pub live: watch::Receiver<Live>,
    /// Required from every request when set.
    pub token: Option<String>,
}

type Shared = Arc<AppState>;

/// How long a handler waits for the run loop before answering 503.
const LOOP_TIMEOUT: Duration = Duration::from_secs(10);
/// The cookie a browser keeps the token in after the login form.
const COOKIE: &str = "cunxiang_token";

/// Serves on `listener` until the returned task is aborted.
///
/// # Errors
/// When the listener cannot be handed to the runtime.
pub fn spawn(
    listener: std::net::TcpListener,
    state: AppState,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let app = router(Arc::new(state));
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "HTTP server stopped");
        }
    });
    Ok((addr, task))
}

fn router(state: Shared) -> Router {
    Router::new()
        .route("/", get(dashboard))
        .route("/login", post(login))
        .route("/play", post(form_play))
        .route("/stop", post(form_stop))
        .route("/api/status", get(api_status))
        .route("/api/plays", get(api_plays))
        .route("/api/outages", get(api_outages))
        .route("/api/report", get(api_report))
        .route("/api/play", post(api_play))
        .route("/api/stop", post(api_stop))
        .route("/api/reload", post(api_reload))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        .with_state(state)
}

/// Every failure a request can meet, and (in [`ApiError::status`]) the
/// one mapping to HTTP status codes.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("a token is required: send Authorization: Bearer <token>")]
    Unauthorized,
    #[error("refused: the request came from another web site")]
    CrossSite,
    #[error("{en}")]
    BadRequest { en: String, zh: String },
    #[error("{en}")]
    NotFound { en: String, zh: String },
    #[error("the daemon did not answer in time (is it stopping?)")]
    Unavailable,
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::CrossSite => StatusCode::FORBIDDEN,
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthorized => "unauthorized",
            ApiError::CrossSite => "cross_site",
            ApiError::BadRequest { .. } => "bad_request",
            ApiError::NotFound { .. } => "not_found",
            ApiError::Unavailable => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    /// The message in Chinese, for the operator.
    fn zh(&self) -> String {
        match self {
            ApiError::Unauthorized => {
                "需要口令：请求要带 Authorization: Bearer <口令>（cunxiang.toml 的 [control] token）"
                    .into()
            }
            ApiError::CrossSite => "拒绝：请求来自别的网站".into(),
            ApiError::BadRequest { zh, .. } | ApiError::NotFound { zh, .. } => zh.clone(),
            ApiError::Unavailable => "播控程序没有及时回应（正在停止？）".into(),
            ApiError::Internal(e) => format!("内部错误：{e}"),
        }
    }

    fn bad(en: impl Into<String>, zh: impl Into<String>) -> ApiError {
        ApiError::BadRequest {
            en: en.into(),
            zh: zh.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if matches!(self, ApiError::Internal(_)) {
            tracing::error!(error = %self, "request failed");
        }
        let body = serde_json::json!({
            "error": self.code(),
            "message": self.to_string(),
            "message_zh": self.zh(),
        });
        (self.status(), Json(body)).into_response()
    }
}

impl From<PlayRefused> for ApiError {
    fn from(e: PlayRefused) -> ApiError {
        let en = e.to_string();
        match e {
            PlayRefused::UnknownBroadcast(n) => ApiError::NotFound {
                zh: format!("没有叫「{n}」的节目，也没有这个音频文件"),
                en,
            },
            PlayRefused::OutsideAudio(p) => ApiError::bad(
                en,
                format!("「{p}」不是音频文件夹里的路径：只能播放音频文件夹里的文件"),
            ),
            PlayRefused::CannotPlay { file, detail } => ApiError::bad(
                en,
                format!("「{file}」不能播放：{detail}。请检查文件是否已上传、能否打开"),
            ),
            PlayRefused::BadRepeat => ApiError::bad(en, "重复次数要在 1 到 20 之间"),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(e: JsonRejection) -> ApiError {
        ApiError::bad(
            format!("the body must be JSON: {}", e.body_text()),
            format!("请求内容必须是 JSON：{}", e.body_text()),
        )
    }
}

impl From<QueryRejection> for ApiError {
    fn from(e: QueryRejection) -> ApiError {
        ApiError::bad(
            format!("bad query: {}", e.body_text()),
            format!("查询参数有误：{}", e.body_text()),
        )
    }
}

/// Runs blocking work (SQLite, schedule files) off the runtime thread.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// Asks the run loop and waits for its answer.
async fn ask<T>(
    st: &AppState,
    make: impl FnOnce(oneshot::Sender<T>) -> Control,
) -> Result<T, ApiError> {
    let (tx, rx) = oneshot::channel();
    st.control
        .send(make(tx))
        .await
        .map_err(|_| ApiError::Unavailable)?;
    match tokio::time::timeout(LOOP_TIMEOUT, rx).await {
        Ok(Ok(v)) => Ok(v),
        _ => Err(ApiError::Unavailable),
    }
}

/// Token checks and cross-site refusal, before any handler.
async fn guard(State(st): State<Shared>, req: Request, next: Next) -> Response {
    if req.method() == Method::POST && !same_origin(req.headers()) {
        tracing::warn!(path = %req.uri().path(), "cross-site POST refused");
        return ApiError::CrossSite.into_response();
    }
    if let Some(token) = &st.token {
        let path = req.uri().path();
        // The forms check the token themselves (cookie or form field).
        let form = matches!(path, "/login" | "/play" | "/stop");
        if !form && !authorized(req.headers(), token) {
            if path == "/" {
                let lang = lang_of(req.uri().query().unwrap_or(""));
                return (
                    StatusCode::UNAUTHORIZED,
                    Html(crate::dashboard::login_page(lang, false)),
                )
                    .into_response();
            }
            return ApiError::Unauthorized.into_response();
        }
    }
    next.run(req).await
}

/// A browser sends `Sec-Fetch-Site` and `Origin` with a POST; both must
/// say it comes from this page. Tools (curl, the CLI) send neither.
fn same_origin(h: &HeaderMap) -> bool {
    let get = |k: &str| h.get(k).and_then(|v| v.to_str().ok());
    if let Some(site) = get("sec-fetch-site") {
        if site != "same-origin" && site != "none" {
            return false;
        }
    }
    if let Some(origin) = get("origin") {
        let host = get("host").unwrap_or_default();
        let bare = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
            .unwrap_or("");
        if bare != host {
            return false;
        }
    }
    true
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

/// The bearer token, or the login cookie.
fn authorized(h: &HeaderMap, token: &str) -> bool {
    let eq = |a: &str, b: &str| constant_time_eq::constant_time_eq(a.as_bytes(), b.as_bytes());
    if let Some(v) = h
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return eq(v.trim(), token);
    }
    let want = hex(token);
    h.get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().strip_prefix(COOKIE)?.strip_prefix('='))
        .any(|v| eq(v, &want))
}

fn lang_of(query: &str) -> Lang {
    serde_urlencoded::from_str::<HashMap<String, String>>(query)
        .ok()
        .and_then(|q| q.get("lang").and_then(|l| Lang::parse(l)))
        .unwrap_or(Lang::Zh)
}

#[derive(Debug, Deserialize, Default)]
struct LangQuery {
    lang: Option<String>,
}

impl LangQuery {
    fn lang(&self) -> Lang {
        self.lang
            .as_deref()
            .and_then(Lang::parse)
            .unwrap_or(Lang::Zh)
    }
}

async fn not_found() -> ApiError {
    ApiError::NotFound {
        en: "no such page".into(),
        zh: "没有这个页面".into(),
    }
}

#[tracing::instrument(skip_all)]
async fn api_status(
    State(st): State<Shared>,
    q: Result<Query<LangQuery>, QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let lang = q?.lang();
    let live = st.live.borrow().clone();
    let now = st.clock.now();
    let dir = st.station_dir.clone();
    let v = blocking(move || {
        let station = Station::load(&dir);
        commands::status_value(&station, now, lang, Some(&live))
    })
    .await?;
    Ok(Json(v))
}

#[derive(Debug, Deserialize)]
struct PlaysQuery {
    since: Option<String>,
    status: Option<String>,
    lang: Option<String>,
}

/// Runs a CLI listing with JSON output: the API and the CLI share filters
/// and fields. A usage error (exit 2) is the client's mistake.
async fn cli_json(
    run: impl FnOnce(&mut Vec<u8>, &mut Vec<u8>) -> std::io::Result<i32> + Send + 'static,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (code, out, err) = blocking(move || {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = run(&mut out, &mut err);
        (code, out, err)
    })
    .await?;
    let code = code.map_err(|e| ApiError::Internal(e.to_string()))?;
    if code == crate::EXIT_CONFIG {
        let msg = String::from_utf8_lossy(&err)
            .trim()
            .trim_start_matches("cunxiang: ")
            .to_string();
        return Err(ApiError::bad(msg.clone(), msg));
    }
    serde_json::from_slice(&out)
        .map(Json)
        .map_err(|e| ApiError::Internal(e.to_string()))
}

#[tracing::instrument(skip_all)]
async fn api_plays(
    State(st): State<Shared>,
    q: Result<Query<PlaysQuery>, QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Query(q) = q?;
    let lang = LangQuery { lang: q.lang }.lang();
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(
            <crate::store::Status as clap::ValueEnum>::from_str(s, true).map_err(|_| {
                ApiError::bad(
                    format!("unknown status {s:?}: use played, partial, failed, missed, skipped, interrupted or playing"),
                    format!("没有「{s}」这种状态：可用 played、partial、failed、missed、skipped、interrupted、playing"),
                )
            })?,
        ),
    };
    let since = q.since.unwrap_or_else(|| "1d".into());
    let (dir, now) = (st.station_dir.clone(), st.clock.now());
    cli_json(move |out, err| {
        commands::log(&dir, now, lang, &since, status, LogFormat::Json, out, err)
    })
    .await
}

#[derive(Debug, Deserialize)]
struct OutagesQuery {
    open: Option<bool>,
    since: Option<String>,
    lang: Option<String>,
}

#[tracing::instrument(skip_all)]
async fn api_outages(
    State(st): State<Shared>,
    q: Result<Query<OutagesQuery>, QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Query(q) = q?;
    let lang = LangQuery { lang: q.lang }.lang();
    let (dir, now) = (st.station_dir.clone(), st.clock.now());
    let open = q.open.unwrap_or(false);
    cli_json(move |out, err| {
        commands::outages(
            &dir,
            now,
            lang,
            open,
            q.since.as_deref(),
            LedgerFormat::Json,
            out,
            err,
        )
    })
    .await
}

#[derive(Debug, Deserialize)]
struct ReportQuery {
    from: Option<String>,
    days: Option<u32>,
}

#[tracing::instrument(skip_all)]
async fn api_report(
    State(st): State<Shared>,
    q: Result<Query<ReportQuery>, QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Query(q) = q?;
    let from = match q.from.as_deref() {
        None | Some("") => None,
        Some(d) => Some(
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
                ApiError::bad(
                    format!("from={d}: write a date like 2026-12-01"),
                    format!("from={d}：日期要写成 2026-12-01 这样"),
                )
            })?,
        ),
    };
    let days = q.days.unwrap_or(7);
    if !(1..=366).contains(&days) {
        return Err(ApiError::bad(
            "days must be between 1 and 366",
            "days 要在 1 到 366 之间",
        ));
    }
    let (dir, now) = (st.station_dir.clone(), st.clock.now());
    cli_json(move |out, _| {
        commands::report(&dir, now, Lang::En, from, days, LedgerFormat::Json, out)
    })
    .await
}

/// `POST /api/play`: exactly one of `file`, `broadcast` or `name` (a
/// broadcast if one has that name, else a file).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlayBody {
    file: Option<String>,
    broadcast: Option<String>,
    name: Option<String>,
    priority: Option<String>,
    repeat: Option<u32>,
}

fn play_request(
    file: Option<String>,
    broadcast: Option<String>,
    name: Option<String>,
    priority: Option<&str>,
    repeat: Option<u32>,
) -> Result<PlayRequest, ApiError> {
    let target = match (file, broadcast, name) {
        (Some(f), None, None) => PlayTarget::File(f),
        (None, Some(b), None) => PlayTarget::Broadcast(b),
        (None, None, Some(n)) => PlayTarget::Either(n),
        _ => {
            return Err(ApiError::bad(
                "give exactly one of file, broadcast or name",
                "file、broadcast、name 三项只能填一项",
            ))
        }
    };
    let priority = match priority.map(str::trim).filter(|p| !p.is_empty()) {
        None => None,
        Some(p) => Some(Priority::parse(p).ok_or_else(|| {
            ApiError::bad(
                format!("unknown priority {p:?}: use normal, important or emergency"),
                format!("没有「{p}」这种优先级：可用 normal（普通）、important（重要）、emergency（紧急）"),
            )
        })?),
    };
    Ok(PlayRequest {
        target,
        priority,
        repeat,
    })
}

fn accepted_json(a: &crate::daemon::PlayAccepted) -> serde_json::Value {
    serde_json::json!({
        "broadcast": a.broadcast,
        "scheduled_at": crate::store::ts(a.scheduled_at),
        "priority": a.priority,
        "state": a.state,
        "trigger": "manual",
    })
}

#[tracing::instrument(skip_all)]
async fn api_play(
    State(st): State<Shared>,
    body: Result<Json<PlayBody>, JsonRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let Json(b) = body?;
    let req = play_request(b.file, b.broadcast, b.name, b.priority.as_deref(), b.repeat)?;
    let accepted = ask(&st, |tx| Control::Play(req, tx)).await??;
    Ok((StatusCode::ACCEPTED, Json(accepted_json(&accepted))))
}

#[tracing::instrument(skip_all)]
async fn api_stop(State(st): State<Shared>) -> Result<Json<serde_json::Value>, ApiError> {
    let stopped = ask(&st, Control::Stop).await?;
    Ok(Json(serde_json::json!({ "stopped": stopped })))
}

#[tracing::instrument(skip_all)]
async fn api_reload(
    State(st): State<Shared>,
    q: Result<Query<LangQuery>, QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let lang = q?.lang();
    let errors = ask(&st, Control::ReloadReport).await?;
    let errors: Vec<String> = errors.iter().map(|d| d.render(lang)).collect();
    Ok(Json(
        serde_json::json!({ "ok": errors.is_empty(), "errors": errors }),
    ))
}

#[tracing::instrument(skip_all)]
async fn metrics(State(st): State<Shared>) -> Result<Response, ApiError> {
    let live = st.live.borrow().clone();
    let (dir, now) = (st.station_dir.clone(), st.clock.now());
    let text = blocking(move || crate::metrics::render(&Station::load(&dir), now, &live)).await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

#[derive(Debug, Deserialize, Default)]
struct PageQuery {
    lang: Option<String>,
    msg: Option<String>,
    err: Option<String>,
}

#[tracing::instrument(skip_all)]
async fn dashboard(
    State(st): State<Shared>,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Html<String>, ApiError> {
    let Query(q) = q?;
    let opts = crate::dashboard::PageOpts {
        lang: LangQuery { lang: q.lang }.lang(),
        token_required: st.token.is_some(),
        msg: q.msg,
        err: q.err,
    };
    let live = st.live.borrow().clone();
    let (dir, now) = (st.station_dir.clone(), st.clock.now());
    let page = blocking(move || crate::dashboard::page(&dir, now, &live, &opts)).await?;
    Ok(Html(page))
}

/// Back to the dashboard with a message (a redirect, so reloading the page
/// never repeats the action).
fn back(lang: Lang, key: &str, text: &str) -> Response {
    let q = serde_urlencoded::to_string([("lang", lang.code()), (key, text)]).unwrap_or_default();
    Redirect::to(&format!("/?{q}")).into_response()
}

/// The token from the login cookie, a bearer header or the form itself.
fn form_authorized(st: &AppState, h: &HeaderMap, form: &HashMap<String, String>) -> bool {
    match &st.token {
        None => true,
        Some(t) => {
            authorized(h, t)
                || form.get("token").is_some_and(|f| {
                    constant_time_eq::constant_time_eq(f.trim().as_bytes(), t.as_bytes())
                })
        }
    }
}

async fn login(State(st): State<Shared>, Form(f): Form<HashMap<String, String>>) -> Response {
    let lang = f
        .get("lang")
        .and_then(|l| Lang::parse(l))
        .unwrap_or(Lang::Zh);
    let ok = match &st.token {
        Some(t) => f
            .get("token")
            .is_some_and(|v| constant_time_eq::constant_time_eq(v.trim().as_bytes(), t.as_bytes())),
        None => true,
    };
    if !ok {
        return (
            StatusCode::UNAUTHORIZED,
            Html(crate::dashboard::login_page(lang, true)),
        )
            .into_response();
    }
    let cookie = format!(
        "{COOKIE}={}; HttpOnly; SameSite=Strict; Path=/",
        hex(st.token.as_deref().unwrap_or(""))
    );
    (
        [(header::SET_COOKIE, cookie)],
        Redirect::to(&format!("/?lang={}", lang.code())),
    )
        .into_response()
}

async fn form_play(
    State(st): State<Shared>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let lang = f
        .get("lang")
        .and_then(|l| Lang::parse(l))
        .unwrap_or(Lang::Zh);
    if !form_authorized(&st, &headers, &f) {
        return back(lang, "err", lang.pick("口令不对", "wrong token"));
    }
    let name = f
        .get("name")
        .map(|n| n.trim().to_string())
        .unwrap_or_default();
    if name.is_empty() {
        return back(
            lang,
            "err",
            lang.pick(
                "请填写节目名或音频文件",
                "name a broadcast or an audio file",
            ),
        );
    }
    let repeat = match f.get("repeat").map(|r| r.trim()).filter(|r| !r.is_empty()) {
        None => None,
        Some(r) => match r.parse() {
            Ok(n) => Some(n),
            Err(_) => {
                return back(
                    lang,
                    "err",
                    lang.pick("重复次数要写数字", "repeat must be a number"),
                )
            }
        },
    };
    let result = match play_request(
        None,
        None,
        Some(name),
        f.get("priority").map(|s| s.as_str()),
        repeat,
    ) {
        Ok(req) => ask(&st, |tx| Control::Play(req, tx))
            .await
            .and_then(|r| r.map_err(ApiError::from)),
        Err(e) => Err(e),
    };
    match result {
        Ok(a) => back(
            lang,
            "msg",
            &match lang {
                Lang::Zh => format!("已插播「{}」", a.broadcast),
                Lang::En => format!("\"{}\" put on air", a.broadcast),
            },
        ),
        Err(e) => back(
            lang,
            "err",
            &match lang {
                Lang::Zh => e.zh(),
                Lang::En => e.to_string(),
            },
        ),
    }
}

async fn form_stop(
    State(st): State<Shared>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let lang = f
        .get("lang")
        .and_then(|l| Lang::parse(l))
        .unwrap_or(Lang::Zh);
    if !form_authorized(&st, &headers, &f) {
        return back(lang, "err", lang.pick("口令不对", "wrong token"));
    }
    match ask(&st, Control::Stop).await {
        Ok(Some(n)) => back(
            lang,
            "msg",
            &match lang {
                Lang::Zh => format!("已停播「{n}」"),
                Lang::En => format!("stopped \"{n}\""),
            },
        ),
        Ok(None) => back(
            lang,
            "msg",
            lang.pick("现在没有在播", "nothing was playing"),
        ),
        Err(e) => back(lang, "err", &e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_origin_refuses_other_sites_and_allows_tools() {
        let mut h = HeaderMap::new();
        assert!(same_origin(&h), "curl and the CLI send no Origin");
        h.insert("host", "127.0.0.1:7878".parse().unwrap());
        h.insert("origin", "http://127.0.0.1:7878".parse().unwrap());
        assert!(same_origin(&h));
        h.insert("origin", "http://evil.example".parse().unwrap());
        assert!(!same_origin(&h));
        h.insert("origin", "null".parse().unwrap());
        assert!(!same_origin(&h));
        let mut h = HeaderMap::new();
        h.insert("sec-fetch-site", "cross-site".parse().unwrap());
        assert!(!same_origin(&h));
    }

    #[test]
    fn token_from_bearer_or_cookie_only_when_equal() {
        let mut h = HeaderMap::new();
        assert!(!authorized(&h, "s3cret"));
        h.insert("authorization", "Bearer s3cret".parse().unwrap());
        assert!(authorized(&h, "s3cret"));
        h.insert("authorization", "Bearer s3cre".parse().unwrap());
        assert!(!authorized(&h, "s3cret"));
        let mut h = HeaderMap::new();
        h.insert(
            "cookie",
            format!("a=b; {COOKIE}={}", hex("口令1")).parse().unwrap(),
        );
        assert!(authorized(&h, "口令1"));
        assert!(!authorized(&h, "口令2"));
    }

    #[test]
    fn every_error_has_one_status() {
        let cases = [
            (ApiError::Unauthorized, 401),
            (ApiError::CrossSite, 403),
            (ApiError::bad("x", "x"), 400),
            (
                ApiError::NotFound {
                    en: "x".into(),
                    zh: "x".into(),
                },
                404,
            ),
            (ApiError::Unavailable, 503),
            (ApiError::Internal("x".into()), 500),
            (PlayRefused::OutsideAudio("../x".into()).into(), 400),
            (PlayRefused::UnknownBroadcast("x".into()).into(), 404),
        ];
        for (e, code) in cases {
            assert_eq!(e.status().as_u16(), code, "{e:?}");
        }
    }
}
