//! Facilities (医療機関・介護事業所, A2) with the fields of 様式1.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use renraku_domain::FieldError;
use renraku_domain::directory::{
    Email, FacilityNumber, KanaName, Name, PhoneNumber, PostalCode, ServiceCategory,
};
use renraku_store::{Account, Corporation, Facility, FacilityInfo, StoreError};

use crate::AppState;
use crate::auth::{Admin, RequestMeta};
use crate::csrf::CsrfToken;
use crate::error::AppError;
use crate::forms::{Form, FormState};
use crate::views::{Choice, Chrome, render, service_categories};

/// Looks a facility up in the admin's own municipality.
pub async fn find(state: &AppState, admin: &Admin, id: &str) -> Result<Facility, AppError> {
    match state.store.facility(&admin.municipality.id, id).await {
        Err(StoreError::NotFound) => Err(AppError::NotFound("事業所")),
        other => Ok(other?),
    }
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
        categories: service_categories(),
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

/// Parses 様式1's facility part; every error goes next to its field.
fn parse(form: &Form) -> Result<FacilityInfo, FormState> {
    let mut echo = form.echo();
    let optional_number = |echo: &mut FormState, field: &'static str| match form.get(field).trim() {
        "" => Some(None),
        v => echo.take(FacilityNumber::parse(field, v)).map(Some),
    };
    let corporation = (
        echo.take(Name::parse("corp_name", form.get("corp_name"))),
        echo.take(KanaName::parse("corp_kana", form.get("corp_kana"))),
        echo.take(Name::parse("corp_representative", form.get("corp_representative"))),
        echo.take(PostalCode::parse("corp_postal_code", form.get("corp_postal_code"))),
        echo.take(Name::parse("corp_address", form.get("corp_address"))),
        echo.take(PhoneNumber::parse("corp_phone", form.get("corp_phone"))),
    );
    let name = echo.take(Name::parse("name", form.get("name")));
    let kana = echo.take(KanaName::parse("kana", form.get("kana")));
    let postal_code = echo.take(PostalCode::parse("postal_code", form.get("postal_code")));
    let address = echo.take(Name::parse("address", form.get("address")));
    let phone = echo.take(PhoneNumber::parse("phone", form.get("phone")));
    let email = match form.get("email").trim() {
        "" => Some(None),
        v => echo.take(Email::parse("email", v)).map(Some),
    };
    let category = echo.take(ServiceCategory::parse("service_category", form.get("service_category")));
    let medical = optional_number(&mut echo, "medical_institution_no");
    let care = optional_number(&mut echo, "care_provider_no");
    let administrator = echo.take(Name::parse("administrator", form.get("administrator")));
    // Medical institutions and care providers all have a number; only the municipality's own
    // offices and "other" may have none.
    if let (Some(c), Some(None), Some(None)) = (category, &medical, &care)
        && !matches!(
            c,
            ServiceCategory::Government | ServiceCategory::Other | ServiceCategory::CommunityCenter
        )
    {
        echo.error(FieldError::new(
            "medical_institution_no",
            "医療機関番号または介護事業所番号のどちらかを入力してください。",
        ));
    }
    match (
        corporation,
        name,
        kana,
        postal_code,
        address,
        phone,
        email,
        category,
        medical,
        care,
        administrator,
    ) {
        (
            (Some(cn), Some(ck), Some(cr), Some(cp), Some(ca), Some(ct)),
            Some(name),
            Some(kana),
            Some(postal_code),
            Some(address),
            Some(phone),
            Some(email),
            Some(service_category),
            Some(medical_institution_no),
            Some(care_provider_no),
            Some(administrator),
        ) if !echo.has_errors() => Ok(FacilityInfo {
            corporation: Corporation {
                name: cn,
                kana: ck,
                representative: cr,
                postal_code: cp,
                address: ca,
                phone: ct,
            },
            name,
            kana,
            postal_code,
            address,
            phone,
            email,
            service_category,
            medical_institution_no,
            care_provider_no,
            administrator,
        }),
        _ => Err(echo),
    }
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
    let info = match parse(&form) {
        Ok(info) => info,
        Err(echo) => {
            let page = form_page(&csrf, &admin, "事業所の登録", "/admin/facilities/new".into(), echo);
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(page)?).into_response());
        }
    };
    let audit = admin.auth.audit(&meta, state.clock.now_ms(), "facility.create", "facility", "");
    let facility = state.store.create_facility(&admin.municipality.id, &info, &audit).await?;
    Ok(Redirect::to(&format!("/admin/facilities/{}", facility.id)).into_response())
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
    Path(id): Path<String>,
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
    Path(id): Path<String>,
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
    Path(id): Path<String>,
    form: Form,
) -> Result<Response, AppError> {
    let facility = find(&state, &admin, &id).await?;
    let info = match parse(&form) {
        Ok(info) => info,
        Err(echo) => {
            let page =
                form_page(&csrf, &admin, "事業所情報の変更", format!("/admin/facilities/{id}/edit"), echo);
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(page)?).into_response());
        }
    };
    let audit = admin.auth.audit(&meta, state.clock.now_ms(), "facility.update", "facility", &facility.id);
    state.store.update_facility(&admin.municipality.id, &facility.id, &info, &audit).await?;
    Ok(Redirect::to(&format!("/admin/facilities/{}", facility.id)).into_response())
}
