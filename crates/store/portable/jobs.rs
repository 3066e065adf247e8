//! The job queue ([`JobQueue`]) in the portable SQL both backends include. What differs is the claim's row lock, in each backend's `dialect`: PostgreSQL
//! skips the rows other workers are claiming (`FOR UPDATE SKIP LOCKED`); SQLite's single writer
//! already runs one claim at a time.

use anyhow::anyhow;
use async_trait::async_trait;
use renraku_store::*;
use sqlx::QueryBuilder;

use crate::portable::{code, db_err, get};
use crate::{Db, DbRow, SqlStore, dialect};

type Tx = sqlx::Transaction<'static, Db>;

const JOB_COLUMNS: &str = "id, kind, payload, idempotency_key, state, attempts, max_attempts, run_at_ms, \
    locked_until_ms, last_error, created_at_ms, updated_at_ms";

/// The states in which a job holds its idempotency key.
const UNFINISHED: &str = "state IN ('queued', 'running')";

fn job_from(row: &DbRow) -> StoreResult<Job> {
    Ok(Job {
        id: get(row, "id")?,
        kind: get(row, "kind")?,
        payload: get(row, "payload")?,
        idempotency_key: get(row, "idempotency_key")?,
        state: code(get(row, "state")?, JobState::from_code)?,
        attempts: get(row, "attempts")?,
        max_attempts: get(row, "max_attempts")?,
        run_at_ms: get(row, "run_at_ms")?,
        locked_until_ms: get(row, "locked_until_ms")?,
        last_error: get(row, "last_error")?,
        created_at_ms: get(row, "created_at_ms")?,
        updated_at_ms: get(row, "updated_at_ms")?,
    })
}

impl SqlStore {
    /// Enqueues `job` inside the caller's transaction: it exists once that transaction commits,
    /// and never if it rolls back. A store change that has work to follow it (a file to remove,
    /// a message to send) calls this next to its audit append. Returns the job's id, or the id
    /// of the unfinished job that already holds the key.
    pub(crate) async fn enqueue_in(tx: &mut Tx, job: &NewJob, now_ms: i64) -> StoreResult<String> {
        if job.kind.is_empty() || job.max_attempts < 1 {
            return Err(StoreError::Other(anyhow!("a job needs a kind and at least one attempt")));
        }
        let id = new_id::<JobId>().to_string();
        let inserted = sqlx::query(
            "INSERT INTO jobs (id, kind, payload, idempotency_key, state, attempts, max_attempts, run_at_ms, \
             created_at_ms, updated_at_ms) VALUES ($1, $2, $3, $4, 'queued', 0, $5, $6, $7, $7) \
             ON CONFLICT DO NOTHING",
        )
        .bind(&id)
        .bind(&job.kind)
        .bind(&job.payload)
        .bind(&job.idempotency_key)
        .bind(job.max_attempts)
        .bind(job.run_at_ms)
        .bind(now_ms)
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
        if inserted.rows_affected() == 1 {
            return Ok(id);
        }
        let sql = format!("SELECT id FROM jobs WHERE idempotency_key = $1 AND {UNFINISHED}");
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(&job.idempotency_key)
            .fetch_one(&mut **tx)
            .await
            .map_err(db_err)
    }
}

#[async_trait]
impl JobQueue for SqlStore {
    async fn enqueue(&self, job: &NewJob, now_ms: i64) -> StoreResult<String> {
        let mut tx = self.begin().await?;
        let id = Self::enqueue_in(&mut tx, job, now_ms).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(id)
    }

