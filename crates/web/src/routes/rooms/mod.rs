//! The 連絡帳 for members (D3–D5): the room list with unread counts, the timeline, posting,
//! replies, read receipts, acknowledgements, edits with history, deletion and the vitals chart.
//! Every handler of a room takes [`InRoom`], which holds the [`RoomAccess`] from [`access`]:
//! current members only (the municipality reads through its own oversight page). Every read and
//! write is audited. One file per part: `posts`, `files`, `vitals`, `requests`, `live`.

mod files;
mod live;
mod posts;
mod requests;
mod vitals;

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts, RawPathParams, RawQuery, State};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use renraku_domain::ids::{AccountId, PostId};
use renraku_domain::rooms::{Importance, MAX_POST_CHARS, PostCategory, VITALS, Vitals, format_scaled};
use renraku_store::{PostView, RoomAccess, RoomId, RoomSummary};

use crate::AppState;
use crate::auth::{Auth, RequestMeta, SignedIn};
use crate::csrf::CsrfToken;
use crate::error::AppError;
use crate::forms::FormState;
use crate::path_ids;
use crate::services::posts::{Timeline, mark_room_read, mark_seen, timeline};
use crate::services::rooms::{current_members, my_rooms};
use crate::views::{Choice, Chrome, choices, jst, render};

use files::{file, thumbnail};
use live::events;
use posts::{acknowledge, create, delete, edit, edit_form, readers, reply};
use requests::{request, request_form};
use vitals::vitals;

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

/// The proof that the signed-in member may read this room, or "not found" (a non-member learns
/// nothing, not even that the room exists).
pub async fn access(state: &AppState, auth: &Auth, room_id: &RoomId) -> Result<RoomAccess, AppError> {
    state.store.authorize_room(&auth.account.id, room_id).await?.ok_or(AppError::NotFound("部屋"))
}

/// Every room page's start: the signed-in member, and the proof that they may read the room of
/// the path's `{id}`, found before the handler runs (a non-member gets "not found", and so does
/// a path whose `{id}` is not a well-formed id, before any query).
pub struct InRoom {
    pub auth: Auth,
    pub access: RoomAccess,
    /// The room's id, as in the path.
    pub room_id: RoomId,
}

impl FromRequestParts<AppState> for InRoom {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let SignedIn(auth) =
            SignedIn::from_request_parts(parts, state).await.map_err(IntoResponse::into_response)?;
        let params =
            RawPathParams::from_request_parts(parts, state).await.map_err(IntoResponse::into_response)?;
        let room_id: RoomId = path_ids::named(&params, "id").map_err(IntoResponse::into_response)?;
        let access = access(state, &auth, &room_id).await.map_err(IntoResponse::into_response)?;
        Ok(InRoom { auth, access, room_id })
    }
}

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
    only_unread: bool,
    rooms: Vec<RoomItem>,
    total_unread: i64,
}

/// The member's rooms, named after their patients: each view is audited.
pub async fn list(
    State(state): State<AppState>,
    meta: RequestMeta,
    csrf: CsrfToken,
    SignedIn(auth): SignedIn,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let only_unread = query
        .and_then(|q| crate::forms::parse_urlencoded(q.as_bytes()).ok())
        .is_some_and(|form| form.get("unread") == "1");
    let list = my_rooms(&state, &meta, &auth, only_unread).await?;
    let rooms = list
        .rooms
        .into_iter()
        .map(|summary| RoomItem {
            at: summary.latest.as_ref().map(|(at, _)| jst(*at)).unwrap_or_default(),
            preview: summary.latest.as_ref().map(|(_, body)| preview(body)).unwrap_or_default(),
            summary,
        })
        .collect();
    let page = ListPage {
        chrome: Chrome::new("部屋一覧", &csrf, Some(&auth)),
        only_unread,
        rooms,
        total_unread: list.total_unread,
    };
    Ok(render(page)?.into_response())
}

/// A room in the list, with its latest post's time and one-line preview.
pub struct RoomItem {
    pub summary: RoomSummary,
    pub at: String,
    pub preview: String,
}

