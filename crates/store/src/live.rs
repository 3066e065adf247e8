//! Live updates across app instances (E4): which rooms changed. The one area whose
//! implementation differs by backend (PostgreSQL `LISTEN`/`NOTIFY`; one process on SQLite).

use async_trait::async_trait;

use renraku_domain::ids::RoomId;

use crate::StoreResult;

/// Telling every app instance which room changed.
#[async_trait]
pub trait LiveUpdates: Send + Sync + 'static {
    /// Tells every app instance that a room changed (PostgreSQL `NOTIFY`). Returns false where
    /// there is only one instance (SQLite) and the caller must tell its own listeners.
    async fn announce(&self, room_id: &RoomId) -> StoreResult<bool>;
    /// The rooms other instances (and this one) announce, or `None` where there is one instance.
    async fn announcements(&self) -> StoreResult<Option<Announcements>>;
}

/// A stream of room ids whose content changed.
pub type Announcements = std::pin::Pin<Box<dyn futures_core::Stream<Item = String> + Send>>;

/// Announced instead of a room id after the listener lost the database and found it again:
/// changes made meanwhile were not announced, so every open page should refresh.
pub const ANNOUNCE_EVERY_ROOM: &str = "*";
