//! One-time links: the operator's setup link (printed at first start) and the activation link
//! of every new account (B6). Following one, the person chooses their own password; the
//! second factor is enrolled at their first sign-in.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use renraku_domain::audit_action::AuditAction;
use renraku_domain::directory::{AccountStatus, KanaName, LoginId, Name, Profession, Role};
use renraku_domain::password::PasswordPolicy;
use renraku_store::{AuditDraft, NewAccount, Profile, StoreError, TokenPurpose};

use crate::AppState;
use crate::auth::{RequestMeta, password};
use crate::csrf::CsrfToken;
use crate::error::AppError;
use crate::forms::{Form, FormState};
use crate::secrets::sha256_hex;
use crate::views::{Chrome, render};

/// The routes of this feature, merged into the application by [`super::router`].
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/setup/{token}", get(setup_form).post(setup))
        .route("/activate/{token}", get(activate_form).post(activate))
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    chrome: Chrome,
    form: FormState,
    min_length: u32,
}

#[derive(Template)]
#[template(path = "activate.html")]
struct ActivatePage {
    chrome: Chrome,
    form: FormState,
    login_id: String,
    name: String,
    min_length: u32,
}

async fn check_link(
    state: &AppState,
    secret: &str,
    purpose: TokenPurpose,
) -> Result<renraku_store::Token, AppError> {
    let token = state.store.token(&sha256_hex(secret.as_bytes()), state.clock.now_ms()).await?;
    if token.purpose == purpose { Ok(token) } else { Err(AppError::LinkInvalid) }
}

/// Checks the new password and its confirmation against `policy`.
pub fn check_new_password(
    form: &Form,
    echo: &mut FormState,
    policy: &PasswordPolicy,
    login_id: &str,
) -> Option<String> {
    let new = password::normalize_password(form.get("new_password"));
    if let Err(e) = policy.check("new_password", &new, login_id) {
        echo.error(e);
        return None;
    }
    if new != password::normalize_password(form.get("new_password_confirm")) {
        echo.error(renraku_domain::FieldError::new(
            "new_password_confirm",
            "確認用のパスワードが一致しません。",
        ));
        return None;
    }
    Some(new)
}

pub async fn setup_form(
    State(state): State<AppState>,
    csrf: CsrfToken,
    Path(secret): Path<String>,
) -> Result<Response, AppError> {
    check_link(&state, &secret, TokenPurpose::Setup).await?;
    let page = SetupPage {
        chrome: Chrome::new("初期設定（運用者アカウントの作成）", &csrf, None),
        form: FormState::default(),
        min_length: PasswordPolicy::default().min_length,
    };
    Ok(render(page)?.into_response())
}

