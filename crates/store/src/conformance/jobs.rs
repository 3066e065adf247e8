#![allow(clippy::expect_used)]
//! The job queue's stories ([`JobQueue`]): keys, claims, leases, retries and the dead letter.

use super::T0;
use crate::*;

fn job(kind: &str, key: Option<&str>) -> NewJob {
    NewJob { idempotency_key: key.map(str::to_string), ..NewJob::new(kind, "{\"n\":1}".into(), T0) }
}

async fn claim_one(store: &dyn Store, at_ms: i64) -> Option<Job> {
    store.claim(&["test.a", "test.b"], at_ms, 60_000).await.expect("claim")
}

pub async fn an_idempotency_key_names_one_unfinished_job(store: &dyn Store) {
    let first = store.enqueue(&job("test.a", Some("k1")), T0).await.expect("enqueue");
    let again = store.enqueue(&job("test.a", Some("k1")), T0 + 1).await.expect("enqueue again");
    assert_eq!(first, again, "the same key while queued is the same job");
    let other = store.enqueue(&job("test.a", Some("k2")), T0).await.expect("another key");
    let unkeyed = store.enqueue(&job("test.a", None), T0).await.expect("no key");
    let unkeyed2 = store.enqueue(&job("test.a", None), T0).await.expect("no key");
    assert_ne!(unkeyed, unkeyed2, "jobs without a key are never merged");
    assert_ne!(first, other);
    assert_eq!(store.job_counts().await.expect("counts").queued, 4);
    // Running still holds the key; once done, the key is free for new work.
    let claimed = claim_one(store, T0).await.expect("a due job");
    assert_eq!(claimed.id, first, "oldest first (ties by id)");
    assert_eq!(claimed.state, JobState::Running);
    assert_eq!(claimed.attempts, 1);
    assert_eq!(claimed.payload, "{\"n\":1}");
    assert_eq!(store.enqueue(&job("test.a", Some("k1")), T0).await.expect("running"), first);
    assert!(store.complete(&claimed, T0 + 10).await.expect("complete"));
    assert_eq!(store.job(&first).await.expect("job").state, JobState::Done);
    let later = store.enqueue(&job("test.a", Some("k1")), T0 + 20).await.expect("after done");
    assert_ne!(later, first, "a finished job no longer holds its key");
}

pub async fn two_claimers_never_get_the_same_job(store: &dyn Store) {
    let mut enqueued = vec![];
    for _ in 0..12 {
        enqueued.push(store.enqueue(&job("test.a", None), T0).await.expect("enqueue"));
    }
    // Two workers claim at the same moment until nothing is left (on PostgreSQL, two
    // connections at once; on SQLite, turns at the single writer).
    let worker = || async {
        let mut got = vec![];
        while let Some(job) = claim_one(store, T0).await {
            got.push(job.id);
        }
        got
    };
    let (a, b) = futures_util::future::join(worker(), worker()).await;
    let mut all: Vec<String> = a.iter().chain(&b).cloned().collect();
    all.sort();
    let before = all.len();
    all.dedup();
    assert_eq!(all.len(), before, "no job was claimed twice");
    enqueued.sort();
    assert_eq!(all, enqueued, "every job was claimed");
    assert_eq!(store.job_counts().await.expect("counts"), JobCounts { queued: 0, running: 12, dead: 0 });
}

pub async fn claims_take_due_jobs_of_the_asked_kinds(store: &dyn Store) {
    let later = NewJob { run_at_ms: T0 + 5_000, ..job("test.a", None) };
    let later = store.enqueue(&later, T0).await.expect("enqueue");
    let other = store.enqueue(&job("test.other", None), T0).await.expect("enqueue");
    assert_eq!(claim_one(store, T0).await, None, "not due, or not of these kinds");
    assert_eq!(store.claim(&[], T0, 1_000).await.expect("no kinds"), None);
    assert_eq!(claim_one(store, T0 + 5_000).await.expect("due now").id, later);
    let claimed = store.claim(&["test.other"], T0, 1_000).await.expect("claim").expect("its kind");
    assert_eq!(claimed.id, other);
}

