//! A member's requests to add or remove someone, or to close the room (D6, D7).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use renraku_domain::FieldError;
use renraku_domain::ids::{AccountId, RoomId};
use renraku_store::{ClosingReason, NewRoomRequest, RequestKind, RequestStatus, RoomAccess};

use super::InRoom;
use crate::AppState;
use crate::auth::{Auth, RequestMeta};
use crate::csrf::CsrfToken;
use crate::error::AppError;
use crate::forms::{Form, FormState};
use crate::services::{ServiceError, rooms};
use crate::views::{Choice, Chrome, choices, render};

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
    let note = renraku_domain::text::as_typed(form.get("note")).to_string();
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
    // A value that is no account id names nobody: the same answer as an unknown account.
    let target_account_id = match kind {
        RequestKind::Close => None,
        _ => match AccountId::parse(form.get("account_id")) {
            Some(account) => Some(account),
            None if echo.has_errors() => None,
            None => {
                echo.error(FieldError::new("account_id", "対象の利用者を選択してください。"));
                return again(echo).await;
            }
        },
    };
    if echo.has_errors() {
        return again(echo).await;
    }
    let request = NewRoomRequest { kind, target_account_id, closing_reason, note };
    let done = match rooms::request(&state, &meta, &auth, &access, &request).await {
        Ok(RequestStatus::Approved) => "applied",
        Ok(_) => "requested",
        Err(ServiceError::Field(e)) => {
            echo.error(e);
            return again(echo).await;
        }
        Err(e) => return Err(e.into()),
    };
    Ok(Redirect::to(&format!("/rooms/{room_id}?done={done}")).into_response())
}

#[derive(Template)]
#[template(path = "rooms/requests.html")]
struct RequestFormPage {
    chrome: Chrome,
    room_id: RoomId,
    candidates: Vec<(AccountId, String)>,
    current: Vec<(AccountId, String)>,
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
    let (current, candidates) = rooms::request_choices(state, meta, auth, access).await?;
    let candidates = candidates
        .into_iter()
        .map(|a| (a.id.clone(), format!("{}（{}）", a.profile.name, a.profile.profession.label())))
        .collect();
    let room = access.room();
    Ok(RequestFormPage {
        chrome: Chrome::new(format!("{} への依頼", room.name), csrf, Some(auth)),
        room_id: room.id.clone(),
        candidates,
        current,
        closing_reasons: choices::<ClosingReason>(),
        form,
        max_note_chars: MAX_NOTE_CHARS,
    })
}
