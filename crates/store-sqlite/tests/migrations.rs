#![allow(clippy::expect_used)]
//! Migrations that move data keep it: each runs here on a table in its former shape.

use std::str::FromStr as _;

use sqlx::Row as _;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

#[tokio::test]
async fn clustering_read_receipts_by_room_keeps_every_receipt_and_their_uniqueness() {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(SqliteConnectOptions::from_str("sqlite::memory:").expect("url").foreign_keys(false))
        .await
        .expect("open");
    // The table as 0002_create_rooms.sql made it.
    sqlx::raw_sql(
        "CREATE TABLE post_reads (
            post_id TEXT NOT NULL REFERENCES posts (id),
            account_id TEXT NOT NULL REFERENCES accounts (id),
            room_id TEXT NOT NULL REFERENCES rooms (id),
            read_at_ms INTEGER NOT NULL,
            PRIMARY KEY (post_id, account_id)
        );
        CREATE INDEX post_reads_by_account ON post_reads (account_id, room_id);
        INSERT INTO post_reads VALUES ('p1', 'a1', 'r1', 10), ('p1', 'a2', 'r1', 11), ('p2', 'a1', 'r2', 12);",
    )
    .execute(&pool)
    .await
    .expect("former shape");

    sqlx::raw_sql(include_str!("../migrations/0007_cluster_post_reads.sql"))
        .execute(&pool)
        .await
        .expect("migrate");

    let rows =
        sqlx::query("SELECT room_id, post_id, account_id, read_at_ms FROM post_reads ORDER BY read_at_ms")
            .fetch_all(&pool)
            .await
            .expect("read");
    let rows: Vec<(String, String, String, i64)> =
        rows.iter().map(|r| (r.get(0), r.get(1), r.get(2), r.get(3))).collect();
    assert_eq!(
        rows,
        [
            ("r1".into(), "p1".into(), "a1".into(), 10),
            ("r1".into(), "p1".into(), "a2".into(), 11),
            ("r2".into(), "p2".into(), "a1".into(), 12),
        ]
    );
    let again = sqlx::query("INSERT INTO post_reads VALUES ('r1', 'p1', 'a1', 99) ON CONFLICT (room_id, post_id, account_id) DO NOTHING")
        .execute(&pool)
        .await
        .expect("insert");
    assert_eq!(again.rows_affected(), 0, "a member reads a post once");
    let indexes: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'post_reads'",
    )
    .fetch_one(&pool)
    .await
    .expect("indexes");
    assert_eq!(indexes, 0, "the key is the table: no index beside it");
}

#[tokio::test]
async fn indexing_care_provider_numbers_keeps_facilities_that_share_one_from_before() {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(SqliteConnectOptions::from_str("sqlite::memory:").expect("url"))
        .await
        .expect("open");
    // Two facilities registered with one number before numbers were unique.
    sqlx::raw_sql(
        "CREATE TABLE facilities (id TEXT PRIMARY KEY, care_provider_no TEXT);
        INSERT INTO facilities VALUES ('f1', '1234567890'), ('f2', '1234567890'), ('f3', NULL);",
    )
    .execute(&pool)
    .await
    .expect("former shape");
    sqlx::raw_sql(include_str!("../migrations/0010_index_care_provider_no.sql"))
        .execute(&pool)
        .await
        .expect("the migration does not fail on duplicates");
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM facilities WHERE care_provider_no = '1234567890'")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(n, 2, "both kept; routing refuses the number until the operator releases one");
}

#[tokio::test]
async fn actuals_stored_before_keying_by_service_type_take_their_senders_office_and_type() {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(SqliteConnectOptions::from_str("sqlite::memory:").expect("url").foreign_keys(false))
        .await
        .expect("open");
    // The columns 0006_create_careplan.sql made that the migration reads.
    sqlx::raw_sql(
        "CREATE TABLE careplan_sets (id TEXT PRIMARY KEY, kind TEXT NOT NULL, sender_office TEXT NOT NULL);
        CREATE TABLE careplan_subjects (set_id TEXT NOT NULL, insurer_no TEXT NOT NULL, insured_no TEXT NOT NULL,
            record_key TEXT NOT NULL, PRIMARY KEY (set_id, insurer_no, insured_no, record_key));
        INSERT INTO careplan_sets VALUES ('a', 'actual', '2234567890-13'), ('d', 'actual_deletion', '2234567890-17'),
            ('p', 'plan', '1234567890-43');
        INSERT INTO careplan_subjects VALUES ('a', '122203', '0123456789', '202612'),
            ('d', '122203', '0123456789', '202612'), ('p', '122203', '0123456789', '20261115');",
    )
    .execute(&pool)
    .await
    .expect("former shape");
    sqlx::raw_sql(include_str!("../migrations/0013_careplan_subject_withdrawal.sql"))
        .execute(&pool)
        .await
        .expect("migrate");
    let keys: Vec<(String, String, Option<String>)> =
        sqlx::query("SELECT set_id, record_key, withdrawn_by FROM careplan_subjects ORDER BY set_id")
            .fetch_all(&pool)
            .await
            .expect("read")
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
    assert_eq!(
        keys,
        [
            ("a".into(), "202612 2234567890 13".into(), None),
            ("d".into(), "202612 2234567890 17".into(), None),
            ("p".into(), "20261115".into(), None)
        ]
    );
}
