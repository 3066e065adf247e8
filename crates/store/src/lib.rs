//! The storage interface of Renraku. The web server depends on [`Store`] only; the
//! `renraku-store-sqlite` and `renraku-store-postgres` crates implement it, each with its own
//! migrations, and both must pass the [`conformance`] suite.
//!
//! Every mutation an administrator makes takes the [`AuditDraft`] that records it, and the store
//! writes the change and the sealed audit entry in one transaction: there is no change without
//! its audit entry, and no audit entry for a change that did not happen.

pub mod bench;
pub mod conformance;
mod jobs;
mod records;

mod audit;
mod careplan;
mod directory;
mod live;
mod posts;
mod rooms;
mod sessions;
mod system;

/// The typed ids, re-exported: every record and store call uses them.
pub use renraku_domain::ids::*;

pub use audit::*;
pub use careplan::*;
pub use directory::*;
pub use jobs::*;
pub use live::*;
pub use posts::*;
pub use records::*;
pub use rooms::*;
pub use sessions::*;
pub use system::*;

/// What can go wrong in a store call. Handlers turn these into Japanese messages.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique value is already taken; the string names the field.
    #[error("already taken: {0}")]
    Taken(&'static str),
    /// The change would leave a facility without an active システム利用管理担当者.
    #[error("a facility must keep at least one active manager")]
    LastManager,
    /// The one-time link is unknown, used or expired.
    #[error("token invalid")]
    TokenInvalid,
    /// The room is read-only (consent withdrawn or closed), or the post is not the caller's.
    #[error("not allowed")]
    NotAllowed,
    /// Someone the change names (a post's @mention) is not a current member of the room.
    #[error("not a current member of the room")]
    NotMember,
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Renraku's persistent state: the sum of the areas, each a trait of its own (lldap's
/// `BackendHandler` shape). Code that needs the whole store takes `&dyn Store`; times are Unix
/// milliseconds, passed in by the caller.
pub trait Store:
    SystemStore
    + LiveUpdates
    + DirectoryStore
    + SessionStore
    + AuditLog
    + RoomStore
    + PostStore
    + CareplanStore
    + JobQueue
{
}

impl<T> Store for T where
    T: SystemStore
        + LiveUpdates
        + DirectoryStore
        + SessionStore
        + AuditLog
        + RoomStore
        + PostStore
        + CareplanStore
        + JobQueue
{
}

/// The area traits, for code that calls store methods on a concrete store type (on `dyn Store`
/// they are in scope anyway): `use renraku_store::prelude::*;`.
pub mod prelude {
    pub use crate::{
        AuditLog as _, CareplanStore as _, DirectoryStore as _, JobQueue as _, LiveUpdates as _,
        PostStore as _, RoomStore as _, SessionStore as _, Store, SystemStore as _,
    };
}

/// A fresh identifier of any id type (UUIDv7: time-ordered, so indexes stay compact), e.g.
/// `new_id::<PostId>()`.
pub fn new_id<T: Id>() -> T {
    T::from_stored(uuid::Uuid::now_v7().to_string())
}
