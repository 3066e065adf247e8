//! Writing in a room: a post (with its files), a reply, an acknowledgement (確認), an edit with
//! its history kept, a deletion; and the page of who read a post.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use renraku_domain::FieldError;
use renraku_domain::audit_action::AuditAction;
use renraku_domain::ids::AccountId;
use renraku_domain::ids::{PostId, RoomId};
use renraku_domain::rooms::{Importance, MAX_POST_CHARS, PostCategory, PostText, Vitals};
use renraku_store::{AuditDraft, NewPost, RoomAccess, StoreError};

use super::{InRoom, LEFT_THE_ROOM, PostItem, idempotency_key, item, not_allowed, room_page, seen};
use crate::AppState;
use crate::auth::{Auth, RequestMeta};
use crate::csrf::CsrfToken;
use crate::error::AppError;
use crate::forms::{Form, FormState};
use crate::path_ids::IdPath;
use crate::uploads::FormWithFiles;
use crate::views::{Chrome, jst, render};

use super::files::{discard, store_files};

/// Reads the post form; errors go next to their fields.
fn parse_post(form: &Form, parent_id: Option<PostId>) -> Result<NewPost, FormState> {
    let mut echo = form.echo();
    let category = PostCategory::from_code(form.get("category"));
    if category.is_none() {
        echo.error(FieldError::new("category", "分類を選択してください。"));
    }
    // A reply has no importance field; anything else than the three choices is an error, not 通常.
    let importance = match form.get("importance") {
        "" => Some(Importance::Normal),
        code => Importance::from_code(code),
    };
    if importance.is_none() {
        echo.error(FieldError::new("importance", "重要度は「通常」「重要」「緊急」から選んでください。"));
    }
    let vitals = match Vitals::parse(|f| form.get(f).to_string()) {
        Ok(v) => Some(v),
        Err(errors) => {
            errors.into_iter().for_each(|e| echo.error(e));
            None
        }
    };
    // A mention that is no account id names no current member, like one who left the room.
    let mentions: Option<Vec<AccountId>> =
        form.all("mention").into_iter().filter(|m| !m.is_empty()).map(AccountId::parse).collect();
    if mentions.is_none() {
        echo.error(FieldError::new("mention", LEFT_THE_ROOM));
    }
    let may_be_empty = vitals.is_some_and(|v| !v.is_empty());
    let text = echo.take(PostText::parse("body", form.get("body"), may_be_empty));
    match (category, importance, vitals, text, mentions) {
        (Some(category), Some(importance), Some(vitals), Some(text), Some(mentions))
            if !echo.has_errors() =>
        {
            Ok(NewPost {
                parent_id,
                category,
                importance,
                text,
                ack_requested: form.checked("ack_requested"),
                vitals,
                mentions,
                attachments: vec![],
                idempotency_key: idempotency_key(form.get("idempotency_key")),
            })
        }
        _ => Err(echo),
    }
}

pub async fn create(
    State(state): State<AppState>,
    meta: RequestMeta,
    csrf: CsrfToken,
    InRoom { auth, access, room_id }: InRoom,
    upload: FormWithFiles,
) -> Result<Response, AppError> {
    // A form error sends the timeline back with what was typed: a read like any other.
    let again = |echo: FormState| async {
        let page = room_page(&state, &csrf, &auth, &access, None, echo).await?;
        seen(&state, &meta, &auth, &access, &page).await?;
        Ok::<Response, AppError>((StatusCode::UNPROCESSABLE_ENTITY, render(page)?).into_response())
    };
    let mut post = match parse_post(&upload.form, None) {
        Ok(p) => p,
        Err(echo) => return again(echo).await,
    };
    if !access.can_write() {
        return Err(not_allowed(StoreError::NotAllowed));
    }
    match store_files(&state, upload.files).await? {
        Ok(attachments) => post.attachments = attachments,
        Err(message) => {
            let mut echo = upload.form.echo();
            echo.error(FieldError::new("files", message));
            return again(echo).await;
        }
    }
    let mut audit = auth.audit(&meta, state.clock.now_ms(), AuditAction::PostCreate, "room", &room_id);
    audit.object_type = "post".into();
    audit.detail = format!(
        "room={room_id} category={} importance={} files={}",
        post.category.code(),
        post.importance.code(),
        post.attachments.len()
    );
    match state.store.create_post(&access, &post, &audit).await {
        // Files of a form sent again are not the post's: the first sending's are.
        Ok(written) => discard(&state, &post.attachments, &written.attachments).await,
        Err(e) => {
            // Only a refusal says nothing was written. Any other error may have come after the
            // commit (the database gone at COMMIT): the post may exist and hold these files, so
            // they stay; the form sent again finds that post by its key and removes its own.
            if refused(&e) {
                discard(&state, &post.attachments, &[]).await;
            }
            if matches!(e, StoreError::NotMember) {
                let mut echo = upload.form.echo();
                echo.error(FieldError::new("mention", LEFT_THE_ROOM));
                return again(echo).await;
            }
            return Err(not_allowed(e));
        }
    }
    state.events.room_changed(&room_id).await;
    Ok(Redirect::to(&format!("/rooms/{room_id}")).into_response())
}

