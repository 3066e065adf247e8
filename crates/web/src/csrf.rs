//! Cross-site request forgery protection for every state-changing request, in one place so no
//! handler can forget it. Three checks, any of which refuses the request:
//! - `Sec-Fetch-Site` other than `same-origin`, or (from browsers without it) an `Origin`
//!   that is not ours;
//! - a form token that is not the HMAC of this browser's CSRF cookie (signed double submit:
//!   another site can neither read the cookie nor compute the HMAC);
//! - a body that is too large (or one field of it), or not a strictly valid UTF-8 form.
//!
//! The cookie is HttpOnly and SameSite=Strict; pages get the token through [`CsrfToken`].

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::error::AppError;
use crate::forms::{FormParseError, parse_urlencoded};
use crate::secrets::{hmac, random_token};

/// The token to put in this page's forms as `_csrf`.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

impl<S: Send + Sync> FromRequestParts<S> for CsrfToken {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<CsrfToken>().cloned().ok_or(AppError::Csrf)
    }
}

pub fn cookie_name(state: &AppState) -> &'static str {
    if state.config.secure_cookies() { "__Host-renraku_csrf" } else { "renraku_csrf" }
}

/// Reads one cookie from the request headers.
pub fn read_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn token_for(state: &AppState, cookie: &str) -> String {
    hex::encode(hmac(&state.secrets.csrf_key, cookie.as_bytes()))
}

fn same_origin(state: &AppState, headers: &HeaderMap) -> bool {
    // Browsers that send Fetch Metadata say themselves where a request comes from, and no page
    // can forge it. (Chromium sends `Origin: null` on some same-origin form posts, so this is
    // the more reliable signal.)
    if let Some(site) = headers.get("sec-fetch-site") {
        return matches!(site.as_bytes(), b"same-origin" | b"none");
    }
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(origin) => {
            let ours = state.config.public_base_url.origin().ascii_serialization();
            // The browser sets Host to the server it talks to, so an Origin naming that same
            // host is this site too (e.g. http://localhost:8080 when configured as 127.0.0.1).
            let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
            let same_host = host.is_some_and(|h| {
                origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://")) == Some(h)
            });
            origin == ours || same_host
        }
    }
}

pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let existing = read_cookie(&parts.headers, cookie_name(&state))
        .filter(|c| c.len() >= 32 && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .map(str::to_string);
    let cookie = existing.clone().unwrap_or_else(random_token);
    let expected = token_for(&state, &cookie);
    parts.extensions.insert(CsrfToken(expected.clone()));

    let unsafe_method = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    let body = if unsafe_method {
        let checked = if is_multipart(&parts.headers) {
            check_upload(&state, &parts, existing.is_some(), &expected).map(|()| body)
        } else {
            check(&state, &mut parts, body, existing.is_some(), &expected).await.map(|()| Body::empty())
        };
        match checked {
            Ok(body) => body,
            Err(e) => {
                let mut response = e.into_response();
                set_cookie(&state, &mut response, existing.is_none().then_some(&cookie));
                return response;
            }
        }
    } else {
        body
    };
    let mut response = next.run(Request::from_parts(parts, body)).await;
    set_cookie(&state, &mut response, existing.is_none().then_some(&cookie));
    response
}

fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("multipart/form-data"))
}

/// File uploads: the handler reads the body with its own limit; the token comes in the form's
/// action URL, since a page cannot set headers on a plain form post.
fn check_upload(state: &AppState, parts: &Parts, had_cookie: bool, expected: &str) -> Result<(), AppError> {
    if !same_origin(state, &parts.headers) {
        return Err(AppError::Csrf);
    }
    let sent =
        parts.uri.query().and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("_csrf="))).unwrap_or("");
    if !had_cookie || !constant_time_eq(sent.as_bytes(), expected.as_bytes()) {
        return Err(AppError::Csrf);
    }
    Ok(())
}

async fn check(
    state: &AppState,
    parts: &mut Parts,
    body: Body,
    had_cookie: bool,
    expected: &str,
) -> Result<(), AppError> {
    if !same_origin(state, &parts.headers) {
        return Err(AppError::Csrf);
    }
    let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !content_type.is_empty() && !content_type.starts_with("application/x-www-form-urlencoded") {
        return Err(AppError::UnsupportedMediaType);
    }
    let bytes = axum::body::to_bytes(body, crate::MAX_BODY_BYTES)
        .await
        .map_err(|_| AppError::PayloadTooLarge(crate::MAX_BODY_BYTES))?;
    let form = parse_urlencoded(&bytes).map_err(|e| match e {
        FormParseError::NotUtf8 => AppError::BadRequest(
            "送信された文字を読み取れませんでした（文字コードが UTF-8 ではありません）。".into(),
        ),
        FormParseError::BadEncoding => {
            AppError::BadRequest("送信された内容の形式が正しくありません。".into())
        }
    })?;
    if form.longest_value() > crate::MAX_FIELD_BYTES {
        return Err(AppError::FieldTooLarge);
    }
    let sent = parts
        .headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| form.get("_csrf").to_string());
    if !had_cookie || !constant_time_eq(sent.as_bytes(), expected.as_bytes()) {
        return Err(AppError::Csrf);
    }
    parts.extensions.insert(form);
    Ok(())
}

fn set_cookie(state: &AppState, response: &mut Response, value: Option<&String>) {
    let Some(value) = value else { return };
    let secure = if state.config.secure_cookies() { "; Secure" } else { "" };
    let cookie = format!("{}={value}; Path=/; HttpOnly; SameSite=Strict{secure}", cookie_name(state));
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
