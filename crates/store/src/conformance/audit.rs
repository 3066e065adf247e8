//! Audit stories: every change is sealed into its chain, and the chains read back.

use super::*;

pub async fn every_change_is_sealed_into_its_chain(store: &dyn Store) {
    let sealer = AuditSealer::new(TEST_AUDIT_KEY);
    let m = municipality(store, "122203").await;
    ok(store
        .create_facility(&m.id, &sample_facility("さくら"), &audit(Some(&m.id), AuditAction::FacilityCreate))
        .await);
    let mut sign_in = audit(Some(&m.id), AuditAction::AuthLogin);
    sign_in.at_ms = T0 + 5_000;
    sign_in.actor_login = "nurse01".into();
    ok(store.append_audit(&sign_in).await);
    let chain = ok(store.audit_chain(&m.id).await);
    assert_eq!(chain.len(), 3);
    assert_eq!(sealer.verify(chain.iter().map(|r| (&r.facts, r.seal.as_str()))), Ok(3));
    assert_eq!(
        chain[0].facts.action,
        AuditAction::AuditChainOpened.code(),
        "the municipality opens its own chain"
    );
    let operator = ok(store.audit_chain(OPERATOR_CHAIN).await);
    assert_eq!(operator.len(), 1, "the municipality's creation is an operator event");
    assert_eq!(operator[0].facts.detail, CHAIN_OPENED_DETAIL);
    assert_eq!(sealer.verify(operator.iter().map(|r| (&r.facts, r.seal.as_str()))), Ok(1));
    assert_eq!(ok(store.audit_chains().await).len(), 2);
    // The head rows say where each chain ends; what came after a checkpoint reads on its own.
    let heads = ok(store.audit_heads().await);
    let head = heads.iter().find(|h| h.chain == *m.id).map(|h| (h.seq, h.seal.clone()));
    assert_eq!(head, Some((3, chain[2].seal.clone())));
    assert_eq!(heads.len(), 2);
    let rest = ok(store.audit_chain_from(&m.id, 2).await);
    assert_eq!(rest.iter().map(|r| r.facts.seq).collect::<Vec<_>>(), [2, 3]);
    assert_eq!(
        sealer.verify_from(2, &rest[0].seal, rest[1..].iter().map(|r| (&r.facts, r.seal.as_str()))),
        Ok(1)
    );
    let filter = |f: AuditFilter| AuditFilter { limit: 100, ..f };
    let by_actor = ok(store
        .audit_entries(
            &m.id,
            &filter(AuditFilter { actor_login: Some("nurse01".into()), ..Default::default() }),
        )
        .await);
    assert_eq!(by_actor.iter().map(|r| r.facts.action.as_str()).collect::<Vec<_>>(), ["auth.login"]);
    let by_action = ok(store
        .audit_entries(
            &m.id,
            &filter(AuditFilter { action_prefix: Some("facility.".into()), ..Default::default() }),
        )
        .await);
    assert_eq!(by_action.len(), 1);
    let since = ok(store
        .audit_entries(&m.id, &filter(AuditFilter { from_ms: Some(T0 + 1), ..Default::default() }))
        .await);
    assert_eq!(since.len(), 1);
    let newest_first = ok(store.audit_entries(&m.id, &filter(AuditFilter::default())).await);
    assert_eq!(newest_first.iter().map(|r| r.facts.seq).collect::<Vec<_>>(), [3, 2, 1]);
}
