//! Care-plan data exchange (F1–F4): users with the ケアプランデータ連携 flag upload transmission
//! sets (CSV files, or ZIPs of them), see them checked against the national standard and shown
//! as the familiar 第1–3表・第6・7表 (and, for 介護予防, 利用者基本情報 with its 家族構成 JPEG and
//! 介護予防サービス・支援計画書), and send them to the facilities named in them — anywhere on
//! this server. Receivers see what was sent to them, acknowledge receipt and download the
//! original files unchanged. Every step is audited.

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use renraku_careplan::check::{NotChecked, not_checked};
use renraku_careplan::file::{CareplanFile, Record};
use renraku_careplan::layout::{Format, Kind};
use renraku_careplan::sets::SetKind;
use renraku_domain::ids::CareplanSetId;
use renraku_domain::ids::RoomId;
use renraku_store::{CareplanSetSummary, CareplanSubject, Facility};

use crate::AppState;
use crate::auth::{Auth, RequestMeta, SignedIn};
use crate::csrf::CsrfToken;
use crate::error::AppError;
use crate::path_ids::IdPath;
use crate::services::careplan::forms::{
    ALLOWANCE_COLUMNS, AllowanceSheet, NeedsSheet, ProfileSheet, SLOT_COLUMNS, UsageSheet, WEEK_HEADS,
    WeekSheet, allowance_sheets, needs_sheets, profile_sheets, usage_sheets, week_sheets,
};
use crate::services::careplan::rules::people;
use crate::services::careplan::{ProblemLine, Refused, Uploaded, exchange, upload_careplan_sets};
use crate::uploads::FormWithFiles;
use crate::views::{Chrome, jst, render};

/// The routes of this feature, merged into the application by [`super::router`].
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/careplan", get(index).post(upload).layer(DefaultBodyLimit::max(crate::MAX_UPLOAD_BYTES)))
        .route("/careplan/sets/{id}", get(show))
        .route("/careplan/sets/{id}/send", post(send))
        .route("/careplan/sets/{id}/ack", post(acknowledge))
        .route("/careplan/sets/{id}/files/{position}", get(download))
        .route("/careplan/sets/{id}/zip", get(download_all))
}

/// Files per upload (a ZIP counts as one; the use case limits its contents).
const MAX_UPLOAD_FILES: usize = 20;
/// The signed-in user's facility, if they may use the exchange.
/// Every care-plan page's start: a signed-in user with the careplan flag, and their facility
/// (the sets they see are its own, or sent to it). Anyone else is refused before the handler runs.
pub struct CareplanUser {
    pub auth: Auth,
    pub facility: Facility,
}

impl FromRequestParts<AppState> for CareplanUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let SignedIn(auth) =
            SignedIn::from_request_parts(parts, state).await.map_err(IntoResponse::into_response)?;
        let facility = my_facility(state, &auth).await.map_err(IntoResponse::into_response)?;
        Ok(CareplanUser { auth, facility })
    }
}

async fn my_facility(state: &AppState, auth: &Auth) -> Result<Facility, AppError> {
    let forbidden = AppError::Forbidden(
        "ケアプランデータ連携の利用者として登録されていません（様式2で申請してください）。",
    );
    let (Some(municipality_id), Some(facility_id)) =
        (&auth.account.municipality_id, &auth.account.facility_id)
    else {
        return Err(forbidden);
    };
    if !auth.account.careplan {
        return Err(forbidden);
    }
    Ok(state.store.facility(municipality_id, facility_id).await?)
}

/// The label of a stored set kind.
fn set_kind_label(code: &str) -> &'static str {
    SetKind::from_code(code).map_or("", SetKind::label)
}

/// A month or day without its leading zero: `01` → `1`.
fn unpadded(digits: &str) -> &str {
    match digits.trim_start_matches('0') {
        "" => "0",
        d => d,
    }
}

