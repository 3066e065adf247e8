//! Signing in (C1, C2, C4): login ID and password, then the TOTP code (or a recovery code), with
//! enrolment on first sign-in. Password failures are throttled per login ID — existing or not —
//! and per address, wrong codes per person (the second-factor lock), each attempt counted before
//! it is checked; every attempt goes to the audit trail.

use askama::Template;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use renraku_domain::audit_action::AuditAction;
use renraku_domain::directory::AccountStatus;
use renraku_domain::ids::MunicipalityId;
use renraku_domain::text::normalize;
use renraku_store::{Account, AuditDraft, MunicipalitySettings, NewSession, new_id};

use crate::auth::{
    self, ADDRESS_THROTTLE, Auth, LOGIN_THROTTLE, Partial, RequestMeta, SECOND_FACTOR_THROTTLE, password,
    totp,
};
use crate::csrf::CsrfToken;
use crate::error::AppError;
use crate::forms::{Form, FormState};
use crate::secrets::{random_token, sha256_hex};
use crate::views::{Chrome, render};
use crate::{AppState, metrics};

/// The routes of this feature, merged into the application by [`super::router`].
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(form).post(submit))
        .route("/login/totp", get(second_factor_form).post(second_factor))
        .route("/totp/enrol", get(enrol_form).post(enrol))
        .route("/logout", post(logout))
}

const LOCKED: &str =
    "ログインの失敗が続いたため、一時的にログインできません。15分ほど待ってからもう一度お試しください。";
const FAILED: &str = "ログインIDまたはパスワードが正しくありません。";
const SECOND_FACTOR_LOCKED: &str = "確認コード（またはリカバリーコード）の間違いが続いたため、二段階認証を15分間ロックしました。15分ほど待ってからもう一度ログインしてください。急ぐ場合は、所属する市区町村の管理者にロックの解除を依頼してください。";

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    form: FormState,
    message: String,
    notice: &'static str,
}

fn login_page(
    csrf: &CsrfToken,
    form: FormState,
    message: &str,
    notice: &'static str,
) -> Result<Response, AppError> {
    Ok(render(LoginPage {
        chrome: Chrome::new("ログイン", csrf, None),
        form,
        message: message.into(),
        notice,
    })?
    .into_response())
}

pub async fn form(
    csrf: CsrfToken,
    RawQuery(query): RawQuery,
    auth: Option<Partial>,
) -> Result<Response, AppError> {
    if auth.is_some_and(|Partial(a)| a.session.second_factor_done) {
        return Ok(Redirect::to("/").into_response());
    }
    let query = query.unwrap_or_default();
    let notice = if query.contains("expired=1") {
        "セッションの有効期限が切れました。もう一度ログインしてください。"
    } else if query.contains("out=1") {
        "ログアウトしました。"
    } else if query.contains("activated=1") {
        "パスワードを設定しました。ログインして、二段階認証を設定してください。"
    } else {
        ""
    };
    login_page(&csrf, FormState::default(), "", notice)
}

fn login_audit(
    chain: Option<MunicipalityId>,
    login: &str,
    meta: &RequestMeta,
    now: i64,
    outcome: &str,
    detail: &str,
) -> AuditDraft {
    AuditDraft {
        municipality_id: chain,
        at_ms: now,
        actor_account_id: None,
        actor_login: login.chars().take(64).collect(),
        ip: meta.ip.clone(),
        action: AuditAction::AuthLogin,
        object_type: "session".into(),
        object_id: String::new(),
        outcome: outcome.into(),
        detail: detail.into(),
    }
}

