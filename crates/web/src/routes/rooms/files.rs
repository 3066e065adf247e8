//! A post's files, served to members only (they are checked, stored and removed again by
//! `services::attachments`).

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use renraku_attachments::inspect;
use renraku_domain::audit_action::AuditAction;

use super::InRoom;
use crate::AppState;
use crate::auth::RequestMeta;
use crate::error::{AppError, found};

/// A file of a post, to members only. Photos show inline (they were re-encoded, so they are
/// only pixels); PDFs always download. Neither can run script in our origin (`sandbox`).
pub async fn file(
    State(state): State<AppState>,
    meta: RequestMeta,
    room: InRoom,
    Path((_, file_id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    serve_file(&state, &meta, &room, &file_id, false).await
}

pub async fn thumbnail(
    State(state): State<AppState>,
    meta: RequestMeta,
    room: InRoom,
    Path((_, file_id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    serve_file(&state, &meta, &room, &file_id, true).await
}

async fn serve_file(
    state: &AppState,
    meta: &RequestMeta,
    InRoom { auth, access, room_id }: &InRoom,
    file_id: &str,
    thumb: bool,
) -> Result<Response, AppError> {
    let attachment = found(state.store.attachment(access, file_id).await, "ファイル")?;
    let kind = inspect::Kind::from_code(&attachment.kind).ok_or(AppError::NotFound("ファイル"))?;
    let key = if thumb {
        attachment.thumb_key.clone().ok_or(AppError::NotFound("縮小画像"))?
    } else {
        attachment.content_key.clone()
    };
    let bytes = state.blobs.get(&key).await.map_err(AppError::Internal)?;
    let mut audit = auth.audit(
        meta,
        state.clock.now_ms(),
        if thumb { AuditAction::FileThumbnailRead } else { AuditAction::FileRead },
        "attachment",
        file_id,
    );
    audit.detail = format!("room={room_id}");
    state.store.append_audit(&audit).await?;
    let disposition = match kind {
        inspect::Kind::Photo => "inline",
        inspect::Kind::Pdf => "attachment",
    };
    let encoded: String = url::form_urlencoded::byte_serialize(attachment.name.as_bytes())
        .collect::<String>()
        .replace('+', "%20");
    let headers = [
        (header::CONTENT_TYPE, kind.mime().to_string()),
        (
            header::CONTENT_DISPOSITION,
            format!("{disposition}; filename=\"file\"; filename*=UTF-8''{encoded}"),
        ),
        (header::CACHE_CONTROL, "private, no-store".to_string()),
        (header::CONTENT_SECURITY_POLICY, "sandbox; default-src 'none'".to_string()),
    ];
    Ok((headers, bytes).into_response())
}
