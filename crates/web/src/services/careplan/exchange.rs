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

/// All files of a set as one ZIP, each byte for byte under its own name (stored, not
/// compressed: the care software reads them as they were sent). Audited like a download, with
/// the number of files.
pub async fn download_all(
    state: &AppState,
    meta: &RequestMeta,
    auth: &Auth,
    facility: &Facility,
    id: &CareplanSetId,
) -> Result<(String, Vec<u8>), ServiceError> {
    let set = state.store.careplan_set(&facility.id, id).await.map_err(set_not_found)?;
    let bytes = zip_files(&set.files).map_err(|e| ServiceError::Internal(anyhow::anyhow!("zip: {e}")))?;
    let mut audit = auth.audit(meta, state.clock.now_ms(), AuditAction::CareplanDownload, "careplan_set", id);
    audit.detail = format!("zip files={}", set.files.len());
    state.store.append_audit(&audit).await?;
    // The stamp is 14 digits (checked at upload): an ASCII name.
    let name = format!("careplan_{}_{}.zip", set.summary.kind, set.summary.stamp);
    Ok((name, bytes))
}

/// The files as one ZIP archive, in their order.
fn zip_files(files: &[CareplanFileData]) -> zip::result::ZipResult<Vec<u8>> {
    use std::io::Write as _;
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for file in files {
        out.start_file(file.name.as_str(), options)?;
        out.write_all(&file.bytes)?;
    }
    Ok(out.finish()?.into_inner())
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
