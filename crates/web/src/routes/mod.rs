//! The route table: one module per feature, one function per page and verb.

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
use axum::routing::{get, post};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::error::AppError;
use crate::{AppState, auth, csrf};

pub fn router(state: AppState) -> Router {
    crate::metrics::install();
    let pages = Router::new()
        .route("/", get(account::home))
        .route("/setup/{token}", get(onboarding::setup_form).post(onboarding::setup))
        .route("/activate/{token}", get(onboarding::activate_form).post(onboarding::activate))
        .route("/login", get(login::form).post(login::submit))
        .route("/login/totp", get(login::second_factor_form).post(login::second_factor))
        .route("/totp/enrol", get(login::enrol_form).post(login::enrol))
        .route("/logout", post(login::logout))
        .route("/password", get(password::form).post(password::change))
        .route("/account", get(account::page))
        .route(
            "/careplan",
            get(careplan::index).post(careplan::upload).layer(DefaultBodyLimit::max(crate::MAX_UPLOAD_BYTES)),
        )
        .route("/careplan/sets/{id}", get(careplan::show))
        .route("/careplan/sets/{id}/send", post(careplan::send))
        .route("/careplan/sets/{id}/ack", post(careplan::acknowledge))
        .route("/careplan/sets/{id}/files/{position}", get(careplan::download))
        .route("/rooms", get(rooms::list))
        .route("/rooms/{id}", get(rooms::show))
        .route("/rooms/{id}/posts", post(rooms::create).layer(DefaultBodyLimit::max(crate::MAX_UPLOAD_BYTES)))
        .route("/rooms/{id}/files/{file}", get(rooms::file))
        .route("/rooms/{id}/files/{file}/thumb", get(rooms::thumbnail))
        .route("/rooms/{id}/vitals", get(rooms::vitals))
        .route("/rooms/{id}/events", get(rooms::events))
        .route("/rooms/{id}/requests", get(rooms::request_form).post(rooms::request))
        .route("/rooms/{id}/read", post(rooms::mark_all_read))
        .route("/rooms/{id}/posts/{post}/replies", post(rooms::reply))
        .route("/rooms/{id}/posts/{post}/ack", post(rooms::acknowledge))
        .route("/rooms/{id}/posts/{post}/readers", get(rooms::readers))
        .route("/rooms/{id}/posts/{post}/edit", get(rooms::edit_form).post(rooms::edit))
        .route("/rooms/{id}/posts/{post}/delete", post(rooms::delete))
        .route("/account/sessions/{id}/revoke", post(account::revoke))
        .route("/account/sessions/revoke-others", post(account::revoke_others))
        .route("/operator", get(operator::home))
        .route("/operator/municipalities/new", get(operator::new_form).post(operator::create))
        .route("/operator/municipalities/{id}", get(operator::show))
        .route("/operator/municipalities/{id}/admins", post(operator::create_admin))
        .route("/operator/audit", get(audit::operator_page))
        .route("/operator/audit.csv", get(audit::operator_csv))
        .merge(admin::routes())
        .route("/admin/audit", get(audit::admin_page))
        .route("/admin/audit.csv", get(audit::admin_csv))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), auth::load_session))
        .layer(middleware::from_fn_with_state(state.clone(), csrf::guard))
        .layer(DefaultBodyLimit::max(crate::MAX_BODY_BYTES))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));
    let app = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/static/app.css", get(health::stylesheet))
        .route("/static/app.js", get(health::script))
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