/// `YYYYMMDDHHMMSS` as people read it, in the one format of every date on these pages (that of
/// `jst`): 2027年1月6日 10:00.
fn stamp_label(stamp: &str) -> String {
    if stamp.len() == 14 && stamp.bytes().all(|b| b.is_ascii_digit()) {
        let (month, day) = (unpadded(&stamp[4..6]), unpadded(&stamp[6..8]));
        format!("{}年{month}月{day}日 {}:{}", &stamp[..4], &stamp[8..10], &stamp[10..12])
    } else {
        stamp.to_string()
    }
}

pub struct SetRow {
    pub id: CareplanSetId,
    pub kind: &'static str,
    pub stamp: String,
    pub other: String,
    pub people: String,
    pub state: &'static str,
}

fn row(set: &CareplanSetSummary, incoming: bool) -> SetRow {
    let state = match (set.withdrawn_by.is_some(), set.sent_at_ms, set.acknowledged_at_ms) {
        (true, _, _) => "削除済み",
        (_, None, _) => "未送信",
        (_, Some(_), None) => "受領待ち",
        (_, Some(_), Some(_)) => "受領済み",
    };
    SetRow {
        id: set.id.clone(),
        kind: set_kind_label(&set.kind),
        stamp: stamp_label(&set.stamp),
        other: if incoming { set.sender_facility_name.clone() } else { set.receiver_facility_name.clone() },
        people: people(&set.subjects).iter().map(|s| s.shown_name()).collect::<Vec<_>>().join("、"),
        state,
    }
}

#[derive(Template)]
#[template(path = "careplan/index.html")]
struct IndexPage {
    chrome: Chrome,
    facility: String,
    office: String,
    outgoing: Vec<SetRow>,
    incoming: Vec<SetRow>,
    problems: Vec<ProblemLine>,
    checked: Vec<String>,
    /// Rules not checked for the checked files, for want of the service-code master.
    not_checked: Vec<&'static NotChecked>,
}

/// The rules of the standard not checked for files of these names (by their prefix), so that
/// neither a refused upload nor a set page claims more than was checked.
fn rules_not_checked<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<&'static NotChecked> {
    not_checked(names.into_iter().filter_map(|n| Kind::from_prefix(n.split('_').next().unwrap_or(""))))
}

/// The facility's sets, each with the people it is about: every time the page is shown (asked
/// for, or back with an upload's problems) is audited.
async fn index_page(
    state: &AppState,
    meta: &RequestMeta,
    csrf: &CsrfToken,
    auth: &Auth,
    facility: &Facility,
    problems: Vec<ProblemLine>,
    checked: Vec<String>,
) -> Result<IndexPage, AppError> {
    let sets = exchange::list_sets(state, meta, auth, facility).await?;
    let (outgoing, incoming): (Vec<_>, Vec<_>) =
        sets.iter().partition(|s| s.sender_facility_id == facility.id);
    Ok(IndexPage {
        chrome: Chrome::new("ケアプランデータ連携", csrf, Some(auth)),
        facility: facility.info.name.to_string(),
        office: facility.info.care_provider_no.as_ref().map(|n| n.to_string()).unwrap_or_default(),
        outgoing: outgoing.into_iter().map(|s| row(s, false)).collect(),
        incoming: incoming.into_iter().map(|s| row(s, true)).collect(),
        problems,
        not_checked: rules_not_checked(checked.iter().map(String::as_str)),
        checked,
    })
}

pub async fn index(
    State(state): State<AppState>,
    meta: RequestMeta,
    csrf: CsrfToken,
    CareplanUser { auth, facility }: CareplanUser,
) -> Result<Response, AppError> {
    Ok(render(index_page(&state, &meta, &csrf, &auth, &facility, vec![], vec![]).await?)?.into_response())
}

