//! Use cases: the workflows behind the pages. A handler parses its input, calls one use case
//! and renders what it returns; the use case checks, decides and stores, and its store call
//! commits the change together with its audit entry in one transaction. What the committed
//! change means for other pages is recorded in [`Effects`] and published by
//! [`Effects::publish`], the one place that announces live updates, only after the commit.
//! A use case refuses with a [`ServiceError`], which a handler turns into its page (a field
//! error next to the field) or, with `?`, into the error page.

pub mod accounts;
pub mod attachments;
pub mod careplan;
pub mod municipalities;
pub mod posts;
pub mod room_views;
pub mod rooms;
pub mod sign_in;

use renraku_domain::FieldError;
use renraku_domain::ids::RoomId;
use renraku_store::StoreError;

use crate::AppState;
use crate::error::AppError;

/// Why a use case did not do what was asked: the refusals a page shows, or a failure.
#[derive(Debug)]
pub enum ServiceError {
    /// The thing named is not there (or not this user's to see).
    NotFound(&'static str),
    /// The room cannot be written in by this user: read-only, oversight, or not the author.
    ReadOnly,
    /// Not allowed to this user, said as it is.
    Forbidden(&'static str),
    /// A refusal that belongs next to one field of the form.
    Field(FieldError),
    /// A refusal of the whole request, said as it is.
    Refused(String),
    /// Any other store outcome, shown as the store's errors are everywhere.
    Store(StoreError),
    /// The server is too busy to do it now (password hashing at its limit); try again.
    Busy,
    /// The server failed (the blob store, the blocking pool).
    Internal(anyhow::Error),
}

/// What a page says when a member may not write in a room.
pub const READ_ONLY: &str = "この部屋には書き込めません（閲覧のみ、または投稿者本人ではありません）。";

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        ServiceError::Store(e)
    }
}

impl From<ServiceError> for AppError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::NotFound(what) => AppError::NotFound(what),
            ServiceError::ReadOnly => AppError::Forbidden(READ_ONLY),
            ServiceError::Forbidden(message) => AppError::Forbidden(message),
            ServiceError::Field(e) => AppError::BadRequest(e.message),
            ServiceError::Refused(message) => AppError::BadRequest(message),
            ServiceError::Store(e) => e.into(),
            ServiceError::Busy => AppError::Busy,
            ServiceError::Internal(e) => AppError::Internal(e),
        }
    }
}

/// What a committed change means for pages open elsewhere. A use case records an effect only
/// after its store call returned `Ok` (the change is committed), and publishes them at its end.
#[derive(Debug, Default)]
#[must_use = "effects are published with `Effects::publish`"]
pub struct Effects {
    rooms_changed: Vec<RoomId>,
}

impl Effects {
    /// The room's timeline, members or state changed: its open pages fetch it again.
    pub fn room_changed(mut self, room_id: &RoomId) -> Self {
        if !self.rooms_changed.contains(room_id) {
            self.rooms_changed.push(room_id.clone());
        }
        self
    }

    /// Announces the committed changes (live updates). The one place that does.
    pub async fn publish(self, state: &AppState) {
        for room_id in &self.rooms_changed {
            state.events.room_changed(room_id).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_room_changed_twice_is_announced_once() {
        let (a, b) = (RoomId::from_stored("a".into()), RoomId::from_stored("b".into()));
        let effects = Effects::default().room_changed(&a).room_changed(&b).room_changed(&a);
        assert_eq!(effects.rooms_changed, [a, b]);
        assert!(Effects::default().rooms_changed.is_empty());
    }

    #[test]
    fn refusals_become_the_pages_they_were() {
        let page = |e: ServiceError| format!("{:?}", AppError::from(e));
        assert_eq!(page(ServiceError::NotFound("部屋")), format!("{:?}", AppError::NotFound("部屋")));
        assert_eq!(page(ServiceError::ReadOnly), format!("{:?}", AppError::Forbidden(READ_ONLY)));
        assert_eq!(
            page(ServiceError::Field(FieldError::new("note", "x"))),
            format!("{:?}", AppError::BadRequest("x".into()))
        );
        assert_eq!(page(StoreError::NotFound.into()), format!("{:?}", AppError::NotFound("データ")));
        assert_eq!(page(StoreError::TokenInvalid.into()), format!("{:?}", AppError::LinkInvalid));
    }
}
