//! The audit trail (G1): admins filter and export their municipality's chain, and any change
//! made behind the application's back is detected.

use renraku_domain::audit::AuditSealer;

use crate::both;
use crate::helpers::*;

both!(
    an_update_made_directly_in_the_database_breaks_the_chain,
    the_audit_trail_is_filtered_and_exported_as_csv
);

async fn an_update_made_directly_in_the_database_breaks_the_chain(app: TestApp) {
    let (operator, _) = app.operator().await;
    let (municipality, admin, _) = app.municipality_with_admin(&operator, "122203", "admin01").await;
    crate::admin::create_facility(&admin).await;
    let page = admin.get("/admin/audit?verify=1").await.expect_status(200);
    assert!(page.body.contains("改ざんは検出されませんでした"), "{}", page.body);
    // The database refuses to alter the trail...
    let refused = match &app.raw {
        Raw::Sqlite(s) => {
            s.execute_raw("UPDATE audit_events SET actor_login = 'someone' WHERE seq = 2").await
        }
        Raw::Postgres(s) => {
            s.execute_raw("UPDATE audit_events SET actor_login = 'someone' WHERE seq = 2").await
        }
    };
    assert!(refused.is_err(), "the append-only trigger must refuse updates");
    // ...but someone with full control of it can drop the guard. The seals still tell.
    app.raw
        .execute(
            "DROP TRIGGER audit_events_append_only_update",
            "DROP TRIGGER audit_events_append_only ON audit_events",
        )
        .await;
    let sql =
        format!("UPDATE audit_events SET actor_login = 'someone' WHERE chain = '{municipality}' AND seq = 2");
    assert_eq!(app.raw.execute(&sql, &sql).await, 1);
    let page = admin.get("/admin/audit?verify=1").await.expect_status(200);
    assert!(page.body.contains("連番 2 の記録が改ざんされています。"), "{}", page.body);
    let chain = app.store().audit_chain(&municipality).await.unwrap();
    let sealer = AuditSealer::new(&renraku_web::Secrets::derive(MASTER_SECRET).audit_key);
    assert_eq!(
        sealer.verify(chain.iter().map(|r| (&r.facts, r.seal.as_str()))),
        Err(renraku_domain::audit::ChainBreak::Altered { seq: 2 })
    );
}

async fn the_audit_trail_is_filtered_and_exported_as_csv(app: TestApp) {
    let (operator, _) = app.operator().await;
    let (_, admin, _) = app.municipality_with_admin(&operator, "122203", "admin01").await;
    crate::admin::create_facility(&admin).await;
    let page = admin.get("/admin/audit?action=facility.").await.expect_status(200);
    assert!(page.body.contains("facility.create"));
    assert!(!page.body.contains("auth.login"));
    let page = admin.get("/admin/audit?actor=ADMIN01&action=auth.").await.expect_status(200);
    assert!(page.body.contains("auth.login"));
    let page = admin.get("/admin/audit?from=2026-13-45").await.expect_status(200);
    assert!(page.body.contains("日付は 2026-11-23 の形で入力してください。"));
    let csv = admin.get("/admin/audit.csv").await.expect_status(200);
    assert_eq!(csv.headers.get("content-type").unwrap(), "text/csv; charset=utf-8");
    assert!(csv.body.starts_with("\u{feff}連番,日時,操作者"), "{}", &csv.body[..40]);
    assert!(csv.body.contains("facility.create"));
    assert!(csv.body.contains("+09:00"), "times are in Japan time");
    // The export itself is recorded, and the operator's chain is separate.
    let page = admin.get("/admin/audit?action=audit.export").await;
    assert!(page.body.contains("audit.export"));
    let ops = operator.get("/operator/audit").await.expect_status(200);
    assert!(ops.body.contains("municipality.create"));
    assert!(!ops.body.contains("facility.create"));
}
