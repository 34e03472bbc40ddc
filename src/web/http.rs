//! The HTTP face of the daemon: the dashboard for people, a JSON API for
//! tools and the CLI, `/metrics` for Prometheus. It listens on loopback
//! unless told otherwise, and then every request needs the token.
//!
//! Handlers never touch the run loop's state: they read the published
//! [`Live`] view, ask the loop over the control channel (play, stop,
//! reload) and read the store on the blocking pool.

use crate::cli::{self, LedgerFormat, LogFormat};
use crate::clock::Clock;
use crate::config::load::Station;
use crate::config::schedule::Priority;
use crate::daemon::{Control, Live, PlayRefused, PlayRequest, PlayTarget};
use crate::i18n::Lang;
use axum::extract::rejection::{FormRejection, JsonRejection, QueryRejection};
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
    station_dir: PathBuf,
    clock: Arc<dyn Clock>,
    /// Requests to the run loop.
    control: mpsc::Sender<Control>,
    /// The run loop's published view.
    live: watch::Receiver<Live>,
    /// Opens everything; required from every request when set.
    token: Option<String>,
    /// Opens what reads (GET) only.
    read_token: Option<String>,
    /// Proves a form was posted from a page this daemon served.
    csrf: String,
    /// At most two requests read the store and the schedules at once, so
    /// dashboards and scrapes never crowd out the player on a small PC.
    work: tokio::sync::Semaphore,
    /// Per client address, until when a token it presents is not even
    /// looked at (answered 429): each wrong token pushes it on by
    /// [`FAILED_AUTH_DELAY`], so guesses run at two a second per address
    /// however many are sent at once.
    guessing: std::sync::Mutex<HashMap<std::net::IpAddr, tokio::time::Instant>>,
}

impl AppState {
    pub fn new(
        station_dir: PathBuf,
        clock: Arc<dyn Clock>,
        control: mpsc::Sender<Control>,
        live: watch::Receiver<Live>,
        token: Option<String>,
        read_token: Option<String>,
    ) -> AppState {
        AppState {
            station_dir,
            clock,
            control,
            live,
            token,
            read_token,
            csrf: random_hex(),
            work: tokio::sync::Semaphore::new(2),
            guessing: Default::default(),
        }
    }

    /// Whether `peer` may have a token looked at now.
    fn may_guess(&self, peer: Option<std::net::IpAddr>) -> bool {
        let Some(ip) = peer else { return true };
        let map = self.guessing.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&ip)
            .is_none_or(|until| *until <= tokio::time::Instant::now())
    }

    /// A wrong token from `peer`: waits [`FAILED_AUTH_DELAY`], and bars
    /// the address's next guess until then.
    async fn wrong_token(&self, peer: Option<std::net::IpAddr>) {
        let now = tokio::time::Instant::now();
        if let Some(ip) = peer {
            let mut map = self.guessing.lock().unwrap_or_else(|p| p.into_inner());
            // Forget addresses long quiet (the map stays small).
            if map.len() > 4096 {
                map.retain(|_, until| *until > now);
            }
            let until = map.get(&ip).copied().unwrap_or(now).max(now) + FAILED_AUTH_DELAY;
            map.insert(ip, until);
        }
        tokio::time::sleep(FAILED_AUTH_DELAY).await;
    }
}

/// The client's address as the capped listener saw it.
#[derive(Debug, Clone, Copy)]
struct PeerAddr(SocketAddr);

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, Capped>> for PeerAddr {
    fn connect_info(stream: axum::serve::IncomingStream<'_, Capped>) -> Self {
        PeerAddr(*stream.remote_addr())
    }
}

/// The client's address, put on each request by the guard (none when the
/// server runs without connection info, as in unit tests).
#[derive(Debug, Clone, Copy)]
struct Peer(Option<std::net::IpAddr>);

/// 128 unpredictable bits as hex, from the standard library's randomly
/// keyed hasher (seeded by the operating system).
fn random_hex() -> String {
    use std::hash::{BuildHasher, Hasher};
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    (0..2u64)
        .map(|i| {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u64(i);
            h.write_u128(nanos);
            format!("{:016x}", h.finish())
        })
        .collect()
}

