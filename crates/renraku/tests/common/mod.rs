//! What several tests of the `renraku` binary share (each test uses only some of it).
#![allow(dead_code)]

use renraku_domain::audit::AuditSealer;
use renraku_store_postgres::PostgresStore;

/// A fresh schema of the test PostgreSQL database.
pub struct PgSchema {
    /// A store on that schema, for the test's own reads and raw SQL.
    pub store: PostgresStore,
    pub schema: String,
    /// The URL that puts `renraku` in that schema (`--database-url`).
    pub db_url: String,
}

/// A fresh schema, or `None` (the test is skipped, saying so) when PostgreSQL cannot be reached
/// and `RENRAKU_TEST_PG` is not `required`.
pub fn postgres_schema(rt: &tokio::runtime::Runtime) -> Option<PgSchema> {
    let url = renraku_store_postgres::testing::url();
    let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
    match rt.block_on(PostgresStore::connect_in_schema(&url, &schema, AuditSealer::new(b"x"))) {
        Ok(store) => {
            let db_url = format!("{url}?options=-c%20search_path%3D{schema}");
            Some(PgSchema { store, schema, db_url })
        }
        Err(e) if std::env::var("RENRAKU_TEST_PG").as_deref() != Ok("required") => {
            eprintln!("SKIPPED: PostgreSQL is not reachable at {url} ({e:#})");
            None
        }
        Err(e) => panic!("PostgreSQL is required: {e:#}"),
    }
}

/// The arguments of `renraku facility create` for a home-nursing facility with this name and
/// 介護事業所番号, in `municipality` (its code).
pub fn facility_args(municipality: &str, name: &str, number: &str) -> Vec<String> {
    [
        "facility",
        "create",
        "--municipality",
        municipality,
        "--corp-name",
        "医療法人さくら会",
        "--corp-kana",
        "いりょうほうじんさくらかい",
        "--corp-representative",
        "桜 太郎",
        "--corp-postal-code",
        "270-0192",
        "--corp-address",
        "千葉県流山市平和台1-1-1",
        "--corp-phone",
        "04-7158-1111",
        "--name",
        name,
        "--kana",
        "さくらほうもんかんご",
        "--postal-code",
        "270-0192",
        "--address",
        "千葉県流山市平和台2-2-2",
        "--phone",
        "04-7158-2222",
        "--service-category",
        "home_nursing",
        "--care-provider-no",
        number,
        "--administrator",
        "桜 花子",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}
