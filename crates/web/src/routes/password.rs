//! Changing one's own password: by choice, or because it passed the municipality's maximum
//! age (the page is open to a [`Partial`] session for that reason). Other sessions end.

use askama::Template;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use renraku_domain::FieldError;
use renraku_domain::password::PasswordPolicy;

use super::onboarding::check_new_password;
use crate::AppState;
use crate::auth::{AuthRedirect, Partial, RequestMeta, password};
use crate::csrf::CsrfToken;
use crate::error::AppError;
use crate::forms::{Form, FormState};
use crate::services::sign_in::{self, CurrentPassword};
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
    match sign_in::check_current_password(&state, &meta, &auth, form.get("password")).await? {
        CurrentPassword::Right => {}
        CurrentPassword::Wrong => {
            echo.error(FieldError::new("password", "現在のパスワードが正しくありません。"));
        }
        CurrentPassword::Locked => {
            echo.error(FieldError::new(
                "password",
                "パスワードの誤りが続いたため、15分ほど確認できません。時間をおいてからもう一度お試しください。",
            ));
            let page = render(page(&csrf, &auth, echo, policy))?;
            return Ok((StatusCode::TOO_MANY_REQUESTS, page).into_response());
        }
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
    sign_in::change_password(&state, &meta, &auth, &new).await?;
    Ok(Redirect::to("/account?password=1").into_response())
}
