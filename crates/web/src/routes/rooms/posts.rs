//! Writing in a room: a post (with its files), a reply, an acknowledgement (確認), an edit with
//! its history kept, a deletion; and the page of who read a post.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use renraku_domain::FieldError;
use renraku_domain::ids::AccountId;
use renraku_domain::ids::{PostId, RoomId};
use renraku_domain::rooms::{Importance, MAX_POST_CHARS, PostCategory, PostText, Vitals};
use renraku_store::{NewPost, RoomAccess};

use super::{InRoom, PostItem, idempotency_key, item, room_page};
use crate::AppState;
use crate::auth::{Auth, RequestMeta};
use crate::csrf::CsrfToken;
use crate::error::AppError;
use crate::forms::{Form, FormState};
use crate::path_ids::IdPath;
use crate::services::ServiceError;
use crate::services::posts::{self, PostHistory};
use crate::uploads::FormWithFiles;
use crate::views::{Chrome, jst, render};

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
        echo.error(FieldError::new("mention", posts::LEFT_THE_ROOM));
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
        posts::mark_seen(&state, &meta, &auth, &access, &page.shown, false).await?;
        Ok::<Response, AppError>((StatusCode::UNPROCESSABLE_ENTITY, render(page)?).into_response())
    };
    let post = match parse_post(&upload.form, None) {
        Ok(p) => p,
        Err(echo) => return again(echo).await,
    };
    match posts::post_to_room(&state, &meta, &auth, &access, post, upload.files).await {
        Ok(()) => Ok(Redirect::to(&format!("/rooms/{room_id}")).into_response()),
        Err(ServiceError::Field(e)) => {
            let mut echo = upload.form.echo();
            echo.error(e);
            again(echo).await
        }
        Err(e) => Err(e.into()),
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
    posts::reply(&state, &meta, &auth, &access, &post_id, &post).await?;
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
    let post = posts::read_post(state, meta, auth, access, post_id).await?;
    let room_id = access.room().id.clone();
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
    posts::acknowledge(&state, &meta, &auth, &access, &post_id).await?;
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
    let PostHistory { post, readers, acknowledgers, versions } =
        posts::post_history(&state, &meta, &auth, &access, &post_id).await?;
    let pairs = |rs: Vec<renraku_store::Reader>| rs.into_iter().map(|r| (r.name, jst(r.at_ms))).collect();
    let readers = pairs(readers);
    let acknowledgers = pairs(acknowledgers);
    let versions =
        versions.into_iter().map(|v| (v.version, v.text.to_html(), jst(v.replaced_at_ms))).collect();
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
    let post = posts::post_to_edit(&state, &meta, &auth, &access, &post_id).await?;
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
    posts::edit_post(&state, &meta, &auth, &access, &post_id, &text).await?;
    Ok(Redirect::to(&format!("/rooms/{room_id}#post-{post_id}")).into_response())
}

pub async fn delete(
    State(state): State<AppState>,
    meta: RequestMeta,
    IdPath((_, post_id)): IdPath<(RoomId, PostId)>,
    InRoom { auth, access, room_id }: InRoom,
) -> Result<Response, AppError> {
    posts::delete_post(&state, &meta, &auth, &access, &post_id).await?;
    Ok(Redirect::to(&format!("/rooms/{room_id}")).into_response())
}
