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

both!(
    entries_cut_from_the_end_are_reported_on_the_audit_screen,
    a_municipality_whose_entries_were_all_deleted_is_reported,
    a_chain_deleted_with_its_head_row_is_reported_and_so_is_its_restart,
    a_head_row_moved_back_to_a_cut_chain_is_caught_by_the_checkpoint,
    a_forged_checkpoint_line_is_reported,
    an_older_checkpoint_appended_again_to_hide_a_cut_tail_is_reported,
    a_deleted_anchor_file_is_reported_once_the_trail_should_have_been_anchored,
    cells_a_spreadsheet_would_run_are_neutralised_in_the_csv_export
);

/// Lets the test delete from the trail as someone with full control of the database would.
async fn drop_append_only_guard(app: &TestApp) {
    app.raw
        .execute(
            "DROP TRIGGER audit_events_append_only_update; DROP TRIGGER audit_events_append_only_delete",
            "DROP TRIGGER audit_events_append_only ON audit_events",
        )
        .await;
}

async fn raw(app: &TestApp, sql: &str) -> u64 {
    app.raw.execute(sql, sql).await
}

async fn verify_page(b: &Browser, base: &str) -> String {
    b.get(&format!("{base}?verify=1")).await.expect_status(200).body
}

async fn entries_cut_from_the_end_are_reported_on_the_audit_screen(app: TestApp) {
    let (operator, _) = app.operator().await;
    let (m, admin, _) = app.municipality_with_admin(&operator, "122203", "admin01").await;
    crate::admin::create_facility(&admin).await;
    let n = app.store().audit_chain(&m).await.unwrap().len() as i64;
    assert!(verify_page(&admin, "/admin/audit").await.contains("改ざんは検出されませんでした"));
    drop_append_only_guard(&app).await;
    assert_eq!(
        raw(&app, &format!("DELETE FROM audit_events WHERE chain = '{m}' AND seq > {}", n - 2)).await,
        2
    );
    let page = verify_page(&admin, "/admin/audit").await;
    assert!(
        page.contains(&format!(
            "連番 {} より後の記録が失われています（最後の記録は連番 {n} のはずです）。",
            n - 2
        )),
        "{page}"
    );
    assert!(!page.contains("改ざんは検出されませんでした"), "{page}");
}

async fn a_municipality_whose_entries_were_all_deleted_is_reported(app: TestApp) {
    let (operator, _) = app.operator().await;
    let (m, admin, _) = app.municipality_with_admin(&operator, "122203", "admin01").await;
    let n = app.store().audit_chain(&m).await.unwrap().len();
    drop_append_only_guard(&app).await;
    assert_eq!(raw(&app, &format!("DELETE FROM audit_events WHERE chain = '{m}'")).await, n as u64);
    let page = verify_page(&admin, "/admin/audit").await;
    assert!(
        page.contains(&format!("連番 0 より後の記録が失われています（最後の記録は連番 {n} のはずです）。")),
        "{page}"
    );
    // The operator, who answers for the whole server, sees it too, named.
    let page = verify_page(&operator, "/operator/audit").await;
    assert!(page.contains("流山市: 連番 0 より後の記録が失われています"), "{page}");
}

async fn a_chain_deleted_with_its_head_row_is_reported_and_so_is_its_restart(app: TestApp) {
    let (operator, _) = app.operator().await;
    let (m, admin, secret) = app.municipality_with_admin(&operator, "122203", "admin01").await;
    drop_append_only_guard(&app).await;
    raw(&app, &format!("DELETE FROM audit_events WHERE chain = '{m}'")).await;
    assert_eq!(raw(&app, &format!("DELETE FROM audit_heads WHERE chain = '{m}'")).await, 1);
    let page = verify_page(&admin, "/admin/audit").await;
    assert!(page.contains("操作記録がすべて削除されています。"), "{page}");
    let page = verify_page(&operator, "/operator/audit").await;
    assert!(page.contains("流山市: 操作記録がすべて削除されています。"), "{page}");
    // The next sign-in starts a new chain; it does not start with the municipality's opening.
    let again = app.browser();
    app.sign_in(&again, "admin01", "Admin-pass-2026", &secret).await;
    let page = verify_page(&again, "/admin/audit").await;
    assert!(page.contains("操作記録の始まりが失われています"), "{page}");
}

