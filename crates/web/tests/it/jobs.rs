//! The job queue's worker, running beside the server as in `renraku serve`: it runs the real
//! jobs, tries a failed one again on the queue's schedule, and keeps one sweep queued.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use renraku_attachments::blobs::{BlobStore, EncryptedDir};
use renraku_store::{JobState, RETRY_BASE_MS};
use renraku_web::Secrets;
use renraku_web::jobs::{ORPHAN_SWEEP, delete_blobs_later};

use crate::helpers::*;

/// Files in a folder whose first `failing` deletions fail (the bucket unreachable for a while).
struct Flaky {
    inner: EncryptedDir,
    failing: AtomicUsize,
    _dir: tempfile::TempDir,
}

#[async_trait]
impl BlobStore for Flaky {
    async fn put(&self, key: &str, bytes: &[u8]) -> anyhow::Result<()> {
        self.inner.put(key, bytes).await
    }
    async fn get(&self, key: &str) -> anyhow::Result<Vec<u8>> {
        self.inner.get(key).await
    }
    async fn delete(&self, key: &str) -> anyhow::Result<()> {
        if self.failing.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok() {
            anyhow::bail!("the bucket is unreachable");
        }
        self.inner.delete(key).await
    }
    async fn list(&self) -> anyhow::Result<Vec<(String, std::time::SystemTime)>> {
        self.inner.list().await
    }
}

async fn until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let started = Instant::now();
    while !done().await {
        assert!(started.elapsed() < Duration::from_secs(20), "{what}: not within 20 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn a_failed_removal_is_tried_again_by_the_worker(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let blobs = Arc::new(Flaky {
        inner: EncryptedDir::new(dir.path().to_path_buf(), &Secrets::derive(MASTER_SECRET).files_key)
            .unwrap(),
        failing: AtomicUsize::new(1),
        _dir: dir,
    });
    let Some(app) = TestApp::spawn_with_blobs(backend, blobs.clone()).await else { return };
    for key in ["left-behind", "left-behind-thumb"] {
        app.state.blobs.put(key, b"photo").await.unwrap();
    }
    let keys = ["left-behind".to_string(), "left-behind-thumb".to_string()];
    let id = delete_blobs_later(&app.state, &keys).await.expect("queued");
    let store = app.store();
    // The first try fails: queued again for later, with the error's kind only.
    until("the first try", async || {
        store.job(&id).await.unwrap().attempts == 1 && store.job(&id).await.unwrap().state == JobState::Queued
    })
    .await;
    let job = store.job(&id).await.unwrap();
    assert_eq!(job.last_error.as_deref(), Some("blob store"));
    assert!(app.state.blobs.get("left-behind").await.is_ok(), "not removed yet");
    // Once its retry is due, the worker tries again and removes both files.
    app.state.clock.advance_ms(RETRY_BASE_MS);
    renraku_web::jobs::wake();
    until("the retry", async || store.job(&id).await.unwrap().state == JobState::Done).await;
    assert_eq!(store.job(&id).await.unwrap().attempts, 2);
    for key in &keys {
        assert!(app.state.blobs.get(key).await.is_err(), "{key} removed");
    }
    // The sweep of unreferenced files ran at start and waits, once, for its next hour.
    until("the sweep rescheduled", async || {
        store.job_counts().await.unwrap() == renraku_store::JobCounts { queued: 1, running: 0, dead: 0 }
    })
    .await;
    let again = renraku_store::NewJob {
        idempotency_key: Some(ORPHAN_SWEEP.into()),
        ..renraku_store::NewJob::new(ORPHAN_SWEEP, "{}".into(), i64::MAX)
    };
    let queued = store.enqueue(&again, app.state.clock.now_ms()).await.unwrap();
    let sweep = store.job(&queued).await.unwrap();
    assert_eq!(sweep.kind, ORPHAN_SWEEP);
    assert!(sweep.run_at_ms > app.state.clock.now_ms(), "the next sweep is in the future");
    assert_eq!(store.job_counts().await.unwrap().queued, 1, "still one sweep");
}

mod a_failed_removal_is_tried_again_by_the_worker {
    use super::*;

    #[tokio::test]
    async fn sqlite() {
        a_failed_removal_is_tried_again_by_the_worker(Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn postgres() {
        a_failed_removal_is_tried_again_by_the_worker(Backend::Postgres).await;
    }
}
