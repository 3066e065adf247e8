//! The 連絡帳 for members (D3–D5): the room list with unread counts, the timeline, posting,
//! replies, read receipts, acknowledgements, edits with history, deletion and the vitals chart.
//! Every handler gets a [`RoomAccess`] from [`access`] first: current members only (the
//! municipality reads through its own oversight page). Every read and write is audited.

use askama::Template;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::{FromRequestParts, Path, RawPathParams, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use renraku_attachments::inspect;
use renraku_domain::FieldError;
use renraku_domain::rooms::{
    Importance, MAX_POST_CHARS, PostCategory, PostText, VITALS, Vitals, format_scaled,
};
use renraku_store::ANNOUNCE_EVERY_ROOM;
use renraku_store::{
    Attachment, ClosingReason, NewPost, NewRoomRequest, PostView, RequestKind, RequestStatus, RoomAccess,
    RoomSummary, StoreError,
};
use tokio::sync::broadcast;

use crate::AppState;
use crate::auth::{Auth, RequestMeta, SignedIn};
use crate::csrf::CsrfToken;
use crate::error::AppError;
use crate::forms::{Form, FormState};
use crate::uploads::{FormWithFiles, Upload};
use crate::views::{Chrome, jst, render};

/// The routes of this feature, merged into the application by [`super::router`].
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/rooms", get(list))
        .route("/rooms/{id}", get(show))
        .route("/rooms/{id}/posts", post(create).layer(DefaultBodyLimit::max(crate::MAX_UPLOAD_BYTES)))
        .route("/rooms/{id}/files/{file}", get(file))
        .route("/rooms/{id}/files/{file}/thumb", get(thumbnail))
        .route("/rooms/{id}/vitals", get(vitals))
        .route("/rooms/{id}/events", get(events))
        .route("/rooms/{id}/requests", get(request_form).post(request))
        .route("/rooms/{id}/read", post(mark_all_read))
        .route("/rooms/{id}/posts/{post}/replies", post(reply))
        .route("/rooms/{id}/posts/{post}/ack", post(acknowledge))
        .route("/rooms/{id}/posts/{post}/readers", get(readers))
        .route("/rooms/{id}/posts/{post}/edit", get(edit_form).post(edit))
        .route("/rooms/{id}/posts/{post}/delete", post(delete))
}

/// Posts per timeline page.
pub const PAGE: i64 = 30;

/// The proof that the signed-in member may read this room, or "not found" (a non-member learns
/// nothing, not even that the room exists).
pub async fn access(state: &AppState, auth: &Auth, room_id: &str) -> Result<RoomAccess, AppError> {
    state.store.authorize_room(&auth.account.id, room_id).await?.ok_or(AppError::NotFound("部屋"))
}

/// Every room page's start: the signed-in member, and the proof that they may read the room of
/// the path's `{id}`, found before the handler runs (a non-member gets "not found").
pub struct InRoom {
    pub auth: Auth,
    pub access: RoomAccess,
    /// The room's id, as in the path.
    pub room_id: String,
}

impl FromRequestParts<AppState> for InRoom {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let SignedIn(auth) =
            SignedIn::from_request_parts(parts, state).await.map_err(IntoResponse::into_response)?;
        let params =
            RawPathParams::from_request_parts(parts, state).await.map_err(IntoResponse::into_response)?;
        let room_id = params
            .iter()
            .find_map(|(name, value)| (name == "id").then(|| value.to_string()))
            .ok_or_else(|| AppError::NotFound("部屋").into_response())?;
        let access = access(state, &auth, &room_id).await.map_err(IntoResponse::into_response)?;
        Ok(InRoom { auth, access, room_id })
    }
}

fn not_allowed(e: StoreError) -> AppError {
    match e {
        StoreError::NotAllowed => {
            AppError::Forbidden("この部屋には書き込めません（閲覧のみ、または投稿者本人ではありません）。")
        }
        StoreError::NotFound => AppError::NotFound("投稿"),
        StoreError::NotMember => AppError::BadRequest(LEFT_THE_ROOM.into()),
        e => e.into(),
    }
}

const LEFT_THE_ROOM: &str = "お知らせする相手に、今はこの部屋の参加者でない人（部屋を離れた人）が含まれています。相手を選び直して、もう一度投稿してください。";

