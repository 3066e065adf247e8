//! Users (システム利用者, A3): created under a facility with an activation link, edited,
//! transferred, suspended or deleted — never leaving a facility without an active
//! システム利用管理担当者 — and helped when they lose their second factor or lock themselves out.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use renraku_domain::FieldError;
use renraku_domain::audit_action::AuditAction;
use renraku_domain::directory::{AccountStatus, LoginId, Occupation, Role};
use renraku_domain::ids::{AccountId, FacilityId};
use renraku_store::{Account, AccountUpdate, Facility, NewAccount, StoreError};

use super::facilities::find;
use crate::AppState;
use crate::auth::{Admin, RequestMeta};
use crate::csrf::CsrfToken;
use crate::directory::parse_member as parse;
use crate::error::AppError;
use crate::forms::{Form, FormState};
use crate::path_ids::IdPath;
use crate::routes::operator::LinkIssuedPage;
use crate::services::accounts::{create_with_link, reissue_link as reissue};
use crate::views::{Choice, Chrome, choices, jst, render};

const LAST_MANAGER: &str = "この事業所のシステム利用管理担当者がいなくなるため、変更できません。先に別の利用者を利用管理担当者に指定してください。";

async fn find_user(state: &AppState, admin: &Admin, id: &AccountId) -> Result<Account, AppError> {
    match state.store.account(id).await {
        Ok(a) if a.municipality_id.as_ref() == Some(&admin.municipality.id) && a.role == Role::Member => {
            Ok(a)
        }
        Ok(_) | Err(StoreError::NotFound) => Err(AppError::NotFound("利用者")),
        Err(e) => Err(e.into()),
    }
}

