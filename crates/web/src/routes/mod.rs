//! The application's router: one module per feature, each with its own `routes()` table and one
//! function per page and verb, merged here under the layers every request passes.

mod account;
mod admin;
mod audit;
mod careplan;
mod health;
mod login;
mod onboarding;
mod operator;
mod password;
pub mod rooms;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::error::AppError;
use crate::{AppState, auth, csrf};

pub fn router(state: AppState) -> Router {
    crate::metrics::install();
    // Every page and form, each feature's table in its own module.
    let pages = Router::new()
        .merge(account::routes())
        .merge(onboarding::routes())
        .merge(login::routes())
        .merge(password::routes())
        .merge(careplan::routes())
        .merge(rooms::routes())
        .merge(operator::routes())
        .merge(admin::routes())
        .merge(audit::routes())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), auth::load_session))
        .layer(middleware::from_fn_with_state(state.clone(), csrf::guard))
        .layer(DefaultBodyLimit::max(crate::MAX_BODY_BYTES))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));
    let app = Router::new()
        .merge(health::routes())
        .merge(pages)
        .layer(middleware::from_fn(count))
        // A handler may set a stricter policy (files are served with `sandbox`).
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                 form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            ),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        // Links carry one-time secrets in their path; never leak them in a Referer.
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("x-frame-options"),
            HeaderValue::from_static("DENY"),
        ));
    // Behind https, browsers must never fall back to plain http (a year, renewed on every
    // answer). Not over http: a test or LAN install would be locked out of its own address.
    let app = if state.config.public_base_url.scheme() == "https" {
        app.layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        ))
    } else {
        app
    };
    app.with_state(state)
}

/// `/metrics` alone, served on the `metrics_listen` address, never on the public one.
pub fn metrics_router() -> Router {
    crate::metrics::install();
    Router::new().route("/metrics", get(health::metrics))
}

async fn count(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    crate::metrics::request(response.status().as_u16());
    response
}

async fn not_found() -> Response {
    AppError::NotFound("ページ").into_response()
}
