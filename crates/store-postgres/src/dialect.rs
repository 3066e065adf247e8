//! What PostgreSQL does differently from SQLite, for the portable code in
//! `crates/store/portable/` to call. Several app instances share one database, so appends to an
//! audit chain, changes that must keep a facility's managers, a 介護事業所番号 being taken and
//! a sign-in throttle take row (or advisory) locks inside their transaction; and every instance
//! hears about changed rooms through `LISTEN`/`NOTIFY`.

use async_trait::async_trait;
use renraku_store::{ANNOUNCE_EVERY_ROOM, Announcements, LiveUpdates, StoreError, StoreResult};

use crate::portable::{Tx, db_err, get};
use crate::{DbRow, SqlStore};

/// The audit chain's head (its last `seq` and `seal`), locked until the transaction ends, so
/// that two appends to one chain can never claim the same place.
pub(crate) async fn lock_audit_head(tx: &mut Tx, chain: &str) -> StoreResult<(i64, String)> {
    let head = sqlx::query("SELECT seq, seal FROM audit_heads WHERE chain = $1 FOR UPDATE")
        .bind(chain)
        .fetch_one(&mut **tx)
        .await
        .map_err(db_err)?;
    Ok((get(&head, "seq")?, get(&head, "seal")?))
}

/// Locks the facility's row, so that concurrent instances serialise on it.
pub(crate) async fn lock_facility(tx: &mut Tx, facility_id: &str) -> StoreResult<()> {
    sqlx::query("SELECT id FROM facilities WHERE id = $1 FOR UPDATE")
        .bind(facility_id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(db_err)?;
    Ok(())
}

/// A transaction-scoped advisory lock on the 介護事業所番号 (there may be no row to lock yet):
/// two facilities registering the same number at once take turns.
pub(crate) async fn lock_care_provider_no(tx: &mut Tx, number: &str) -> StoreResult<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('care_provider_no:' || $1, 0))")
        .bind(number)
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
    Ok(())
}

/// The throttle row of `key` (`failures`, `first_failure_at_ms`, `locked_until_ms`), locked
/// until the transaction ends.
pub(crate) async fn lock_throttle(tx: &mut Tx, key: &str) -> StoreResult<DbRow> {
    sqlx::query(
        "SELECT failures, first_failure_at_ms, locked_until_ms FROM login_throttle WHERE key = $1 FOR UPDATE",
    )
    .bind(key)
    .fetch_one(&mut **tx)
    .await
    .map_err(db_err)
}

#[async_trait]
impl LiveUpdates for SqlStore {
    /// `NOTIFY` on the rooms channel, with the room id as payload; PostgreSQL delivers it to
    /// every listening instance, this one included.
    async fn announce(&self, room_id: &renraku_store::RoomId) -> StoreResult<bool> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(self.channel())
            .bind(room_id.as_str())
            .execute(&self.pool)
            .await
            .map_err(|e| StoreError::Other(e.into()))?;
        Ok(true)
    }

    /// The rooms announced on this schema's channel, for ever. When the connection is lost the
    /// listener connects again, pausing longer after each failure (up to 10 s), however long
    /// PostgreSQL is away; once it listens again it yields [`ANNOUNCE_EVERY_ROOM`],
    /// since notifications sent meanwhile are lost.
    async fn announcements(&self) -> StoreResult<Option<Announcements>> {
        let channel = self.channel();
        let mut listener = sqlx::postgres::PgListener::connect_with(&self.pool)
            .await
            .map_err(|e| StoreError::Other(e.into()))?;
        listener.listen(&channel).await.map_err(|e| StoreError::Other(e.into()))?;
        let stream = futures_util::stream::unfold(listener, |mut listener| async move {
            match listener.try_recv().await {
                Ok(Some(notification)) => {
                    let room = notification.payload().to_string();
                    return Some((room, listener));
                }
                // The connection was lost (`None`) or failed: listen again, then tell every page
                // to refresh.
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "live updates: the PostgreSQL listener failed"),
            }
            let mut pause = std::time::Duration::from_millis(250);
            // Any statement makes the listener connect again and re-issue its LISTEN.
            while let Err(e) = sqlx::query("SELECT 1").execute(&mut listener).await {
                tracing::warn!(error = %e, "live updates: cannot listen to PostgreSQL yet; trying again in {pause:?}");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(std::time::Duration::from_secs(10));
            }
            tracing::info!("live updates: listening to PostgreSQL again");
            Some((ANNOUNCE_EVERY_ROOM.to_string(), listener))
        });
        Ok(Some(Box::pin(stream)))
    }
}

/// Claimers pass over the rows others are claiming instead of waiting for them: two workers
/// never take the same job, and neither blocks the other.
pub(crate) const CLAIM_JOB_LOCK: &str = " FOR UPDATE SKIP LOCKED";
