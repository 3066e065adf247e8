//! A post's files, served to members only (they are checked, stored and removed again by
//! `services::attachments`).

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use renraku_attachments::inspect;
use renraku_domain::ids::{AttachmentId, RoomId};

use super::InRoom;
use crate::AppState;
use crate::auth::RequestMeta;
use crate::error::AppError;
use crate::path_ids::IdPath;
use crate::services::attachments::read_file;

/// A file of a post, to members only. Photos show inline (they were re-encoded, so they are
/// only pixels); PDFs always download. Neither can run script in our origin (`sandbox`).
pub async fn file(
    State(state): State<AppState>,
    meta: RequestMeta,
    IdPath((_, file_id)): IdPath<(RoomId, AttachmentId)>,
    room: InRoom,
) -> Result<Response, AppError> {
    serve_file(&state, &meta, &room, &file_id, false).await
}

pub async fn thumbnail(
    State(state): State<AppState>,
    meta: RequestMeta,
    IdPath((_, file_id)): IdPath<(RoomId, AttachmentId)>,
    room: InRoom,
) -> Result<Response, AppError> {
    serve_file(&state, &meta, &room, &file_id, true).await
}

async fn serve_file(
    state: &AppState,
    meta: &RequestMeta,
    InRoom { auth, access, .. }: &InRoom,
    file_id: &AttachmentId,
    thumb: bool,
) -> Result<Response, AppError> {
    let (attachment, kind, bytes) = read_file(state, meta, auth, access, file_id, thumb).await?;
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
