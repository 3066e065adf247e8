//! The durable job queue: work done outside a request, which may fail and is tried again.
//!
//! A job is enqueued on its own ([`JobQueue::enqueue`]) or, by a store change, inside that
//! change's transaction, so the change and its job commit together or not at all. A worker
//! [claims](JobQueue::claim) a due job under a lease: no other worker gets it while the lease
//! runs (PostgreSQL `FOR UPDATE SKIP LOCKED`; SQLite's single writer), and a worker that dies
//! leaves a job whose lease runs out and that is claimed again. A job that fails is tried again
//! after [`retry_delay_ms`] (exponential, without jitter, so the schedule is known), and is left
//! `dead` once it has used its `max_attempts`. An idempotency key is unique among the unfinished
//! (queued or running) jobs: the same work enqueued twice is one job.
//!
//! Modelled on crates.io's `crates_io_worker`.

use async_trait::async_trait;

use crate::StoreResult;

/// The delay before the second attempt; each later one waits twice as long as the one before.
pub const RETRY_BASE_MS: i64 = 10_000;
/// No retry waits longer than this.
pub const RETRY_MAX_MS: i64 = 6 * 60 * 60 * 1000;
/// How many times a job is tried unless its enqueuer says otherwise.
pub const DEFAULT_MAX_ATTEMPTS: i64 = 8;
/// How long a finished job is kept (then removed by a later completion).
pub const DONE_KEPT_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// How long to wait before trying again a job that has failed `attempts` times (1 or more):
/// 10 s, 20 s, 40 s, … up to [`RETRY_MAX_MS`].
pub fn retry_delay_ms(attempts: i64) -> i64 {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    RETRY_BASE_MS.saturating_mul(1_i64 << doublings).min(RETRY_MAX_MS)
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Waiting for its `run_at_ms` (a first run or a retry).
    Queued,
    /// Claimed by a worker until `locked_until_ms`.
    Running,
    Done,
    /// Failed `max_attempts` times: left for an administrator to look at.
    Dead,
}

impl JobState {
    pub fn code(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Dead => "dead",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Some(match code {
            "queued" => JobState::Queued,
            "running" => JobState::Running,
            "done" => JobState::Done,
            "dead" => JobState::Dead,
            _ => return None,
        })
    }
}

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// What to do (`blob.delete`, …): the worker runs the handler of this kind.
    pub kind: String,
    /// The handler's input, as JSON text. No personal data beyond what the work needs.
    pub payload: String,
    /// At most one unfinished job holds a key.
    pub idempotency_key: Option<String>,
    pub max_attempts: i64,
    /// Not before this time.
    pub run_at_ms: i64,
}

impl NewJob {
    /// A job of `kind` due at `run_at_ms`, with the default number of attempts and no key.
    pub fn new(kind: &str, payload: String, run_at_ms: i64) -> Self {
        Self {
            kind: kind.into(),
            payload,
            idempotency_key: None,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            run_at_ms,
        }
    }
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: String,
    pub kind: String,
    pub payload: String,
    pub idempotency_key: Option<String>,
    pub state: JobState,
    /// Attempts started so far (a claimed job counts its current one).
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at_ms: i64,
    pub locked_until_ms: Option<i64>,
    /// The kind of the last failure (never its message: it may hold personal data).
    pub last_error: Option<String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

/// How many jobs are in each unfinished or failed state, for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobCounts {
    pub queued: i64,
    pub running: i64,
    pub dead: i64,
}

/// The job queue. Times are Unix milliseconds, passed in by the caller.
#[async_trait]
pub trait JobQueue: Send + Sync {
    /// Adds a job, in a transaction of its own; returns its id. When an unfinished job already
    /// holds the key, nothing is added and that job's id is returned.
    async fn enqueue(&self, job: &NewJob, now_ms: i64) -> StoreResult<String>;
    /// Takes the oldest due job of one of `kinds` — queued with `run_at_ms <= now_ms`, or running
    /// with its lease run out — for `lease_ms`, counting an attempt. A running job whose lease
    /// ran out after its last attempt is left dead instead. `None` when nothing is due.
    async fn claim(&self, kinds: &[&str], now_ms: i64, lease_ms: i64) -> StoreResult<Option<Job>>;
    /// Marks the claimed job done; false if the claim was lost (its lease ran out and another
    /// worker took it).
    async fn complete(&self, job: &Job, now_ms: i64) -> StoreResult<bool>;
    /// Records a failure of the claimed job (`error_kind`: no personal data): queued again after
    /// [`retry_delay_ms`], or dead after its last attempt. False if the claim was lost.
    async fn fail(&self, job: &Job, error_kind: &str, now_ms: i64) -> StoreResult<bool>;
    /// One job, any state.
    async fn job(&self, id: &str) -> StoreResult<Job>;
    /// The dead jobs, most recent first.
    async fn dead_jobs(&self, limit: i64) -> StoreResult<Vec<Job>>;
    async fn job_counts(&self) -> StoreResult<JobCounts>;
}