pub async fn submit(
    State(state): State<AppState>,
    meta: RequestMeta,
    csrf: CsrfToken,
    form: Form,
) -> Result<Response, AppError> {
    let now = state.clock.now_ms();
    let typed = form.get("login_id");
    let login = normalize(typed).to_ascii_lowercase();
    let mut echo = FormState::with([("login_id", typed.to_string())]);
    if login.is_empty() {
        echo.error(renraku_domain::FieldError::new("login_id", "ログインIDを入力してください。"));
    }
    if form.get("password").is_empty() {
        echo.error(renraku_domain::FieldError::new("password", "パスワードを入力してください。"));
    }
    if echo.has_errors() {
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, login_page(&csrf, echo, "", "")?).into_response());
    }
    let (login_key, address_key) = (auth::login_key(&login), format!("ip:{}", meta.ip));

    let identity = state.store.identity_by_login(&login).await?;
    let account = match &identity {
        Some(i) => first_active(state.store.accounts_of_identity(&i.id).await?),
        None => None,
    };
    let chain = account.as_ref().and_then(|a| a.municipality_id.clone());

    // The attempt is counted before the password is checked, in the same step as the check of
    // the lock: of many parallel attempts, only as many as the lock allows are ever checked.
    let by_login = state.store.claim_attempt(&login_key, now, &LOGIN_THROTTLE).await?;
    let by_address = if by_login.allowed {
        let by_address = state.store.claim_attempt(&address_key, now, &ADDRESS_THROTTLE).await?;
        if !by_address.allowed {
            state.store.forgive_attempt(&login_key, &LOGIN_THROTTLE).await?;
        }
        by_address
    } else {
        by_login
    };
    if !by_address.allowed {
        state.store.append_audit(&login_audit(chain, &login, &meta, now, "locked", "")).await?;
        metrics::sign_in("locked");
        return Ok((StatusCode::TOO_MANY_REQUESTS, login_page(&csrf, echo, LOCKED, "")?).into_response());
    }

    let hash = identity.as_ref().and_then(|i| i.password_hash.clone());
    let password_ok = match password::verify(hash, form.get("password")).await {
        Ok(ok) => ok,
        Err(e) => {
            // Never checked (the server is busy): the attempt does not count.
            state.store.forgive_attempt(&login_key, &LOGIN_THROTTLE).await?;
            state.store.forgive_attempt(&address_key, &ADDRESS_THROTTLE).await?;
            if matches!(e, AppError::Busy) {
                metrics::sign_in("busy");
                let page = login_page(&csrf, echo, crate::error::BUSY, "")?;
                return Ok((StatusCode::SERVICE_UNAVAILABLE, page).into_response());
            }
            return Err(e);
        }
    };
    let (Some(identity), Some(account), true) = (identity, account, password_ok) else {
        let now_locked = by_login.throttle.is_locked(now) || by_address.throttle.is_locked(now);
        state.store.append_audit(&login_audit(chain, &login, &meta, now, "failure", "password")).await?;
        metrics::sign_in("failure");
        let (status, message) = if now_locked {
            (StatusCode::TOO_MANY_REQUESTS, LOCKED)
        } else {
            (StatusCode::UNAUTHORIZED, FAILED)
        };
        return Ok((status, login_page(&csrf, echo, message, "")?).into_response());
    };
    state.store.clear_failures(&login_key).await?;
    state.store.forgive_attempt(&address_key, &ADDRESS_THROTTLE).await?;

    // A right password does not lift a second-factor lock: say so now rather than after the
    // next wrong code.
    let factor_key = auth::second_factor_key(&identity.id);
    if identity.totp_secret.is_some() && state.store.throttle(&factor_key, now).await?.is_locked(now) {
        let mut audit = login_audit(chain, &login, &meta, now, "locked", "");
        audit.action = AuditAction::AuthSecondFactor;
        audit.actor_account_id = Some(account.id.clone());
        state.store.append_audit(&audit).await?;
        metrics::sign_in("locked");
        let page = login_page(&csrf, echo, SECOND_FACTOR_LOCKED, "")?;
        return Ok((StatusCode::TOO_MANY_REQUESTS, page).into_response());
    }

    let settings = match &account.municipality_id {
        Some(id) => state.store.municipality(id).await?.settings,
        None => MunicipalitySettings::default(),
    };
    let token = random_token();
    let session = NewSession {
        id: new_id(),
        token_hash: sha256_hex(token.as_bytes()),
        identity_id: identity.id.clone(),
        account_id: account.id.clone(),
        created_at_ms: now,
        idle_timeout_ms: settings.idle_timeout_secs * 1000,
        expires_at_ms: now + settings.absolute_timeout_secs * 1000,
        ip: meta.ip.clone(),
        user_agent: meta.user_agent.clone(),
    };
    state.store.create_session(&session).await?;
    let mut audit = login_audit(account.municipality_id.clone(), &login, &meta, now, "ok", "password");
    audit.action = AuditAction::AuthPassword;
    audit.actor_account_id = Some(account.id.clone());
    audit.object_id = session.id.to_string();
    state.store.append_audit(&audit).await?;
    let next = if identity.totp_secret.is_some() { "/login/totp" } else { "/totp/enrol" };
    let mut response = Redirect::to(next).into_response();
    response.headers_mut().insert(header::SET_COOKIE, auth::session_cookie(&state, Some(&token)));
    Ok(response)
}

fn first_active(accounts: Vec<Account>) -> Option<Account> {
    accounts.into_iter().find(|a| a.status == AccountStatus::Active)
}

#[derive(Template)]
#[template(path = "second_factor.html")]
struct SecondFactorPage {
    chrome: Chrome,
    message: String,
    recovery: bool,
}