type Shared = Arc<AppState>;

/// How long a handler waits for the run loop before answering 503.
const LOOP_TIMEOUT: Duration = Duration::from_secs(10);
/// The cookie a browser keeps the token in after the login form.
const COOKIE: &str = "cunxiang_token";
/// How long a request with a wrong token waits for its 401.
const FAILED_AUTH_DELAY: Duration = Duration::from_millis(500);

/// Serves on `listener` until the returned task is aborted.
///
/// # Errors
/// When the listener cannot be handed to the runtime, or it listens
/// beyond loopback without a token.
/// The web face for [`RunConfig::face`](crate::daemon::RunConfig::face):
/// serves on `listener` (bound by the caller, so a test can pass
/// `127.0.0.1:0`), requiring `token` when set; `read_token` opens only
/// what reads (GET).
pub fn face(
    listener: std::net::TcpListener,
    token: Option<String>,
    read_token: Option<String>,
) -> crate::daemon::Face {
    Box::new(move |p: crate::daemon::FaceParts| {
        let state = AppState::new(p.station_dir, p.clock, p.control, p.live, token, read_token);
        spawn(listener, state)
    })
}

pub fn spawn(
    listener: std::net::TcpListener,
    state: AppState,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let addr = listener.local_addr()?;
    if !addr.ip().is_loopback() && state.token.is_none() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            format!("{addr} is reachable from other machines and [control] token is not set"),
        ));
    }
    listener.set_nonblocking(true)?;
    let listener = Capped {
        inner: tokio::net::TcpListener::from_std(listener)?,
        slots: Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS)),
    };
    let app = router(Arc::new(state));
    let task = tokio::spawn(async move {
        let app = app.into_make_service_with_connect_info::<PeerAddr>();
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "HTTP server stopped");
        }
    });
    Ok((addr, task))
}

/// The most connections served at once: well below the 1,024 open files a
/// process gets by default, so idle or hostile connections can never take
/// the files a play needs. More wait in the kernel's queue.
pub const MAX_CONNECTIONS: usize = 256;

/// A connection that sends nothing for this long is closed (an idle
/// keep-alive, a half-sent request held open): its slot comes back.
pub const IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// The listener, with a slot per connection ([`MAX_CONNECTIONS`]).
struct Capped {
    inner: tokio::net::TcpListener,
    slots: Arc<tokio::sync::Semaphore>,
}

