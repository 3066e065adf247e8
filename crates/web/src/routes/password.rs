//! Changing one's own password: by choice, or because it passed the municipality's maximum
//! age (the page is open to a [`Partial`] session for that reason). Other sessions end.

use askama::Template;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use renraku_domain::FieldError;
use renraku_domain::audit_action::AuditAction;
use renraku_domain::password::PasswordPolicy;

use super::onboarding::check_new_password;
use crate::AppState;
use crate::auth::{self, AuthRedirect, LOGIN_THROTTLE, Partial, RequestMeta, password};
use crate::csrf::CsrfToken;
use crate::error::AppError;
use crate::forms::{Form, FormState};
use crate::views::{Chrome, render};
use renraku_domain::ids::IdentityId;

/// The routes of this feature, merged into the application by [`super::router`].
pub fn routes() -> Router<AppState> {
    Router::new().route("/password", get(form).post(change))
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    chrome: Chrome,
    form: FormState,
    expired: bool,
    min_length: u32,
    max_age_days: String,
}

async fn policy_of(state: &AppState, identity_id: &IdentityId) -> Result<PasswordPolicy, AppError> {
    let mut policies = Vec::new();
    for a in state.store.accounts_of_identity(identity_id).await? {
        if let Some(m) = a.municipality_id {
            policies.push(state.store.municipality(&m).await?.settings.password_policy);
        }
    }
    Ok(PasswordPolicy::strictest(policies))
}

fn page(csrf: &CsrfToken, auth: &crate::auth::Auth, form: FormState, policy: PasswordPolicy) -> PasswordPage {
    PasswordPage {
        chrome: Chrome::new("パスワードの変更", csrf, Some(auth)),
        form,
        expired: auth.password_expired,
        min_length: policy.min_length,
        max_age_days: policy.max_age_days.map(|d| d.to_string()).unwrap_or_default(),
    }
}

pub async fn form(
    State(state): State<AppState>,
    csrf: CsrfToken,
    Partial(auth): Partial,
    RawQuery(_): RawQuery,
) -> Result<Response, AppError> {
    if !auth.session.second_factor_done {
        return Ok(AuthRedirect::SecondFactor.into_response());
    }
    let policy = policy_of(&state, &auth.identity.id).await?;
    Ok(render(page(&csrf, &auth, FormState::default(), policy))?.into_response())
}

pub async fn change(
    State(state): State<AppState>,
    meta: RequestMeta,
    csrf: CsrfToken,
    Partial(auth): Partial,
    form: Form,
) -> Result<Response, AppError> {
    if !auth.session.second_factor_done {
        return Ok(AuthRedirect::SecondFactor.into_response());
    }
    let policy = policy_of(&state, &auth.identity.id).await?;
    let mut echo = form.echo();
    // Someone holding a stolen session must not be able to guess the password here either: the
    // check counts against the same lock as sign-in, before the password is checked.
    let now = state.clock.now_ms();
    let login_key = auth::login_key(auth.identity.login_id.as_str());
    let attempt = state.store.claim_attempt(&login_key, now, &LOGIN_THROTTLE).await?;
    if !attempt.allowed {
        echo.error(FieldError::new(
            "password",
            "パスワードの誤りが続いたため、15分ほど確認できません。時間をおいてからもう一度お試しください。",
        ));
        let mut audit =
            auth.audit(&meta, now, AuditAction::AuthPasswordChanged, "identity", &auth.identity.id);
        audit.outcome = "locked".into();
        state.store.append_audit(&audit).await?;
        return Ok((StatusCode::TOO_MANY_REQUESTS, render(page(&csrf, &auth, echo, policy))?).into_response());
    }
    let current_ok = match password::verify(auth.identity.password_hash.clone(), form.get("password")).await {
        Ok(ok) => ok,
        Err(e) => {
            state.store.forgive_attempt(&login_key, &LOGIN_THROTTLE).await?;
            return Err(e);
        }
    };
    if current_ok {
        state.store.forgive_attempt(&login_key, &LOGIN_THROTTLE).await?;
    } else {
        echo.error(FieldError::new("password", "現在のパスワードが正しくありません。"));
        let mut audit =
            auth.audit(&meta, now, AuditAction::AuthPasswordChanged, "identity", &auth.identity.id);
        audit.outcome = "failure".into();
        audit.detail = "current_password".into();
        state.store.append_audit(&audit).await?;
    }
    let new = check_new_password(&form, &mut echo, &policy, auth.identity.login_id.as_str());
    if new.as_deref().is_some_and(|n| n == password::normalize_password(form.get("password"))) {
        echo.error(FieldError::new("new_password", "現在と異なるパスワードを設定してください。"));
    }
    let (Some(new), false) = (new, echo.has_errors()) else {
        return Ok(
            (StatusCode::UNPROCESSABLE_ENTITY, render(page(&csrf, &auth, echo, policy))?).into_response()
        );
    };
    let hash = password::hash(&new).await?;
    let audit = auth.audit(&meta, now, AuditAction::AuthPasswordChanged, "identity", &auth.identity.id);
    state.store.set_password(&auth.identity.id, &hash, now, &auth.session.id, &audit).await?;
    Ok(Redirect::to("/account?password=1").into_response())
}
