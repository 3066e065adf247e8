//! A municipality admin's screens: the overview, facilities (A2), users (A3) and settings (C1,
//! C4). Every query is scoped to the admin's own municipality; an id from another one is
//! "not found".

mod facilities;
mod rooms;
mod users;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use renraku_domain::FieldError;
use renraku_domain::audit_action::AuditAction;
use renraku_domain::directory::AccountStatus;
use renraku_domain::password::PasswordPolicy;
use renraku_domain::text::digits_only;
use renraku_store::{Facility, MunicipalitySettings};

use crate::AppState;
use crate::auth::{Admin, RequestMeta};
use crate::csrf::CsrfToken;
use crate::error::AppError;
use crate::forms::{Form, FormState};
use crate::views::{Chrome, render};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(home))
        .route("/admin/settings", get(settings_form).post(save_settings))
        .route("/admin/facilities", get(facilities::list))
        .route("/admin/facilities/new", get(facilities::new_form).post(facilities::create))
        .route("/admin/facilities/{id}", get(facilities::show))
        .route("/admin/facilities/{id}/edit", get(facilities::edit_form).post(facilities::update))
        .route("/admin/facilities/{id}/users/new", get(users::new_form).post(users::create))
        .route("/admin/requests", get(rooms::requests))
        .route("/admin/requests/{id}", post(rooms::decide))
        .route("/admin/rooms", get(rooms::list))
        .route("/admin/rooms/new", get(rooms::new_form).post(rooms::create))
        .route("/admin/rooms/{id}", get(rooms::show))
        .route("/admin/rooms/{id}/members", post(rooms::add_member))
        .route("/admin/rooms/{id}/members/{account}/remove", post(rooms::remove_member))
        .route("/admin/rooms/{id}/withdraw-consent", post(rooms::withdraw_consent))
        .route("/admin/rooms/{id}/oversight", post(rooms::oversee))
        .route("/admin/users", get(users::list))
        .route("/admin/users/{id}/edit", get(users::edit_form).post(users::update))
        .route("/admin/users/{id}/status", post(users::set_status))
        .route("/admin/users/{id}/reset-second-factor", post(users::reset_second_factor))
        .route("/admin/users/{id}/activation-link", post(users::reissue_link))
        .route("/admin/users/{id}/unlock", post(users::unlock))
}

#[derive(Template)]
#[template(path = "admin/home.html")]
struct HomePage {
    chrome: Chrome,
    facilities: usize,
    active_users: usize,
    pending_users: usize,
    pending_requests: usize,
    without_manager: Vec<Facility>,
}

async fn home(State(state): State<AppState>, csrf: CsrfToken, admin: Admin) -> Result<Response, AppError> {
    let m = &admin.municipality;
    let facilities = state.store.facilities(&m.id).await?;
    let accounts = state.store.accounts(&m.id, None).await?;
    let count =
        |s: AccountStatus| accounts.iter().filter(|a| a.status == s && a.facility_id.is_some()).count();
    let page = HomePage {
        chrome: Chrome::new(format!("{} 管理", m.name), &csrf, Some(&admin.auth)),
        facilities: facilities.len(),
        active_users: count(AccountStatus::Active),
        pending_users: count(AccountStatus::Pending),
        pending_requests: state.store.room_requests(&m.id, None, true).await?.len(),
        without_manager: facilities.into_iter().filter(|f| f.active_managers == 0).collect(),
    };
    Ok(render(page)?.into_response())
}

#[derive(Template)]
#[template(path = "admin/settings.html")]
struct SettingsPage {
    chrome: Chrome,
    form: FormState,
    saved: bool,
}

fn settings_values(s: &MunicipalitySettings) -> FormState {
    FormState::with([
        ("min_length", s.password_policy.min_length.to_string()),
        ("max_age_days", s.password_policy.max_age_days.map(|d| d.to_string()).unwrap_or_default()),
        ("idle_minutes", (s.idle_timeout_secs / 60).to_string()),
        ("absolute_hours", (s.absolute_timeout_secs / 3600).to_string()),
        ("care_manager_may_invite", if s.care_manager_may_invite { "on".into() } else { String::new() }),
    ])
}

async fn settings_form(
    csrf: CsrfToken,
    admin: Admin,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Response, AppError> {
    let saved = query.is_some_and(|q| q.contains("saved=1"));
    let page = SettingsPage {
        chrome: Chrome::new("設定", &csrf, Some(&admin.auth)),
        form: settings_values(&admin.municipality.settings),
        saved,
    };
    Ok(render(page)?.into_response())
}

fn number(
    echo: &mut FormState,
    field: &'static str,
    input: &str,
    range: std::ops::RangeInclusive<i64>,
    message: &str,
) -> Option<i64> {
    match digits_only(input).filter(|d| !d.is_empty()).and_then(|d| d.parse::<i64>().ok()) {
        Some(n) if range.contains(&n) => Some(n),
        _ => {
            echo.error(FieldError::new(field, message));
            None
        }
    }
}

async fn save_settings(
    State(state): State<AppState>,
    meta: RequestMeta,
    csrf: CsrfToken,
    admin: Admin,
    form: Form,
) -> Result<Response, AppError> {
    let mut echo = form.echo();
    let min_length =
        number(&mut echo, "min_length", form.get("min_length"), 8..=64, "8〜64の数字で入力してください。");
    let max_age = match form.get("max_age_days").trim() {
        "" => Some(None),
        v => number(
            &mut echo,
            "max_age_days",
            v,
            1..=3650,
            "1〜3650の数字で入力してください（無期限は空欄）。",
        )
        .map(Some),
    };
    let idle = number(
        &mut echo,
        "idle_minutes",
        form.get("idle_minutes"),
        5..=240,
        "5〜240（分）で入力してください。",
    );
    let absolute = number(
        &mut echo,
        "absolute_hours",
        form.get("absolute_hours"),
        1..=24,
        "1〜24（時間）で入力してください。",
    );
    let policy = match (min_length, max_age) {
        (Some(min), Some(age)) => echo.take(PasswordPolicy::new(min as u32, age.map(|a| a as u32))),
        _ => None,
    };
    if let (Some(idle), Some(absolute)) = (idle, absolute)
        && idle * 60 > absolute * 3600
    {
        echo.error(FieldError::new(
            "idle_minutes",
            "無操作タイムアウトはログインの有効時間より短くしてください。",
        ));
    }
    let (Some(policy), Some(idle), Some(absolute), false) = (policy, idle, absolute, echo.has_errors())
    else {
        let page =
            SettingsPage {
                chrome: Chrome::new("設定", &csrf, Some(&admin.auth)), form: echo, saved: false
            };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(page)?).into_response());
    };
    let settings = MunicipalitySettings {
        password_policy: policy,
        idle_timeout_secs: idle * 60,
        absolute_timeout_secs: absolute * 3600,
        care_manager_may_invite: form.checked("care_manager_may_invite"),
    };
    let now = state.clock.now_ms();
    let mut audit =
        admin.auth.audit(&meta, now, AuditAction::SettingsUpdate, "municipality", &admin.municipality.id);
    audit.detail = format!(
        "min_length={} max_age_days={} idle_secs={} absolute_secs={} care_manager_may_invite={}",
        policy.min_length,
        policy.max_age_days.map(|d| d.to_string()).unwrap_or_else(|| "none".into()),
        settings.idle_timeout_secs,
        settings.absolute_timeout_secs,
        settings.care_manager_may_invite
    );
    state.store.update_municipality_settings(&admin.municipality.id, &settings, &audit).await?;
    Ok(Redirect::to("/admin/settings?saved=1").into_response())
}
