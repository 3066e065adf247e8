//! What SQLite does differently from PostgreSQL, for the portable code in
//! `crates/store/portable/` to call. SQLite has one writer at a time, and every write
//! transaction begins `IMMEDIATE`: it already excludes every other writer, so no row needs a
//! lock of its own — reading inside the write transaction is enough. One process owns the file,
//! so there are no other instances to tell about changes.

use async_trait::async_trait;
use renraku_store::{Announcements, LiveUpdates, StoreResult};

use crate::portable::{Tx, db_err, get};
use crate::{DbRow, SqlStore};

/// The audit chain's head (its last `seq` and `seal`), inside the write transaction.
pub(crate) async fn lock_audit_head(tx: &mut Tx, chain: &str) -> StoreResult<(i64, String)> {
    let head = sqlx::query("SELECT seq, seal FROM audit_heads WHERE chain = $1")
        .bind(chain)
        .fetch_one(&mut **tx)
        .await
        .map_err(db_err)?;
    Ok((get(&head, "seq")?, get(&head, "seal")?))
}

/// Nothing to lock: the write transaction holds the database.
pub(crate) async fn lock_facility(_tx: &mut Tx, _facility_id: &str) -> StoreResult<()> {
    Ok(())
}

/// Nothing to lock: the write transaction holds the database.
pub(crate) async fn lock_care_provider_no(_tx: &mut Tx, _number: &str) -> StoreResult<()> {
    Ok(())
}

/// The throttle row of `key` (`failures`, `first_failure_at_ms`, `locked_until_ms`), inside the
/// write transaction.
pub(crate) async fn lock_throttle(tx: &mut Tx, key: &str) -> StoreResult<DbRow> {
    sqlx::query("SELECT failures, first_failure_at_ms, locked_until_ms FROM login_throttle WHERE key = $1")
        .bind(key)
        .fetch_one(&mut **tx)
        .await
        .map_err(db_err)
}

/// One process owns a SQLite file, so there is no other instance to tell: the caller tells its
/// own listeners.
#[async_trait]
impl LiveUpdates for SqlStore {
    async fn announce(&self, _room_id: &renraku_store::RoomId) -> StoreResult<bool> {
        Ok(false)
    }

    async fn announcements(&self) -> StoreResult<Option<Announcements>> {
        Ok(None)
    }
}

/// A claim runs in a write transaction, which excludes every other claim: no row lock.
pub(crate) const CLAIM_JOB_LOCK: &str = "";