/// An upload: the use case stores it whole, or says why not on the list page (422).
pub async fn upload(
    State(state): State<AppState>,
    csrf: CsrfToken,
    meta: RequestMeta,
    CareplanUser { auth, facility }: CareplanUser,
    upload: FormWithFiles<MAX_UPLOAD_FILES>,
) -> Result<Response, AppError> {
    match upload_careplan_sets(&state, &meta, &auth, &facility, upload.files).await? {
        Ok(Uploaded { ids }) => {
            let target = match ids.as_slice() {
                [one] => format!("/careplan/sets/{one}"),
                _ => "/careplan".to_string(),
            };
            Ok(Redirect::to(&target).into_response())
        }
        Err(Refused { problems, checked }) => {
            let page = index_page(&state, &meta, &csrf, &auth, &facility, problems, checked).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(page)?).into_response())
        }
    }
}

/// One file kind as a table: one row per record, or (for records with many items) one item
/// per row.
pub struct TableView {
    pub title: &'static str,
    pub file: String,
    pub position: usize,
    pub vertical: bool,
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

/// Items every record carries that the page shows once, in the heading.
const HIDDEN: [&str; 2] = ["CSVバージョン", "識別子"];

/// A value as the form shows it: dates in Japanese, codes with their meaning.
fn shown(format: &Format, value: &str) -> String {
    match format {
        _ if value.is_empty() => String::new(),
        _ if !value.bytes().all(|b| b.is_ascii_digit()) => value.to_string(),
        Format::Date | Format::DateOr(_) if value.len() == 8 && value != "00000000" => {
            let n = |r: std::ops::Range<usize>| value[r].trim_start_matches('0').to_string();
            format!("{}年{}月{}日", &value[..4], n(4..6), n(6..8))
        }
        Format::YearMonth | Format::YearMonthOr(_) if value.len() == 6 && value != "000000" => {
            format!("{}年{}月", &value[..4], value[4..6].trim_start_matches('0'))
        }
        Format::Code(codes) => match codes.iter().find(|(c, _)| *c == value) {
            Some((code, label)) => format!("{code}:{label}"),
            None => value.to_string(),
        },
        _ => value.to_string(),
    }
}

fn table(position: usize, name: &str, file: &CareplanFile) -> TableView {
    let kind = file.kind;
    let items: Vec<_> = kind.items().iter().filter(|i| !HIDDEN.contains(&i.name)).collect();
    let vertical = items.len() > 30
        || matches!(
            kind,
            Kind::Up1kyo | Kind::Dlt1kyo | Kind::Dltplan | Kind::Dltjsk | Kind::Dltkihon | Kind::Dltyobo
        );
    let value = |record: &Record<'_>, name: &str| {
        let item = kind.item(name);
        match (item, record.get(name)) {
            (Some(item), Some(v)) => shown(&item.format, v),
            _ => String::new(),
        }
    };
    let records: Vec<Record<'_>> = file.records().collect();
    let (headers, rows) = if vertical {
        // One column per record, one row per item.
        let headers = std::iter::once("項目").chain(records.iter().map(|_| "")).collect();
        let rows = items
            .iter()
            .map(|item| {
                std::iter::once(item.name.to_string())
                    .chain(records.iter().map(|r| value(r, item.name)))
                    .collect()
            })
            .collect();
        (headers, rows)
    } else {
        let headers = items.iter().map(|i| i.name).collect();
        let rows = records.iter().map(|r| items.iter().map(|i| value(r, i.name)).collect()).collect();
        (headers, rows)
    };
    TableView { title: kind.label(), file: name.to_string(), position, vertical, headers, rows }
}

/// 第6表 サービス利用票 (予定, or 実績) as its month calendar, one sheet per person, with the
/// file's items as a table behind 「項目一覧」 for checking.
pub struct UsageView {
    pub title: &'static str,
    pub file: String,
    pub position: usize,
    /// Each person's sheet with their name (from the set's subjects).
    pub sheets: Vec<(String, UsageSheet)>,
    pub raw: TableView,
}

impl UsageView {
    fn new(position: usize, name: &str, file: &CareplanFile, subjects: &[CareplanSubject]) -> Self {
        let sheets = usage_sheets(file)
            .into_iter()
            .map(|sheet| (name_of(subjects, &sheet.insurer_no, &sheet.insured_no), sheet))
            .collect();
        UsageView {
            title: file.kind.label(),
            file: name.to_string(),
            position,
            sheets,
            raw: table(position, name, file),
        }
    }