/// Memory for decoding photos at the same time, in MiB: the largest photo accepted alone (one
/// that needs more is refused from its header), or several smaller ones together (a
/// 12-megapixel photo needs about 55 MiB).
const DECODING_BUDGET_MIB: u32 = (inspect::DECODING_BUDGET_BYTES / 1024 / 1024) as u32;
static DECODING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(DECODING_BUDGET_MIB as usize);

/// The one-time key a post form carries (see [`NewPost::idempotency_key`]); a malformed one is
/// treated as none.
fn idempotency_key(key: &str) -> Option<String> {
    ((16..=100).contains(&key.len())
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    .then(|| key.to_string())
}

#[derive(Template)]
#[template(path = "rooms/list.html")]
struct ListPage {
    chrome: Chrome,
    rooms: Vec<RoomSummary>,
    total_unread: i64,
}

/// The member's rooms, named after their patients: each view is audited.
pub async fn list(
    State(state): State<AppState>,
    meta: RequestMeta,
    csrf: CsrfToken,
    SignedIn(auth): SignedIn,
) -> Result<Response, AppError> {
    let rooms = state.store.my_rooms(&auth.account.id).await?;
    let mut audit = auth.audit(&meta, state.clock.now_ms(), "room.list_viewed", "room_list", "");
    audit.detail = format!("rooms={}", rooms.len());
    state.store.append_audit(&audit).await?;
    let total_unread = rooms.iter().map(|r| r.unread).sum();
    Ok(render(ListPage { chrome: Chrome::new("部屋一覧", &csrf, Some(&auth)), rooms, total_unread })?
        .into_response())
}

/// A post ready for the page: its text already escaped, its vitals formatted.
pub struct PostItem {
    pub post: PostView,
    pub html: String,
    pub at: String,
    pub edited: String,
    pub vitals: Vec<(&'static str, String, &'static str)>,
    pub mine: bool,
    pub replies: Vec<PostItem>,
}

fn vitals_rows(v: &Vitals) -> Vec<(&'static str, String, &'static str)> {
    VITALS
        .iter()
        .zip(v.values())
        .filter_map(|(spec, value)| value.map(|x| (spec.label, format_scaled(x, spec.decimals), spec.unit)))
        .collect()
}

pub fn item(post: PostView, me: &str, replies: Vec<PostItem>) -> PostItem {
    PostItem {
        html: post.text.to_html(),
        at: jst(post.created_at_ms),
        edited: post.edited_at_ms.map(jst).unwrap_or_default(),
        vitals: vitals_rows(&post.vitals),
        mine: post.author_account_id == me,
        replies,
        post,
    }
}

pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
}

