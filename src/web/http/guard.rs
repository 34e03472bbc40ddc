//! Who may ask what: the Host rule (DNS rebinding), cross-site POSTs,
//! JSON on API POSTs, the full and the read token (bearer header or login
//! cookie), and the bar on guessing tokens. It must not serve anything
//! but refusals (and the login page in their place).

use super::error::ApiError;
use super::listener::PeerAddr;
use super::{AppState, Shared, COOKIE};
use crate::i18n::Lang;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use std::collections::HashMap;

/// The client's address, put on each request by the guard (none when the
/// server runs without connection info, as in unit tests).
#[derive(Debug, Clone, Copy)]
pub(super) struct Peer(pub(super) Option<std::net::IpAddr>);

/// What a request's credentials open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Access {
    None,
    Read,
    Full,
}

/// Before any handler: the Host rule (DNS rebinding), cross-site POSTs,
/// JSON on API POSTs, the token; and headers that keep the page out of
/// other sites' frames.
pub(super) async fn guard(State(st): State<Shared>, req: Request, next: Next) -> Response {
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
    // `same-origin`, not `no-referrer`: under `no-referrer` Chromium
    // sends `Origin: null` with the page's own form POSTs, and the
    // same-origin rule above refused every form a browser sent (found by
    // tests/operator_page.rs; tools send no Origin and never saw it).
    h.insert(
        header::REFERRER_POLICY,
        "same-origin".parse().expect("header"),
    );
    resp
}
/// Why a request must not reach its handler, if it must not.
pub(super) async fn refuse(
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
    if matches!(
        path,
        "/login" | "/play" | "/stop" | "/upload" | "/say" | "/schedule/enabled" | "/schedule/add"
    ) {
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
pub(super) fn loopback_host(host: &str) -> bool {
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
pub(super) fn same_origin(h: &HeaderMap) -> bool {
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

pub(super) fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

pub(super) fn unhex(s: &str) -> Option<String> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

pub(super) fn same(a: &str, b: &str) -> bool {
    constant_time_eq::constant_time_eq(a.as_bytes(), b.as_bytes())
}

/// What one presented secret opens.
pub(super) fn level(st: &AppState, presented: &str) -> Access {
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
pub(super) fn access(st: &AppState, h: &HeaderMap) -> Access {
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

pub(super) fn cookies(h: &HeaderMap) -> impl Iterator<Item = String> + '_ {
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

pub(super) fn presents_credentials(h: &HeaderMap) -> bool {
    h.contains_key(header::AUTHORIZATION) || cookies(h).next().is_some()
}

pub(super) fn lang_of(query: &str) -> Lang {
    serde_urlencoded::from_str::<HashMap<String, String>>(query)
        .ok()
        .and_then(|q| q.get("lang").and_then(|l| Lang::parse(l)))
        .unwrap_or(Lang::Zh)
}

#[derive(Debug, Deserialize, Default)]
pub(super) struct LangQuery {
    pub(super) lang: Option<String>,
}

impl LangQuery {
    pub(super) fn lang(&self) -> Lang {
        self.lang
            .as_deref()
            .and_then(Lang::parse)
            .unwrap_or(Lang::Zh)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemon::Live;
    use std::path::PathBuf;
    use std::sync::Arc;
    use tokio::sync::{mpsc, watch};

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
}
