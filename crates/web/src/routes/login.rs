//! The sign-in pages (C1, C2, C4): login ID and password, then the TOTP code (or a recovery code),
//! with enrolment on first sign-in. The workflow — throttling, checks, sessions, audit — is
//! `services::sign_in`; these handlers parse the form and render its outcome.

use askama::Template;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use renraku_domain::FieldError;

use crate::AppState;
use crate::auth::{self, Auth, Partial, RequestMeta, totp};
use crate::csrf::CsrfToken;
use crate::error::AppError;
use crate::forms::{Form, FormState};
use crate::services::sign_in::{self, Enrolment, PasswordOutcome, SecondFactorOutcome};
use crate::views::{Chrome, render};

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
    let next = auth::return_path_in_query(query.as_deref()).unwrap_or_default();
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
    login_page(&csrf, FormState::with([("next", next)]), "", notice)
}

pub async fn submit(
    State(state): State<AppState>,
    meta: RequestMeta,
    csrf: CsrfToken,
    form: Form,
) -> Result<Response, AppError> {
    let typed = form.get("login_id");
    let login = sign_in::login_key_of(typed);
    let next = auth::return_path(form.get("next"));
    let mut echo = FormState::with(
        [("login_id", typed), ("next", next.unwrap_or_default())].map(|(k, v)| (k, v.to_string())),
    );
    if login.is_empty() {
        echo.error(FieldError::new("login_id", "ログインIDを入力してください。"));
    }
    if form.get("password").is_empty() {
        echo.error(FieldError::new("password", "パスワードを入力してください。"));
    }
    if echo.has_errors() {
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, login_page(&csrf, echo, "", "")?).into_response());
    }
    let (status, message) = match sign_in::sign_in_with_password(&state, &meta, &login, form.get("password"))
        .await?
    {
        PasswordOutcome::Started { token, next: step } => {
            // The page first asked for travels on to the second factor (not through enrolment).
            let target = if step == "/login/totp" { auth::with_return(step, next) } else { step.to_string() };
            let mut response = Redirect::to(&target).into_response();
            response.headers_mut().insert(header::SET_COOKIE, auth::session_cookie(&state, Some(&token)));
            return Ok(response);
        }
        PasswordOutcome::Locked | PasswordOutcome::Wrong { now_locked: true, .. } => {
            (StatusCode::TOO_MANY_REQUESTS, LOCKED.to_string())
        }
        PasswordOutcome::Wrong { now_locked: false, left } => (
            StatusCode::UNAUTHORIZED,
            format!("{FAILED}（あと{left}回間違えると、15分ほどログインできなくなります）"),
        ),
        PasswordOutcome::Busy => (StatusCode::SERVICE_UNAVAILABLE, crate::error::BUSY.to_string()),
        PasswordOutcome::SecondFactorLocked => {
            (StatusCode::TOO_MANY_REQUESTS, SECOND_FACTOR_LOCKED.to_string())
        }
    };
    Ok((status, login_page(&csrf, echo, &message, "")?).into_response())
}

#[derive(Template)]
#[template(path = "second_factor.html")]
struct SecondFactorPage {
    chrome: Chrome,
    message: String,
    recovery: bool,
    /// The page to go to once signed in (see [`auth::return_path`]); empty for the start page.
    next: String,
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
    let next = auth::return_path_in_query(query.as_deref()).unwrap_or_default();
    let recovery = query.is_some_and(|q| q.contains("recovery=1"));
    let chrome = Chrome::new("二段階認証", &csrf, Some(&auth));
    Ok(render(SecondFactorPage { chrome, message: String::new(), recovery, next })?.into_response())
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
    let recovery_code = form.get("recovery_code");
    let next = auth::return_path(form.get("next"));
    match sign_in::check_second_factor(&state, &meta, &auth, form.get("code"), recovery_code).await? {
        SecondFactorOutcome::Accepted => Ok(Redirect::to(next.unwrap_or("/")).into_response()),
        SecondFactorOutcome::NotEnrolled => Ok(Redirect::to("/totp/enrol").into_response()),
        SecondFactorOutcome::Locked => {
            let page = login_page(&csrf, FormState::default(), SECOND_FACTOR_LOCKED, "")?;
            let mut response = (StatusCode::TOO_MANY_REQUESTS, page).into_response();
            response.headers_mut().insert(header::SET_COOKIE, auth::session_cookie(&state, None));
            Ok(response)
        }
        SecondFactorOutcome::Wrong { left } => {
            let chrome = Chrome::new("二段階認証", &csrf, Some(&auth));
            let message = if recovery_code.is_empty() {
                format!(
                    "確認コードが正しくありません。認証アプリに表示されている最新の6桁を入力してください（あと{left}回間違えると15分間ロックされます）。"
                )
            } else {
                format!(
                    "リカバリーコードが正しくないか、使用済みです（あと{left}回間違えると15分間ロックされます）。"
                )
            };
            let next = next.unwrap_or_default().to_string();
            let page = SecondFactorPage { chrome, message, recovery: !recovery_code.is_empty(), next };
            Ok((StatusCode::UNAUTHORIZED, render(page)?).into_response())
        }
    }
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
    let pending = sign_in::pending_secret(state, secret)?;
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
    match sign_in::enrol_second_factor(&state, &meta, &auth, form.get("pending"), form.get("code")).await? {
        Enrolment::Done { recovery_codes } => {
            let chrome = Chrome::new("リカバリーコード", &csrf, Some(&auth));
            Ok(render(RecoveryCodesPage { chrome, codes: recovery_codes })?.into_response())
        }
        Enrolment::Lost => {
            Err(AppError::BadRequest("設定の途中で情報が失われました。最初からやり直してください。".into()))
        }
        Enrolment::WrongCode { secret } => enrol_page(
            &state,
            &csrf,
            &auth,
            &secret,
            "確認コードが正しくありません。認証アプリに表示されている6桁の数字を入力してください。",
        ),
    }
}

pub async fn logout(
    State(state): State<AppState>,
    meta: RequestMeta,
    auth: Option<Partial>,
) -> Result<Response, AppError> {
    if let Some(Partial(auth)) = auth {
        sign_in::sign_out(&state, &meta, &auth).await?;
    }
    let mut response = Redirect::to("/login?out=1").into_response();
    response.headers_mut().insert(header::SET_COOKIE, auth::session_cookie(&state, None));
    Ok(response)
}
