#![allow(clippy::expect_used)]
//! The shared storage stories, on a fresh SQLite file per test.

use renraku_domain::audit::AuditSealer;
use renraku_store::conformance::TEST_AUDIT_KEY;
use renraku_store_sqlite::SqliteStore;

async fn open() -> (Option<SqliteStore>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("renraku.db"), AuditSealer::new(TEST_AUDIT_KEY))
        .await
        .expect("open");
    (Some(store), dir)
}

renraku_store::conformance_tests!(open());
