//! Every failure a request can meet, and the one `match` that maps it to
//! an HTTP status code (and its JSON body). It must not decide anything
//! about requests; handlers and guards choose the variant.

use crate::daemon::PlayRefused;
use crate::i18n::Lang;
use crate::views::ReadError;
use axum::extract::rejection::{FormRejection, JsonRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

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
    /// The station's store cannot be read: a fault, never an empty answer.
    #[error("{en}")]
    Store { en: String, zh: String },
    #[error("too many wrong tokens from this address; wait a second and try again")]
    TooManyGuesses,
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub(super) fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::CrossSite | ApiError::BadHost(_) => StatusCode::FORBIDDEN,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::TooManyGuesses => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Store { .. } | ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
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
            ApiError::Store { .. } => "store",
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
            ApiError::BadRequest { zh, .. }
            | ApiError::NotFound { zh, .. }
            | ApiError::Store { zh, .. } => zh.clone(),
            ApiError::Unavailable => "播控程序没有及时回应（正在停止？）".into(),
            ApiError::TooManyGuesses => "这个地址输错口令太多次，请等一秒再试".into(),
            ApiError::Internal(e) => format!("内部错误：{e}"),
        }
    }

    pub(crate) fn bad(en: impl Into<String>, zh: impl Into<String>) -> ApiError {
        ApiError::BadRequest {
            en: en.into(),
            zh: zh.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            ApiError::Internal(_) => tracing::error!(error = %self, "request failed"),
            ApiError::Store { .. } => tracing::warn!(error = %self, "the store cannot be read"),
            _ => {}
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

/// A read model's failure as the API says it: a bad option is the
/// client's mistake (400), a store that cannot be read is the station's
/// fault (500, its words in both languages) — never an empty answer.
impl From<ReadError> for ApiError {
    fn from(e: ReadError) -> ApiError {
        match e {
            ReadError::Usage(m) => ApiError::bad(m.clone(), m),
            e @ ReadError::Store(_) => ApiError::Store {
                en: e.render(Lang::En),
                zh: e.render(Lang::Zh),
            },
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

#[cfg(test)]
mod tests {
    use super::*;

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
            (
                ApiError::Store {
                    en: "x".into(),
                    zh: "x".into(),
                },
                500,
            ),
            (ApiError::Internal("x".into()), 500),
            (ReadError::Usage("--since x".into()).into(), 400),
            (
                ReadError::from(crate::store::StoreError::MissingWhileRunning { path: "x".into() })
                    .into(),
                500,
            ),
            (PlayRefused::OutsideAudio("../x".into()).into(), 400),
            (PlayRefused::UnknownBroadcast("x".into()).into(), 404),
            (PlayRefused::NotFound("x".into()).into(), 404),
        ];
        for (e, code) in cases {
            assert_eq!(e.status().as_u16(), code, "{e:?}");
        }
    }
}
