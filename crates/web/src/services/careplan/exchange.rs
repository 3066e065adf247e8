//! The care-plan exchange after upload (F1–F3): a facility's sets and one set read, sent,
//! acknowledged and downloaded — each read audited, each change committed with its audit entry.

use renraku_domain::audit_action::AuditAction;
use renraku_domain::ids::CareplanSetId;
use renraku_store::{CareplanFileData, CareplanSet, CareplanSetSummary, Facility, RoomSummary, StoreError};

use super::rules::people;
use crate::AppState;
use crate::auth::{Auth, RequestMeta};
use crate::services::ServiceError;

const SET: &str = "送信単位";

fn set_not_found(e: StoreError) -> ServiceError {
    match e {
        StoreError::NotFound => ServiceError::NotFound(SET),
        e => e.into(),
    }
}

/// The facility's sets, sent and received; the viewing is audited.
pub async fn list_sets(
    state: &AppState,
    meta: &RequestMeta,
    auth: &Auth,
    facility: &Facility,
) -> Result<Vec<CareplanSetSummary>, ServiceError> {
    let sets = state.store.careplan_sets(&facility.id).await?;
    let mut audit =
        auth.audit(meta, state.clock.now_ms(), AuditAction::CareplanListViewed, "facility", &facility.id);
    audit.detail = format!("sets={}", sets.len());
    state.store.append_audit(&audit).await?;
    Ok(sets)
}

/// One set as the facility may see it, with the reader's rooms (to link each person to their
/// 連絡帳 where the reader is a member); the reading is audited.
pub async fn read_set(
    state: &AppState,
    meta: &RequestMeta,
    auth: &Auth,
    facility: &Facility,
    id: &CareplanSetId,
) -> Result<(CareplanSet, Vec<RoomSummary>), ServiceError> {
    let set = state.store.careplan_set(&facility.id, id).await.map_err(set_not_found)?;
    let mut audit = auth.audit(meta, state.clock.now_ms(), AuditAction::CareplanRead, "careplan_set", id);
    audit.detail = format!("stamp={} people={}", set.summary.stamp, people(&set.summary.subjects).len());
    state.store.append_audit(&audit).await?;
    let rooms = state.store.my_rooms(&auth.account.id).await?;
    Ok((set, rooms))
}

/// The sender sends a stored set to its receiver facility.
pub async fn send_set(
    state: &AppState,
    meta: &RequestMeta,
    auth: &Auth,
    facility: &Facility,
    id: &CareplanSetId,
) -> Result<(), ServiceError> {
    let audit = auth.audit(meta, state.clock.now_ms(), AuditAction::CareplanSend, "careplan_set", id);
    match state.store.send_careplan_set(&facility.id, id, audit.at_ms, &audit).await {
        Err(StoreError::NotAllowed) => Err(ServiceError::Forbidden("この送信単位は送信済みです。")),
        other => other.map_err(set_not_found),
    }
}

/// The receiver acknowledges a set it was sent.
pub async fn acknowledge_set(
    state: &AppState,
    meta: &RequestMeta,
    auth: &Auth,
    facility: &Facility,
    id: &CareplanSetId,
) -> Result<(), ServiceError> {
    let audit = auth.audit(meta, state.clock.now_ms(), AuditAction::CareplanAcknowledge, "careplan_set", id);
    state
        .store
        .acknowledge_careplan_set(&facility.id, id, &auth.account.id, audit.at_ms, &audit)
        .await
        .map_err(set_not_found)
}

/// The file at `position` of a set, byte for byte; the download is audited with its name.
pub async fn download_file(
    state: &AppState,
    meta: &RequestMeta,
    auth: &Auth,
    facility: &Facility,
    id: &CareplanSetId,
    position: usize,
) -> Result<CareplanFileData, ServiceError> {
    let set = state.store.careplan_set(&facility.id, id).await.map_err(set_not_found)?;
    let file = set.files.into_iter().nth(position).ok_or(ServiceError::NotFound("ファイル"))?;
    let mut audit = auth.audit(meta, state.clock.now_ms(), AuditAction::CareplanDownload, "careplan_set", id);
    audit.detail = format!("file={}", file.name);
    state.store.append_audit(&audit).await?;
    Ok(file)
}