    /// Any service of any sheet has 日割対象日 (the legend is shown then).
    pub fn prorated(&self) -> bool {
        self.sheets.iter().any(|(_, s)| s.rows.iter().any(|r| r.prorated))
    }
}

/// The name of the person with these numbers in the set, or nothing.
fn name_of(subjects: &[CareplanSubject], insurer_no: &str, insured_no: &str) -> String {
    subjects
        .iter()
        .filter(|s| !s.shown_name().is_empty() && s.shown_name() != renraku_store::NO_NAME)
        .find(|s| (s.insurer_no.as_str(), s.insured_no.as_str()) == (insurer_no, insured_no))
        .map(|s| s.shown_name().to_string())
        .unwrap_or_default()
}

/// 第7表 サービス利用票別表 with its rows as on paper, one sheet per person, and the file's items
/// behind 「項目一覧」.
pub struct AllowanceView {
    pub title: &'static str,
    pub file: String,
    pub position: usize,
    pub columns: Vec<&'static str>,
    pub sheets: Vec<(String, AllowanceSheet)>,
    pub raw: TableView,
}

impl AllowanceView {
    fn new(position: usize, name: &str, file: &CareplanFile, subjects: &[CareplanSubject]) -> Self {
        let sheets = allowance_sheets(file)
            .into_iter()
            .map(|sheet| (name_of(subjects, &sheet.insurer_no, &sheet.insured_no), sheet))
            .collect();
        AllowanceView {
            title: file.kind.label(),
            file: name.to_string(),
            position,
            columns: ALLOWANCE_COLUMNS.iter().map(|(label, _)| *label).collect(),
            sheets,
            raw: table(position, name, file),
        }
    }
}

/// 第2表 or 第3表 as on paper: one sheet per person with their name, and the file's items behind
/// 「項目一覧」.
pub struct FormView<S> {
    pub title: &'static str,
    pub file: String,
    pub position: usize,
    pub sheets: Vec<(String, S)>,
    pub raw: TableView,
}

impl<S> FormView<S> {
    fn new(
        position: usize,
        name: &str,
        file: &CareplanFile,
        subjects: &[CareplanSubject],
        sheets: Vec<S>,
        numbers: impl Fn(&S) -> (String, String),
    ) -> Self {
        let sheets = sheets
            .into_iter()
            .map(|sheet| {
                let (insurer_no, insured_no) = numbers(&sheet);
                (name_of(subjects, &insurer_no, &insured_no), sheet)
            })
            .collect();
        FormView {
            title: file.kind.label(),
            file: name.to_string(),
            position,
            sheets,
            raw: table(position, name, file),
        }
    }
}

/// A 家族構成 image of a 利用者基本情報 (a JPEG, checked at upload): shown as it is.
pub struct ImageView {
    pub file: String,
    pub position: usize,
    /// 「幅×高さ」 from the JPEG's frame header.
    pub size: String,
}

#[derive(Template)]
#[template(path = "careplan/set.html")]
struct SetPage {
    chrome: Chrome,
    set: CareplanSetSummary,
    stamp: String,
    mine: bool,
    sent: String,
    acknowledged: String,
    people: Vec<PersonView>,
    tables: Vec<TableView>,
    usage: Vec<UsageView>,
    allowance: Vec<AllowanceView>,
    profiles: Vec<FormView<ProfileSheet>>,
    slot_columns: [&'static str; 4],
    needs: Vec<FormView<NeedsSheet>>,
    week: Vec<FormView<WeekSheet>>,
    week_heads: [&'static str; 7],
    not_checked: Vec<&'static NotChecked>,
    images: Vec<ImageView>,
}

/// A person of a set as its page shows them: a link to their 連絡帳 where the viewer is a member
/// of it, and which of their records later deletions withdrew.
struct PersonView {
    subject: CareplanSubject,
    room: Option<RoomId>,
    withdrawn: Vec<String>,
}

/// A record key as a person reads it: 2026年11月15日 (plan date), 2026年12月 (month), or for
/// 実績 2026年12月・事業者 2234567890・種類 17.
fn key_label(key: &str) -> String {
    let mut parts = key.split(' ');
    let when = parts.next().unwrap_or_default();
    let mut label = match when.len() {
        8 if when.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{}年{}月{}日", &when[..4], unpadded(&when[4..6]), unpadded(&when[6..]))
        }
        6 if when.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{}年{}月", &when[..4], unpadded(&when[4..]))
        }
        _ => when.to_string(),
    };
    if let (Some(office), Some(service_type)) = (parts.next(), parts.next()) {
        label.push_str(&format!("・事業者 {office}・種類 {service_type}"));
    }
    label
}

