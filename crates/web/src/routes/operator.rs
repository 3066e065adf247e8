//! The operator's screens (A1, H5): municipalities and their first admins.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use renraku_domain::FieldError;
use renraku_domain::audit_action::AuditAction;
use renraku_domain::directory::{LoginId, MunicipalityCode, Name, Profession, Role};
use renraku_domain::ids::MunicipalityId;
use renraku_store::{
    Account, Municipality, MunicipalitySettings, NewAccount, NewMunicipality, Profile, StoreError,
};

use crate::AppState;
use crate::auth::{Operator, RequestMeta};
use crate::csrf::CsrfToken;
use crate::directory::parse_person;
use crate::error::{AppError, found};
use crate::forms::{Form, FormState};
use crate::path_ids::IdPath;
use crate::services::accounts::create_with_link;
use crate::views::{Chrome, render};

/// The routes of this feature, merged into the application by [`super::router`].
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/operator", get(home))
        .route("/operator/municipalities/new", get(new_form).post(create))
        .route("/operator/municipalities/{id}", get(show))
        .route("/operator/municipalities/{id}/admins", post(create_admin))
        .route("/operator/municipalities/{id}/name", post(rename))
}

#[derive(Template)]
#[template(path = "operator/home.html")]
struct HomePage {
    chrome: Chrome,
    municipalities: Vec<Municipality>,
}

pub async fn home(
    State(state): State<AppState>,
    csrf: CsrfToken,
    Operator(auth): Operator,
) -> Result<Response, AppError> {
    let municipalities = state.store.municipalities().await?;
    Ok(render(HomePage { chrome: Chrome::new("運用管理", &csrf, Some(&auth)), municipalities })?
        .into_response())
}

#[derive(Template)]
#[template(path = "operator/new_municipality.html")]
struct NewMunicipalityPage {
    chrome: Chrome,
    form: FormState,
}

pub async fn new_form(csrf: CsrfToken, Operator(auth): Operator) -> Result<Response, AppError> {
    let chrome = Chrome::new("市区町村の登録", &csrf, Some(&auth));
    Ok(render(NewMunicipalityPage { chrome, form: FormState::default() })?.into_response())
}