/// Whether a store error is a refusal, given before anything was written (the transaction
/// rolled back), rather than a failure whose outcome is unknown.
fn refused(e: &StoreError) -> bool {
    match e {
        StoreError::NotFound
        | StoreError::Taken(_)
        | StoreError::LastManager
        | StoreError::TokenInvalid
        | StoreError::NotAllowed
        | StoreError::NotMember => true,
        StoreError::Other(_) => false,
    }
}

pub async fn reply(
    State(state): State<AppState>,
    meta: RequestMeta,
    csrf: CsrfToken,
    IdPath((_, post_id)): IdPath<(RoomId, PostId)>,
    InRoom { auth, access, room_id }: InRoom,
    form: Form,
) -> Result<Response, AppError> {
    let mut fields = form.clone();
    if form.get("category").is_empty() {
        fields = Form::from_pairs([
            ("category", "notice"),
            ("body", form.get("body")),
            ("idempotency_key", form.get("idempotency_key")),
        ]);
    }
    let post = match parse_post(&fields, Some(post_id.clone())) {
        Ok(post) => post,
        Err(echo) => return reply_again(&state, &meta, &csrf, &auth, &access, &post_id, echo).await,
    };
    let audit = post_audit(&state, &meta, &auth, AuditAction::PostReply, &room_id, &post_id);
    state.store.create_post(&access, &post, &audit).await.map_err(not_allowed)?;
    state.events.room_changed(&room_id).await;
    Ok(Redirect::to(&format!("/rooms/{room_id}#post-{post_id}")).into_response())
}

#[derive(Template)]
#[template(path = "rooms/reply.html")]
struct ReplyPage {
    chrome: Chrome,
    room_id: RoomId,
    post: PostItem,
    form: FormState,
    /// Errors of fields the reply page does not show (only a forged form has them).
    other_errors: Vec<String>,
    max_chars: usize,
}

/// A reply with an error comes back on a page of its own, under the post it answers, with
/// what was typed. It shows the post: a read.
async fn reply_again(
    state: &AppState,
    meta: &RequestMeta,
    csrf: &CsrfToken,
    auth: &Auth,
    access: &RoomAccess,
    post_id: &PostId,
    form: FormState,
) -> Result<Response, AppError> {
    let post = state.store.post(access, post_id).await.map_err(not_allowed)?;
    let room_id = access.room().id.clone();
    let audit = post_audit(state, meta, auth, AuditAction::PostRead, &room_id, post_id);
    state.store.append_audit(&audit).await?;
    let page = ReplyPage {
        chrome: Chrome::new("返信", csrf, Some(auth)),
        room_id,
        post: item(post, access.account_id(), vec![]),
        other_errors: form
            .errors()
            .into_iter()
            .filter(|(f, _)| *f != "body")
            .map(|(_, m)| m.to_string())
            .collect(),
        form,
        max_chars: MAX_POST_CHARS,
    };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(page)?).into_response())
}

pub async fn acknowledge(
    State(state): State<AppState>,
    meta: RequestMeta,
    IdPath((_, post_id)): IdPath<(RoomId, PostId)>,
    InRoom { auth, access, room_id }: InRoom,
) -> Result<Response, AppError> {
    let audit = post_audit(&state, &meta, &auth, AuditAction::PostAcknowledge, &room_id, &post_id);
    state.store.acknowledge(&access, &post_id, &audit).await.map_err(not_allowed)?;
    state.events.room_changed(&room_id).await;
    Ok(Redirect::to(&format!("/rooms/{room_id}#post-{post_id}")).into_response())
}

#[derive(Template)]
#[template(path = "rooms/readers.html")]
struct ReadersPage {
    chrome: Chrome,
    room_id: RoomId,
    post: PostItem,
    readers: Vec<(String, String)>,
    acknowledgers: Vec<(String, String)>,
    versions: Vec<(i64, String, String)>,
}

