//! The shared storage stories, on PostgreSQL, each in a schema of its own so they run in
//! parallel. See `renraku_store_postgres::testing` for how the server is found.

renraku_store::conformance_tests!(renraku_store_postgres::testing::open_isolated(
    renraku_store::conformance::TEST_AUDIT_KEY
));