    async fn claim(&self, kinds: &[&str], now_ms: i64, lease_ms: i64) -> StoreResult<Option<Job>> {
        if kinds.is_empty() {
            return Ok(None);
        }
        // An idle worker asks often: a read first, so that on SQLite it takes the single writer
        // (ahead of a post) only when there is something to claim.
        let due: Option<String> = sqlx::query_scalar(
            "SELECT id FROM jobs WHERE (state = 'queued' AND run_at_ms <= $1) \
             OR (state = 'running' AND locked_until_ms <= $1) LIMIT 1",
        )
        .bind(now_ms)
        .fetch_optional(self.reader())
        .await
        .map_err(db_err)?;
        if due.is_none() {
            return Ok(None);
        }
        let mut tx = self.begin().await?;
        // A worker died during the last attempt: that was the job's last chance.
        sqlx::query(
            "UPDATE jobs SET state = 'dead', last_error = 'lease expired', locked_until_ms = NULL, \
             updated_at_ms = $1 WHERE state = 'running' AND locked_until_ms <= $1 AND attempts >= max_attempts",
        )
        .bind(now_ms)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        let mut q = QueryBuilder::<Db>::new(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_until_ms = ",
        );
        q.push_bind(now_ms.saturating_add(lease_ms));
        q.push(", updated_at_ms = ");
        q.push_bind(now_ms);
        q.push(" WHERE id = (SELECT id FROM jobs WHERE kind IN (");
        let mut list = q.separated(", ");
        for kind in kinds {
            list.push_bind(*kind);
        }
        q.push(") AND ((state = 'queued' AND run_at_ms <= ");
        q.push_bind(now_ms);
        q.push(") OR (state = 'running' AND locked_until_ms <= ");
        q.push_bind(now_ms);
        q.push(")) ORDER BY run_at_ms, id LIMIT 1");
        q.push(dialect::CLAIM_JOB_LOCK);
        q.push(") RETURNING ");
        q.push(JOB_COLUMNS);
        let row = q.build().fetch_optional(&mut *tx).await.map_err(db_err)?;
        let job = row.as_ref().map(job_from).transpose()?;
        tx.commit().await.map_err(db_err)?;
        Ok(job)
    }

    async fn complete(&self, job: &Job, now_ms: i64) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE jobs SET state = 'done', locked_until_ms = NULL, updated_at_ms = $2 \
             WHERE id = $1 AND state = 'running' AND attempts = $3",
        )
        .bind(&job.id)
        .bind(now_ms)
        .bind(job.attempts)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        sqlx::query("DELETE FROM jobs WHERE state = 'done' AND updated_at_ms < $1")
            .bind(now_ms.saturating_sub(DONE_KEPT_MS))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn fail(&self, job: &Job, error_kind: &str, now_ms: i64) -> StoreResult<bool> {
        let (state, run_at_ms) = if job.attempts >= job.max_attempts {
            (JobState::Dead, job.run_at_ms)
        } else {
            (JobState::Queued, now_ms.saturating_add(retry_delay_ms(job.attempts)))
        };
        let mut tx = self.begin().await?;
        let failed = sqlx::query(
            "UPDATE jobs SET state = $4, run_at_ms = $5, last_error = $6, locked_until_ms = NULL, \
             updated_at_ms = $2 WHERE id = $1 AND state = 'running' AND attempts = $3",
        )
        .bind(&job.id)
        .bind(now_ms)
        .bind(job.attempts)
        .bind(state.code())
        .bind(run_at_ms)
        .bind(error_kind)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(failed.rows_affected() == 1)
    }

    async fn job(&self, id: &str) -> StoreResult<Job> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1");
        let row =
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_one(self.reader()).await.map_err(db_err)?;
        job_from(&row)
    }

    async fn dead_jobs(&self, limit: i64) -> StoreResult<Vec<Job>> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE state = 'dead' ORDER BY updated_at_ms DESC, id DESC LIMIT $1"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(limit)
            .fetch_all(self.reader())
            .await
            .map_err(db_err)?;
        rows.iter().map(job_from).collect()
    }

    async fn job_counts(&self) -> StoreResult<JobCounts> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT state, COUNT(*) FROM jobs WHERE state IN ('queued', 'running', 'dead') GROUP BY state",
        )
        .fetch_all(self.reader())
        .await
        .map_err(db_err)?;
        let mut counts = JobCounts::default();
        for (state, n) in rows {
            match state.as_str() {
                "queued" => counts.queued = n,
                "running" => counts.running = n,
                _ => counts.dead = n,
            }
        }
        Ok(counts)
    }
}

/// A job enqueued in a transaction exists once it commits, and never if it rolls back. (Here,
/// not in the conformance suite: the in-transaction enqueue is the backends' own.)
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
pub(crate) async fn a_job_enqueued_in_a_rolled_back_transaction_does_not_exist(store: &SqlStore) {
    let job = NewJob::new("test.rollback", "{}".into(), 0);
    let mut tx = store.begin().await.unwrap();
    let id = SqlStore::enqueue_in(&mut tx, &job, 0).await.unwrap();
    tx.rollback().await.unwrap();
    assert!(matches!(store.job(&id).await, Err(StoreError::NotFound)), "rolled back: no job");
    assert_eq!(store.claim(&["test.rollback"], 1, 1000).await.unwrap(), None);
    let mut tx = store.begin().await.unwrap();
    let id = SqlStore::enqueue_in(&mut tx, &job, 0).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.job(&id).await.unwrap().state, JobState::Queued, "committed: queued");
}