pub async fn a_job_whose_lease_ran_out_is_claimed_again(store: &dyn Store) {
    let id = store.enqueue(&job("test.a", None), T0).await.expect("enqueue");
    let first = store.claim(&["test.a"], T0, 1_000).await.expect("claim").expect("due");
    assert_eq!(first.locked_until_ms, Some(T0 + 1_000));
    assert_eq!(store.claim(&["test.a"], T0 + 999, 1_000).await.expect("claim"), None, "leased");
    // The first worker died: once its lease runs out the job comes back.
    let second = store.claim(&["test.a"], T0 + 1_000, 1_000).await.expect("claim").expect("lease ran out");
    assert_eq!(second.id, id);
    assert_eq!(second.attempts, 2, "the lost attempt counts");
    assert!(!store.complete(&first, T0 + 1_100).await.expect("complete"), "the first claim is lost");
    assert!(!store.fail(&first, "late", T0 + 1_100).await.expect("fail"), "the first claim is lost");
    assert!(store.complete(&second, T0 + 1_200).await.expect("complete"));
    assert_eq!(store.job(&id).await.expect("job").state, JobState::Done);
    // A job whose lease runs out after its last attempt is dead, not tried again.
    let once = NewJob { max_attempts: 1, ..job("test.a", None) };
    let once = store.enqueue(&once, T0).await.expect("enqueue");
    store.claim(&["test.a"], T0 + 2_000, 1_000).await.expect("claim").expect("due");
    assert_eq!(store.claim(&["test.a"], T0 + 3_000, 1_000).await.expect("claim"), None);
    let dead = store.job(&once).await.expect("job");
    assert_eq!(dead.state, JobState::Dead);
    assert_eq!(dead.last_error.as_deref(), Some("lease expired"));
}

pub async fn failures_back_off_then_the_job_is_dead(store: &dyn Store) {
    assert_eq!(
        [1, 2, 3, 4].map(retry_delay_ms),
        [RETRY_BASE_MS, 2 * RETRY_BASE_MS, 4 * RETRY_BASE_MS, 8 * RETRY_BASE_MS]
    );
    assert_eq!(retry_delay_ms(60), RETRY_MAX_MS, "capped");
    let new = NewJob { max_attempts: 3, ..job("test.b", Some("retried")) };
    let id = store.enqueue(&new, T0).await.expect("enqueue");
    let mut now = T0;
    for attempt in 1..=2 {
        let claimed = claim_one(store, now).await.expect("due");
        assert_eq!(claimed.attempts, attempt);
        assert!(store.fail(&claimed, "unreachable", now).await.expect("fail"));
        let queued = store.job(&id).await.expect("job");
        assert_eq!(queued.state, JobState::Queued);
        assert_eq!(queued.last_error.as_deref(), Some("unreachable"));
        let due = now + retry_delay_ms(attempt);
        assert_eq!(queued.run_at_ms, due, "the deterministic schedule");
        assert_eq!(claim_one(store, due - 1).await, None, "not before its time");
        now = due;
    }
    let last = claim_one(store, now).await.expect("due");
    assert_eq!(last.attempts, 3);
    assert!(store.fail(&last, "refused", now).await.expect("fail"));
    let dead = store.job(&id).await.expect("job");
    assert_eq!(dead.state, JobState::Dead);
    assert_eq!(dead.last_error.as_deref(), Some("refused"));
    assert_eq!(claim_one(store, now + RETRY_MAX_MS).await, None, "never tried again");
    assert_eq!(store.job_counts().await.expect("counts"), JobCounts { queued: 0, running: 0, dead: 1 });
    let listed = store.dead_jobs(10).await.expect("dead jobs");
    assert_eq!(listed.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(), [id.as_str()]);
    // A dead job no longer holds its key.
    let again = store.enqueue(&new, now).await.expect("enqueue");
    assert_ne!(again, id);
}