pub async fn second_factor_form(
    csrf: CsrfToken,
    Partial(auth): Partial,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    if auth.session.second_factor_done {
        return Ok(Redirect::to("/").into_response());
    }
    if auth.identity.totp_secret.is_none() {
        return Ok(Redirect::to("/totp/enrol").into_response());
    }
    let recovery = query.is_some_and(|q| q.contains("recovery=1"));
    let chrome = Chrome::new("二段階認証", &csrf, Some(&auth));
    Ok(render(SecondFactorPage { chrome, message: String::new(), recovery })?.into_response())
}

pub async fn second_factor(
    State(state): State<AppState>,
    meta: RequestMeta,
    csrf: CsrfToken,
    Partial(auth): Partial,
    form: Form,
) -> Result<Response, AppError> {
    if auth.session.second_factor_done {
        return Ok(Redirect::to("/").into_response());
    }
    let now = state.clock.now_ms();
    let login = auth.identity.login_id.to_string();
    let Some(sealed) = &auth.identity.totp_secret else {
        return Ok(Redirect::to("/totp/enrol").into_response());
    };
    // Counted before the code is checked, apart from password failures.
    let factor_key = auth::second_factor_key(&auth.identity.id);
    let claim = state.store.claim_attempt(&factor_key, now, &SECOND_FACTOR_THROTTLE).await?;
    if !claim.allowed {
        return end_locked(&state, &auth, &meta, &csrf, now).await;
    }
    let recovery_code = form.get("recovery_code");
    let accepted = if !recovery_code.is_empty() {
        let hash = totp::recovery_code_hash(&state.secrets.recovery_key, recovery_code);
        state.store.use_recovery_code(&auth.identity.id, &hash, now).await?
    } else {
        let secret = totp::open(&state.secrets.totp_key, sealed)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("TOTP secret does not decrypt")))?;
        let t = totp::totp(&secret, &login).map_err(AppError::Internal)?;
        match totp::check(&t, form.get("code"), now) {
            Some(step) => state.store.accept_totp_step(&auth.identity.id, step).await?,
            None => false,
        }
    };
    let how = if recovery_code.is_empty() { "totp" } else { "recovery_code" };
    if !accepted {
        let mut audit = auth.audit(&meta, now, AuditAction::AuthSecondFactor, "session", &auth.session.id);
        audit.outcome = "failure".into();
        audit.detail = how.into();
        state.store.append_audit(&audit).await?;
        metrics::sign_in("failure");
        if claim.throttle.is_locked(now) {
            return end_locked(&state, &auth, &meta, &csrf, now).await;
        }
        let chrome = Chrome::new("二段階認証", &csrf, Some(&auth));
        let left = SECOND_FACTOR_THROTTLE.max_failures - claim.throttle.failures;
        let message = if recovery_code.is_empty() {
            format!(
                "確認コードが正しくありません。認証アプリに表示されている最新の6桁を入力してください（あと{left}回間違えると15分間ロックされます）。"
            )
        } else {
            format!(
                "リカバリーコードが正しくないか、使用済みです（あと{left}回間違えると15分間ロックされます）。"
            )
        };
        let page = SecondFactorPage { chrome, message, recovery: !recovery_code.is_empty() };
        return Ok((StatusCode::UNAUTHORIZED, render(page)?).into_response());
    }
    state.store.complete_second_factor(&auth.session.id, now).await?;
    state.store.clear_failures(&factor_key).await?;
    let mut audit = auth.audit(&meta, now, AuditAction::AuthLogin, "session", &auth.session.id);
    audit.detail = how.into();
    state.store.append_audit(&audit).await?;
    metrics::sign_in("success");
    Ok(Redirect::to("/").into_response())
}

/// Too many wrong codes: the second factor is locked, the half-open session ends, and the
/// sign-in starts over after the lock (or once an admin releases it).
async fn end_locked(
    state: &AppState,
    auth: &Auth,
    meta: &RequestMeta,
    csrf: &CsrfToken,
    now: i64,
) -> Result<Response, AppError> {
    state.store.revoke_session(&auth.identity.id, &auth.session.id, now).await?;
    let mut audit = auth.audit(meta, now, AuditAction::AuthSecondFactor, "session", &auth.session.id);
    audit.outcome = "locked".into();
    state.store.append_audit(&audit).await?;
    metrics::sign_in("locked");
    let mut response =
        (StatusCode::TOO_MANY_REQUESTS, login_page(csrf, FormState::default(), SECOND_FACTOR_LOCKED, "")?)
            .into_response();
    response.headers_mut().insert(header::SET_COOKIE, auth::session_cookie(state, None));
    Ok(response)
}