struct UserRow {
    account: Account,
    facility: String,
    /// 「二段階認証ロック中（…まで）」 and the like, one per lock in force.
    locks: Vec<String>,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct ListPage {
    chrome: Chrome,
    users: Vec<UserRow>,
}

pub async fn list(
    State(state): State<AppState>,
    csrf: CsrfToken,
    admin: Admin,
) -> Result<Response, AppError> {
    let names: HashMap<FacilityId, String> = state
        .store
        .facilities(&admin.municipality.id)
        .await?
        .into_iter()
        .map(|f| (f.id, f.info.name.to_string()))
        .collect();
    let mut locks: HashMap<AccountId, Vec<String>> = HashMap::new();
    for lock in state.store.sign_in_locks(&admin.municipality.id, state.clock.now_ms()).await? {
        let what = if lock.second_factor { "二段階認証ロック中" } else { "ログイン制限中" };
        locks
            .entry(lock.account_id)
            .or_default()
            .push(format!("{what}（{}まで）", jst(lock.locked_until_ms)));
    }
    let users = state
        .store
        .accounts(&admin.municipality.id, None)
        .await?
        .into_iter()
        .filter(|a| a.role == Role::Member)
        .map(|a| UserRow {
            facility: a.facility_id.as_ref().and_then(|f| names.get(f)).cloned().unwrap_or_default(),
            locks: locks.remove(&a.id).unwrap_or_default(),
            account: a,
        })
        .collect();
    let chrome = Chrome::new("利用者一覧", &csrf, Some(&admin.auth));
    Ok(render(ListPage { chrome, users })?.into_response())
}

#[derive(Template)]
#[template(path = "admin/user_form.html")]
struct FormPage {
    chrome: Chrome,
    form: FormState,
    action: String,
    new: bool,
    occupations: Vec<Choice>,
    facilities: Vec<Facility>,
    message: &'static str,
}

pub async fn new_form(
    State(state): State<AppState>,
    csrf: CsrfToken,
    admin: Admin,
    IdPath(facility_id): IdPath<FacilityId>,
) -> Result<Response, AppError> {
    let facility = find(&state, &admin, &facility_id).await?;
    Ok(render(new_page(&csrf, &admin, &facility, FormState::default()))?.into_response())
}

/// The form for a new user of `facility`, with what was typed.
fn new_page(csrf: &CsrfToken, admin: &Admin, facility: &Facility, form: FormState) -> FormPage {
    FormPage {
        chrome: Chrome::new(format!("利用者の登録（{}）", facility.info.name), csrf, Some(&admin.auth)),
        form,
        action: format!("/admin/facilities/{}/users/new", facility.id),
        new: true,
        occupations: choices::<Occupation>(),
        facilities: vec![],
        message: "",
    }
}

pub async fn create(
    State(state): State<AppState>,
    meta: RequestMeta,
    csrf: CsrfToken,
    admin: Admin,
    IdPath(facility_id): IdPath<FacilityId>,
    form: Form,
) -> Result<Response, AppError> {
    let facility = find(&state, &admin, &facility_id).await?;
    let mut echo = form.echo();
    let login_id = echo.take(LoginId::parse("login_id", form.get("login_id")));
    let parsed = parse(&form, &mut echo);
    let again = |echo: FormState, status: StatusCode| -> Result<Response, AppError> {
        Ok((status, render(new_page(&csrf, &admin, &facility, echo))?).into_response())
    };
    let (Some(login_id), Some(parsed)) = (login_id, parsed) else {
        return again(echo, StatusCode::UNPROCESSABLE_ENTITY);
    };
    let new = NewAccount {
        login_id,
        municipality_id: Some(admin.municipality.id.clone()),
        facility_id: Some(facility.id.clone()),
        role: Role::Member,
        profile: parsed.profile,
        is_manager: parsed.is_manager,
        careplan: parsed.careplan,
    };
    let mut audit = admin.auth.audit(&meta, state.clock.now_ms(), AuditAction::UserCreate, "account", "");
    audit.detail = format!("facility={} manager={} careplan={}", facility.id, new.is_manager, new.careplan);
    match create_with_link(&state, &new, &audit).await {
        Ok((account, link)) => {
            let page = LinkIssuedPage {
                chrome: Chrome::new("有効化リンクの発行", &csrf, Some(&admin.auth)),
                name: account.profile.name.to_string(),
                login_id: account.login_id.to_string(),
                link,
                back: format!("/admin/facilities/{}", facility.id),
            };
            Ok((StatusCode::CREATED, render(page)?).into_response())
        }
        Err(StoreError::Taken(_)) => {
            echo.error(FieldError::new("login_id", "このログインIDは既に使われています。"));
            again(echo, StatusCode::CONFLICT)
        }
        Err(e) => Err(e.into()),
    }
}

fn values(a: &Account) -> FormState {
    let p = &a.profile;
    let mut values = vec![
        ("name", p.name.to_string()),
        ("kana", p.kana.to_string()),
        ("occupation", p.profession.occupation.code().to_string()),
        ("occupation_other", p.profession.other.clone().unwrap_or_default()),
        ("email", p.email.as_ref().map(ToString::to_string).unwrap_or_default()),
        ("phone", p.phone.as_ref().map(ToString::to_string).unwrap_or_default()),
        ("facility_id", a.facility_id.as_ref().map(ToString::to_string).unwrap_or_default()),
    ];
    if a.is_manager {
        values.push(("is_manager", "on".into()));
    }
    if a.careplan {
        values.push(("careplan", "on".into()));
    }
    FormState::with(values)
}

async fn edit_page(
    state: &AppState,
    csrf: &CsrfToken,
    admin: &Admin,
    user: &Account,
    form: FormState,
    message: &'static str,
) -> Result<FormPage, AppError> {
    Ok(FormPage {
        chrome: Chrome::new(format!("利用者情報の変更（{}）", user.login_id), csrf, Some(&admin.auth)),
        form,
        action: format!("/admin/users/{}/edit", user.id),
        new: false,
        occupations: choices::<Occupation>(),
        facilities: state.store.facilities(&admin.municipality.id).await?,
        message,
    })
}

pub async fn edit_form(
    State(state): State<AppState>,
    csrf: CsrfToken,
    admin: Admin,
    IdPath(id): IdPath<AccountId>,
) -> Result<Response, AppError> {
    let user = find_user(&state, &admin, &id).await?;
    let page = edit_page(&state, &csrf, &admin, &user, values(&user), "").await?;
    Ok(render(page)?.into_response())
}

pub async fn update(
    State(state): State<AppState>,
    meta: RequestMeta,
    csrf: CsrfToken,
    admin: Admin,
    IdPath(id): IdPath<AccountId>,
    form: Form,
) -> Result<Response, AppError> {
    let user = find_user(&state, &admin, &id).await?;
    let mut echo = form.echo();
    let parsed = parse(&form, &mut echo);
    let facility_id = match form.get("facility_id") {
        "" => None,
        f => {
            let f = FacilityId::parse(f).ok_or(AppError::NotFound("事業所"))?;
            Some(find(&state, &admin, &f).await?.id)
        }
    };
    let Some(parsed) = parsed else {
        let page = edit_page(&state, &csrf, &admin, &user, echo, "").await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(page)?).into_response());
    };
    let update = AccountUpdate {
        facility_id: facility_id.or(user.facility_id.clone()),
        profile: parsed.profile,
        is_manager: parsed.is_manager,
        careplan: parsed.careplan,
    };
    let mut audit =
        admin.auth.audit(&meta, state.clock.now_ms(), AuditAction::UserUpdate, "account", &user.id);
    audit.detail = format!(
        "facility={} manager={} careplan={}",
        update.facility_id.as_deref().unwrap_or(""),
        update.is_manager,
        update.careplan
    );
    match state.store.update_account(&admin.municipality.id, &user.id, &update, &audit).await {
        Ok(()) => Ok(Redirect::to(&format!(
            "/admin/facilities/{}",
            update.facility_id.as_deref().unwrap_or_default()
        ))
        .into_response()),
        Err(StoreError::LastManager) => {
            echo.error(FieldError::new("is_manager", LAST_MANAGER));
            let page = edit_page(&state, &csrf, &admin, &user, echo, LAST_MANAGER).await?;
            Ok((StatusCode::CONFLICT, render(page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "admin/refused.html")]
struct RefusedPage {
    chrome: Chrome,
    message: &'static str,
    back: String,
}

pub async fn set_status(
    State(state): State<AppState>,
    meta: RequestMeta,
    csrf: CsrfToken,
    admin: Admin,
    IdPath(id): IdPath<AccountId>,
    form: Form,
) -> Result<Response, AppError> {
    let user = find_user(&state, &admin, &id).await?;
    let (status, action) = match form.get("status") {
        "suspended" => (AccountStatus::Suspended, AuditAction::UserSuspend),
        "deleted" => (AccountStatus::Deleted, AuditAction::UserDelete),
        "active" if user.status != AccountStatus::Pending => {
            (AccountStatus::Active, AuditAction::UserReactivate)
        }
        _ => return Err(AppError::BadRequest("変更後の状態を選択してください。".into())),
    };
    let audit = admin.auth.audit(&meta, state.clock.now_ms(), action, "account", &user.id);
    let back = format!("/admin/facilities/{}", user.facility_id.as_deref().unwrap_or_default());
    match state.store.set_account_status(&admin.municipality.id, &user.id, status, &audit).await {
        Ok(()) => Ok(Redirect::to(&back).into_response()),
        Err(StoreError::LastManager) => {
            let page = RefusedPage {
                chrome: Chrome::new("変更できません", &csrf, Some(&admin.auth)),
                message: LAST_MANAGER,
                back,
            };
            Ok((StatusCode::CONFLICT, render(page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "admin/done.html")]
struct DonePage {
    chrome: Chrome,
    message: String,
    back: String,
}

pub async fn reset_second_factor(
    State(state): State<AppState>,
    meta: RequestMeta,
    csrf: CsrfToken,
    admin: Admin,
    IdPath(id): IdPath<AccountId>,
) -> Result<Response, AppError> {
    let user = find_user(&state, &admin, &id).await?;
    let audit = admin.auth.audit(
        &meta,
        state.clock.now_ms(),
        AuditAction::UserResetSecondFactor,
        "account",
        &user.id,
    );
    state.store.set_second_factor(&user.identity_id, None, &[], &audit).await?;
    let page = DonePage {
        chrome: Chrome::new("二段階認証のリセット", &csrf, Some(&admin.auth)),
        message: format!(
            "{}（{}）さんの二段階認証をリセットし、すべての端末からログアウトさせました。次回のログイン時に認証アプリを設定し直します。",
            user.profile.name, user.login_id
        ),
        back: format!("/admin/facilities/{}", user.facility_id.as_deref().unwrap_or_default()),
    };
    Ok(render(page)?.into_response())
}

pub async fn reissue_link(
    State(state): State<AppState>,
    meta: RequestMeta,
    csrf: CsrfToken,
    admin: Admin,
    IdPath(id): IdPath<AccountId>,
) -> Result<Response, AppError> {
    let user = find_user(&state, &admin, &id).await?;
    if user.status != AccountStatus::Pending {
        return Err(AppError::BadRequest("この利用者は既に有効化されています。".into()));
    }
    let audit = admin.auth.audit(
        &meta,
        state.clock.now_ms(),
        AuditAction::UserReissueActivation,
        "account",
        &user.id,
    );
    let link = reissue(&state, &user, &audit).await?;
    let page = LinkIssuedPage {
        chrome: Chrome::new("有効化リンクの再発行", &csrf, Some(&admin.auth)),
        name: user.profile.name.to_string(),
        login_id: user.login_id.to_string(),
        link,
        back: format!("/admin/facilities/{}", user.facility_id.as_deref().unwrap_or_default()),
    };
    Ok(render(page)?.into_response())
}

/// Lifts a user's sign-in locks (too many wrong passwords or codes) before they run out, e.g.
/// when the person calls and the admin has made sure it is them.
pub async fn unlock(
    State(state): State<AppState>,
    meta: RequestMeta,
    csrf: CsrfToken,
    admin: Admin,
    IdPath(id): IdPath<AccountId>,
) -> Result<Response, AppError> {
    let user = find_user(&state, &admin, &id).await?;
    let audit =
        admin.auth.audit(&meta, state.clock.now_ms(), AuditAction::AccountUnlock, "account", &user.id);
    state.store.release_sign_in_locks(&user.identity_id, &audit).await?;
    let page = DonePage {
        chrome: Chrome::new("ロックの解除", &csrf, Some(&admin.auth)),
        message: format!(
            "{}（{}）さんのログインと二段階認証のロックを解除しました。すぐにログインできます。",
            user.profile.name, user.login_id
        ),
        back: "/admin/users".into(),
    };
    Ok(render(page)?.into_response())
}