impl axum::serve::Listener for Capped {
    type Io = CappedStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        // Not accepted (no file taken) until a slot is free.
        let permit = self
            .slots
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let (io, addr) = axum::serve::Listener::accept(&mut self.inner).await;
        (
            CappedStream {
                io,
                _slot: permit,
                idle: Box::pin(tokio::time::sleep(IDLE_TIMEOUT)),
            },
            addr,
        )
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// One served connection: holds its slot, and ends when the peer has
/// sent nothing for [`IDLE_TIMEOUT`].
struct CappedStream {
    io: tokio::net::TcpStream,
    _slot: tokio::sync::OwnedSemaphorePermit,
    idle: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl tokio::io::AsyncRead for CappedStream {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        use std::task::Poll;
        let before = buf.filled().len();
        match std::pin::Pin::new(&mut self.io).poll_read(cx, buf) {
            Poll::Ready(r) => {
                if buf.filled().len() > before {
                    let next = tokio::time::Instant::now() + IDLE_TIMEOUT;
                    self.idle.as_mut().reset(next);
                }
                Poll::Ready(r)
            }
            Poll::Pending => match std::future::Future::poll(self.idle.as_mut(), cx) {
                Poll::Ready(()) => Poll::Ready(Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "connection idle",
                ))),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

impl tokio::io::AsyncWrite for CappedStream {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_shutdown(cx)
    }
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
        .method_not_allowed_fallback(method_not_allowed)
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
    #[error("refused: without a token this address answers only to this computer (Host {0:?})")]
    BadHost(String),
    #[error("this path does not take that method")]
    MethodNotAllowed,
    #[error("{en}")]
    BadRequest { en: String, zh: String },
    #[error("{en}")]
    NotFound { en: String, zh: String },
    #[error("the daemon did not answer in time (is it stopping?)")]
    Unavailable,
    #[error("too many wrong tokens from this address; wait a second and try again")]
    TooManyGuesses,
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::CrossSite | ApiError::BadHost(_) => StatusCode::FORBIDDEN,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::TooManyGuesses => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthorized => "unauthorized",
            ApiError::CrossSite => "cross_site",
            ApiError::BadHost(_) => "bad_host",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::BadRequest { .. } => "bad_request",
            ApiError::NotFound { .. } => "not_found",
            ApiError::Unavailable => "unavailable",
            ApiError::TooManyGuesses => "too_many_guesses",
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
            ApiError::BadHost(h) => {
                format!("拒绝：没有设置口令时，只有本机能访问（Host「{h}」）")
            }
            ApiError::MethodNotAllowed => "这个地址不接受这种请求方式".into(),
            ApiError::BadRequest { zh, .. } | ApiError::NotFound { zh, .. } => zh.clone(),
            ApiError::Unavailable => "播控程序没有及时回应（正在停止？）".into(),
            ApiError::TooManyGuesses => "这个地址输错口令太多次，请等一秒再试".into(),
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
                zh: format!("没有叫「{n}」的节目"),
                en,
            },
            PlayRefused::NotFound(n) => ApiError::NotFound {
                zh: format!("没有叫「{n}」的节目，音频文件夹里也没有这个文件"),
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

impl From<FormRejection> for ApiError {
    fn from(e: FormRejection) -> ApiError {
        ApiError::bad(
            format!("bad form: {}", e.body_text()),
            format!("表单有误：{}", e.body_text()),
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

/// Runs blocking work (SQLite, schedule files) off the runtime thread,
/// two requests at a time.
async fn blocking<T: Send + 'static>(
    st: &AppState,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    let _permit = st
        .work
        .acquire()
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
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
    // The whole exchange is bounded: if the loop does not answer in time
    // the request fails, and the loop drops it unanswered (it checks
    // whether anyone still waits), so a retry never plays twice.
    let exchange = async {
        st.control
            .send(make(tx))
            .await
            .map_err(|_| ApiError::Unavailable)?;
        rx.await.map_err(|_| ApiError::Unavailable)
    };
    tokio::time::timeout(LOOP_TIMEOUT, exchange)
        .await
        .unwrap_or(Err(ApiError::Unavailable))
}

/// What a request's credentials open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Access {
    None,
    Read,
    Full,
}

/// Before any handler: the Host rule (DNS rebinding), cross-site POSTs,
/// JSON on API POSTs, the token; and headers that keep the page out of
/// other sites' frames.
async fn guard(State(st): State<Shared>, req: Request, next: Next) -> Response {
    // Only owned (Send) parts cross the await in `refuse`.
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let headers = req.headers().clone();
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<PeerAddr>>()
        .map(|c| c.0 .0.ip());
    let mut req = req;
    req.extensions_mut().insert(Peer(peer));
    let mut resp = match refuse(&st, peer, &method, &path, &query, &headers).await {
        Some(r) => r,
        None => next.run(req).await,
    };
    let h = resp.headers_mut();
    h.insert(header::X_FRAME_OPTIONS, "DENY".parse().expect("header"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        "frame-ancestors 'none'".parse().expect("header"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        "nosniff".parse().expect("header"),
    );
    h.insert(
        header::REFERRER_POLICY,
        "no-referrer".parse().expect("header"),
    );
    resp
}
/// Why a request must not reach its handler, if it must not.
async fn refuse(
    st: &AppState,
    peer: Option<std::net::IpAddr>,
    method: &Method,
    path: &str,
    query: &str,
    h: &HeaderMap,
) -> Option<Response> {
    // Without a token only this computer may ask; a web page whose name
    // was re-pointed at 127.0.0.1 (DNS rebinding) carries its own name.
    if st.token.is_none() {
        if let Some(host) = h.get(header::HOST).and_then(|v| v.to_str().ok()) {
            if !loopback_host(host) {
                tracing::warn!(%host, "request for a foreign host name refused");
                return Some(ApiError::BadHost(host.to_string()).into_response());
            }
        }
    }
    if method == Method::POST {
        if !same_origin(h) {
            tracing::warn!(%path, "cross-site POST refused");
            return Some(ApiError::CrossSite.into_response());
        }
        // A JSON body cannot be sent cross-site without the browser asking
        // first (CORS), which this server never allows.
        let json = h
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if path.starts_with("/api/") && !json {
            return Some(
                ApiError::bad(
                    "send the request as JSON, with Content-Type: application/json",
                    "请求要用 JSON 发送，并带 Content-Type: application/json",
                )
                .into_response(),
            );
        }
    }
    // An address guessing tokens has the next one refused unread.
    if (presents_credentials(h) || path == "/login") && !st.may_guess(peer) {
        return Some(ApiError::TooManyGuesses.into_response());
    }
    // The forms check their own token (cookie or form field) and CSRF field.
    if matches!(path, "/login" | "/play" | "/stop") {
        return None;
    }
    let need = if method == Method::GET || method == Method::HEAD {
        Access::Read
    } else {
        Access::Full
    };
    if access(st, h) >= need {
        return None;
    }
    if presents_credentials(h) {
        // Guessing tokens costs time, per address.
        st.wrong_token(peer).await;
    }
    if path == "/" {
        let lang = lang_of(query);
        return Some(
            (
                StatusCode::UNAUTHORIZED,
                Html(crate::web::dashboard::login_page(lang, false)),
            )
                .into_response(),
        );
    }
    Some(ApiError::Unauthorized.into_response())
}

/// `localhost`, `127.x.x.x` or `[::1]`, with or without a port. The name
/// must be the whole of it: what follows is nothing or `:` and digits
/// (`localhost:7878@evil.example` names no loopback).
fn loopback_host(host: &str) -> bool {
    let (name, port) = if let Some(rest) = host.strip_prefix('[') {
        match rest.split_once(']') {
            Some(parts) => parts,
            None => return false,
        }
    } else {
        match host.find(':') {
            Some(i) => (&host[..i], &host[i..]),
            None => (host, ""),
        }
    };
    let port_ok = port.is_empty()
        || port
            .strip_prefix(':')
            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()));
    port_ok
        && (name.eq_ignore_ascii_case("localhost")
            || name
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback()))
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

fn unhex(s: &str) -> Option<String> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

fn same(a: &str, b: &str) -> bool {
    constant_time_eq::constant_time_eq(a.as_bytes(), b.as_bytes())
}

/// What one presented secret opens.
fn level(st: &AppState, presented: &str) -> Access {
    let presented = presented.trim();
    if st.token.as_deref().is_some_and(|t| same(presented, t)) {
        Access::Full
    } else if st.read_token.as_deref().is_some_and(|t| same(presented, t)) {
        Access::Read
    } else {
        Access::None
    }
}

/// The bearer token, or the login cookie. Without a token everything is
/// open (the listener is then loopback only).
fn access(st: &AppState, h: &HeaderMap) -> Access {
    if st.token.is_none() {
        return Access::Full;
    }
    // A Chinese token (README's example is one) comes as raw UTF-8 bytes
    // (curl) or percent-encoded (`cunxiang play`, which a header's visible
    // ASCII forces): both are the same token.
    if let Some(v) = h
        .get(header::AUTHORIZATION)
        .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        let decoded = percent_encoding::percent_decode_str(v)
            .decode_utf8()
            .map(|d| d.into_owned())
            .unwrap_or_default();
        return level(st, v).max(level(st, &decoded));
    }
    cookies(h)
        .filter_map(|v| unhex(&v))
        .map(|t| level(st, &t))
        .max()
        .unwrap_or(Access::None)
}

fn cookies(h: &HeaderMap) -> impl Iterator<Item = String> + '_ {
    h.get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| {
            Some(
                c.trim()
                    .strip_prefix(COOKIE)?
                    .strip_prefix('=')?
                    .to_string(),
            )
        })
}

fn presents_credentials(h: &HeaderMap) -> bool {
    h.contains_key(header::AUTHORIZATION) || cookies(h).next().is_some()
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

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
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
    let v = blocking(&st, move || {
        let station = Station::load(&dir);
        cli::status_value(&station, now, lang, Some(&live))
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
/// and fields. A usage error (exit 2) is the client's mistake. The JSON is
/// parsed on the blocking pool too (a year of rows is megabytes).
async fn cli_json(
    st: &AppState,
    run: impl FnOnce(&mut Vec<u8>, &mut Vec<u8>) -> std::io::Result<i32> + Send + 'static,
) -> Result<Json<serde_json::Value>, ApiError> {
    blocking(st, move || {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = run(&mut out, &mut err).map_err(|e| ApiError::Internal(e.to_string()))?;
        if code == crate::EXIT_CONFIG {
            let text = if err.is_empty() { &out } else { &err };
            let msg = String::from_utf8_lossy(text)
                .trim()
                .trim_start_matches("cunxiang: ")
                .to_string();
            return Err(ApiError::bad(msg.clone(), msg));
        }
        serde_json::from_slice(&out)
            .map(Json)
            .map_err(|e| ApiError::Internal(e.to_string()))
    })
    .await?
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
    cli_json(&st, move |out, err| {
        cli::log(&dir, now, lang, &since, status, LogFormat::Json, out, err)
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
    cli_json(&st, move |out, err| {
        cli::outages(
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
    cli_json(&st, move |out, _| {
        cli::report(&dir, now, Lang::En, from, days, LedgerFormat::Json, out)
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
    let text = blocking(&st, move || {
        crate::web::metrics::render(&Station::load(&dir), now, &live)
    })
    .await?;
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
    /// What a form did (`played`, `stopped`, `idle`) or why it failed
    /// (`token`, `empty`, `repeat`, `notfound`, `refused`, `busy`): codes,
    /// never free text, so a link cannot put words on the page.
    ok: Option<String>,
    err: Option<String>,
    name: Option<String>,
}

/// The sentence for a form's result code.
fn flash(lang: Lang, q: &PageQuery) -> (Option<String>, Option<String>) {
    let name = q.name.as_deref().unwrap_or_default();
    let ok = q.ok.as_deref().and_then(|c| {
        Some(match (c, lang) {
            ("played", Lang::Zh) => format!("已插播「{name}」"),
            ("played", Lang::En) => format!("\"{name}\" put on air"),
            ("stopped", Lang::Zh) => format!("已停播「{name}」"),
            ("stopped", Lang::En) => format!("stopped \"{name}\""),
            ("idle", _) => lang.pick("现在没有在播。", "Nothing was playing.").into(),
            _ => return None,
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
            ("busy", _) => lang
                .pick(
                    "播控程序没有及时回应，请稍后再试。",
                    "The daemon did not answer in time; try again.",
                )
                .into(),
            _ => return None,
        })
    });
    (ok, err)
}

#[tracing::instrument(skip_all)]
async fn dashboard(
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
    };
    let live = st.live.borrow().clone();
    let (dir, now) = (st.station_dir.clone(), st.clock.now());
    let page = blocking(&st, move || {
        crate::web::dashboard::page(&dir, now, &live, &opts)
    })
    .await?;
    Ok(Html(page))
}

/// Back to the dashboard with a result code (a redirect, so reloading the
/// page never repeats the action).
fn back(lang: Lang, key: &str, code: &str, name: &str) -> Response {
    let q = serde_urlencoded::to_string([("lang", lang.code()), (key, code), ("name", name)])
        .unwrap_or_default();
    Redirect::to(&format!("/?{q}")).into_response()
}

fn form_lang(f: &HashMap<String, String>) -> Lang {
    f.get("lang")
        .and_then(|l| Lang::parse(l))
        .unwrap_or(Lang::Zh)
}

/// A form from a page this daemon served (its CSRF field), by someone with
/// the full token (login cookie, bearer header or the form's own field).
fn form_refusal(st: &AppState, h: &HeaderMap, f: &HashMap<String, String>) -> Option<Response> {
    if !f.get("csrf").is_some_and(|c| same(c, &st.csrf)) {
        tracing::warn!("form without this page's CSRF field refused");
        return Some(ApiError::CrossSite.into_response());
    }
    let ok = access(st, h) == Access::Full
        || f.get("token").is_some_and(|t| level(st, t) == Access::Full);
    (!ok).then(|| back(form_lang(f), "err", "token", ""))
}

/// A dashboard form's fields, once it passed [`form_refusal`].
fn checked_form(
    st: &AppState,
    h: &HeaderMap,
    f: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<HashMap<String, String>, Box<Response>> {
    let Form(f) = f.map_err(|e| Box::new(ApiError::from(e).into_response()))?;
    match form_refusal(st, h, &f) {
        Some(r) => Err(Box::new(r)),
        None => Ok(f),
    }
}

async fn login(
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

async fn form_play(
    State(st): State<Shared>,
    headers: HeaderMap,
    f: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let f = match checked_form(&st, &headers, f) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let lang = form_lang(&f);
    let name = f
        .get("name")
        .map(|n| n.trim().to_string())
        .unwrap_or_default();
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
    let priority = f.get("priority").map(String::as_str);
    let result = match play_request(None, None, Some(name.clone()), priority, repeat) {
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

async fn form_stop(
    State(st): State<Shared>,
    headers: HeaderMap,
    f: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let f = match checked_form(&st, &headers, f) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn state(token: Option<&str>, read: Option<&str>) -> AppState {
        let (tx, _rx) = mpsc::channel(1);
        let (_ltx, lrx) = watch::channel(Live::default());
        AppState::new(
            PathBuf::new(),
            Arc::new(crate::clock::TestClock::new(chrono::Utc::now())),
            tx,
            lrx,
            token.map(str::to_string),
            read.map(str::to_string),
        )
    }

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
    fn only_loopback_host_names_without_a_token() {
        for ok in [
            "127.0.0.1:7878",
            "localhost:7878",
            "LOCALHOST",
            "[::1]:7878",
            "127.1.2.3",
        ] {
            assert!(loopback_host(ok), "{ok}");
        }
        for bad in [
            "evil.example:7878",
            "192.168.1.5:7878",
            "0.0.0.0:7878",
            "[::]:7878",
            "localhost.evil.example",
            "localhost:7878@evil.example",
            "127.0.0.1:7878.evil.example",
            "[::1]evil.example",
            "[::1",
            "::1",
        ] {
            assert!(!loopback_host(bad), "{bad}");
        }
    }

    #[tokio::test]
    async fn token_levels_from_bearer_or_cookie() {
        let st = state(Some("s3cret"), Some("看看"));
        let mut h = HeaderMap::new();
        assert_eq!(access(&st, &h), Access::None);
        h.insert("authorization", "Bearer s3cret".parse().unwrap());
        assert_eq!(access(&st, &h), Access::Full);
        h.insert("authorization", "Bearer s3cre".parse().unwrap());
        assert_eq!(access(&st, &h), Access::None);
        let mut h = HeaderMap::new();
        h.insert(
            "cookie",
            format!("a=b; {COOKIE}={}", hex("看看")).parse().unwrap(),
        );
        assert_eq!(access(&st, &h), Access::Read);
        h.insert(
            "cookie",
            format!("{COOKIE}={}", hex("s3cret")).parse().unwrap(),
        );
        assert_eq!(access(&st, &h), Access::Full);
        h.insert("cookie", format!("{COOKIE}=zz").parse().unwrap());
        assert_eq!(access(&st, &h), Access::None);
        assert_eq!(access(&state(None, None), &HeaderMap::new()), Access::Full);
        assert_eq!(unhex(&hex("口令1")).as_deref(), Some("口令1"));
        assert_ne!(
            state(None, None).csrf,
            state(None, None).csrf,
            "a new CSRF secret per run"
        );
    }

    #[test]
    fn every_error_has_one_status() {
        let cases = [
            (ApiError::Unauthorized, 401),
            (ApiError::CrossSite, 403),
            (ApiError::BadHost("x".into()), 403),
            (ApiError::MethodNotAllowed, 405),
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
            (PlayRefused::NotFound("x".into()).into(), 404),
        ];
        for (e, code) in cases {
            assert_eq!(e.status().as_u16(), code, "{e:?}");
        }
    }
}
