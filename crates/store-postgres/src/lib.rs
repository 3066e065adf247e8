//! Renraku's storage on PostgreSQL, for larger deployments with several app instances.
//!
//! Several instances share one database, so appends to an audit chain and changes that must
//! keep a facility's managers take row locks (`FOR UPDATE`) inside their transaction.

use std::str::FromStr as _;

use anyhow::Context as _;
use renraku_domain::audit::AuditSealer;
use renraku_store::{CommitFaults, StoreError, StoreResult};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

mod dialect;
#[path = "../../store/portable/mod.rs"]
mod portable;

type Db = sqlx::Postgres;
type DbRow = sqlx::postgres::PgRow;
const BACKEND: &str = "postgres";

/// The PostgreSQL store.
pub struct SqlStore {
    pool: PgPool,
    sealer: AuditSealer,
    /// The schema Renraku's tables live in (for the notification channel's name).
    schema: String,
    /// Lost connections a test asks for (see [`CommitFaults`]).
    faults: CommitFaults,
}

pub type PostgresStore = SqlStore;

impl SqlStore {
    /// Connects to `url` and brings the schema up to date.
    pub async fn connect(url: &str, sealer: AuditSealer) -> anyhow::Result<Self> {
        let options = PgConnectOptions::from_str(url).context("the PostgreSQL URL is not valid")?;
        Self::connect_with(options, sealer, "public").await
    }

    /// Connects with Renraku's tables in `schema` (created if missing), so that one database
    /// can hold several independent installations — or several tests running in parallel.
    pub async fn connect_in_schema(url: &str, schema: &str, sealer: AuditSealer) -> anyhow::Result<Self> {
        anyhow::ensure!(
            !schema.is_empty() && schema.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "a schema name may only hold ASCII letters, digits and _"
        );
        let options = PgConnectOptions::from_str(url).context("the PostgreSQL URL is not valid")?;
        let admin = PgPoolOptions::new().max_connections(1).connect_with(options.clone()).await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA IF NOT EXISTS {schema}")))
            .execute(&admin)
            .await?;
        admin.close().await;
        Self::connect_with(options.options([("search_path", schema)]), sealer, schema).await
    }

    async fn connect_with(
        options: PgConnectOptions,
        sealer: AuditSealer,
        schema: &str,
    ) -> anyhow::Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .connect_with(options)
            .await
            .context("cannot connect to PostgreSQL")?;
        sqlx::migrate!("./migrations").run(&pool).await.context("cannot migrate the PostgreSQL database")?;
        let schema = match sqlx::query_scalar::<_, String>("SELECT current_schema()").fetch_one(&pool).await {
            Ok(current) => current,
            Err(_) => schema.to_string(),
        };
        Ok(Self { pool, sealer, schema, faults: CommitFaults::default() })
    }

    fn reader(&self) -> &PgPool {
        &self.pool
    }

    async fn begin(&self) -> StoreResult<sqlx::Transaction<'static, Db>> {
        self.pool.begin().await.map_err(|e| StoreError::Other(e.into()))
    }

    /// Drops this store's schema and everything in it (the benchmark cleans up after itself).
    pub async fn drop_own_schema(&self) -> anyhow::Result<()> {
        anyhow::ensure!(self.schema != "public", "refusing to drop the public schema");
        let sql = format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.schema.replace('"', ""));
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&self.pool).await?;
        Ok(())
    }

    /// Refreshes the planner's statistics (after a bulk load; autovacuum does it later anyway).
    pub async fn analyze(&self) -> anyhow::Result<()> {
        sqlx::raw_sql("ANALYZE").execute(&self.pool).await?;
        Ok(())
    }

    /// The schema Renraku's tables live in.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// The channel name: one per schema, so installations sharing a database stay apart.
    fn channel(&self) -> String {
        format!("renraku_rooms_{}", self.schema)
    }

    /// Where a test arms a lost connection for one kind of write.
    pub fn faults(&self) -> &CommitFaults {
        &self.faults
    }

    /// Runs a statement directly, bypassing the store's rules. For tests that play an
    /// attacker with access to the database.
    pub async fn execute_raw(&self, sql: &str) -> anyhow::Result<u64> {
        let done = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string())).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }
}