async fn a_head_row_moved_back_to_a_cut_chain_is_caught_by_the_checkpoint(app: TestApp) {
    let (operator, _) = app.operator().await;
    let (m, admin, _) = app.municipality_with_admin(&operator, "122203", "admin01").await;
    crate::admin::create_facility(&admin).await;
    let written = renraku_web::audit_trail::checkpoint_now(&app.state, true).await.unwrap();
    assert!(matches!(written, renraku_web::audit_trail::CheckpointOutcome::Written(..)));
    let n = app.store().audit_chain(&m).await.unwrap().len() as i64;
    let page = verify_page(&admin, "/admin/audit").await;
    assert!(page.contains(&format!("で連番 {n} までを照合しました")), "{page}");
    // Someone who can rewrite the database cuts the tail and moves the head row back to match:
    // seals, sequence and head all agree again.
    drop_append_only_guard(&app).await;
    let keep = n - 2;
    raw(&app, &format!("DELETE FROM audit_events WHERE chain = '{m}' AND seq > {keep}")).await;
    let moved = format!(
        "UPDATE audit_heads SET seq = {keep}, seal = (SELECT seal FROM audit_events WHERE chain = '{m}' AND seq = {keep}) \
         WHERE chain = '{m}'"
    );
    assert_eq!(raw(&app, &moved).await, 1);
    // Without the anchor file nothing shows...
    let anchors = app.state.config.audit_anchor_path.clone();
    let aside = anchors.with_extension("aside");
    std::fs::rename(&anchors, &aside).unwrap();
    let page = verify_page(&admin, "/admin/audit").await;
    assert!(
        page.contains("改ざんは検出されませんでした") && page.contains("チェックポイントがまだありません"),
        "{page}"
    );
    // ...with it, the cut is found.
    std::fs::rename(&aside, &anchors).unwrap();
    let page = verify_page(&admin, "/admin/audit").await;
    assert!(
        page.contains(&format!(
            "連番 {keep} より後の記録が失われています（チェックポイントでは連番 {n} まで記録されていました）。"
        )),
        "{page}"
    );
    // And the server will not anchor the shortened chain.
    let refused = renraku_web::audit_trail::checkpoint_now(&app.state, true).await;
    assert!(matches!(refused, Err(renraku_web::audit_trail::CheckpointError::Refused(_))), "{refused:?}");
}

async fn a_forged_checkpoint_line_is_reported(app: TestApp) {
    let (operator, _) = app.operator().await;
    let (_, admin, _) = app.municipality_with_admin(&operator, "122203", "admin01").await;
    renraku_web::audit_trail::checkpoint_now(&app.state, true).await.unwrap();
    let anchors = app.state.config.audit_anchor_path.clone();
    let text = std::fs::read_to_string(&anchors).unwrap();
    let first = text.lines().next().unwrap();
    let seq = first.split_whitespace().find_map(|p| p.strip_prefix("seq=")).unwrap();
    let forged =
        text.replacen(&format!("seq={seq} "), &format!("seq={} ", seq.parse::<i64>().unwrap() + 5), 1);
    std::fs::write(&anchors, forged).unwrap();
    let page = verify_page(&admin, "/admin/audit").await;
    assert!(
        page.contains("チェックポイントファイルの 1 行目の署名が一致しません（改ざんされています）。"),
        "{page}"
    );
}

/// Cuts a chain back to `keep` entries and moves its head row back to match, as someone who can
/// rewrite the database would: seals, sequence and head agree again.
async fn cut_and_rewind(app: &TestApp, m: &str, keep: i64) {
    drop_append_only_guard(app).await;
    raw(app, &format!("DELETE FROM audit_events WHERE chain = '{m}' AND seq > {keep}")).await;
    let moved = format!(
        "UPDATE audit_heads SET seq = {keep}, seal = (SELECT seal FROM audit_events WHERE chain = '{m}' AND seq = {keep}) \
         WHERE chain = '{m}'"
    );
    assert_eq!(raw(app, &moved).await, 1);
}

