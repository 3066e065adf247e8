//! Facilities (医療機関・介護事業所, A2) with the fields of 様式1.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use renraku_domain::audit_action::AuditAction;
use renraku_domain::ids::FacilityId;
use renraku_store::{Account, Facility, FacilityInfo, StoreError};

use renraku_domain::directory::ServiceCategory;

use crate::AppState;
use crate::auth::{Admin, RequestMeta};
use crate::csrf::CsrfToken;
use crate::directory::{CARE_PROVIDER_NO_HELD, parse_facility};
use crate::error::{AppError, found};
use crate::forms::{Form, FormState};
use crate::path_ids::IdPath;
use crate::views::{Choice, Chrome, choices, render};

/// Looks a facility up in the admin's own municipality.
pub async fn find(state: &AppState, admin: &Admin, id: &FacilityId) -> Result<Facility, AppError> {
    found(state.store.facility(&admin.municipality.id, id).await, "事業所")
}

#[derive(Template)]
#[template(path = "admin/facilities.html")]
struct ListPage {
    chrome: Chrome,
    facilities: Vec<Facility>,
}

pub async fn list(
    State(state): State<AppState>,
    csrf: CsrfToken,
    admin: Admin,
) -> Result<Response, AppError> {
    let facilities = state.store.facilities(&admin.municipality.id).await?;
    Ok(render(ListPage { chrome: Chrome::new("事業所一覧", &csrf, Some(&admin.auth)), facilities })?
        .into_response())
}

#[derive(Template)]
#[template(path = "admin/facility_form.html")]
struct FormPage {
    chrome: Chrome,
    form: FormState,
    action: String,
    categories: Vec<Choice>,
}

fn form_page(csrf: &CsrfToken, admin: &Admin, title: &str, action: String, form: FormState) -> FormPage {
    FormPage {
        chrome: Chrome::new(title, csrf, Some(&admin.auth)),
        form,
        action,
        categories: choices::<ServiceCategory>(),
    }
}

fn values(f: &FacilityInfo) -> FormState {
    let c = &f.corporation;
    FormState::with([
        ("corp_name", c.name.to_string()),
        ("corp_kana", c.kana.to_string()),
        ("corp_representative", c.representative.to_string()),
        ("corp_postal_code", c.postal_code.to_string()),
        ("corp_address", c.address.to_string()),
        ("corp_phone", c.phone.to_string()),
        ("name", f.name.to_string()),
        ("kana", f.kana.to_string()),
        ("postal_code", f.postal_code.to_string()),
        ("address", f.address.to_string()),
        ("phone", f.phone.to_string()),
        ("email", f.email.as_ref().map(ToString::to_string).unwrap_or_default()),
        ("service_category", f.service_category.code().to_string()),
        (
            "medical_institution_no",
            f.medical_institution_no.as_ref().map(ToString::to_string).unwrap_or_default(),
        ),
        ("care_provider_no", f.care_provider_no.as_ref().map(ToString::to_string).unwrap_or_default()),
        ("administrator", f.administrator.to_string()),
    ])
}

pub async fn new_form(csrf: CsrfToken, admin: Admin) -> Result<Response, AppError> {
    let page = form_page(&csrf, &admin, "事業所の登録", "/admin/facilities/new".into(), FormState::default());
    Ok(render(page)?.into_response())
}

pub async fn create(
    State(state): State<AppState>,
    meta: RequestMeta,
    csrf: CsrfToken,
    admin: Admin,
    form: Form,
) -> Result<Response, AppError> {
    let info = match parse_facility(&form) {
        Ok(info) => info,
        Err(echo) => {
            let page = form_page(&csrf, &admin, "事業所の登録", "/admin/facilities/new".into(), echo);
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(page)?).into_response());
        }
    };
    let audit = admin.auth.audit(&meta, state.clock.now_ms(), AuditAction::FacilityCreate, "facility", "");
    match state.store.create_facility(&admin.municipality.id, &info, &audit).await {
        Ok(facility) => Ok(Redirect::to(&format!("/admin/facilities/{}", facility.id)).into_response()),
        Err(StoreError::Taken("care_provider_no")) => {
            let page =
                form_page(&csrf, &admin, "事業所の登録", "/admin/facilities/new".into(), number_held(&form));
            Ok((StatusCode::CONFLICT, render(page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "admin/facility.html")]
struct ShowPage {
    chrome: Chrome,
    facility: Facility,
    users: Vec<Account>,
}

pub async fn show(
    State(state): State<AppState>,
    csrf: CsrfToken,
    admin: Admin,
    IdPath(id): IdPath<FacilityId>,
) -> Result<Response, AppError> {
    let facility = find(&state, &admin, &id).await?;
    let users = state.store.accounts(&admin.municipality.id, Some(&facility.id)).await?;
    let chrome = Chrome::new(facility.info.name.to_string(), &csrf, Some(&admin.auth));
    Ok(render(ShowPage { chrome, facility, users })?.into_response())
}

pub async fn edit_form(
    State(state): State<AppState>,
    csrf: CsrfToken,
    admin: Admin,
    IdPath(id): IdPath<FacilityId>,
) -> Result<Response, AppError> {
    let facility = find(&state, &admin, &id).await?;
    let page = form_page(
        &csrf,
        &admin,
        "事業所情報の変更",
        format!("/admin/facilities/{id}/edit"),
        values(&facility.info),
    );
    Ok(render(page)?.into_response())
}

pub async fn update(
    State(state): State<AppState>,
    meta: RequestMeta,
    csrf: CsrfToken,
    admin: Admin,
    IdPath(id): IdPath<FacilityId>,
    form: Form,
) -> Result<Response, AppError> {
    let facility = find(&state, &admin, &id).await?;
    let info = match parse_facility(&form) {
        Ok(info) => info,
        Err(echo) => {
            let page =
                form_page(&csrf, &admin, "事業所情報の変更", format!("/admin/facilities/{id}/edit"), echo);
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(page)?).into_response());
        }
    };
    let audit =
        admin.auth.audit(&meta, state.clock.now_ms(), AuditAction::FacilityUpdate, "facility", &facility.id);
    match state.store.update_facility(&admin.municipality.id, &facility.id, &info, &audit).await {
        Ok(()) => Ok(Redirect::to(&format!("/admin/facilities/{}", facility.id)).into_response()),
        Err(StoreError::Taken("care_provider_no")) => {
            let action = format!("/admin/facilities/{id}/edit");
            let page = form_page(&csrf, &admin, "事業所情報の変更", action, number_held(&form));
            Ok((StatusCode::CONFLICT, render(page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// The form again, with what was typed, when another facility on the server (in this
/// municipality or another) already holds the 介護事業所番号: the care-plan exchange routes by
/// it, so it names one facility only.
fn number_held(form: &Form) -> FormState {
    let mut echo = form.echo();
    echo.error(renraku_domain::FieldError::new("care_provider_no", CARE_PROVIDER_NO_HELD));
    echo
}