/// Test support: a store in a fresh schema of the test database, dropped afterwards.
pub mod testing {
    use super::*;

    /// Where the tests find PostgreSQL: `RENRAKU_TEST_PG_URL`, by default the local server.
    pub fn url() -> String {
        std::env::var("RENRAKU_TEST_PG_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
    }

    /// Drops the schemas that earlier test runs left, once per process. Test schemas are
    /// named after a UUIDv7, whose first 48 bits are its creation time, so only those older
    /// than an hour go, never one a test running now still uses. (Dropping each schema at the
    /// end of its test would block on connections the pool has not yet handed back.)
    async fn sweep_old_schemas(url: &str) {
        static SWEPT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
        if SWEPT.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        let Ok(pool) = PgPoolOptions::new().max_connections(1).connect(url).await else { return };
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let names: Vec<(String,)> =
            sqlx::query_as("SELECT nspname FROM pg_namespace WHERE nspname LIKE 't\\_%'")
                .fetch_all(&pool)
                .await
                .unwrap_or_default();
        for (name,) in names {
            let created_ms =
                name.get(2..14).and_then(|hex| u64::from_str_radix(hex, 16).ok()).unwrap_or(u64::MAX);
            if created_ms.saturating_add(3_600_000) < now_ms {
                let sql = format!("DROP SCHEMA IF EXISTS {name} CASCADE");
                let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&pool).await;
            }
        }
        pool.close().await;
    }

    /// A fresh store, or `None` (with a notice) when PostgreSQL cannot be reached and
    /// `RENRAKU_TEST_PG` is not `required`. `.ci/run` sets it, so CI fails instead of skipping.
    pub async fn open_isolated(audit_key: &[u8]) -> (Option<SqlStore>, ()) {
        let url = url();
        sweep_old_schemas(&url).await;
        let required = std::env::var("RENRAKU_TEST_PG").is_ok_and(|v| v == "required");
        let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
        match SqlStore::connect_in_schema(&url, &schema, AuditSealer::new(audit_key)).await {
            Ok(store) => (Some(store), ()),
            Err(e) if !required => {
                eprintln!(
                    "SKIPPED: PostgreSQL is not reachable at {url} ({e:#}); set RENRAKU_TEST_PG=required to fail instead"
                );
                (None, ())
            }
            Err(e) => panic!("PostgreSQL is required but not reachable at {url}: {e:#}"),
        }
    }
}

/// Backups (`renraku backup` on PostgreSQL): the server's settings that decide whether
/// point-in-time recovery is possible, for when `pg_dump` is not at hand.
pub mod backup {
    use std::str::FromStr as _;

    use anyhow::Context as _;
    use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

    /// `wal_level`, `archive_mode`, `archive_command` and `archive_library` as the server
    /// reports them (the last only on PostgreSQL 15 and later).
    pub async fn archive_settings(url: &str) -> anyhow::Result<Vec<(String, String)>> {
        let options = PgConnectOptions::from_str(url).context("the PostgreSQL URL is not valid")?;
        let pool = PgPoolOptions::new().max_connections(1).connect_with(options).await?;
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT name, setting FROM pg_settings \
             WHERE name IN ('wal_level', 'archive_mode', 'archive_command', 'archive_library') ORDER BY name",
        )
        .fetch_all(&pool)
        .await
        .context("cannot read the server's settings")?;
        pool.close().await;
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn a_job_enqueued_in_a_rolled_back_transaction_does_not_exist() {
        let (store, ()) = super::testing::open_isolated(b"jobs-test").await;
        if let Some(store) = store {
            crate::portable::jobs::a_job_enqueued_in_a_rolled_back_transaction_does_not_exist(&store).await;
        }
    }
}
