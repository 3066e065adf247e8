//! A 介護事業所番号 names one facility on the server: `renraku facility create` refuses a number
//! another municipality's facility holds, and the operator resolves a genuine conflict with
//! `renraku facility find` and `renraku facility release-care-provider-no`, audited in the
//! facility's municipality. On SQLite and (when available) PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::{Command, Output};
use std::sync::Arc;

use renraku_domain::audit::AuditSealer;
use renraku_store::Store;

fn renraku(args: &[String]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_renraku"))
        .args(args)
        .env_remove("RENRAKU_DATABASE_URL")
        .env("RENRAKU_LOG", "warn")
        .env("USER", "yamada")
        .output()
        .expect("run renraku")
}

fn story(db: &[&str], store: Arc<dyn Store>, rt: &tokio::runtime::Runtime) {
    let run = |args: Vec<String>| {
        let all: Vec<String> = db.iter().map(|s| s.to_string()).chain(args).collect();
        renraku(&all)
    };
    let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    for (code, name) in [("122203", "流山市"), ("122173", "柏市")] {
        assert!(run(words(&["municipality", "create", "--code", code, "--name", name])).status.success());
    }
    // Nagareyama registers Kashiwa's provider's number by mistake.
    let first = run(common::facility_args("122203", "さくら訪問看護", "1234567890"));
    assert!(first.status.success(), "{first:?}");
    let refused = run(common::facility_args("122173", "かしわ訪問看護", "１２３４５６７８９０"));
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("--care-provider-no: この介護事業所番号は Renraku の別の事業所（他の市区町村を含む）に登録されています。"),
        "{stderr}"
    );
    let kashiwa = rt.block_on(store.municipality_by_code("122173")).unwrap();
    assert!(rt.block_on(store.facilities(&kashiwa.id)).unwrap().is_empty());

    // The operator finds who holds it and releases it.
    let found = run(words(&["facility", "find", "--care-provider-no", "1234567890"]));
    let found = String::from_utf8_lossy(&found.stdout).into_owned();
    assert!(found.starts_with("122203\t流山市\t") && found.contains("\tさくら訪問看護"), "{found}");
    let facility_id = found.split('\t').nth(2).unwrap().to_string();
    let wrong_town = run(words(&[
        "facility",
        "release-care-provider-no",
        "--municipality",
        "122173",
        "--facility",
        &facility_id,
    ]));
    assert!(!wrong_town.status.success(), "a facility is named with its own municipality");
    let released = run(words(&[
        "facility",
        "release-care-provider-no",
        "--municipality",
        "122203",
        "--facility",
        &facility_id,
    ]));
    assert!(released.status.success(), "{released:?}");
    assert!(String::from_utf8_lossy(&released.stdout).contains("介護事業所番号 1234567890 released"));
    let created = run(common::facility_args("122173", "かしわ訪問看護", "1234567890"));
    assert!(created.status.success(), "{created:?}");
    let holders = rt.block_on(store.facilities_by_care_provider_no("1234567890")).unwrap();
    assert_eq!(holders.len(), 1);
    assert_eq!(holders[0].municipality_id, kashiwa.id);

    // Audited in the municipality whose facility lost the number, and the chain is intact.
    let nagareyama = rt.block_on(store.municipality_by_code("122203")).unwrap();
    let chain = rt.block_on(store.audit_chain(&nagareyama.id)).unwrap();
    let entry = chain
        .iter()
        .find(|r| r.facts.action == "facility.release_care_provider_no")
        .unwrap_or_else(|| panic!("audited: {chain:?}"));
    assert_eq!(entry.facts.actor_login, "cli:yamada");
    assert_eq!(entry.facts.object_id, facility_id);
    assert_eq!(entry.facts.detail, "care_provider_no=1234567890");
    let verified = run(words(&["audit", "verify"]));
    assert!(verified.status.success(), "{verified:?}");
}

#[test]
fn a_care_provider_number_conflict_is_refused_and_resolved_by_the_operator_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap().to_string();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    // The CLI creates the database (and the secret) first.
    assert!(
        renraku(&["--data-dir".into(), data.clone(), "municipality".into(), "list".into()]).status.success()
    );
    let store = rt
        .block_on(renraku_store_sqlite::SqliteStore::open(
            &dir.path().join("renraku.db"),
            AuditSealer::new(b"read"),
        ))
        .unwrap();
    story(&["--data-dir", &data], Arc::new(store), &rt);
}

#[test]
fn a_care_provider_number_conflict_is_refused_and_resolved_by_the_operator_on_postgres() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let Some(common::PgSchema { store, db_url, .. }) = common::postgres_schema(&rt) else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap().to_string();
    story(&["--data-dir", &data, "--database-url", &db_url], Arc::new(store), &rt);
}