pub async fn setup(
    State(state): State<AppState>,
    meta: RequestMeta,
    csrf: CsrfToken,
    Path(secret): Path<String>,
    form: Form,
) -> Result<Response, AppError> {
    check_link(&state, &secret, TokenPurpose::Setup).await?;
    let mut echo = form.echo();
    let login_id = echo.take(LoginId::parse("login_id", form.get("login_id")));
    let name = echo.take(Name::parse("name", form.get("name")));
    let kana = echo.take(KanaName::parse("kana", form.get("kana")));
    let profession = echo.take(Profession::parse("occupation", "occupation_other", "clerk", ""));
    let policy = PasswordPolicy::default();
    let new_password =
        check_new_password(&form, &mut echo, &policy, login_id.as_ref().map(LoginId::as_str).unwrap_or(""));
    let (Some(login_id), Some(name), Some(kana), Some(profession), Some(new_password), false) =
        (login_id, name, kana, profession, new_password, echo.has_errors())
    else {
        let page = SetupPage {
            chrome: Chrome::new("初期設定", &csrf, None),
            form: echo,
            min_length: policy.min_length,
        };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(page)?).into_response());
    };
    let now = state.clock.now_ms();
    let operator = NewAccount {
        login_id: login_id.clone(),
        municipality_id: None,
        facility_id: None,
        role: Role::Operator,
        profile: Profile { name, kana, profession, email: None, phone: None },
        is_manager: false,
        careplan: false,
    };
    let hash = password::hash(&new_password).await?;
    let audit = AuditDraft {
        at_ms: now,
        actor_login: login_id.to_string(),
        ip: meta.ip,
        object_type: "account".into(),
        outcome: "ok".into(),
        ..AuditDraft::new(AuditAction::SetupOperatorCreated)
    };
    match state.store.complete_setup(&sha256_hex(secret.as_bytes()), &operator, &hash, now, &audit).await {
        Ok(_) => Ok(Redirect::to("/login?activated=1").into_response()),
        Err(StoreError::Taken(_)) => {
            echo.error(renraku_domain::FieldError::new("login_id", "このログインIDは既に使われています。"));
            let page = SetupPage {
                chrome: Chrome::new("初期設定", &csrf, None),
                form: echo,
                min_length: policy.min_length,
            };
            Ok((StatusCode::CONFLICT, render(page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

async fn activation_target(
    state: &AppState,
    secret: &str,
) -> Result<(renraku_store::Identity, PasswordPolicy, String), AppError> {
    let token = check_link(state, secret, TokenPurpose::Activation).await?;
    let identity_id = token.identity_id.ok_or(AppError::LinkInvalid)?;
    let identity = state.store.identity(&identity_id).await?;
    let accounts = state.store.accounts_of_identity(&identity.id).await?;
    // A link acts only on a person still waiting for activation (the store checks this again
    // when the password is set).
    let waiting = identity.password_hash.is_none()
        && identity.totp_secret.is_none()
        && accounts.iter().any(|a| a.status == AccountStatus::Pending);
    if !waiting {
        return Err(AppError::LinkInvalid);
    }
    let mut policies = Vec::new();
    for a in &accounts {
        if let Some(m) = &a.municipality_id {
            policies.push(state.store.municipality(m).await?.settings.password_policy);
        }
    }
    let name = accounts.first().map(|a| a.profile.name.to_string()).unwrap_or_default();
    Ok((identity, PasswordPolicy::strictest(policies), name))
}

pub async fn activate_form(
    State(state): State<AppState>,
    csrf: CsrfToken,
    Path(secret): Path<String>,
) -> Result<Response, AppError> {
    let (identity, policy, name) = activation_target(&state, &secret).await?;
    let page = ActivatePage {
        chrome: Chrome::new("アカウントの有効化", &csrf, None),
        form: FormState::default(),
        login_id: identity.login_id.to_string(),
        name,
        min_length: policy.min_length,
    };
    Ok(render(page)?.into_response())
}

pub async fn activate(
    State(state): State<AppState>,
    meta: RequestMeta,
    csrf: CsrfToken,
    Path(secret): Path<String>,
    form: Form,
) -> Result<Response, AppError> {
    let (identity, policy, name) = activation_target(&state, &secret).await?;
    let mut echo = form.echo();
    let Some(new_password) = check_new_password(&form, &mut echo, &policy, identity.login_id.as_str()) else {
        let page = ActivatePage {
            chrome: Chrome::new("アカウントの有効化", &csrf, None),
            form: echo,
            login_id: identity.login_id.to_string(),
            name,
            min_length: policy.min_length,
        };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(page)?).into_response());
    };
    let now = state.clock.now_ms();
    let hash = password::hash(&new_password).await?;
    let account = state.store.accounts_of_identity(&identity.id).await?.into_iter().next();
    let audit = AuditDraft {
        municipality_id: account.as_ref().and_then(|a| a.municipality_id.clone()),
        at_ms: now,
        actor_account_id: account.map(|a| a.id),
        ip: meta.ip,
        object_type: "identity".into(),
        outcome: "ok".into(),
        ..AuditDraft::new(AuditAction::AccountActivated)
    };
    state.store.activate(&sha256_hex(secret.as_bytes()), &hash, now, &audit).await?;
    Ok(Redirect::to("/login?activated=1").into_response())
}
