//! The JSON API: `/api/status`, `/api/plays`, `/api/outages`,
//! `/api/report` read through `views/` (one [`Reading`] per request, on
//! the blocking pool); `/api/play`, `/api/stop`, `/api/reload` ask the run
//! loop; `/metrics`. It must not run CLI commands nor hold state.

use super::error::ApiError;
use super::guard::LangQuery;
use super::{ask, blocking, Shared};
use crate::config::schedule::Priority;
use crate::config::schedule::{notice_text, RelaySource, MAX_RELAY};
use crate::config::tomlread::parse_duration;
use crate::daemon::{Control, PlayRequest, PlayTarget};
use crate::i18n::Lang;
use crate::views::ledger::DayReport;
use crate::views::log::{plays, PlayEntry};
use crate::views::outages::{outages, OutageEntry};
use crate::views::report::report;
use crate::views::status::{status, Status};
use crate::views::{ReadError, Reading};
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::time::Duration;

pub(super) async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

pub(super) async fn not_found() -> ApiError {
    ApiError::NotFound {
        en: "no such page".into(),
        zh: "没有这个页面".into(),
    }
}

/// Builds a read model from one [`Reading`] of the station, on the
/// blocking pool, and answers it as JSON.
async fn read<T: serde::Serialize + Send + 'static>(
    st: &Shared,
    f: impl FnOnce(&Reading, DateTime<Utc>) -> Result<T, ReadError> + Send + 'static,
) -> Result<Json<T>, ApiError> {
    let (dir, now) = (st.station_dir.clone(), st.clock.now());
    let v = blocking(st, move || f(&Reading::load(&dir), now)).await??;
    Ok(Json(v))
}

#[tracing::instrument(skip_all)]
pub(super) async fn api_status(
    State(st): State<Shared>,
    q: Result<Query<LangQuery>, QueryRejection>,
) -> Result<Json<Status>, ApiError> {
    let lang = q?.lang();
    let live = st.live.borrow().clone();
    read(&st, move |r, now| {
        let running = crate::web::live::running(&live, now);
        Ok(status(r, now, lang, Some(&running)))
    })
    .await
}

#[derive(Debug, Deserialize)]
pub(super) struct PlaysQuery {
    since: Option<String>,
    status: Option<String>,
    lang: Option<String>,
}

#[tracing::instrument(skip_all)]
pub(super) async fn api_plays(
    State(st): State<Shared>,
    q: Result<Query<PlaysQuery>, QueryRejection>,
) -> Result<Json<Vec<PlayEntry>>, ApiError> {
    let Query(q) = q?;
    // The rows carry no words: the language is taken for uniformity.
    let _lang = LangQuery { lang: q.lang }.lang();
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
    read(&st, move |r, now| {
        let tz = r.rules.tz;
        let rows = plays(r, now, &since, status)?.unwrap_or_default();
        Ok(rows.iter().map(|p| PlayEntry::new(p, tz)).collect())
    })
    .await
}

#[derive(Debug, Deserialize)]
pub(super) struct OutagesQuery {
    open: Option<bool>,
    since: Option<String>,
    lang: Option<String>,
}

#[tracing::instrument(skip_all)]
pub(super) async fn api_outages(
    State(st): State<Shared>,
    q: Result<Query<OutagesQuery>, QueryRejection>,
) -> Result<Json<Vec<OutageEntry>>, ApiError> {
    let Query(q) = q?;
    let lang = LangQuery { lang: q.lang }.lang();
    let open = q.open.unwrap_or(false);
    read(&st, move |r, now| {
        let tz = r.rules.tz;
        let rows = outages(r, now, open, q.since.as_deref())?;
        Ok(rows
            .iter()
            .map(|o| OutageEntry::new(o, now, tz, lang))
            .collect())
    })
    .await
}

#[derive(Debug, Deserialize)]
pub(super) struct ReportQuery {
    from: Option<String>,
    days: Option<u32>,
    lang: Option<String>,
}

/// The day reports carry numbers and codes only, no words: `lang` is
/// accepted as everywhere else and changes nothing.
#[tracing::instrument(skip_all)]
pub(super) async fn api_report(
    State(st): State<Shared>,
    q: Result<Query<ReportQuery>, QueryRejection>,
) -> Result<Json<Vec<DayReport>>, ApiError> {
    let Query(q) = q?;
    let _lang = LangQuery { lang: q.lang }.lang();
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
    read(&st, move |r, now| report(r, now, from, days)).await
}

