//! The signed-in person's own page: who they are, their second factor, and their sessions,
//! each of which they can end (C4).

use askama::Template;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use renraku_domain::directory::Role;

use crate::AppState;
use crate::auth::{RequestMeta, SignedIn};
use crate::csrf::CsrfToken;
use crate::error::AppError;
use crate::path_ids::IdPath;
use crate::services::sign_in;
use crate::views::{Chrome, jst, render};
use renraku_domain::ids::SessionId;

/// The routes of this feature, merged into the application by [`super::router`].
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/account", get(page))
        .route("/account/sessions/{id}/revoke", post(revoke))
        .route("/account/sessions/revoke-others", post(revoke_others))
}

/// Everyone's start page: the operator's and admins' screens, or a member's rooms.
pub async fn home(SignedIn(auth): SignedIn) -> Response {
    let to = match auth.account.role {
        Role::Operator => "/operator",
        Role::Admin => "/admin",
        Role::Member => "/rooms",
    };
    Redirect::to(to).into_response()
}

struct SessionRow {
    id: SessionId,
    current: bool,
    created: String,
    last_seen: String,
    ip: String,
    user_agent: String,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    chrome: Chrome,
    notice: &'static str,
    login_id: String,
    name: String,
    kana: String,
    occupation: String,
    facility: String,
    municipality: String,
    role: &'static str,
    is_manager: bool,
    careplan: bool,
    password_changed: String,
    recovery_codes_left: i64,
    sessions: Vec<SessionRow>,
}

pub async fn page(
    State(state): State<AppState>,
    csrf: CsrfToken,
    SignedIn(auth): SignedIn,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let now = state.clock.now_ms();
    let facility = match (&auth.account.municipality_id, &auth.account.facility_id) {
        (Some(m), Some(f)) => state.store.facility(m, f).await?.info.name.to_string(),
        _ => String::new(),
    };
    let sessions = state
        .store
        .sessions_of_identity(&auth.identity.id, now)
        .await?
        .into_iter()
        .map(|s| SessionRow {
            current: s.id == auth.session.id,
            created: jst(s.created_at_ms),
            last_seen: jst(s.last_seen_at_ms),
            ip: s.ip,
            user_agent: s.user_agent,
            id: s.id,
        })
        .collect();
    let query = query.unwrap_or_default();
    let notice = if query.contains("password=1") {
        "パスワードを変更しました。他の端末のログインは終了しました。"
    } else if query.contains("revoked=1") {
        "選択したログインを終了しました。"
    } else {
        ""
    };
    let a = &auth.account;
    let page = AccountPage {
        chrome: Chrome::new("アカウント", &csrf, Some(&auth)),
        notice,
        login_id: a.login_id.to_string(),
        name: a.profile.name.to_string(),
        kana: a.profile.kana.to_string(),
        occupation: a.profile.profession.label().to_string(),
        facility,
        municipality: auth.municipality.as_ref().map(|m| m.name.to_string()).unwrap_or_default(),
        role: a.role.label(),
        is_manager: a.is_manager,
        careplan: a.careplan,
        password_changed: jst(auth.identity.password_changed_at_ms),
        recovery_codes_left: state.store.unused_recovery_codes(&auth.identity.id).await?,
        sessions,
    };
    Ok(render(page)?.into_response())
}

pub async fn revoke(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(auth): SignedIn,
    IdPath(id): IdPath<SessionId>,
) -> Result<Response, AppError> {
    sign_in::end_session(&state, &meta, &auth, &id).await?;
    let target = if id == auth.session.id { "/login?out=1" } else { "/account?revoked=1" };
    Ok(Redirect::to(target).into_response())
}

pub async fn revoke_others(
    State(state): State<AppState>,
    meta: RequestMeta,
    SignedIn(auth): SignedIn,
) -> Result<Response, AppError> {
    sign_in::end_other_sessions(&state, &meta, &auth).await?;
    Ok(Redirect::to("/account?revoked=1").into_response())
}