pub async fn show(
    State(state): State<AppState>,
    csrf: CsrfToken,
    meta: RequestMeta,
    CareplanUser { auth, facility }: CareplanUser,
    IdPath(id): IdPath<CareplanSetId>,
) -> Result<Response, AppError> {
    // With a link to the person's 連絡帳 where the viewer is a member of it.
    let (set, rooms) = exchange::read_set(&state, &meta, &auth, &facility, &id).await?;
    let subjects = &set.summary.subjects;
    let people = people(subjects)
        .into_iter()
        .map(|s| {
            let room = s
                .patient_id
                .as_ref()
                .and_then(|p| rooms.iter().find(|r| &r.room.patient_id == p))
                .map(|r| r.room.id.clone());
            let withdrawn = subjects
                .iter()
                .filter(|o| (&o.insurer_no, &o.insured_no) == (&s.insurer_no, &s.insured_no))
                .filter(|o| o.withdrawn_by.is_some() && set.summary.withdrawn_by.is_none())
                .map(|o| key_label(&o.record_key))
                .collect();
            PersonView { subject: s.clone(), room, withdrawn }
        })
        .collect();
    let mut tables = Vec::new();
    let mut images = Vec::new();
    let mut usage = Vec::new();
    let mut allowance = Vec::new();
    let mut profiles = Vec::new();
    let mut needs = Vec::new();
    let mut week = Vec::new();
    for (position, file) in set.files.iter().enumerate() {
        let Some(kind) = Kind::from_prefix(&file.kind) else { continue };
        if kind.is_image() {
            if let Ok(jpeg) = renraku_careplan::image::check(&file.bytes) {
                let size = format!("{}×{}", jpeg.width, jpeg.height);
                images.push(ImageView { file: file.name.clone(), position, size });
            }
            continue;
        }
        if let Ok(parsed) = CareplanFile::parse(kind, &file.bytes) {
            if matches!(kind, Kind::Upplan | Kind::Upjsk) {
                usage.push(UsageView::new(position, &file.name, &parsed, subjects));
                continue;
            }
            if matches!(kind, Kind::Up1kyo | Kind::Uphosoku) {
                let sheets = profile_sheets(&parsed);
                let numbers = |s: &ProfileSheet| (s.insurer_no.clone(), s.insured_no.clone());
                profiles.push(FormView::new(position, &file.name, &parsed, subjects, sheets, numbers));
                continue;
            }
            if kind == Kind::Up2kyo {
                let sheets = needs_sheets(&parsed);
                let numbers = |s: &NeedsSheet| (s.insurer_no.clone(), s.insured_no.clone());
                needs.push(FormView::new(position, &file.name, &parsed, subjects, sheets, numbers));
                continue;
            }
            if kind == Kind::Up3kyo {
                let sheets = week_sheets(&parsed);
                let numbers = |s: &WeekSheet| (s.insurer_no.clone(), s.insured_no.clone());
                week.push(FormView::new(position, &file.name, &parsed, subjects, sheets, numbers));
                continue;
            }
            if kind == Kind::Upsikyu {
                allowance.push(AllowanceView::new(position, &file.name, &parsed, subjects));
                continue;
            }
            tables.push(table(position, &file.name, &parsed));
        }
    }
    let page = SetPage {
        chrome: Chrome::new(set_kind_label(&set.summary.kind), &csrf, Some(&auth)),
        stamp: stamp_label(&set.summary.stamp),
        mine: set.summary.sender_facility_id == facility.id,
        sent: set.summary.sent_at_ms.map(jst).unwrap_or_default(),
        acknowledged: set.summary.acknowledged_at_ms.map(jst).unwrap_or_default(),
        people,
        tables,
        usage,
        allowance,
        profiles,
        slot_columns: SLOT_COLUMNS,
        needs,
        week,
        week_heads: WEEK_HEADS,
        not_checked: rules_not_checked(set.files.iter().map(|f| f.name.as_str())),
        images,
        set: set.summary,
    };
    Ok(render(page)?.into_response())
}

