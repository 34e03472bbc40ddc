//! The HTTP face of the daemon: the dashboard for people, a JSON API for
//! tools and the CLI, `/metrics` for Prometheus. It listens on loopback
//! unless told otherwise, and then every request needs the token.
//!
//! Handlers never touch the run loop's state: they read the published
//! [`Live`] view, ask the loop over the control channel (play, stop,
//! reload) and read the store on the blocking pool. This file owns the
//! shared state, the routes and serving; it must not import `cli/`.

mod api;
mod error;
mod forms;
mod guard;
mod listener;
mod notice;
mod say;
mod schedule_text;
mod schedules;
mod upload;

pub use error::ApiError;
pub use listener::{IDLE_TIMEOUT, MAX_CONNECTIONS};

use crate::clock::Clock;
use crate::daemon::{Control, Live};
use api::*;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{get, post};
use axum::Router;
use forms::{dashboard, form_play, form_stop, login, manage};
use guard::guard;
use listener::{Capped, PeerAddr};
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
    /// Each `/metrics` answer is noted here; says when the daemon stops.
    scrapes: Arc<crate::daemon::Scrapes>,
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
            scrapes: Default::default(),
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
        let mut state = AppState::new(p.station_dir, p.clock, p.control, p.live, token, read_token);
        state.scrapes = p.scrapes;
        spawn(listener, state)
    })
}

/// Serves on `listener` until the returned task is aborted.
///
/// # Errors
/// When the listener cannot be handed to the runtime, or it listens
/// beyond loopback without a token.
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

fn router(state: Shared) -> Router {
    Router::new()
        .route("/", get(dashboard))
        .route("/manage", get(manage))
        .route("/login", post(login))
        .route("/play", post(form_play))
        .route("/stop", post(form_stop))
        .route("/say", post(say::form_say))
        .route(
            "/upload",
            post(upload::upload).layer(DefaultBodyLimit::max(upload::BODY_LIMIT)),
        )
        .route("/api/audio", get(upload::api_audio))
        .route("/schedule/enabled", post(schedules::form_enabled))
        .route("/schedule/add", post(schedules::form_add))
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