/// One post with who read it and when (既読), who acknowledged it, and its former versions.
pub async fn readers(
    State(state): State<AppState>,
    meta: RequestMeta,
    csrf: CsrfToken,
    IdPath((_, post_id)): IdPath<(RoomId, PostId)>,
    InRoom { auth, access, room_id }: InRoom,
) -> Result<Response, AppError> {
    let post = state.store.post(&access, &post_id).await.map_err(not_allowed)?;
    let pairs = |rs: Vec<renraku_store::Reader>| rs.into_iter().map(|r| (r.name, jst(r.at_ms))).collect();
    let readers = pairs(state.store.readers(&access, &post_id).await?);
    let acknowledgers = pairs(state.store.acknowledgers(&access, &post_id).await?);
    let versions = state
        .store
        .post_versions(&access, &post_id)
        .await?
        .into_iter()
        .map(|v| (v.version, v.text.to_html(), jst(v.replaced_at_ms)))
        .collect();
    let audit = post_audit(&state, &meta, &auth, AuditAction::PostRead, &room_id, &post_id);
    state.store.append_audit(&audit).await?;
    let page = ReadersPage {
        chrome: Chrome::new("既読と履歴", &csrf, Some(&auth)),
        room_id,
        post: item(post, access.account_id(), vec![]),
        readers,
        acknowledgers,
        versions,
    };
    Ok(render(page)?.into_response())
}

#[derive(Template)]
#[template(path = "rooms/edit.html")]
struct EditPage {
    chrome: Chrome,
    room_id: RoomId,
    post_id: PostId,
    form: FormState,
    max_chars: usize,
}

pub async fn edit_form(
    State(state): State<AppState>,
    meta: RequestMeta,
    csrf: CsrfToken,
    IdPath((_, post_id)): IdPath<(RoomId, PostId)>,
    InRoom { auth, access, room_id }: InRoom,
) -> Result<Response, AppError> {
    let post = state.store.post(&access, &post_id).await.map_err(not_allowed)?;
    if post.author_account_id != auth.account.id || post.deleted_at_ms.is_some() || !access.can_write() {
        return Err(not_allowed(StoreError::NotAllowed));
    }
    // The form shows the post's text: a read.
    let audit = post_audit(&state, &meta, &auth, AuditAction::PostRead, &room_id, &post_id);
    state.store.append_audit(&audit).await?;
    let form = FormState::with([("body", post.text.as_str().to_string())]);
    let page = EditPage {
        chrome: Chrome::new("投稿の編集", &csrf, Some(&auth)),
        room_id,
        post_id,
        form,
        max_chars: MAX_POST_CHARS,
    };
    Ok(render(page)?.into_response())
}

pub async fn edit(
    State(state): State<AppState>,
    meta: RequestMeta,
    csrf: CsrfToken,
    IdPath((_, post_id)): IdPath<(RoomId, PostId)>,
    InRoom { auth, access, room_id }: InRoom,
    form: Form,
) -> Result<Response, AppError> {
    let mut echo = form.echo();
    let Some(text) = echo.take(PostText::parse("body", form.get("body"), false)) else {
        let page = EditPage {
            chrome: Chrome::new("投稿の編集", &csrf, Some(&auth)),
            room_id,
            post_id,
            form: echo,
            max_chars: MAX_POST_CHARS,
        };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(page)?).into_response());
    };
    let audit = post_audit(&state, &meta, &auth, AuditAction::PostEdit, &room_id, &post_id);
    state.store.edit_post(&access, &post_id, &text, &audit).await.map_err(not_allowed)?;
    state.events.room_changed(&room_id).await;
    Ok(Redirect::to(&format!("/rooms/{room_id}#post-{post_id}")).into_response())
}

pub async fn delete(
    State(state): State<AppState>,
    meta: RequestMeta,
    IdPath((_, post_id)): IdPath<(RoomId, PostId)>,
    InRoom { auth, access, room_id }: InRoom,
) -> Result<Response, AppError> {
    let audit = post_audit(&state, &meta, &auth, AuditAction::PostDelete, &room_id, &post_id);
    state.store.delete_post(&access, &post_id, &audit).await.map_err(not_allowed)?;
    state.events.room_changed(&room_id).await;
    Ok(Redirect::to(&format!("/rooms/{room_id}")).into_response())
}

/// An audit entry of `action` on one post, naming its room.
fn post_audit(
    state: &AppState,
    meta: &RequestMeta,
    auth: &Auth,
    action: AuditAction,
    room_id: &str,
    post_id: &str,
) -> AuditDraft {
    let mut audit = auth.audit(meta, state.clock.now_ms(), action, "post", post_id);
    audit.detail = format!("room={room_id}");
    audit
}