pub async fn send(
    State(state): State<AppState>,
    meta: RequestMeta,
    CareplanUser { auth, facility }: CareplanUser,
    IdPath(id): IdPath<CareplanSetId>,
) -> Result<Response, AppError> {
    exchange::send_set(&state, &meta, &auth, &facility, &id).await?;
    Ok(Redirect::to(&format!("/careplan/sets/{id}")).into_response())
}

pub async fn acknowledge(
    State(state): State<AppState>,
    meta: RequestMeta,
    CareplanUser { auth, facility }: CareplanUser,
    IdPath(id): IdPath<CareplanSetId>,
) -> Result<Response, AppError> {
    exchange::acknowledge_set(&state, &meta, &auth, &facility, &id).await?;
    Ok(Redirect::to(&format!("/careplan/sets/{id}")).into_response())
}

/// Every file of the set in one ZIP, each byte for byte.
pub async fn download_all(
    State(state): State<AppState>,
    meta: RequestMeta,
    CareplanUser { auth, facility }: CareplanUser,
    IdPath(id): IdPath<CareplanSetId>,
) -> Result<Response, AppError> {
    let (name, bytes) = exchange::download_all(&state, &meta, &auth, &facility, &id).await?;
    let headers = [
        (header::CONTENT_TYPE, "application/zip".to_string()),
        (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        (header::CACHE_CONTROL, "private, no-store".to_string()),
        (header::CONTENT_SECURITY_POLICY, "sandbox; default-src 'none'".to_string()),
    ];
    Ok((headers, bytes).into_response())
}

/// The original file, byte for byte, for the care software or the national system.
pub async fn download(
    State(state): State<AppState>,
    meta: RequestMeta,
    CareplanUser { auth, facility }: CareplanUser,
    IdPath((id, position)): IdPath<(CareplanSetId, usize)>,
) -> Result<Response, AppError> {
    let file = exchange::download_file(&state, &meta, &auth, &facility, &id, position).await?;
    // Names are ASCII by the standard (checked at upload); the 家族構成 image is a JPEG.
    let image = Kind::from_prefix(&file.kind).is_some_and(Kind::is_image);
    let content_type = if image { "image/jpeg" } else { "text/csv; charset=Shift_JIS" };
    let headers = [
        (header::CONTENT_TYPE, content_type.to_string()),
        (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{}\"", file.name)),
        (header::CACHE_CONTROL, "private, no-store".to_string()),
        (header::CONTENT_SECURITY_POLICY, "sandbox; default-src 'none'".to_string()),
    ];
    Ok((headers, file.bytes).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_have_one_format_without_leading_zeros() {
        assert_eq!(stamp_label("20270106100000"), "2027年1月6日 10:00");
        assert_eq!(stamp_label("20261120093000"), "2026年11月20日 09:30");
        assert_eq!(stamp_label("2026112009300x"), "2026112009300x");
        assert_eq!(key_label("20260105"), "2026年1月5日");
        assert_eq!(key_label("202701 2234567890 13"), "2027年1月・事業者 2234567890・種類 13");
        assert_eq!(key_label("20ab"), "20ab");
    }
}
