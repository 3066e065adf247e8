//! A member's requests to add or remove someone, or to close the room (D6, D7).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use renraku_domain::FieldError;
use renraku_domain::audit_action::AuditAction;
use renraku_domain::ids::{AccountId, RoomId};
use renraku_store::{ClosingReason, NewRoomRequest, RequestKind, RequestStatus, RoomAccess, StoreError};

use super::{InRoom, current_members, not_allowed};
use crate::AppState;
use crate::auth::{Auth, RequestMeta};
use crate::csrf::CsrfToken;
use crate::error::AppError;
use crate::forms::{Form, FormState};
use crate::views::{Choice, Chrome, render};

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
    let mut audit = auth.audit(&meta, state.clock.now_ms(), AuditAction::RoomRequest, "room_request", "");
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
    if !access.can_write() {
        return Err(not_allowed(StoreError::NotAllowed));
    }
    let room = access.room();
    // The page names the patient (the room's name) and lists the care team: a read.
    state
        .store
        .append_audit(&auth.audit(meta, state.clock.now_ms(), AuditAction::RoomMembersRead, "room", &room.id))
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
        // Hand-written in the store crate, not a `code_enum!` list (yet).
        closing_reasons: ClosingReason::ALL
            .iter()
            .map(|r| Choice { value: r.code(), label: r.label() })
            .collect(),
        form,
        max_note_chars: MAX_NOTE_CHARS,
    })
}