/// `POST /api/play`: exactly one of `file`, `broadcast` or `name` (a
/// broadcast if one has that name, else a file).
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct PlayBody {
    pub(super) file: Option<String>,
    pub(super) broadcast: Option<String>,
    pub(super) name: Option<String>,
    /// A source to relay now (`http://…`, `line-in`), for `for`.
    pub(super) relay: Option<String>,
    #[serde(rename = "for")]
    pub(super) length: Option<String>,
    pub(super) priority: Option<String>,
    pub(super) repeat: Option<u32>,
    /// A typed notice to read aloud now.
    pub(super) say: Option<String>,
}

/// A play request from the API's or a form's fields.
pub(super) fn play_request(b: PlayBody) -> Result<PlayRequest, ApiError> {
    let (priority, repeat) = (b.priority.as_deref(), b.repeat);
    let target = match (b.file, b.broadcast, b.name, b.relay, b.say) {
        (Some(f), None, None, None, None) => PlayTarget::File(f),
        (None, Some(b), None, None, None) => PlayTarget::Broadcast(b),
        (None, None, Some(n), None, None) => PlayTarget::Either(n),
        (None, None, None, Some(r), None) => relay_target(&r, b.length.as_deref())?,
        (None, None, None, None, Some(s)) => PlayTarget::Say(
            notice_text(&s).map_err(|m| ApiError::bad(m.render(Lang::En), m.render(Lang::Zh)))?,
        ),
        _ => {
            return Err(ApiError::bad(
                "give exactly one of file, broadcast, name, relay or say",
                "file、broadcast、name、relay、say 五项只能填一项",
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

/// A relay now: the source and how long (`30m`, `1h`, `40分钟`).
fn relay_target(raw: &str, length: Option<&str>) -> Result<PlayTarget, ApiError> {
    let source = RelaySource::parse(raw).ok_or_else(|| {
        ApiError::bad(
            format!("{raw:?} is not a relay source: write http://… or line-in"),
            format!("「{raw}」不是转播来源：请写 http:// 开头的直播流地址或 line-in"),
        )
    })?;
    let length = length
        .and_then(parse_duration)
        .filter(|d| *d >= Duration::from_secs(5) && *d <= MAX_RELAY)
        .ok_or_else(|| {
            ApiError::bad(
                "a relay needs for=DURATION (like 30m), from 5s to 12h",
                "转播要写时长 for（如 30m），5 秒到 12 小时",
            )
        })?;
    Ok(PlayTarget::Relay { source, length })
}

pub(super) fn accepted_json(a: &crate::daemon::PlayAccepted) -> serde_json::Value {
    serde_json::json!({
        "broadcast": a.broadcast,
        "scheduled_at": crate::store::ts(a.scheduled_at),
        "priority": a.priority,
        "state": a.state,
        "trigger": "manual",
    })
}

#[tracing::instrument(skip_all)]
pub(super) async fn api_play(
    State(st): State<Shared>,
    body: Result<Json<PlayBody>, JsonRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let Json(b) = body?;
    let req = play_request(b)?;
    if let PlayTarget::Say(text) = &req.target {
        super::notice::render_notice(&st, text.clone())
            .await?
            .map_err(|e| super::notice::refusal(&e))?;
    }
    let accepted = ask(&st, |tx| Control::Play(req, tx)).await??;
    Ok((StatusCode::ACCEPTED, Json(accepted_json(&accepted))))
}

#[tracing::instrument(skip_all)]
pub(super) async fn api_stop(
    State(st): State<Shared>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let stopped = ask(&st, Control::Stop).await?;
    Ok(Json(serde_json::json!({ "stopped": stopped })))
}

#[tracing::instrument(skip_all)]
pub(super) async fn api_reload(
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
pub(super) async fn metrics(State(st): State<Shared>) -> Result<Response, ApiError> {
    let live = st.live.borrow().clone();
    let (dir, now) = (st.station_dir.clone(), st.clock.now());
    let stopping = st.scrapes.stopping();
    let text = blocking(&st, move || {
        crate::web::metrics::render(&Reading::load(&dir), now, &live, stopping)
    })
    .await?;
    st.scrapes.scraped(std::time::Instant::now(), stopping);
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}
