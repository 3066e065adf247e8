//! A municipality's rooms (D1–D3, G2): opening a room with the patient and the consent
//! (様式4 and 同意書, entered directly until the online application arrives), inviting and
//! removing members, withdrawing consent, and reading a room for oversight after giving a reason.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use renraku_domain::FieldError;
use renraku_domain::dates::{BirthDate, parse_past_date};
use renraku_domain::directory::{InsuredNo, InsurerNo, KanaName, Name, PhoneNumber};
use renraku_domain::ids::{RequestId, RoomId};
use renraku_domain::rooms::{CareLevel, Sex};
use renraku_domain::text::as_typed;
use renraku_store::{Account, Consent, ConsentInfo, Member, Patient, PatientInfo, Room, RoomRequest};

use crate::AppState;
use crate::auth::{Admin, RequestMeta};
use crate::csrf::CsrfToken;
use crate::error::AppError;
use crate::forms::{Form, FormState};
use crate::path_ids::{IdPath, MemberAccount};
use crate::routes::rooms::room_page;
use crate::services::rooms::{self, RoomRecord};
use crate::views::{Choice, Chrome, choices, jst, render};

#[derive(Template)]
#[template(path = "admin/rooms.html")]
struct ListPage {
    chrome: Chrome,
    rooms: Vec<Room>,
}

/// The municipality's rooms, named after their patients: each view is audited.
pub async fn list(
    State(state): State<AppState>,
    meta: RequestMeta,
    csrf: CsrfToken,
    admin: Admin,
) -> Result<Response, AppError> {
    let rooms = rooms::list_rooms(&state, &meta, &admin).await?;
    Ok(render(ListPage { chrome: Chrome::new("部屋一覧", &csrf, Some(&admin.auth)), rooms })?.into_response())
}

#[derive(Template)]
#[template(path = "admin/room_new.html")]
struct NewPage {
    chrome: Chrome,
    form: FormState,
    sexes: Vec<Choice>,
    care_levels: Vec<Choice>,
}

fn new_page(csrf: &CsrfToken, admin: &Admin, form: FormState) -> NewPage {
    NewPage {
        chrome: Chrome::new("部屋を開く（利用対象者と同意書の登録）", csrf, Some(&admin.auth)),
        form,
        sexes: choices::<Sex>(),
        care_levels: choices::<CareLevel>(),
    }
}

pub async fn new_form(csrf: CsrfToken, admin: Admin) -> Result<Response, AppError> {
    Ok(render(new_page(&csrf, &admin, FormState::default()))?.into_response())
}

fn parse(form: &Form, today: time::Date) -> Result<(PatientInfo, ConsentInfo), FormState> {
    let mut echo = form.echo();
    let name = echo.take(Name::parse("name", form.get("name")));
    let kana = echo.take(KanaName::parse("kana", form.get("kana")));
    let birth_date = echo.take(BirthDate::parse("birth_date", form.get("birth_date"), today));
    let sex = Sex::from_code(form.get("sex"));
    if sex.is_none() {
        echo.error(FieldError::new("sex", "性別を選択してください。"));
    }
    let address = echo.take(Name::parse("address", form.get("address")));
    let phone = match form.get("phone").trim() {
        "" => Some(None),
        p => echo.take(PhoneNumber::parse("phone", p)).map(|p| Some(p.to_string())),
    };
    let insurer_no = match form.get("insurer_no").trim() {
        "" => Some(None),
        typed => echo.take(InsurerNo::parse("insurer_no", typed)).map(Some),
    };
    let insured_no = match form.get("insured_no").trim() {
        "" => Some(None),
        typed => echo.take(InsuredNo::parse("insured_no", typed)).map(Some),
    };
    let care_level = CareLevel::from_code(form.get("care_level"));
    if care_level.is_none() {
        echo.error(FieldError::new("care_level", "要介護度を選択してください。"));
    }
    let contacts = as_typed(form.get("contacts")).to_string();
    let consented_on = echo.take(parse_past_date("consented_on", form.get("consented_on"), today));
    let proxy = if form.get("signer") == "proxy" {
        let n = echo.take(Name::parse("proxy_name", form.get("proxy_name")));
        let r = echo.take(Name::parse("proxy_relation", form.get("proxy_relation")));
        n.zip(r).map(|(n, r)| Some((n.to_string(), r.to_string())))
    } else {
        Some(None)
    };
    let family = match form.get("family_name").trim() {
        "" => Some(None),
        _ => {
            let n = echo.take(Name::parse("family_name", form.get("family_name")));
            let r = echo.take(Name::parse("family_relation", form.get("family_relation")));
            n.zip(r).map(|(n, r)| Some((n.to_string(), r.to_string())))
        }
    };
    let explainer_facility = echo.take(Name::parse("explainer_facility", form.get("explainer_facility")));
    let explainer_name = echo.take(Name::parse("explainer_name", form.get("explainer_name")));
    if !form.checked("consent_confirmed") {
        echo.error(FieldError::new("consent_confirmed", "同意書を受け取ったことを確認してください。"));
    }
    match (name, kana, birth_date, sex, address, phone, insurer_no, insured_no, care_level) {
        (
            Some(name),
            Some(kana),
            Some(birth_date),
            Some(sex),
            Some(address),
            Some(phone),
            Some(insurer_no),
            Some(insured_no),
            Some(care_level),
        ) if !echo.has_errors() => match (consented_on, proxy, family, explainer_facility, explainer_name) {
            (Some(consented_on), Some(proxy), Some(family), Some(ef), Some(en)) => Ok((
                PatientInfo {
                    name: name.to_string(),
                    kana: kana.to_string(),
                    birth_date,
                    sex,
                    address: address.to_string(),
                    phone,
                    insurer_no,
                    insured_no,
                    care_level,
                    contacts,
                },
                ConsentInfo {
                    consented_on,
                    proxy,
                    family,
                    explainer_facility: ef.to_string(),
                    explainer_name: en.to_string(),
                },
            )),
            _ => Err(echo),
        },
        _ => Err(echo),
    }
}

