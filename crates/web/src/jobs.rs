//! The worker of the durable job queue ([`renraku_store::JobQueue`]): one loop per app
//! instance, started by [`spawn`] where the server starts (and by the tests' app alike), that
//! claims due jobs of the kinds below and runs them one at a time. When nothing is due it
//! sleeps for [`IDLE_POLL`], or until [`wake`] (called after an enqueue). A job that fails is
//! tried again later by the queue's schedule, and is left dead after its last attempt (counted
//! in `/metrics`).
//!
//! The kinds:
//! - [`BLOB_DELETE`]: remove attachment files (of a post that was not written) that could not be
//!   removed during the request.
//! - [`ORPHAN_SWEEP`]: the sweep of files no attachment refers to ([`crate::orphans`]), every
//!   [`SWEEP_EVERY`](crate::orphans::SWEEP_EVERY). Its idempotency key keeps one sweep queued
//!   however many instances run.

use std::sync::LazyLock;
use std::time::{Duration, SystemTime};

use renraku_store::{Job, NewJob, Store};
use tokio::sync::Notify;

use crate::AppState;
use crate::orphans::{ORPHAN_GRACE, SWEEP_EVERY, sweep};

pub const BLOB_DELETE: &str = "blob.delete";
pub const ORPHAN_SWEEP: &str = "orphans.sweep";
const KINDS: &[&str] = &[BLOB_DELETE, ORPHAN_SWEEP];

/// How long a claimed job is the worker's: past it (the worker died), another may claim it.
pub const LEASE: Duration = Duration::from_secs(10 * 60);
/// How often an idle worker looks for due jobs (retries and scheduled jobs come due on their
/// own; [`wake`] shortens the wait for new ones).
pub const IDLE_POLL: Duration = Duration::from_secs(5);
/// How often the job counts are refreshed in `/metrics`.
const COUNTS_EVERY: Duration = Duration::from_secs(30);

static WAKE: LazyLock<Notify> = LazyLock::new(Notify::new);

/// Tells this process's workers that a job was enqueued.
pub fn wake() {
    WAKE.notify_waiters();
}

/// The running worker. Dropping it stops the loop at once; [`Worker::stop`] lets the job in
/// hand finish first.
pub struct Worker {
    stop: tokio::sync::watch::Sender<bool>,
    handle: Option<tokio::task::JoinHandle<()>>,
}

impl Worker {
    /// Stops claiming and waits (at most the shutdown grace) for the job in hand.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        if let Some(handle) = self.handle.take()
            && tokio::time::timeout(crate::SHUTDOWN_GRACE, handle).await.is_err()
        {
            tracing::warn!("a job was still running at shutdown; its lease will bring it back");
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Some(handle) = &self.handle {
            handle.abort();
        }
    }
}

/// Starts the worker, and queues the sweep of unreferenced files (now, unless one is queued).
pub fn spawn(state: AppState) -> Worker {
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let handle = tokio::spawn(async move {
        let now_ms = state.clock.now_ms();
        schedule_sweep(state.store.as_ref(), now_ms, now_ms).await;
        let mut counted: Option<tokio::time::Instant> = None;
        // Checked before every claim, so a backlog does not hold up shutdown.
        while !*stopped.borrow() {
            // Made before the claim, so an enqueue during it is not missed.
            let woken = WAKE.notified();
            let ran = match state.store.claim(KINDS, state.clock.now_ms(), LEASE.as_millis() as i64).await {
                Ok(Some(job)) => {
                    run(&state, job).await;
                    true
                }
                Ok(None) => false,
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), "cannot claim a job");
                    false
                }
            };
            if ran {
                continue;
            }
            if counted.is_none_or(|at| at.elapsed() >= COUNTS_EVERY) {
                if let Ok(counts) = state.store.job_counts().await {
                    crate::metrics::jobs(&counts);
                }
                counted = Some(tokio::time::Instant::now());
            }
            tokio::select! {
                _ = stopped.changed() => {}
                () = woken => {}
                () = tokio::time::sleep(IDLE_POLL) => {}
            }
        }
    });
    Worker { stop, handle: Some(handle) }
}

/// Queues removal of attachment files in the background; returns the job's id, or `None`
/// (logged) when even that fails and the hourly sweep is left to find them.
pub async fn delete_blobs_later(state: &AppState, keys: &[String]) -> Option<String> {
    let payload = serde_json::json!({ "keys": keys }).to_string();
    let now_ms = state.clock.now_ms();
    match state.store.enqueue(&NewJob::new(BLOB_DELETE, payload, now_ms), now_ms).await {
        Ok(id) => {
            wake();
            Some(id)
        }
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "cannot queue the removal of unused files");
            None
        }
    }
}

async fn schedule_sweep(store: &dyn Store, run_at_ms: i64, now_ms: i64) {
    let job = NewJob {
        idempotency_key: Some(ORPHAN_SWEEP.into()),
        ..NewJob::new(ORPHAN_SWEEP, "{}".into(), run_at_ms)
    };
    if let Err(e) = store.enqueue(&job, now_ms).await {
        tracing::warn!(error = %format!("{e:#}"), "cannot schedule the sweep of unreferenced files");
    }
}

/// Runs one claimed job and records its outcome.
async fn run(state: &AppState, job: Job) {
    let outcome = match job.kind.as_str() {
        BLOB_DELETE => delete_blobs(state, &job.payload).await,
        ORPHAN_SWEEP => sweep_orphans(state).await,
        _ => Err(("unknown kind", anyhow::anyhow!("no handler for {}", job.kind))),
    };
    let now_ms = state.clock.now_ms();
    let recorded = match outcome {
        Ok(()) => state.store.complete(&job, now_ms).await,
        Err((kind, e)) => {
            tracing::warn!(job = %job.id, kind = %job.kind, attempt = job.attempts, error = %format!("{e:#}"), "a job failed");
            state.store.fail(&job, kind, now_ms).await
        }
    };
    match recorded {
        Ok(true) => {}
        Ok(false) => tracing::warn!(job = %job.id, "a job's lease ran out before it finished"),
        Err(e) => tracing::warn!(job = %job.id, error = %format!("{e:#}"), "cannot record a job's outcome"),
    }
    if job.kind == ORPHAN_SWEEP {
        let next = now_ms.saturating_add(SWEEP_EVERY.as_millis() as i64);
        schedule_sweep(state.store.as_ref(), next, now_ms).await;
    }
}

/// A handler's failure: the error kind stored with the job (no personal data), and the error
/// for the log.
type Failure = (&'static str, anyhow::Error);

async fn delete_blobs(state: &AppState, payload: &str) -> Result<(), Failure> {
    #[derive(serde::Deserialize)]
    struct Payload {
        keys: Vec<String>,
    }
    let payload: Payload = serde_json::from_str(payload).map_err(|e| ("bad payload", e.into()))?;
    for key in &payload.keys {
        state.blobs.delete(key).await.map_err(|e| ("blob store", e))?;
    }
    Ok(())
}

async fn sweep_orphans(state: &AppState) -> Result<(), Failure> {
    match sweep(state.store.as_ref(), state.blobs.as_ref(), SystemTime::now(), ORPHAN_GRACE).await {
        Ok(0) => Ok(()),
        Ok(n) => {
            tracing::info!(files = n, "removed attachment files no post refers to");
            Ok(())
        }
        Err(e) => Err(("sweep", e)),
    }
}
