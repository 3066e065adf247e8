//! The database itself: which backend it is and whether it answers and writes (`/healthz`, `/metrics`).

use async_trait::async_trait;

use crate::StoreResult;

/// Whether the database is there and takes writes.
#[async_trait]
pub trait SystemStore: Send + Sync + 'static {
    /// The backend's name, for logs and `/metrics`.
    fn backend(&self) -> &'static str;
    /// A cheap round trip to the database, for `/healthz`.
    async fn ping(&self) -> StoreResult<()>;
    /// A small write through the connection(s) that do the writing (on SQLite its single writer
    /// connection), committed: `/healthz` reports whether writes work, not only reads.
    async fn check_writer(&self, now_ms: i64) -> StoreResult<()>;
}