pub async fn create(
    State(state): State<AppState>,
    meta: RequestMeta,
    csrf: CsrfToken,
    admin: Admin,
    form: Form,
) -> Result<Response, AppError> {
    let now = state.clock.now_ms();
    let today = renraku_domain::time_jp::to_jst(now).date();
    let (patient, consent) = match parse(&form, today) {
        Ok(v) => v,
        Err(echo) => {
            return Ok(
                (StatusCode::UNPROCESSABLE_ENTITY, render(new_page(&csrf, &admin, echo))?).into_response()
            );
        }
    };
    let room = rooms::open_room(&state, &meta, &admin, &patient, &consent).await?;
    Ok(Redirect::to(&format!("/admin/rooms/{}", room.id)).into_response())
}

struct MemberRow {
    member: Member,
    joined: String,
    left: String,
}

#[derive(Template)]
#[template(path = "admin/room.html")]
struct ShowPage {
    chrome: Chrome,
    room: Room,
    patient: Patient,
    consent: Consent,
    consent_withdrawn: String,
    members: Vec<MemberRow>,
    candidates: Vec<Account>,
    requests: Vec<RequestRow>,
    /// Where a decision on this page returns to.
    back: String,
    form: FormState,
}

pub struct RequestRow {
    pub request: RoomRequest,
    pub at: String,
}

fn rows(requests: Vec<RoomRequest>) -> Vec<RequestRow> {
    requests.into_iter().map(|request| RequestRow { at: jst(request.created_at_ms), request }).collect()
}

/// The room's page for the municipality. It shows the patient's record, so making it is an
/// audited read ([`rooms::room_record`]), whether the page comes as asked or back with a form
/// error.
async fn show_page(
    state: &AppState,
    meta: &RequestMeta,
    csrf: &CsrfToken,
    admin: &Admin,
    id: &RoomId,
    form: FormState,
) -> Result<ShowPage, AppError> {
    let RoomRecord { room, patient, consent, members, candidates, requests } =
        rooms::room_record(state, meta, admin, id).await?;
    let requests = rows(requests);
    Ok(ShowPage {
        requests,
        back: format!("/admin/rooms/{}", room.id),
        chrome: Chrome::new(room.name.clone(), csrf, Some(&admin.auth)),
        consent_withdrawn: consent.withdrawn_at_ms.map(jst).unwrap_or_default(),
        members: members
            .into_iter()
            .map(|member| MemberRow {
                joined: jst(member.joined_at_ms),
                left: member.left_at_ms.map(jst).unwrap_or_default(),
                member,
            })
            .collect(),
        room,
        patient,
        consent,
        candidates,
        form,
    })
}

