//! One error type for handlers. The user gets a page with a clear Japanese message and the
//! right status; the log gets the detail (never personal data, never request bodies).

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use renraku_store::StoreError;

/// What a person sees when sign-ins are queueing up (503).
pub const BUSY: &str = "ただいまログインの処理が混み合っています。少し待ってから、もう一度お試しください。";

#[derive(Debug)]
pub enum AppError {
    NotFound(&'static str),
    Forbidden(&'static str),
    BadRequest(String),
    /// The body is over the limit (in bytes) of the route that got it.
    PayloadTooLarge(usize),
    /// One text field is over [`crate::MAX_FIELD_BYTES`].
    FieldTooLarge,
    UnsupportedMediaType,
    /// The page's CSRF token is missing or wrong, or the request came from another site.
    Csrf,
    /// A one-time link that is unknown, used or expired.
    LinkInvalid,
    /// Too many password hashes or checks waiting at once (see `auth::password`).
    Busy,
    /// The session has as many live-update streams open as it may.
    TooManyStreams,
    Internal(anyhow::Error),
}

impl AppError {
    fn status_and_message(&self) -> (StatusCode, String) {
        match self {
            AppError::NotFound(what) => (StatusCode::NOT_FOUND, format!("{what}が見つかりません。")),
            AppError::Forbidden(why) => (StatusCode::FORBIDDEN, (*why).to_string()),
            AppError::BadRequest(msg) => (StatusCode::BAD_REQUEST, msg.clone()),
            AppError::PayloadTooLarge(limit) => {
                let mut message = format!("送信された内容が大きすぎます（上限 {}）。", size_label(*limit));
                if *limit > crate::MAX_BODY_BYTES {
                    message.push_str(&format!(
                        "ファイルは1個 {} MB まで添付できます。",
                        renraku_attachments::inspect::MAX_FILE_BYTES / 1024 / 1024
                    ));
                }
                (StatusCode::PAYLOAD_TOO_LARGE, message)
            }
            AppError::FieldTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "入力された文章が長すぎます（1つの欄に {} まで）。本文は{}文字までです。",
                    size_label(crate::MAX_FIELD_BYTES),
                    renraku_domain::rooms::MAX_POST_CHARS
                ),
            ),
            AppError::UnsupportedMediaType => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "この形式の送信には対応していません。".to_string())
            }
            AppError::Csrf => (
                StatusCode::FORBIDDEN,
                "ページの有効期限が切れたか、不正な送信元からの操作です。ページを開き直してもう一度操作してください。".to_string(),
            ),
            AppError::LinkInvalid => (
                StatusCode::GONE,
                "このリンクは無効です（使用済み、または有効期限切れ）。管理者に新しいリンクの発行を依頼してください。".to_string(),
            ),
            AppError::Busy => (StatusCode::SERVICE_UNAVAILABLE, BUSY.to_string()),
            AppError::TooManyStreams => (
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "ライブ更新の接続が多すぎます（1回のログインにつき {} 画面まで）。使っていないタブやウィンドウを閉じてください。",
                    crate::events::MAX_STREAMS_PER_SESSION
                ),
            ),
            AppError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "システムエラーが発生しました。時間をおいてもう一度お試しください。".to_string(),
            ),
        }
    }
}

/// `262144` → "256 KB", `54525952` → "52 MB".
fn size_label(bytes: usize) -> String {
    if bytes >= 1024 * 1024 { format!("{} MB", bytes / 1024 / 1024) } else { format!("{} KB", bytes / 1024) }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound("データ"),
            StoreError::TokenInvalid => AppError::LinkInvalid,
            other => AppError::Internal(other.into()),
        }
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::Internal(e.into())
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    status: u16,
    message: String,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, message) = self.status_and_message();
        if let AppError::Internal(e) = &self {
            tracing::error!(error = %format!("{e:#}"), "request failed");
        }
        let body = ErrorPage { status: status.as_u16(), message }
            .render()
            .unwrap_or_else(|_| "エラーが発生しました。".to_string());
        let mut response = (status, Html(body)).into_response();
        if matches!(self, AppError::Busy) {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        response
    }
}

/// A store answer whose "not found" the user sees as `what` (e.g. "部屋") not found; another
/// municipality's thing is "not found" too, so its existence is not disclosed.
pub fn found<T>(answer: Result<T, StoreError>, what: &'static str) -> Result<T, AppError> {
    match answer {
        Err(StoreError::NotFound) => Err(AppError::NotFound(what)),
        other => Ok(other?),
    }
}
