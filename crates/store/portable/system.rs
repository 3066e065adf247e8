//! Whether the database answers and takes writes, in portable SQL.

use async_trait::async_trait;
use renraku_store::*;

use super::db_err;
use crate::SqlStore;

#[async_trait]
impl SystemStore for SqlStore {
    fn backend(&self) -> &'static str {
        crate::BACKEND
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(self.reader()).await.map_err(db_err)?;
        Ok(())
    }

    async fn check_writer(&self, now_ms: i64) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO health_probe (id, at_ms) VALUES (1, $1) \
             ON CONFLICT (id) DO UPDATE SET at_ms = excluded.at_ms",
        )
        .bind(now_ms)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }
}