#[derive(Template)]
#[template(path = "enrol.html")]
struct EnrolPage {
    chrome: Chrome,
    qr_svg: String,
    secret_text: String,
    pending: String,
    message: String,
}

#[derive(Template)]
#[template(path = "recovery_codes.html")]
struct RecoveryCodesPage {
    chrome: Chrome,
    codes: Vec<String>,
}

fn enrol_page(
    state: &AppState,
    csrf: &CsrfToken,
    auth: &Auth,
    secret: &[u8],
    message: &str,
) -> Result<Response, AppError> {
    let t = totp::totp(secret, auth.identity.login_id.as_str()).map_err(AppError::Internal)?;
    let pending =
        URL_SAFE_NO_PAD.encode(totp::seal(&state.secrets.totp_key, secret).map_err(AppError::Internal)?);
    let page = EnrolPage {
        chrome: Chrome::new("二段階認証の設定", csrf, Some(auth)),
        qr_svg: totp::qr_svg(&t).map_err(AppError::Internal)?,
        secret_text: totp::secret_for_humans(&t),
        pending,
        message: message.into(),
    };
    let status = if message.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok((status, render(page)?).into_response())
}

pub async fn enrol_form(
    State(state): State<AppState>,
    csrf: CsrfToken,
    Partial(auth): Partial,
) -> Result<Response, AppError> {
    if auth.identity.totp_secret.is_some() {
        return Ok(
            Redirect::to(if auth.session.second_factor_done { "/" } else { "/login/totp" }).into_response()
        );
    }
    enrol_page(&state, &csrf, &auth, &totp::new_secret(), "")
}

pub async fn enrol(
    State(state): State<AppState>,
    meta: RequestMeta,
    csrf: CsrfToken,
    Partial(auth): Partial,
    form: Form,
) -> Result<Response, AppError> {
    if auth.identity.totp_secret.is_some() {
        return Ok(Redirect::to("/").into_response());
    }
    let now = state.clock.now_ms();
    // The secret being enrolled travels in the page, encrypted and authenticated with the
    // server's key, so nothing half-done is stored.
    let secret = URL_SAFE_NO_PAD
        .decode(form.get("pending"))
        .ok()
        .and_then(|sealed| totp::open(&state.secrets.totp_key, &sealed))
        .ok_or_else(|| {
            AppError::BadRequest("設定の途中で情報が失われました。最初からやり直してください。".into())
        })?;
    let t = totp::totp(&secret, auth.identity.login_id.as_str()).map_err(AppError::Internal)?;
    let Some(step) = totp::check(&t, form.get("code"), now) else {
        return enrol_page(
            &state,
            &csrf,
            &auth,
            &secret,
            "確認コードが正しくありません。認証アプリに表示されている6桁の数字を入力してください。",
        );
    };
    let codes = totp::new_recovery_codes();
    let hashes: Vec<String> =
        codes.iter().map(|c| totp::recovery_code_hash(&state.secrets.recovery_key, c)).collect();
    let sealed = totp::seal(&state.secrets.totp_key, &secret).map_err(AppError::Internal)?;
    let audit = auth.audit(&meta, now, AuditAction::AuthTotpEnrolled, "identity", &auth.identity.id);
    state.store.set_second_factor(&auth.identity.id, Some(&sealed), &hashes, &audit).await?;
    state.store.accept_totp_step(&auth.identity.id, step).await?;
    state.store.complete_second_factor(&auth.session.id, now).await?;
    let mut login = auth.audit(&meta, now, AuditAction::AuthLogin, "session", &auth.session.id);
    login.detail = "totp_enrolment".into();
    state.store.append_audit(&login).await?;
    metrics::sign_in("success");
    let chrome = Chrome::new("リカバリーコード", &csrf, Some(&auth));
    Ok(render(RecoveryCodesPage { chrome, codes })?.into_response())
}

pub async fn logout(
    State(state): State<AppState>,
    meta: RequestMeta,
    auth: Option<Partial>,
) -> Result<Response, AppError> {
    if let Some(Partial(auth)) = auth {
        let now = state.clock.now_ms();
        state.store.revoke_session(&auth.identity.id, &auth.session.id, now).await?;
        state
            .store
            .append_audit(&auth.audit(&meta, now, AuditAction::AuthLogout, "session", &auth.session.id))
            .await?;
    }
    let mut response = Redirect::to("/login?out=1").into_response();
    response.headers_mut().insert(header::SET_COOKIE, auth::session_cookie(&state, None));
    Ok(response)
}
