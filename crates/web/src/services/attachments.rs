//! A post's files: checked and cleaned (`inspect`) within a memory budget, stored encrypted,
//! and removed again when the post is not written (see [`super::posts::post_to_room`]).

use renraku_attachments::inspect;
use renraku_domain::audit_action::AuditAction;
use renraku_domain::ids::AttachmentId;
use renraku_store::{Attachment, RoomAccess, StoreError};

use super::ServiceError;
use crate::AppState;
use crate::auth::{Auth, RequestMeta};
use crate::uploads::Upload;

/// Memory for decoding photos at the same time, in MiB: the largest photo accepted alone (one
/// that needs more is refused from its header), or several smaller ones together (a
/// 12-megapixel photo needs about 55 MiB).
const DECODING_BUDGET_MIB: u32 = (inspect::DECODING_BUDGET_BYTES / 1024 / 1024) as u32;
static DECODING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(DECODING_BUDGET_MIB as usize);

/// Removes the stored files of `stored` that `kept` (the post as written) does not hold: a
/// post that failed leaves no file behind. A file that cannot be removed now is logged (by key
/// only), never shown — the post's outcome is what the user needs — and its removal is queued
/// as a job ([`crate::jobs::BLOB_DELETE`]), tried again until it works.
pub async fn discard(state: &AppState, stored: &[Attachment], kept: &[Attachment]) {
    let mut left = vec![];
    for a in stored.iter().filter(|a| !kept.iter().any(|k| k.id == a.id)) {
        for key in std::iter::once(&a.content_key).chain(&a.thumb_key) {
            if let Err(e) = state.blobs.delete(key).await {
                tracing::warn!(key = %key, error = %format!("{e:#}"), "an unused file was not removed");
                left.push(key.clone());
            }
        }
    }
    if !left.is_empty() {
        crate::jobs::delete_blobs_later(state, &left).await;
    }
}

/// Checks, cleans and stores the files of a post: all are checked before any is stored, and a
/// failure to store one removes those stored before it. The outer error is the server's; the
/// inner one is the user's (a refused file, with the reason and its name).
pub async fn store_files(
    state: &AppState,
    files: Vec<Upload>,
) -> Result<Result<Vec<Attachment>, String>, ServiceError> {
    let mut checked = vec![];
    for file in files {
        let name = file.name;
        match clean(file.bytes).await? {
            Ok(processed) => checked.push((name, processed)),
            Err(refused) => {
                let shown: String = name.chars().filter(|c| !c.is_control()).take(60).collect();
                return Ok(Err(format!("{shown}: {refused}")));
            }
        }
    }
    let mut attachments = vec![];
    for (name, processed) in checked {
        let id: AttachmentId = renraku_store::new_id();
        let attachment = Attachment {
            name: inspect::clean_name(&name, processed.kind),
            kind: processed.kind.code().to_string(),
            size: processed.content.len() as i64,
            width: i64::from(processed.width),
            height: i64::from(processed.height),
            content_key: id.to_string(),
            thumb_key: processed.thumbnail.as_ref().map(|_| format!("{id}-thumb")),
            id,
        };
        let mut stored = state.blobs.put(&attachment.content_key, &processed.content).await;
        if let (Ok(()), Some(key), Some(thumb)) = (&stored, &attachment.thumb_key, &processed.thumbnail) {
            stored = state.blobs.put(key, thumb).await;
        }
        // Listed before the outcome is known, so a half-stored file is removed too.
        attachments.push(attachment);
        if let Err(e) = stored {
            discard(state, &attachments, &[]).await;
            return Err(ServiceError::Internal(e));
        }
    }
    Ok(Ok(attachments))
}

/// One file through `inspect`, within the memory budget for decoding: the header says how much
/// a photo needs (and refuses a bomb) before any pixel is decoded.
async fn clean(bytes: Vec<u8>) -> Result<Result<inspect::Processed, inspect::Refused>, ServiceError> {
    let blocking = |e: tokio::task::JoinError| ServiceError::Internal(e.into());
    let (bytes, needed) = tokio::task::spawn_blocking(move || {
        let needed = inspect::memory_needed(&bytes);
        (bytes, needed)
    })
    .await
    .map_err(blocking)?;
    let needed = match needed {
        Ok(needed) => needed,
        Err(refused) => return Ok(Err(refused)),
    };
    // `memory_needed` refused anything over the budget; asking for more would wait forever.
    let mib = u32::try_from(needed.div_ceil(1024 * 1024)).unwrap_or(u32::MAX);
    if mib > DECODING_BUDGET_MIB {
        return Ok(Err(inspect::Refused::TooMuchMemory { needed_mb: u64::from(mib) }));
    }
    let permit = if mib > 0 {
        Some(DECODING.acquire_many(mib).await.map_err(|e| ServiceError::Internal(e.into()))?)
    } else {
        None
    };
    // The permit goes with the work: a request given up by its browser still holds its share
    // until the decoding thread is done.
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        inspect::process(&bytes)
    })
    .await
    .map_err(blocking)
}

/// A file of a post (or its thumbnail), read by a member: the record, its kind and its bytes.
/// An audited read.
pub async fn read_file(
    state: &AppState,
    meta: &RequestMeta,
    auth: &Auth,
    access: &RoomAccess,
    file_id: &AttachmentId,
    thumb: bool,
) -> Result<(Attachment, inspect::Kind, Vec<u8>), ServiceError> {
    let attachment = match state.store.attachment(access, file_id).await {
        Err(StoreError::NotFound) => return Err(ServiceError::NotFound("ファイル")),
        other => other?,
    };
    let kind = inspect::Kind::from_code(&attachment.kind).ok_or(ServiceError::NotFound("ファイル"))?;
    let key = if thumb {
        attachment.thumb_key.clone().ok_or(ServiceError::NotFound("縮小画像"))?
    } else {
        attachment.content_key.clone()
    };
    let bytes = state.blobs.get(&key).await.map_err(ServiceError::Internal)?;
    let mut audit = auth.audit(
        meta,
        state.clock.now_ms(),
        if thumb { AuditAction::FileThumbnailRead } else { AuditAction::FileRead },
        "attachment",
        file_id,
    );
    audit.detail = format!("room={}", access.room().id);
    state.store.append_audit(&audit).await?;
    Ok((attachment, kind, bytes))
}