async fn an_older_checkpoint_appended_again_to_hide_a_cut_tail_is_reported(app: TestApp) {
    use renraku_web::audit_trail::{CheckpointError, CheckpointOutcome, checkpoint_now};
    let (operator, _) = app.operator().await;
    let (m, admin, _) = app.municipality_with_admin(&operator, "122203", "admin01").await;
    assert!(matches!(checkpoint_now(&app.state, true).await.unwrap(), CheckpointOutcome::Written(..)));
    let anchors = app.state.config.audit_anchor_path.clone();
    let older = std::fs::read_to_string(&anchors).unwrap();
    let keep = app.store().audit_chain(&m).await.unwrap().len() as i64;
    crate::admin::create_facility(&admin).await;
    app.state.clock.advance_ms(1_000);
    assert!(matches!(checkpoint_now(&app.state, false).await.unwrap(), CheckpointOutcome::Written(..)));
    let n = app.store().audit_chain(&m).await.unwrap().len() as i64;
    assert!(n > keep);
    // The tail is cut back to the older checkpoint, and a copy of that checkpoint, validly
    // signed, is appended after the newer one.
    cut_and_rewind(&app, &m, keep).await;
    let replayed_from = std::fs::read_to_string(&anchors).unwrap().lines().count() + 1;
    let mut file = std::fs::OpenOptions::new().append(true).open(&anchors).unwrap();
    std::io::Write::write_all(&mut file, older.as_bytes()).unwrap();
    drop(file);
    let page = verify_page(&admin, "/admin/audit").await;
    assert!(!page.contains("改ざんは検出されませんでした"), "{page}");
    assert!(
        page.contains(&format!(
            "チェックポイントファイルの {replayed_from} 行目からのチェックポイントは、それより前のチェックポイントより古いものです（古いチェックポイントが書き足されています）。"
        )),
        "{page}"
    );
    assert!(
        page.contains(&format!(
            "連番 {keep} より後の記録が失われています（チェックポイントでは連番 {n} まで記録されていました）。"
        )),
        "{page}"
    );
    // The server does not confirm the shortened chain.
    let refused = checkpoint_now(&app.state, true).await;
    assert!(matches!(refused, Err(CheckpointError::Refused(_))), "{refused:?}");
}

async fn a_deleted_anchor_file_is_reported_once_the_trail_should_have_been_anchored(app: TestApp) {
    use renraku_web::audit_trail::{CheckpointError, checkpoint_now};
    let (operator, _) = app.operator().await;
    let (_, admin, _) = app.municipality_with_admin(&operator, "122203", "admin01").await;
    checkpoint_now(&app.state, true).await.unwrap();
    let anchors = app.state.config.audit_anchor_path.clone();
    std::fs::remove_file(&anchors).unwrap();
    // A fresh installation has had no time to write its first checkpoint: nothing to report.
    assert!(verify_page(&admin, "/admin/audit").await.contains("改ざんは検出されませんでした"));
    // Ten minutes on, the trail should have been anchored long ago.
    app.state.clock.advance_ms(10 * 60 * 1000);
    for (who, base) in [(&admin, "/admin/audit"), (&operator, "/operator/audit")] {
        let page = verify_page(who, base).await;
        assert!(!page.contains("改ざんは検出されませんでした"), "{page}");
        assert!(page.contains("チェックポイントファイルがありません"), "{page}");
    }
    // The server does not start a new file over it on its own: the finding stays until the
    // operator re-anchors deliberately.
    let refused = checkpoint_now(&app.state, false).await;
    assert!(matches!(refused, Err(CheckpointError::Refused(_))), "{refused:?}");
    assert!(!anchors.exists());
    assert!(verify_page(&operator, "/operator/audit").await.contains("チェックポイントファイルがありません"));
}

async fn cells_a_spreadsheet_would_run_are_neutralised_in_the_csv_export(app: TestApp) {
    let (operator, _) = app.operator().await;
    // Failed sign-ins record what was typed as the login ID: anyone can put text in the trail.
    let typed = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+2", "-3+4", "@SUM(A1)"];
    let stranger = app.browser();
    for login in typed {
        stranger.submit("/login", "/login", &[("login_id", login), ("password", "wrong-password")]).await;
    }
    let csv = operator.get("/operator/audit.csv").await.expect_status(200);
    let body = csv.body.trim_start_matches('\u{feff}');
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let actors: Vec<String> = reader.records().map(|r| r.unwrap()[2].to_string()).collect();
    let dangerous = ['=', '+', '-', '@', '\t', '\r'];
    assert!(actors.iter().all(|a| !a.starts_with(dangerous)), "{actors:?}");
    for login in typed {
        assert!(
            actors.iter().any(|a| a.strip_prefix('\'').is_some_and(|rest| rest.eq_ignore_ascii_case(login))),
            "{login:?} kept behind a quote: {actors:?}"
        );
    }
}