pub async fn show(
    State(state): State<AppState>,
    meta: RequestMeta,
    csrf: CsrfToken,
    admin: Admin,
    IdPath(id): IdPath<RoomId>,
) -> Result<Response, AppError> {
    let page = show_page(&state, &meta, &csrf, &admin, &id, FormState::default()).await?;
    Ok(render(page)?.into_response())
}

pub async fn add_member(
    State(state): State<AppState>,
    meta: RequestMeta,
    admin: Admin,
    IdPath(id): IdPath<RoomId>,
    form: Form,
) -> Result<Response, AppError> {
    rooms::add_member(&state, &meta, &admin, &id, form.get("account_id")).await?;
    Ok(Redirect::to(&format!("/admin/rooms/{id}")).into_response())
}

pub async fn remove_member(
    State(state): State<AppState>,
    meta: RequestMeta,
    admin: Admin,
    IdPath((id, MemberAccount(account))): IdPath<(RoomId, MemberAccount)>,
) -> Result<Response, AppError> {
    rooms::remove_member(&state, &meta, &admin, &id, &account).await?;
    Ok(Redirect::to(&format!("/admin/rooms/{id}")).into_response())
}

pub async fn withdraw_consent(
    State(state): State<AppState>,
    meta: RequestMeta,
    admin: Admin,
    IdPath(id): IdPath<RoomId>,
) -> Result<Response, AppError> {
    rooms::withdraw_consent(&state, &meta, &admin, &id).await?;
    Ok(Redirect::to(&format!("/admin/rooms/{id}")).into_response())
}

/// Oversight (G2): the room, read-only, after a reason that goes to the audit trail.
pub async fn oversee(
    State(state): State<AppState>,
    meta: RequestMeta,
    csrf: CsrfToken,
    admin: Admin,
    IdPath(id): IdPath<RoomId>,
    form: Form,
) -> Result<Response, AppError> {
    let reason = as_typed(form.get("reason")).to_string();
    if reason.chars().count() < 5 || reason.chars().count() > 500 {
        let mut echo = form.echo();
        echo.error(FieldError::new(
            "reason",
            "閲覧の理由を5〜500文字で入力してください（操作記録に残ります）。",
        ));
        let page = show_page(&state, &meta, &csrf, &admin, &id, echo).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(page)?).into_response());
    }
    let access = rooms::oversee(&state, &meta, &admin, &id, &reason).await?;
    let page = room_page(&state, &csrf, &admin.auth, &access, None, FormState::default()).await?;
    Ok(render(page)?.into_response())
}

#[derive(Template)]
#[template(path = "admin/requests.html")]
struct RequestsPage {
    chrome: Chrome,
    requests: Vec<RequestRow>,
    back: &'static str,
}

/// The municipality's queue of pending requests (each names its room's patient and the people
/// concerned): each view is audited.
pub async fn requests(
    State(state): State<AppState>,
    meta: RequestMeta,
    csrf: CsrfToken,
    admin: Admin,
) -> Result<Response, AppError> {
    let requests = rows(rooms::pending_requests(&state, &meta, &admin).await?);
    Ok(render(RequestsPage {
        chrome: Chrome::new("部屋への依頼", &csrf, Some(&admin.auth)),
        requests,
        back: "/admin/requests",
    })?
    .into_response())
}

/// Approves (and applies) or rejects a request.
pub async fn decide(
    State(state): State<AppState>,
    meta: RequestMeta,
    admin: Admin,
    IdPath(id): IdPath<RequestId>,
    form: Form,
) -> Result<Response, AppError> {
    let approve = match form.get("decision") {
        "approve" => true,
        "reject" => false,
        _ => return Err(AppError::BadRequest("承認か却下を選択してください。".into())),
    };
    // Where to go afterwards: one of our admin pages, checked before anything is saved (a line
    // break would otherwise end up in the Location header after the decision was stored).
    let back = match form.get("back") {
        "" => "/admin/requests".to_string(),
        b if b.starts_with("/admin/")
            && !b.contains("//")
            && !b.contains('\\')
            && !b.chars().any(char::is_control) =>
        {
            b.to_string()
        }
        _ => {
            return Err(AppError::BadRequest(
                "戻り先のアドレスが正しくありません。ページを開き直してください。".into(),
            ));
        }
    };
    let note = as_typed(form.get("note")).to_string();
    rooms::decide_request(&state, &meta, &admin, &id, approve, &note).await?;
    Ok(Redirect::to(&back).into_response())
}