pub async fn create(
    State(state): State<AppState>,
    meta: RequestMeta,
    csrf: CsrfToken,
    Operator(auth): Operator,
    form: Form,
) -> Result<Response, AppError> {
    let mut echo = form.echo();
    let code = echo.take(MunicipalityCode::parse("code", form.get("code")));
    let name = echo.take(Name::parse("name", form.get("name")));
    let again = |echo: FormState, status: StatusCode| -> Result<Response, AppError> {
        let chrome = Chrome::new("市区町村の登録", &csrf, Some(&auth));
        Ok((status, render(NewMunicipalityPage { chrome, form: echo })?).into_response())
    };
    let (Some(code), Some(name)) = (code, name) else { return again(echo, StatusCode::UNPROCESSABLE_ENTITY) };
    let now = state.clock.now_ms();
    let new = NewMunicipality { code, name, settings: MunicipalitySettings::default() };
    let audit = auth.audit(&meta, now, AuditAction::MunicipalityCreate, "municipality", "");
    match state.store.create_municipality(&new, &audit).await {
        Ok(m) => Ok(Redirect::to(&format!("/operator/municipalities/{}", m.id)).into_response()),
        Err(StoreError::Taken(_)) => {
            echo.error(FieldError::new("code", "この地方公共団体コードは既に登録されています。"));
            again(echo, StatusCode::CONFLICT)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "operator/municipality.html")]
struct MunicipalityPage {
    chrome: Chrome,
    municipality: Municipality,
    admins: Vec<Account>,
    form: FormState,
    /// The name-correction form, sent back with its value and message.
    rename: FormState,
}

async fn municipality_page(
    state: &AppState,
    csrf: &CsrfToken,
    auth: &crate::auth::Auth,
    id: &MunicipalityId,
    form: FormState,
) -> Result<MunicipalityPage, AppError> {
    let municipality = found(state.store.municipality(id).await, "市区町村")?;
    let admins =
        state.store.accounts(id, None).await?.into_iter().filter(|a| a.role == Role::Admin).collect();
    let chrome = Chrome::new(format!("{}（{}）", municipality.name, municipality.code), csrf, Some(auth));
    let rename = FormState::with([("municipality_name", municipality.name.to_string())]);
    Ok(MunicipalityPage { chrome, municipality, admins, form, rename })
}

pub async fn show(
    State(state): State<AppState>,
    csrf: CsrfToken,
    Operator(auth): Operator,
    IdPath(id): IdPath<MunicipalityId>,
) -> Result<Response, AppError> {
    Ok(render(municipality_page(&state, &csrf, &auth, &id, FormState::default()).await?)?.into_response())
}

/// Corrects the municipality's name (a typo at registration, a merger's new name); audited.
pub async fn rename(
    State(state): State<AppState>,
    meta: RequestMeta,
    csrf: CsrfToken,
    Operator(auth): Operator,
    IdPath(id): IdPath<MunicipalityId>,
    form: Form,
) -> Result<Response, AppError> {
    let mut echo = form.echo();
    let Some(name) = echo.take(Name::parse("municipality_name", form.get("municipality_name"))) else {
        let mut page = municipality_page(&state, &csrf, &auth, &id, FormState::default()).await?;
        page.rename = echo;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(page)?).into_response());
    };
    crate::services::municipalities::rename(&state, &meta, &auth, &id, &name).await?;
    Ok(Redirect::to(&format!("/operator/municipalities/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "link_issued.html")]
pub struct LinkIssuedPage {
    pub chrome: Chrome,
    pub name: String,
    pub login_id: String,
    pub link: String,
    pub back: String,
}

pub async fn create_admin(
    State(state): State<AppState>,
    meta: RequestMeta,
    csrf: CsrfToken,
    Operator(auth): Operator,
    IdPath(id): IdPath<MunicipalityId>,
    form: Form,
) -> Result<Response, AppError> {
    let mut echo = form.echo();
    let login_id = echo.take(LoginId::parse("login_id", form.get("login_id")));
    let person = parse_person(&form, &mut echo);
    let municipality = state.store.municipality(&id).await.map_err(|e| match e {
        StoreError::NotFound => AppError::NotFound("市区町村"),
        e => e.into(),
    })?;
    let (Some(login_id), Some((name, kana, email, phone))) = (login_id, person) else {
        let page = municipality_page(&state, &csrf, &auth, &id, echo).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(page)?).into_response());
    };
    let new = NewAccount {
        login_id,
        municipality_id: Some(municipality.id.clone()),
        facility_id: None,
        role: Role::Admin,
        profile: Profile {
            name,
            kana,
            profession: Profession::parse("occupation", "occupation_other", "city_staff", "")
                .map_err(|e| AppError::Internal(anyhow::anyhow!("{}", e.message)))?,
            email,
            phone,
        },
        is_manager: false,
        careplan: false,
    };
    let now = state.clock.now_ms();
    // The new admin belongs to the municipality, so the act is recorded in its chain too.
    let mut audit = auth.audit(&meta, now, AuditAction::AdminCreate, "account", "");
    audit.municipality_id = Some(municipality.id.clone());
    match create_with_link(&state, &new, &audit).await {
        Ok((account, link)) => {
            let page = LinkIssuedPage {
                chrome: Chrome::new("有効化リンクの発行", &csrf, Some(&auth)),
                name: account.profile.name.to_string(),
                login_id: account.login_id.to_string(),
                link,
                back: format!("/operator/municipalities/{}", municipality.id),
            };
            Ok((StatusCode::CREATED, render(page)?).into_response())
        }
        Err(StoreError::Taken(_)) => {
            echo.error(FieldError::new("login_id", "このログインIDは既に使われています。"));
            let page = municipality_page(&state, &csrf, &auth, &id, echo).await?;
            Ok((StatusCode::CONFLICT, render(page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