/// The first line with text of a post, at most 60 characters (the page cuts it to one line).
fn preview(body: &str) -> String {
    let line = body.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or_default();
    let mut chars = line.chars();
    let head: String = chars.by_ref().take(60).collect();
    if chars.next().is_some() { format!("{head}…") } else { head }
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

pub fn item(post: PostView, me: &AccountId, replies: Vec<PostItem>) -> PostItem {
    PostItem {
        html: post.text.to_html(),
        at: jst(post.created_at_ms),
        edited: post.edited_at_ms.map(jst).unwrap_or_default(),
        vitals: vitals_rows(&post.vitals),
        mine: post.author_account_id == *me,
        replies,
        post,
    }
}

#[derive(Template)]
#[template(path = "rooms/room.html")]
pub struct RoomPage {
    pub chrome: Chrome,
    pub room_id: RoomId,
    pub writable: bool,
    pub oversight: bool,
    pub read_only_reason: &'static str,
    pub posts: Vec<PostItem>,
    pub older: Option<PostId>,
    pub form: FormState,
    pub categories: Vec<Choice>,
    pub importances: Vec<Choice>,
    pub vitals_fields: Vec<(&'static str, &'static str, &'static str)>,
    /// Members who can be mentioned (everyone current but oneself).
    pub mentionable: Vec<(AccountId, String)>,
    /// The posts and replies on the page, whose reading is recorded by the caller.
    pub shown: Vec<PostId>,
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
    before: Option<&PostId>,
    form: FormState,
) -> Result<RoomPage, AppError> {
    // Taken before reading, so that a change racing with this page is never lost to live updates.
    let rendered_at_ms = state.clock.now_ms();
    let Timeline { posts, replies, older, shown } = timeline(state, access, before).await?;
    let me = access.account_id();
    let items = posts
        .into_iter()
        .map(|p| {
            let mine: Vec<PostItem> = replies
                .iter()
                .filter(|r| r.parent_id.as_ref() == Some(&p.id))
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
        categories: choices::<PostCategory>(),
        importances: choices::<Importance>(),
        vitals_fields: VITALS.iter().map(|v| (v.field, v.label, v.unit)).collect(),
        shown,
        notice: "",
        rendered_at_ms,
        idempotency_key,
        max_chars: MAX_POST_CHARS,
    })
}

/// `done=requested` or `done=applied` after a request.
fn query_flag(query: &str) -> Option<&str> {
    query.split('&').find_map(|kv| kv.strip_prefix("done="))
}

/// The cursor of an older page; one that is no post id is no cursor (the newest page).
fn before_of(query: Option<String>) -> Option<PostId> {
    let query = query?;
    let form = crate::forms::parse_urlencoded(query.as_bytes()).ok()?;
    PostId::parse(form.get("before"))
}

pub async fn show(
    State(state): State<AppState>,
    meta: RequestMeta,
    csrf: CsrfToken,
    InRoom { auth, access, .. }: InRoom,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    // `static/app.js` marks the page's own live refreshes.
    let refresh = headers.get("x-renraku-refresh").is_some_and(|v| v == "1");
    let query_text = query.clone().unwrap_or_default();
    let before = before_of(query);
    let mut page = room_page(&state, &csrf, &auth, &access, before.as_ref(), FormState::default()).await?;
    page.notice = match query_flag(&query_text) {
        Some("requested") => "依頼を送りました。市区町村の確認後に反映されます。",
        Some("applied") => "参加者を追加しました。",
        _ => "",
    };
    mark_seen(&state, &meta, &auth, &access, &page.shown, refresh).await?;
    Ok(render(page)?.into_response())
}

/// "Mark all read" for one room, from the room list.
pub async fn mark_all_read(
    State(state): State<AppState>,
    meta: RequestMeta,
    InRoom { auth, access, .. }: InRoom,
) -> Result<Response, AppError> {
    mark_room_read(&state, &meta, &auth, &access).await?;
    Ok(Redirect::to("/rooms").into_response())
}