#[derive(Template)]
#[template(path = "rooms/room.html")]
pub struct RoomPage {
    pub chrome: Chrome,
    pub room_id: String,
    pub writable: bool,
    pub oversight: bool,
    pub read_only_reason: &'static str,
    pub posts: Vec<PostItem>,
    pub older: Option<String>,
    pub form: FormState,
    pub categories: Vec<Choice>,
    pub importances: Vec<Choice>,
    pub vitals_fields: Vec<(&'static str, &'static str, &'static str)>,
    /// Members who can be mentioned (everyone current but oneself).
    pub mentionable: Vec<(String, String)>,
    /// The posts and replies on the page, whose reading is recorded by the caller.
    pub shown: Vec<String>,
    pub notice: &'static str,
    /// When the page was made, so live updates can catch up on what came after.
    pub rendered_at_ms: i64,
    /// The post form's one-time key (kept when the form comes back with an error); each reply
    /// form's is this with the post's id.
    pub idempotency_key: String,
    pub max_chars: usize,
}

/// The timeline page for `access`, newest first from `before`, with replies under each post.
pub async fn room_page(
    state: &AppState,
    csrf: &CsrfToken,
    auth: &Auth,
    access: &RoomAccess,
    before: Option<&str>,
    form: FormState,
) -> Result<RoomPage, AppError> {
    // Taken before reading, so that a change racing with this page is never lost to live updates.
    let rendered_at_ms = state.clock.now_ms();
    let posts = state.store.timeline(access, before, PAGE + 1).await?;
    let older = (posts.len() as i64 > PAGE).then(|| posts[PAGE as usize - 1].id.clone());
    let posts: Vec<PostView> = posts.into_iter().take(PAGE as usize).collect();
    let ids: Vec<String> = posts.iter().map(|p| p.id.clone()).collect();
    let replies = state.store.replies(access, &ids).await?;
    let mut shown: Vec<String> = ids.clone();
    shown.extend(replies.iter().map(|r| r.id.clone()));
    let me = access.account_id();
    let items = posts
        .into_iter()
        .map(|p| {
            let mine: Vec<PostItem> = replies
                .iter()
                .filter(|r| r.parent_id.as_deref() == Some(&p.id))
                .cloned()
                .map(|r| item(r, me, vec![]))
                .collect();
            item(p, me, mine)
        })
        .collect();
    let room = access.room();
    let oversight = access.kind() == renraku_store::AccessKind::Oversight;
    let idempotency_key =
        idempotency_key(form.v("idempotency_key")).unwrap_or_else(crate::secrets::random_token);
    let current = if access.can_write() { current_members(state, room).await? } else { vec![] };
    let mentionable = current.iter().filter(|(id, _)| id != me).cloned().collect();
    Ok(RoomPage {
        mentionable,
        chrome: Chrome::new(
            if oversight { format!("{}（監督閲覧）", room.name) } else { room.name.clone() },
            csrf,
            Some(auth),
        ),
        room_id: room.id.clone(),
        writable: access.can_write(),
        oversight,
        read_only_reason: if room.status == renraku_store::RoomStatus::Open {
            ""
        } else {
            "この部屋は閲覧のみです（同意の撤回または終了）。"
        },
        posts: items,
        older,
        form,
        categories: PostCategory::ALL.iter().map(|c| Choice { value: c.code(), label: c.label() }).collect(),
        importances: Importance::ALL.iter().map(|c| Choice { value: c.code(), label: c.label() }).collect(),
        vitals_fields: VITALS.iter().map(|v| (v.field, v.label, v.unit)).collect(),
        shown,
        notice: "",
        rendered_at_ms,
        idempotency_key,
        max_chars: MAX_POST_CHARS,
    })
}

/// The room's current members as (account id, "name（職種・事業所）").
async fn current_members(
    state: &AppState,
    room: &renraku_store::Room,
) -> Result<Vec<(String, String)>, AppError> {
    let members = state.store.members(&room.municipality_id, &room.id).await?;
    Ok(members
        .into_iter()
        .filter(|m| m.left_at_ms.is_none())
        .map(|m| (m.account_id, format!("{}（{}・{}）", m.name, m.occupation, m.facility)))
        .collect())
}

/// `done=requested` or `done=applied` after a request.
fn query_flag(query: &str) -> Option<&str> {
    query.split('&').find_map(|kv| kv.strip_prefix("done="))
}

fn before_of(query: Option<String>) -> Option<String> {
    let query = query?;
    let form = crate::forms::parse_urlencoded(query.as_bytes()).ok()?;
    let before = form.get("before");
    (!before.is_empty() && before.len() <= 64).then(|| before.to_string())
}

pub async fn show(
    State(state): State<AppState>,
    meta: RequestMeta,
    csrf: CsrfToken,
    InRoom { auth, access, .. }: InRoom,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let query_text = query.clone().unwrap_or_default();
    let before = before_of(query);
    let mut page = room_page(&state, &csrf, &auth, &access, before.as_deref(), FormState::default()).await?;
    page.notice = match query_flag(&query_text) {
        Some("requested") => "依頼を送りました。市区町村の確認後に反映されます。",
        Some("applied") => "参加者を追加しました。",
        _ => "",
    };
    seen(&state, &meta, &auth, &access, &page).await?;
    Ok(render(page)?.into_response())
}

/// What the member is about to see on `page` is read (the receipts show from the next view on),
/// recorded with the audit entry of the read in one write; the room's other open pages learn of
/// new receipts. Every path that sends a member the timeline goes through here.
async fn seen(
    state: &AppState,
    meta: &RequestMeta,
    auth: &Auth,
    access: &RoomAccess,
    page: &RoomPage,
) -> Result<(), AppError> {
    let room_id = &access.room().id;
    let audit = auth.audit(meta, state.clock.now_ms(), "room.read", "room", room_id);
    if state.store.record_read(access, &page.shown, &audit).await? > 0 {
        state.events.room_changed(room_id).await;
    }
    Ok(())
}

/// Reads the post form; errors go next to their fields.
fn parse_post(form: &Form, parent_id: Option<String>) -> Result<NewPost, FormState> {
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
    let may_be_empty = vitals.is_some_and(|v| !v.is_empty());
    let text = echo.take(PostText::parse("body", form.get("body"), may_be_empty));
    match (category, importance, vitals, text) {
        (Some(category), Some(importance), Some(vitals), Some(text)) if !echo.has_errors() => Ok(NewPost {
            parent_id,
            category,
            importance,
            text,
            ack_requested: form.checked("ack_requested"),
            vitals,
            mentions: form.all("mention").into_iter().filter(|m| !m.is_empty()).map(str::to_string).collect(),
            attachments: vec![],
            idempotency_key: idempotency_key(form.get("idempotency_key")),
        }),
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
    let mut audit = auth.audit(&meta, state.clock.now_ms(), "post.create", "room", &room_id);
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

/// Removes the stored files of `stored` that `kept` (the post as written) does not hold: a
/// post that failed leaves no file behind. A file that cannot be removed is logged (by key
/// only), never shown: the post's outcome is what the user needs.
async fn discard(state: &AppState, stored: &[Attachment], kept: &[Attachment]) {
    for a in stored.iter().filter(|a| !kept.iter().any(|k| k.id == a.id)) {
        for key in std::iter::once(&a.content_key).chain(&a.thumb_key) {
            if let Err(e) = state.blobs.delete(key).await {
                tracing::warn!(key = %key, error = %format!("{e:#}"), "an unused file was not removed");
            }
        }
    }
}

/// Checks, cleans and stores the files of a post: all are checked before any is stored, and a
/// failure to store one removes those stored before it. The outer error is the server's; the
/// inner one is the user's (a refused file, with the reason and its name).
async fn store_files(
    state: &AppState,
    files: Vec<Upload>,
) -> Result<Result<Vec<Attachment>, String>, AppError> {
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
        let id = renraku_store::new_id();
        let attachment = Attachment {
            name: inspect::clean_name(&name, processed.kind),
            kind: processed.kind.code().to_string(),
            size: processed.content.len() as i64,
            width: i64::from(processed.width),
            height: i64::from(processed.height),
            content_key: id.clone(),
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
            return Err(AppError::Internal(e));
        }
    }
    Ok(Ok(attachments))
}

/// One file through `inspect`, within the memory budget for decoding: the header says how much
/// a photo needs (and refuses a bomb) before any pixel is decoded.
async fn clean(bytes: Vec<u8>) -> Result<Result<inspect::Processed, inspect::Refused>, AppError> {
    let blocking = |e: tokio::task::JoinError| AppError::Internal(e.into());
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
        Some(DECODING.acquire_many(mib).await.map_err(|e| AppError::Internal(e.into()))?)
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
    let attachment = match state.store.attachment(access, file_id).await {
        Err(StoreError::NotFound) => return Err(AppError::NotFound("ファイル")),
        other => other?,
    };
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
        if thumb { "file.thumbnail_read" } else { "file.read" },
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

pub async fn reply(
    State(state): State<AppState>,
    meta: RequestMeta,
    csrf: CsrfToken,
    InRoom { auth, access, room_id }: InRoom,
    Path((_, post_id)): Path<(String, String)>,
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
    let mut audit = auth.audit(&meta, state.clock.now_ms(), "post.reply", "post", &post_id);
    audit.detail = format!("room={room_id}");
    state.store.create_post(&access, &post, &audit).await.map_err(not_allowed)?;
    state.events.room_changed(&room_id).await;
    Ok(Redirect::to(&format!("/rooms/{room_id}#post-{post_id}")).into_response())
}

#[derive(Template)]
#[template(path = "rooms/reply.html")]
struct ReplyPage {
    chrome: Chrome,
    room_id: String,
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
    post_id: &str,
    form: FormState,
) -> Result<Response, AppError> {
    let post = state.store.post(access, post_id).await.map_err(not_allowed)?;
    let room_id = access.room().id.clone();
    let mut audit = auth.audit(meta, state.clock.now_ms(), "post.read", "post", post_id);
    audit.detail = format!("room={room_id}");
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
    InRoom { auth, access, room_id }: InRoom,
    Path((_, post_id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let mut audit = auth.audit(&meta, state.clock.now_ms(), "post.acknowledge", "post", &post_id);
    audit.detail = format!("room={room_id}");
    state.store.acknowledge(&access, &post_id, &audit).await.map_err(not_allowed)?;
    state.events.room_changed(&room_id).await;
    Ok(Redirect::to(&format!("/rooms/{room_id}#post-{post_id}")).into_response())
}

#[derive(Template)]
#[template(path = "rooms/readers.html")]
struct ReadersPage {
    chrome: Chrome,
    room_id: String,
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
    InRoom { auth, access, room_id }: InRoom,
    Path((_, post_id)): Path<(String, String)>,
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
    let mut audit = auth.audit(&meta, state.clock.now_ms(), "post.read", "post", &post_id);
    audit.detail = format!("room={room_id}");
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
    room_id: String,
    post_id: String,
    form: FormState,
    max_chars: usize,
}

pub async fn edit_form(
    State(state): State<AppState>,
    meta: RequestMeta,
    csrf: CsrfToken,
    InRoom { auth, access, room_id }: InRoom,
    Path((_, post_id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let post = state.store.post(&access, &post_id).await.map_err(not_allowed)?;
    if post.author_account_id != auth.account.id || post.deleted_at_ms.is_some() || !access.can_write() {
        return Err(not_allowed(StoreError::NotAllowed));
    }
    // The form shows the post's text: a read.
    let mut audit = auth.audit(&meta, state.clock.now_ms(), "post.read", "post", &post_id);
    audit.detail = format!("room={room_id}");
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
    InRoom { auth, access, room_id }: InRoom,
    Path((_, post_id)): Path<(String, String)>,
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
    let mut audit = auth.audit(&meta, state.clock.now_ms(), "post.edit", "post", &post_id);
    audit.detail = format!("room={room_id}");
    state.store.edit_post(&access, &post_id, &text, &audit).await.map_err(not_allowed)?;
    state.events.room_changed(&room_id).await;
    Ok(Redirect::to(&format!("/rooms/{room_id}#post-{post_id}")).into_response())
}

pub async fn delete(
    State(state): State<AppState>,
    meta: RequestMeta,
    InRoom { auth, access, room_id }: InRoom,
    Path((_, post_id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let mut audit = auth.audit(&meta, state.clock.now_ms(), "post.delete", "post", &post_id);
    audit.detail = format!("room={room_id}");
    state.store.delete_post(&access, &post_id, &audit).await.map_err(not_allowed)?;
    state.events.room_changed(&room_id).await;
    Ok(Redirect::to(&format!("/rooms/{room_id}")).into_response())
}

#[derive(Template)]
#[template(path = "rooms/vitals.html")]
struct VitalsPage {
    chrome: Chrome,
    room_id: String,
    charts: Vec<(&'static str, String)>,
    rows: Vec<(String, Vec<String>)>,
    headers: Vec<String>,
}

pub async fn vitals(
    State(state): State<AppState>,
    meta: RequestMeta,
    csrf: CsrfToken,
    InRoom { auth, access, room_id }: InRoom,
) -> Result<Response, AppError> {
    let points = state.store.vitals(&access).await?;
    let charts = crate::charts::vitals_charts(&points);
    let headers = VITALS.iter().map(|v| format!("{}（{}）", v.label, v.unit)).collect();
    let rows = points
        .iter()
        .rev()
        .map(|p| {
            let cells = VITALS
                .iter()
                .zip(p.vitals.values())
                .map(|(spec, v)| v.map(|x| format_scaled(x, spec.decimals)).unwrap_or_default())
                .collect();
            (jst(p.at_ms), cells)
        })
        .collect();
    let mut audit = auth.audit(&meta, state.clock.now_ms(), "vitals.read", "room", &room_id);
    audit.detail = format!("points={}", points.len());
    state.store.append_audit(&audit).await?;
    let page = VitalsPage {
        chrome: Chrome::new(format!("{} バイタル", access.room().name), &csrf, Some(&auth)),
        room_id,
        charts,
        rows,
        headers,
    };
    Ok(render(page)?.into_response())
}

/// Longest 補足 of a request.
const MAX_NOTE_CHARS: usize = 500;

/// A member's request to add or remove someone, or to close the room (D6, D7). A mistake brings
/// the request page back with what was typed and the reason beside the field.
pub async fn request(
    State(state): State<AppState>,
    meta: RequestMeta,
    csrf: CsrfToken,
    InRoom { auth, access, room_id }: InRoom,
    form: Form,
) -> Result<Response, AppError> {
    let kind = RequestKind::from_code(form.get("kind"))
        .ok_or_else(|| AppError::BadRequest("依頼の種類を選択してください。".into()))?;
    let mut echo = form.echo();
    let again = |echo: FormState| async {
        let page = request_page(&state, &meta, &csrf, &auth, &access, echo).await?;
        Ok::<Response, AppError>((StatusCode::UNPROCESSABLE_ENTITY, render(page)?).into_response())
    };
    let note = renraku_domain::text::normalize(form.get("note"));
    if note.chars().count() > MAX_NOTE_CHARS {
        echo.error(FieldError::new("note", format!("補足は{MAX_NOTE_CHARS}文字以内にしてください。")));
    }
    let closing_reason = match kind {
        RequestKind::Close => {
            let reason = ClosingReason::from_code(form.get("closing_reason"));
            if reason.is_none() {
                echo.error(FieldError::new("closing_reason", "終了の理由を選択してください。"));
            }
            reason
        }
        _ => None,
    };
    if echo.has_errors() {
        return again(echo).await;
    }
    let request = NewRoomRequest {
        kind,
        target_account_id: (kind != RequestKind::Close).then(|| form.get("account_id").to_string()),
        closing_reason,
        note,
    };
    let mut audit = auth.audit(&meta, state.clock.now_ms(), "room.request", "room_request", "");
    audit.detail = format!("kind={}", kind.code());
    let done = match state.store.request(&access, &request, &audit).await {
        Ok(RequestStatus::Approved) => {
            state.events.room_changed(&room_id).await;
            "applied"
        }
        Ok(_) => "requested",
        Err(StoreError::Taken(_)) => {
            echo.error(FieldError::new("account_id", "その利用者は既に参加しているか、参加していません。"));
            return again(echo).await;
        }
        Err(StoreError::NotFound) => {
            echo.error(FieldError::new("account_id", "対象の利用者を選択してください。"));
            return again(echo).await;
        }
        Err(e) => return Err(not_allowed(e)),
    };
    Ok(Redirect::to(&format!("/rooms/{room_id}?done={done}")).into_response())
}

/// Server-Sent Events for one open room: `update` whenever it changes. Membership is checked
/// when the stream opens, again before each event and at least every minute; a member who leaves
/// stops hearing at once.
pub async fn events(
    State(state): State<AppState>,
    InRoom { auth, access, room_id }: InRoom,
    RawQuery(query): RawQuery,
) -> Result<Sse<impl futures_util::Stream<Item = Result<Event, std::convert::Infallible>>>, AppError> {
    let slot = state.events.open_stream(&auth.session.id).ok_or(AppError::TooManyStreams)?;
    let receiver = state.events.subscribe();
    // A page that connects after something changed hears about it at once.
    let since = query
        .as_deref()
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("since=")))
        .and_then(|v| v.parse::<i64>().ok());
    let missed = match since {
        Some(since) => state.store.changed_since(&access, since).await?,
        None => false,
    };
    let account = (auth.account.id.clone(), auth.session.identity_id.clone(), auth.session.id.clone());
    // The stream holds its place in the session's share until it ends, and ends at shutdown.
    let closing = Box::pin(state.events.closing());
    let stream = futures_util::stream::unfold(
        (receiver, state, account, room_id, missed, (slot, closing)),
        |(mut rx, state, account, room, missed, mut held)| async move {
            let update = |room: &str| Event::default().event("update").data(room);
            if missed {
                let event = update(&room);
                return Some((Ok(event), (rx, state, account, room, false, held)));
            }
            loop {
                let next = tokio::select! {
                    () = &mut held.1 => return None,
                    next = tokio::time::timeout(std::time::Duration::from_secs(60), rx.recv()) => next,
                };
                // Still a member, and still signed in: a sign-out or a revoked session ends the
                // stream as surely as leaving the room. `None` when the database cannot say
                // (an outage): nothing is sent, and the stream waits to ask again.
                let still_member = || async {
                    let (account, identity, session) = &account;
                    let now = state.clock.now_ms();
                    let member = match state.store.authorize_room(account, &room).await {
                        Ok(access) => access.is_some(),
                        Err(_) => return None,
                    };
                    match state.store.sessions_of_identity(identity, now).await {
                        Ok(live) => Some(member && live.iter().any(|s| s.id == *session)),
                        Err(_) => None,
                    }
                };
                match next {
                    Ok(Ok(changed)) if changed != room && changed != ANNOUNCE_EVERY_ROOM => continue,
                    Ok(Ok(_)) | Ok(Err(broadcast::error::RecvError::Lagged(_))) => match still_member().await
                    {
                        Some(true) => {
                            let event = update(&room);
                            return Some((Ok(event), (rx, state, account, room, false, held)));
                        }
                        Some(false) => return None,
                        None => continue,
                    },
                    Ok(Err(broadcast::error::RecvError::Closed)) => return None,
                    Err(_) => match still_member().await {
                        Some(false) => return None,
                        Some(true) | None => continue,
                    },
                }
            }
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// "Mark all read" for one room, from the room list.
pub async fn mark_all_read(
    State(state): State<AppState>,
    meta: RequestMeta,
    InRoom { auth, access, room_id }: InRoom,
) -> Result<Response, AppError> {
    let audit = auth.audit(&meta, state.clock.now_ms(), "room.mark_read", "room", &room_id);
    if state.store.mark_room_read(&access, &audit).await? > 0 {
        state.events.room_changed(&room_id).await;
    }
    Ok(Redirect::to("/rooms").into_response())
}

#[derive(Template)]
#[template(path = "rooms/requests.html")]
struct RequestFormPage {
    chrome: Chrome,
    room_id: String,
    candidates: Vec<(String, String)>,
    current: Vec<(String, String)>,
    closing_reasons: Vec<Choice>,
    /// What was typed into the form that came back (its `kind` says which), and its errors.
    form: FormState,
    max_note_chars: usize,
}

/// The forms to ask for someone to be added or removed, or for the room to be closed.
pub async fn request_form(
    State(state): State<AppState>,
    meta: RequestMeta,
    csrf: CsrfToken,
    InRoom { auth, access, .. }: InRoom,
) -> Result<Response, AppError> {
    Ok(render(request_page(&state, &meta, &csrf, &auth, &access, FormState::default()).await?)?
        .into_response())
}

async fn request_page(
    state: &AppState,
    meta: &RequestMeta,
    csrf: &CsrfToken,
    auth: &Auth,
    access: &RoomAccess,
    form: FormState,
) -> Result<RequestFormPage, AppError> {
    if !access.can_write() {
        return Err(not_allowed(StoreError::NotAllowed));
    }
    let room = access.room();
    // The page names the patient (the room's name) and lists the care team: a read.
    state
        .store
        .append_audit(&auth.audit(meta, state.clock.now_ms(), "room.members_read", "room", &room.id))
        .await?;
    let current = current_members(state, room).await?;
    let candidates = state
        .store
        .accounts(&room.municipality_id, None)
        .await?
        .into_iter()
        .filter(|a| {
            a.role == renraku_domain::directory::Role::Member
                && a.status == renraku_domain::directory::AccountStatus::Active
                && !current.iter().any(|(id, _)| *id == a.id)
        })
        .map(|a| (a.id.clone(), format!("{}（{}）", a.profile.name, a.profile.profession.label())))
        .collect();
    Ok(RequestFormPage {
        chrome: Chrome::new(format!("{} への依頼", room.name), csrf, Some(auth)),
        room_id: room.id.clone(),
        candidates,
        current,
        closing_reasons: ClosingReason::ALL
            .iter()
            .map(|r| Choice { value: r.code(), label: r.label() })
            .collect(),
        form,
        max_note_chars: MAX_NOTE_CHARS,
    })
}
