//! Liveness, metrics and the stylesheet: reachable without signing in, with no personal data.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

use crate::AppState;

/// The health probe and the static files: answered before any session is looked up.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/static/app.css", get(stylesheet))
        .route("/static/app.js", get(script))
}

/// 200 when the database answers and a write through the writer commits (`ok sqlite` /
/// `writer: ok`); 503 otherwise, saying which part fails. A load balancer or monitor sees a
/// full disk, not only a database that cannot be reached. The write is probed at most once
/// every few seconds however often this is asked ([`crate::WriterProbe`]).
pub async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let backend = state.store.backend();
    if let Err(e) = state.store.ping().await {
        tracing::error!(error = %e, "health check failed: the database does not answer");
        return (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\nwriter: failing\n".to_string());
    }
    if state.writer_probe.writer_ok(state.store.as_ref(), state.clock.now_ms()).await {
        (StatusCode::OK, format!("ok {backend}\nwriter: ok\n"))
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, format!("failing {backend}\nwriter: failing\n"))
    }
}

/// Prometheus text format.
pub async fn metrics() -> impl IntoResponse {
    let body = crate::metrics::handle().map(|h| h.render()).unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}

pub async fn stylesheet() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../../static/app.css"),
    )
}

/// The one script: live updates of an open room (the pages work without it).
pub async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/app.js"),
    )
}
